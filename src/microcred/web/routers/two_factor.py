"""Two-factor authentication pages: the code after the password, setting it up and turning it off
on one's account, an organisation's rule and resetting a member's; the rule's API."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from microcred.accounts import service as accounts
from microcred.accounts import twofactor
from microcred.accounts.models import User
from microcred.accounts.service import Principal, SignInThrottled
from microcred.errors import MicrocredError
from microcred.wallet.qr import qr_svg
from microcred.web.deps import CurrentPrincipal, DbSession, app_context
from microcred.web.form_errors import errors_on_inputs, is_bad_input
from microcred.web.rendering import render
from microcred.web.security import check_csrf, pending_second_factor, sign_in

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["accounts"])


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# --- the code after the password --------------------------------------------------------------


def _pending_user(request: Request, session: DbSession) -> tuple[User, str] | None:
    pending = pending_second_factor(request)
    if pending is None:
        return None
    user_id, fingerprint, next_path = pending
    user = session.get(User, user_id)
    if user is None or not user.is_active or not user.two_factor_enabled:
        return None
    from microcred.accounts.selfservice import session_fingerprint

    if session_fingerprint(user) != fingerprint:  # the password changed meanwhile
        return None
    return user, next_path


@pages.get("/sign-in/code", response_model=None)
def code_page(request: Request, session: DbSession) -> Response:
    if _pending_user(request, session) is None:
        return RedirectResponse("/sign-in", status_code=303)
    return render(request, "sign_in_code.html", None, error=None)


@pages.post("/sign-in/code", response_model=None)
def code_submit(
    request: Request,
    session: DbSession,
    code: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    pending = _pending_user(request, session)
    if pending is None:
        return RedirectResponse("/sign-in", status_code=303)
    user, next_path = pending
    settings = app_context(request).settings
    try:
        twofactor.check_attempts_allowed(session, user)
        accepted = twofactor.check_code(session, settings, user, code)
        if accepted is None:
            twofactor.record_failure(session, settings, user, ip=_ip(request))
            raise twofactor.TwoFactorError(
                "That code is not right (or was used already). Type the 6-digit code your "
                "authenticator app shows now, or one of your recovery codes.",
                field="code",
            )
    except (twofactor.TwoFactorError, SignInThrottled) as error:
        session.commit()  # the failure counts even though the page shows an error
        return render(
            request, "sign_in_code.html", None, status_code=error.status_code, error=error.message
        )
    sign_in(request, user)
    if accepted.recovery_code:
        return RedirectResponse(
            f"/account/two-factor?recovery_used={accepted.codes_left}", status_code=303
        )
    return RedirectResponse(next_path, status_code=303)


# --- one's own account ------------------------------------------------------------------------


def _own_page(
    request: Request,
    session: DbSession,
    principal: Principal,
    *,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    settings = app_context(request).settings
    user = session.get(User, principal.user_id)
    assert user is not None
    setup = (
        None if user.two_factor_enabled else twofactor.pending_setup(session, settings, principal)
    )
    return render(
        request, "two_factor.html", principal, status_code=status_code, user=user, setup=setup,
        qr=_qr(setup.uri) if setup else None,
        codes_left=twofactor.recovery_codes_left(session, user.id),
        required_by=twofactor.requiring_organisations(session, settings, user),
        required=request.query_params.get("required") == "1",
        recovery_used=request.query_params.get("recovery_used"),
        done=request.query_params.get("done"), errors=context.pop("errors", {}), **context,
    )  # fmt: skip


def _qr(uri: str) -> str:
    svg = qr_svg(uri, scale=5).encode()
    return f"data:image/svg+xml;base64,{base64.b64encode(svg).decode('ascii')}"


@pages.get("/account/two-factor", response_class=HTMLResponse)
def own_page(request: Request, session: DbSession, principal: CurrentPrincipal) -> HTMLResponse:
    return _own_page(request, session, principal)


@pages.post("/account/two-factor/start", response_class=HTMLResponse)
def own_start(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    twofactor.start_setup(session, app_context(request).settings, principal)
    session.commit()
    return _own_page(request, session, principal)


def _again(
    request: Request, session: DbSession, principal: Principal, error: MicrocredError
) -> HTMLResponse:
    if not is_bad_input(error):
        raise error
    session.rollback()
    errors = errors_on_inputs(error, {"code": "code", "password": "off-password"})
    return _own_page(request, session, principal, status_code=error.status_code, errors=errors)


CodesMaker = Callable[..., list[str]]


def _recovery_codes_page(
    request: Request, session: DbSession, principal: Principal, make: CodesMaker, code: str,
    *, turned_on: bool = False,
) -> HTMLResponse:  # fmt: skip
    """Run ``make`` (confirm the set-up, or replace the codes) and show the new recovery codes
    once; a wrong code comes back under its input."""
    try:
        codes = make(session, app_context(request).settings, principal, code, ip=_ip(request))
    except MicrocredError as error:
        return _again(request, session, principal, error)
    session.commit()
    return _own_page(request, session, principal, new_codes=codes, turned_on=turned_on)


@pages.post("/account/two-factor/confirm", response_class=HTMLResponse)
def own_confirm(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    code: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    return _recovery_codes_page(
        request, session, principal, twofactor.confirm_setup, code, turned_on=True
    )


@pages.post("/account/two-factor/recovery-codes", response_class=HTMLResponse)
def own_recovery_codes(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    code: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    return _recovery_codes_page(
        request, session, principal, twofactor.regenerate_recovery_codes, code
    )


@pages.post("/account/two-factor/disable", response_model=None)
def own_disable(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    password: Annotated[str, Form(max_length=1000)] = "",
    code: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        twofactor.disable(
            session, app_context(request).settings, principal, password=password, code=code,
            ip=_ip(request),
        )  # fmt: skip
    except MicrocredError as error:
        return _again(request, session, principal, error)
    return RedirectResponse("/account/two-factor?done=off", status_code=303)


# --- an organisation's rule and its members ---------------------------------------------------


class TwoFactorRuleIn(BaseModel):
    required: bool = Field(
        description="Whether the organisation's admins, issuer staff and assessors must sign in "
        "with a second factor"
    )


class TwoFactorRuleOut(TwoFactorRuleIn):
    members_without: list[str] = Field(
        description="E-mail addresses of its admins, staff and assessors without a second factor"
    )


def _rule_out(session: DbSession, organisation_id: str, required: bool) -> TwoFactorRuleOut:
    return TwoFactorRuleOut(
        required=required, members_without=twofactor.members_without(session, organisation_id)
    )


@api.get(
    "/organisations/{slug}/two-factor-rule", response_model=TwoFactorRuleOut,
    summary="Whether the organisation requires two-factor authentication of its staff",
)  # fmt: skip
def api_rule(slug: str, session: DbSession, principal: CurrentPrincipal) -> TwoFactorRuleOut:
    found = accounts.get_organisation(session, slug)
    principal.require(found.id, scope="accounts:admin")
    return _rule_out(session, found.id, found.require_two_factor)


@api.put(
    "/organisations/{slug}/two-factor-rule", response_model=TwoFactorRuleOut,
    summary="Require (or stop requiring) two-factor authentication of the organisation's staff",
)  # fmt: skip
def api_rule_update(
    slug: str, body: TwoFactorRuleIn, session: DbSession, principal: CurrentPrincipal
) -> TwoFactorRuleOut:
    found = accounts.get_organisation(session, slug)
    updated = twofactor.set_required(session, principal, found.id, body.required)
    return _rule_out(session, found.id, updated.require_two_factor)


routers = [pages, api]

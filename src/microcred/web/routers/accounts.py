"""Sign-in, sign-out, the account page (name, password, API tokens, downloading one's data,
erasing the account); /api/v1/me, the token API and the data export API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from microcred.accounts import privacy, recovery, selfservice, sso, verification
from microcred.accounts import service as accounts
from microcred.accounts.models import User
from microcred.accounts.service import AuthenticationFailed, Principal
from microcred.assessment.reviews import EvidenceStore
from microcred.errors import MicrocredError, NotFound, PermissionDenied
from microcred.i18n import gettext as _
from microcred.mail.service import mail_enabled
from microcred.obapi import service as obapi
from microcred.obapi.protocol import SCOPE_WORDS
from microcred.web.deps import CurrentPrincipal, DbSession, OptionalPrincipal, app_context
from microcred.web.form_errors import FieldErrors, errors_on_inputs, is_bad_input
from microcred.web.i18n import COOKIE as LANG_COOKIE
from microcred.web.rendering import render
from microcred.web.security import begin_second_factor, check_csrf, sign_in, sign_out

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["accounts"])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so sign-in cannot be used as an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@pages.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(
    request: Request, session: DbSession, principal: OptionalPrincipal, next: str | None = None
) -> HTMLResponse:
    return render(
        request, "sign_in.html", principal, next=_safe_next(next), error=None,
        open_sign_up=app_context(request).settings.open_sign_up,
        mail_on=mail_enabled(app_context(request).settings),
        providers=sso.sign_in_choices(session),
    )  # fmt: skip


@pages.post("/sign-in", response_model=None)
def sign_in_submit(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=400)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    organisation_sign_in: Annotated[str, Form(alias="sso", max_length=5)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    ip = request.client.host if request.client else None
    if organisation_sign_in:  # "Sign in with my organisation's account": by the address's domain
        provider = sso.provider_for_address(session, email)
        if provider is not None:
            target = quote(_safe_next(next), safe="/")
            return RedirectResponse(f"/sso/{provider.id}/start?next={target}", status_code=303)
        return render(
            request, "sign_in.html", None, status_code=400, next=_safe_next(next), email=email,
            error=_("No organisation here signs in addresses like %(email)s with its own "
                    "accounts: sign in with your password.") % {"email": email or "…"},
            open_sign_up=app_context(request).settings.open_sign_up,
            mail_on=mail_enabled(app_context(request).settings),
            providers=sso.sign_in_choices(session),
        )  # fmt: skip
    try:
        accounts.check_sign_in_allowed(session, email, ip)
        user = accounts.authenticate(session, email, password)
    except (AuthenticationFailed, accounts.SignInThrottled) as exc:
        if isinstance(exc, AuthenticationFailed):
            accounts.record_failed_sign_in(session, email, ip)
        return render(
            request, "sign_in.html", None, status_code=exc.status_code,
            next=_safe_next(next), error=exc.message, email=email,
            open_sign_up=app_context(request).settings.open_sign_up,
            mail_on=mail_enabled(app_context(request).settings),
            providers=sso.sign_in_choices(session),
        )  # fmt: skip
    if user.two_factor_enabled:
        begin_second_factor(request, user, _safe_next(next))
        return RedirectResponse("/sign-in/code", status_code=303)
    sign_in(request, user)
    return RedirectResponse(_safe_next(next), status_code=303)


RESET_ANSWER = (
    "If an account uses that address, we have sent it a link to choose a new password. It works "
    "once, for 24 hours. Nothing arrived? Look in the spam folder, or ask again in a few minutes."
)


def _mail_on(request: Request) -> None:
    if not mail_enabled(app_context(request).settings):
        raise NotFound("This server sends no e-mail: ask an administrator for a reset link.")


@pages.get("/forgot-password", response_class=HTMLResponse)
def forgot_password_page(request: Request, principal: OptionalPrincipal) -> HTMLResponse:
    _mail_on(request)
    return render(request, "forgot_password.html", principal, errors={}, email="", sent=False)


@pages.post("/forgot-password", response_class=HTMLResponse)
def forgot_password_submit(
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    email: Annotated[str, Form(max_length=400)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    _mail_on(request)
    check_csrf(request, csrf_token)
    try:
        recovery.request_reset(
            session, app_context(request).settings, email,
            ip=request.client.host if request.client else None,
        )  # fmt: skip
    except MicrocredError as error:
        return _refused(
            session, error, {"email": "email"},
            lambda status, errors: render(
                request, "forgot_password.html", principal, status_code=status, errors=errors,
                email=email, sent=False,
            ),
        )  # fmt: skip
    session.commit()
    return render(request, "forgot_password.html", principal, errors={}, email=email, sent=True)


class PasswordResetIn(BaseModel):
    email: str = Field(max_length=254)


class AcceptedOut(BaseModel):
    message: str


@api.post(
    "/account/password-reset",
    status_code=202,
    response_model=AcceptedOut,
    summary="E-mail a password reset link to an address, if an account has it (anonymous)",
    description="The same answer whether or not an account uses the address. 404 when this "
    "server sends no e-mail; 429 past 3 requests per address or 10 per network address an hour.",
)
def api_password_reset(body: PasswordResetIn, request: Request, session: DbSession) -> AcceptedOut:
    _mail_on(request)
    recovery.request_reset(
        session, app_context(request).settings, body.email,
        ip=request.client.host if request.client else None,
    )  # fmt: skip
    return AcceptedOut(message=RESET_ANSWER)


SIGN_UP_INPUTS = {
    "name": "name",
    "email": "email",
    "password": "password",
    "repeat_password": "repeat-password",
}


def _open_sign_up(request: Request) -> None:
    if not app_context(request).settings.open_sign_up:
        raise NotFound(
            "Accounts are made by invitation here: ask the organisation that invites you."
        )


@pages.get("/sign-up", response_class=HTMLResponse)
def sign_up_page(request: Request, principal: OptionalPrincipal) -> Response:
    _open_sign_up(request)
    if principal is not None:
        return RedirectResponse("/account", status_code=303)
    return render(
        request, "sign_up.html", None, errors={}, values={},
        mail_on=mail_enabled(app_context(request).settings),
    )  # fmt: skip


@pages.post("/sign-up", response_model=None)
def sign_up_submit(
    request: Request,
    session: DbSession,
    name: Annotated[str, Form(max_length=400)] = "",
    email: Annotated[str, Form(max_length=400)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    repeat_password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    _open_sign_up(request)
    check_csrf(request, csrf_token)
    try:
        user = selfservice.sign_up(
            session, email=email, name=name, password=password, repeated=repeat_password,
            ip=request.client.host if request.client else None,
        )  # fmt: skip
    except MicrocredError as error:
        return _refused(
            session, error, SIGN_UP_INPUTS,
            lambda status, errors: render(
                request, "sign_up.html", None, status_code=status, errors=errors,
                values={"name": name, "email": email},
                mail_on=mail_enabled(app_context(request).settings),
            ),
        )  # fmt: skip
    verification.send_verification(
        session, app_context(request).settings, user,
        ip=request.client.host if request.client else None,
    )  # fmt: skip
    sign_in(request, user)
    return RedirectResponse("/account?welcome=1", status_code=303)


@pages.post("/sign-out")
def sign_out_submit(request: Request, csrf_token: Annotated[str, Form()] = "") -> RedirectResponse:
    check_csrf(request, csrf_token)
    sign_out(request)
    return RedirectResponse("/", status_code=303)


EXPORT_SCOPE = "account:export"
ERASE_INPUTS = {"password": "erase-password", "confirmation": "erase-confirmation"}
TOKEN_INPUTS = {"name": "token-name", "scopes": "token-scopes"}
ACCOUNT_INPUTS = {
    "locale": "account-locale",
    "name": "account-name",
    "current_password": "current-password",
    "new_password": "new-password",
    "repeat_password": "repeat-password",
}


def _account(
    request: Request,
    session: DbSession,
    principal: Principal,
    *,
    status_code: int = 200,
    errors: FieldErrors | None = None,
    **extra: object,
) -> HTMLResponse:
    user = session.get(User, principal.user_id)
    context: dict[str, object] = {
        "new_secret": None,
        "saved_locale": user.locale if user is not None else None,
        "two_factor_on": user is not None and user.two_factor_enabled,
        "verify_address": user is not None
        and verification.can_verify(app_context(request).settings, user),
        "notice": request.query_params.get("done"),
        "errors": errors or {},
        "token_name": "",
        **extra,
    }
    return render(
        request,
        "account.html",
        principal,
        status_code=status_code,
        tokens=accounts.list_api_tokens(session, principal),
        memberships=accounts.memberships_of(session, principal),
        scopes=accounts.SCOPES,
        connected_apps=obapi.connected_apps(session, principal),
        scope_words=SCOPE_WORDS,
        now=datetime.now(UTC),
        **context,
    )


def _refused(
    session: DbSession,
    error: MicrocredError,
    inputs: dict[str, str],
    page: Callable[[int, FieldErrors], HTMLResponse],
) -> HTMLResponse:
    """Bad input back on its page, under the input it names (nothing kept); a refusal keeps
    its error page."""
    if not is_bad_input(error):
        raise error
    session.rollback()
    return page(error.status_code, errors_on_inputs(error, inputs))


def _account_again(
    request: Request, session: DbSession, principal: Principal
) -> Callable[[int, FieldErrors], HTMLResponse]:
    return lambda status, errors: _account(
        request, session, principal, status_code=status, errors=errors
    )


@pages.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: DbSession, principal: CurrentPrincipal) -> HTMLResponse:
    return _account(request, session, principal)


@pages.post("/account/verify-email")
def account_send_verification(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(request, csrf_token)
    user = session.get(User, principal.user_id)
    if user is None or principal.scopes is not None:
        raise PermissionDenied("Confirm your address from a signed-in session.")
    verification.send_verification(
        session, app_context(request).settings, user,
        ip=request.client.host if request.client else None,
    )  # fmt: skip
    return RedirectResponse("/account?done=verification-sent#address", status_code=303)


@pages.get("/verify-email/{secret}")
def verify_email(
    secret: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> RedirectResponse:
    """Signed in as the account (else to the sign-in page and back here): see
    ``accounts.verification``."""
    verified = verification.verify_email(session, secret, principal)
    session.commit()
    done = "email-already-verified" if verified.already else "email-verified"
    return RedirectResponse(f"/account?done={done}&linked={verified.linked}", status_code=303)


@pages.post("/account/tokens", response_class=HTMLResponse)
def account_create_token(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    name: Annotated[str, Form(max_length=400)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    organisation_id: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    try:
        _, secret = accounts.create_api_token(
            session, principal, name=name, scopes=scopes or [],
            organisation_id=organisation_id or None,
        )  # fmt: skip
    except MicrocredError as error:
        if not is_bad_input(error):
            raise
        session.rollback()
        return _account(
            request, session, principal, status_code=error.status_code,
            errors=errors_on_inputs(error, TOKEN_INPUTS), token_name=name,
        )  # fmt: skip
    return _account(request, session, principal, new_secret=secret)


@pages.post("/account/tokens/{token_id}/revoke")
def account_revoke_token(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    token_id: str,
    csrf_token: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(request, csrf_token)
    accounts.revoke_api_token(session, principal, token_id)
    return RedirectResponse("/account?done=token-revoked#tokens", status_code=303)


@pages.post("/account/name", response_model=None)
def account_rename(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    name: Annotated[str, Form(max_length=400)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        selfservice.rename(session, principal, name)
    except MicrocredError as error:
        return _refused(session, error, ACCOUNT_INPUTS, _account_again(request, session, principal))
    return RedirectResponse("/account?done=renamed", status_code=303)


@pages.post("/account/language", response_model=None)
def account_language(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    locale: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Save the account's language; the ``lang`` cookie, a choice that would override it in
    this browser, is cleared."""
    check_csrf(request, csrf_token)
    try:
        selfservice.set_locale(session, principal, locale)
    except MicrocredError as error:
        return _refused(session, error, ACCOUNT_INPUTS, _account_again(request, session, principal))
    response = RedirectResponse("/account?done=language-saved#language", status_code=303)
    response.delete_cookie(LANG_COOKIE, path="/")
    return response


@pages.post("/account/password", response_model=None)
def account_password(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
    repeat_password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        user = selfservice.change_password(
            session, principal, current=current_password, new=new_password,
            repeated=repeat_password,
        )  # fmt: skip
    except MicrocredError as error:
        return _refused(session, error, ACCOUNT_INPUTS, _account_again(request, session, principal))
    sign_in(request, user)  # this session goes on with the new password; the others end
    return RedirectResponse("/account?done=password-changed", status_code=303)


@pages.post("/account/export")
def account_export(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    return _export_response(request, session, principal)


def _export_response(request: Request, session: DbSession, principal: Principal) -> Response:
    settings = app_context(request).settings
    archive = privacy.export_personal_data(
        session, principal, site=str(settings.base_url),
        read_evidence=EvidenceStore(settings.data_dir).read,
    )  # fmt: skip
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    return Response(
        archive,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="microcred-my-data-{day}.zip"',
            "Cache-Control": "no-store",
        },
    )


@pages.get("/account/delete", response_class=HTMLResponse)
def account_delete_page(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> HTMLResponse:
    return _delete_page(request, session, principal)


def _delete_page(
    request: Request,
    session: DbSession,
    principal: Principal,
    *,
    status_code: int = 200,
    errors: FieldErrors | None = None,
) -> HTMLResponse:
    return render(
        request,
        "account_delete.html",
        principal,
        status_code=status_code,
        blockers=privacy.erasure_blockers(session, principal.user_id),
        confirmation=privacy.ERASE_CONFIRMATION,
        errors=errors or {},
    )


@pages.post("/account/delete", response_class=HTMLResponse)
def account_delete(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    password: Annotated[str, Form(max_length=1000)] = "",
    confirmation: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    try:
        kept = privacy.erase_account(
            session, principal, password=password, confirmation=confirmation,
            remove_evidence=EvidenceStore(app_context(request).settings.data_dir).remove,
        )  # fmt: skip
    except MicrocredError as error:
        return _refused(
            session, error, ERASE_INPUTS,
            lambda status, errors: _delete_page(
                request, session, principal, status_code=status, errors=errors
            ),
        )  # fmt: skip
    sign_out(request)
    return render(request, "account_deleted.html", None, kept=kept)


class MembershipOut(BaseModel):
    organisation_id: str
    organisation_slug: str
    organisation_name: str
    role: str


class MeOut(BaseModel):
    id: str
    email: str
    name: str
    is_platform_admin: bool
    two_factor_enabled: bool = Field(
        description="Whether signing in asks for a code of an authenticator app"
    )
    memberships: list[MembershipOut]
    scopes: list[str] | None = Field(description="Scopes of the token used; null for a session")


@api.get("/me", response_model=MeOut, summary="Who am I")
def me(session: DbSession, principal: CurrentPrincipal) -> MeOut:
    return MeOut(
        id=principal.user_id,
        email=principal.email,
        name=principal.name,
        is_platform_admin=principal.is_platform_admin,
        two_factor_enabled=accounts.get_user(session, principal.user_id).two_factor_enabled,
        memberships=[MembershipOut(**m) for m in accounts.memberships_of(session, principal)],
        scopes=None if principal.scopes is None else sorted(principal.scopes),
    )


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    scopes: list[str] = Field(min_length=1)
    organisation_id: str | None = None
    valid_days: int | None = Field(default=90, ge=1, le=3650)


class TokenOut(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    organisation_id: str | None
    expires_at: datetime | None
    secret: str | None = Field(default=None, description="Shown once, at creation")


@api.post("/tokens", response_model=TokenOut, status_code=201, summary="Create an API token")
def create_token(body: TokenIn, session: DbSession, principal: CurrentPrincipal) -> TokenOut:
    from datetime import timedelta

    if principal.scopes is not None:
        raise AuthenticationFailed("Tokens can only be created from a signed-in session.")
    token, secret = accounts.create_api_token(
        session,
        principal,
        name=body.name,
        scopes=body.scopes,
        organisation_id=body.organisation_id,
        valid_for=None if body.valid_days is None else timedelta(days=body.valid_days),
    )
    return TokenOut(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        scopes=token.scopes,
        organisation_id=token.organisation_id,
        expires_at=token.expires_at,
        secret=secret,
    )


@api.delete(
    "/tokens/{token_id}",
    status_code=204,
    summary="Revoke one of your API tokens (it stops working at once)",
)
def revoke_token(token_id: str, session: DbSession, principal: CurrentPrincipal) -> Response:
    accounts.revoke_api_token(session, principal, token_id)
    return Response(status_code=204)


@api.get(
    "/me/export",
    summary="Download everything the platform holds about you (a ZIP archive)",
    response_class=Response,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The archive: account.json, credentials/, tables/, evidence/",
        }
    },
)
def export_me(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    if not principal.has_scope(EXPORT_SCOPE):
        raise PermissionDenied(f"This token lacks the {EXPORT_SCOPE} scope.")
    return _export_response(request, session, principal)


class AuditOut(BaseModel):
    at: datetime
    actor_user_id: str | None
    action: str
    object_type: str | None
    object_id: str | None
    details: dict[str, object]


@api.get(
    "/organisations/{slug}/audit",
    response_model=list[AuditOut],
    summary="Audit log of an organisation (its admins only)",
)
def organisation_audit(
    slug: str, session: DbSession, principal: CurrentPrincipal
) -> list[AuditOut]:
    org = accounts.get_organisation(session, slug)
    return [
        AuditOut(
            at=e.at,
            actor_user_id=e.actor_user_id,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            details=e.details,
        )
        for e in accounts.audit_log(session, principal, org.id)
    ]


routers = [pages, api]

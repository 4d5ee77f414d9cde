"""Sign-in, sign-out, the account page with API tokens; /api/v1/me and token API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from microcred.accounts import service as accounts
from microcred.accounts.service import AuthenticationFailed
from microcred.web.deps import CurrentPrincipal, DbSession, OptionalPrincipal
from microcred.web.rendering import render
from microcred.web.security import check_csrf, sign_in, sign_out

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["accounts"])


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so sign-in cannot be used as an open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@pages.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(
    request: Request, principal: OptionalPrincipal, next: str | None = None
) -> HTMLResponse:
    return render(request, "sign_in.html", principal, next=_safe_next(next), error=None)


@pages.post("/sign-in", response_model=None)
def sign_in_submit(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    check_csrf(request, csrf_token)
    ip = request.client.host if request.client else None
    try:
        accounts.check_sign_in_allowed(session, email, ip)
        user = accounts.authenticate(session, email, password)
    except (AuthenticationFailed, accounts.SignInThrottled) as exc:
        if isinstance(exc, AuthenticationFailed):
            accounts.record_failed_sign_in(session, email, ip)
        return render(
            request, "sign_in.html", None, status_code=exc.status_code,
            next=_safe_next(next), error=exc.message, email=email,
        )  # fmt: skip
    sign_in(request, user.id)
    return RedirectResponse(_safe_next(next), status_code=303)


@pages.post("/sign-out")
def sign_out_submit(request: Request, csrf_token: Annotated[str, Form()] = "") -> RedirectResponse:
    check_csrf(request, csrf_token)
    sign_out(request)
    return RedirectResponse("/", status_code=303)


@pages.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: DbSession, principal: CurrentPrincipal) -> HTMLResponse:
    return render(
        request,
        "account.html",
        principal,
        tokens=accounts.list_api_tokens(session, principal),
        memberships=accounts.memberships_of(session, principal),
        scopes=accounts.SCOPES,
        new_secret=None,
    )


@pages.post("/account/tokens", response_class=HTMLResponse)
def account_create_token(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    name: Annotated[str, Form()],
    scopes: Annotated[list[str], Form()],
    organisation_id: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    _, secret = accounts.create_api_token(
        session, principal, name=name, scopes=scopes, organisation_id=organisation_id or None
    )
    return render(
        request,
        "account.html",
        principal,
        tokens=accounts.list_api_tokens(session, principal),
        memberships=accounts.memberships_of(session, principal),
        scopes=accounts.SCOPES,
        new_secret=secret,
    )


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
    memberships: list[MembershipOut]
    scopes: list[str] | None = Field(description="Scopes of the token used; null for a session")


@api.get("/me", response_model=MeOut, summary="Who am I")
def me(session: DbSession, principal: CurrentPrincipal) -> MeOut:
    return MeOut(
        id=principal.user_id,
        email=principal.email,
        name=principal.name,
        is_platform_admin=principal.is_platform_admin,
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

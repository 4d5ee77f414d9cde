"""Single sign-on pages: *Sign in with <provider>* and its return, an organisation's providers
(page and API)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from microcred.accounts import admin, sso
from microcred.accounts import service as accounts
from microcred.accounts.models import IdentityProvider, Organisation
from microcred.accounts.service import Principal
from microcred.errors import MicrocredError, NotFound, PermissionDenied
from microcred.web.deps import CurrentPrincipal, DbSession, app_context
from microcred.web.form_errors import errors_on_inputs, is_bad_input
from microcred.web.rendering import render
from microcred.web.security import begin_second_factor, check_csrf, sign_in

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["accounts"])

SSO_SESSION_KEY = "sso"
SSO_WINDOW_SECONDS = 10 * 60
"""How long the way to the provider and back may take."""
PROVIDER_INPUTS = {
    "name": "sso-name", "issuer": "sso-issuer", "client_id": "sso-client-id",
    "client_secret": "sso-client-secret", "domains": "sso-domains",
    "member_role": "sso-member-role",
}  # fmt: skip


def callback_url(request: Request) -> str:
    """The redirect URI to register at the provider."""
    return f"{app_context(request).settings.base_url.rstrip('/')}/sso/callback"


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@pages.get("/sso/{provider_id}/start")
def sso_start(
    provider_id: str,
    request: Request,
    session: DbSession,
    next: Annotated[str | None, Query(max_length=500)] = None,
) -> RedirectResponse:
    provider = sso.get_provider(session, provider_id)
    started = sso.start(provider, callback_url(request))
    request.session[SSO_SESSION_KEY] = {
        "provider": provider.id, "state": started.state, "nonce": started.nonce,
        "verifier": started.verifier, "next": _safe_next(next), "at": int(time.time()),
    }  # fmt: skip
    return RedirectResponse(started.url, status_code=303)


@pages.get("/sso/callback")
def sso_callback(
    request: Request,
    session: DbSession,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=200)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    error_description: Annotated[str | None, Query(max_length=500)] = None,
) -> RedirectResponse:
    pending = request.session.pop(SSO_SESSION_KEY, None)
    if (
        not isinstance(pending, dict)
        or time.time() - int(pending.get("at", 0)) > SSO_WINDOW_SECONDS
    ):
        raise sso.SsoError(
            "This sign-in was not started in this browser, or took longer than 10 minutes: "
            "start again from the sign-in page."
        )
    if error:
        raise sso.SsoError(
            f"The sign-in provider did not sign you in: {error_description or error}."
        )
    if not state or state != pending.get("state"):
        raise sso.SsoError("The sign-in's state does not match (a forged or replayed return).")
    if not code:
        raise sso.SsoError("The sign-in provider sent no code back.")
    provider = sso.get_provider(session, str(pending.get("provider")))
    user = sso.complete(
        session, app_context(request).settings, provider, code=code,
        verifier=str(pending.get("verifier")), nonce=str(pending.get("nonce")),
        redirect_uri=callback_url(request), ip=request.client.host if request.client else None,
    )  # fmt: skip
    next_path = _safe_next(pending.get("next"))
    if user.two_factor_enabled:  # the account's own second factor is still asked for
        begin_second_factor(request, user, next_path)
        return RedirectResponse("/sign-in/code", status_code=303)
    sign_in(request, user)
    return RedirectResponse(next_path, status_code=303)


# --- an organisation's providers --------------------------------------------------------------


def _organisations(session: DbSession, principal: Principal, slug: str | None) -> Organisation:
    organisations = admin.administered_organisations(session, principal)
    if not organisations:
        raise PermissionDenied("Only organisation admins manage sign-in providers.")
    return next((o for o in organisations if o.slug == slug), organisations[0])


def _manage_page(
    request: Request, session: DbSession, principal: Principal, slug: str | None, *,
    status_code: int = 200, errors: dict[str, list[str]] | None = None,
    values: dict[str, str] | None = None, notice: str | None = None,
) -> HTMLResponse:  # fmt: skip
    current = _organisations(session, principal, slug)
    return render(
        request, "sso/manage.html", principal, status_code=status_code, current=current,
        organisations=admin.administered_organisations(session, principal),
        providers=sso.providers_of(session, principal, current.id),
        callback=callback_url(request), errors=errors or {}, values=values or {}, notice=notice,
    )  # fmt: skip


@pages.get("/manage/sign-in", response_class=HTMLResponse)
def manage_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Annotated[str | None, Query(max_length=80)] = None,
) -> HTMLResponse:
    return _manage_page(request, session, principal, organisation)


@pages.post("/manage/sign-in", response_class=HTMLResponse)
def manage_add(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form(max_length=80)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    issuer: Annotated[str, Form(max_length=500)] = "",
    client_id: Annotated[str, Form(max_length=255)] = "",
    client_secret: Annotated[str, Form(max_length=2000)] = "",
    domains: Annotated[str, Form(max_length=2000)] = "",
    member_role: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    current = _organisations(session, principal, organisation)
    try:
        added = sso.add_provider(
            session, app_context(request).settings, principal, current.id, name=name,
            issuer=issuer, client_id=client_id, client_secret=client_secret, domains=domains,
            member_role=member_role,
        )  # fmt: skip
        sso.discover(added)  # tell the admin now if the issuer is wrong
    except MicrocredError as error:
        if not is_bad_input(error):
            raise
        session.rollback()
        return _manage_page(
            request, session, principal, current.slug, status_code=error.status_code,
            errors=errors_on_inputs(error, PROVIDER_INPUTS),
            values={"name": name, "issuer": issuer, "client_id": client_id, "domains": domains,
                    "member_role": member_role},
        )  # fmt: skip
    session.commit()
    return _manage_page(
        request, session, principal, current.slug,
        notice=f"{added.name} is ready: the sign-in page now offers “Sign in with {added.name}”.",
    )  # fmt: skip


@pages.post("/manage/sign-in/{provider_id}/remove", response_model=None)
def manage_remove(
    provider_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    provider = sso.get_provider(session, provider_id)
    slug = session.get(Organisation, provider.organisation_id)
    sso.remove_provider(session, principal, provider_id)
    return RedirectResponse(
        f"/manage/sign-in?organisation={slug.slug if slug else ''}", status_code=303
    )


class IdentityProviderIn(BaseModel):
    name: str = Field(min_length=1, max_length=120, description="Shown as 'Sign in with <name>'")
    issuer: str = Field(max_length=500, description="The provider's issuer URL (https)")
    client_id: str = Field(min_length=1, max_length=255)
    client_secret: str = Field(min_length=1, max_length=2000, description="Stored encrypted")
    email_domains: list[str] = Field(
        default_factory=list, description="Addresses it may vouch for; empty: any"
    )
    member_role: str = Field(default="", description="'learner' or '' (no membership)")


class IdentityProviderOut(BaseModel):
    id: str
    name: str
    issuer: str
    client_id: str
    email_domains: list[str]
    member_role: str | None
    redirect_uri: str = Field(description="Register this at the provider")
    sign_in_url: str = Field(description="A link that starts signing in with it")

    @classmethod
    def of(cls, provider: IdentityProvider, request: Request) -> IdentityProviderOut:
        base = app_context(request).settings.base_url.rstrip("/")
        return cls(
            id=provider.id, name=provider.name, issuer=provider.issuer,
            client_id=provider.client_id, email_domains=list(provider.email_domains),
            member_role=provider.member_role, redirect_uri=callback_url(request),
            sign_in_url=f"{base}/sso/{provider.id}/start",
        )  # fmt: skip


@api.get(
    "/organisations/{slug}/identity-providers", response_model=list[IdentityProviderOut],
    summary="The organisation's single sign-on providers (OpenID Connect)",
)  # fmt: skip
def api_providers(
    slug: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> list[IdentityProviderOut]:
    found = accounts.get_organisation(session, slug)
    return [
        IdentityProviderOut.of(p, request) for p in sso.providers_of(session, principal, found.id)
    ]


@api.post(
    "/organisations/{slug}/identity-providers", response_model=IdentityProviderOut,
    status_code=201, summary="Register a single sign-on provider (OpenID Connect)",
)  # fmt: skip
def api_add_provider(
    slug: str, body: IdentityProviderIn, request: Request, session: DbSession,
    principal: CurrentPrincipal,
) -> IdentityProviderOut:  # fmt: skip
    found = accounts.get_organisation(session, slug)
    added = sso.add_provider(
        session, app_context(request).settings, principal, found.id, name=body.name,
        issuer=body.issuer, client_id=body.client_id, client_secret=body.client_secret,
        domains=body.email_domains, member_role=body.member_role,
    )  # fmt: skip
    return IdentityProviderOut.of(added, request)


@api.delete(
    "/organisations/{slug}/identity-providers/{provider_id}", status_code=204,
    summary="Remove a single sign-on provider (the accounts it made stay)",
)  # fmt: skip
def api_remove_provider(
    slug: str, provider_id: str, session: DbSession, principal: CurrentPrincipal
) -> Response:
    found = accounts.get_organisation(session, slug)
    provider = sso.get_provider(session, provider_id)
    if provider.organisation_id != found.id:
        raise NotFound("No such sign-in provider.")
    sso.remove_provider(session, principal, provider_id)
    return Response(status_code=204)


routers = [pages, api]

"""Learners' public profiles: the settings page, the public page and their JSON API."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from microcred.accounts.service import Principal, has_consent
from microcred.credentials.service import credentials_of_learner
from microcred.errors import MicrocredError
from microcred.wallet import profiles
from microcred.wallet.service import wallet_of
from microcred.web.deps import CurrentPrincipal, DbSession, OptionalPrincipal, app_context
from microcred.web.form_errors import errors_on_inputs
from microcred.web.rendering import render
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["wallet"])
routers = [pages, api]


def _base_url(request: Request) -> str:
    return app_context(request).settings.base_url.rstrip("/")


def _settings_page(
    request: Request,
    session: DbSession,
    principal: Principal,
    *,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    profile = profiles.profile_of(session, principal.user_id)
    chosen = profiles.chosen_items(session, principal.user_id)
    defaults: dict[str, object] = {
        "handle": profile.handle if profile else profiles.suggest_handle(principal.name),
        "headline": profile.headline if profile else "",
        "published": bool(profile and profile.published),
        "chosen": {i.credential_id or i.imported_id for i in chosen},
        "public_name": has_consent(session, principal.user_id, profiles.PUBLIC_NAME_CONSENT),
        "errors": {},
    }
    return render(
        request, "wallet/profile.html", principal, status_code=status_code, profile=profile,
        earned=credentials_of_learner(session, principal.user_id, principal),
        imported=wallet_of(session, principal.user_id, app_context(request).settings),
        base_url=_base_url(request), **{**defaults, **context},
    )  # fmt: skip


PROFILE_INPUTS = {"handle": "handle", "headline": "headline", "items": "profile-credentials"}
"""The profile form's input for each field a refusal names."""


@pages.get("/wallet/profile", response_class=HTMLResponse)
def profile_settings(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> HTMLResponse:
    return _settings_page(request, session, principal)


@pages.post("/wallet/profile", response_model=None)
async def profile_save(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    handle, headline = str(form.get("handle") or ""), str(form.get("headline") or "")
    published, public_name = form.get("published") == "on", form.get("public_name") == "on"
    credential_ids = [str(v) for v in form.getlist("credential")]
    imported_ids = [str(v) for v in form.getlist("imported")]
    try:
        profiles.save_profile(
            session, principal, handle=handle, headline=headline, published=published,
            credential_ids=credential_ids, imported_ids=imported_ids,
        )  # fmt: skip
        profiles.set_public_name(session, principal.user_id, public_name)
    except MicrocredError as error:
        session.rollback()
        return _settings_page(
            request, session, principal, status_code=error.status_code,
            errors=errors_on_inputs(error, PROFILE_INPUTS),
            handle=handle, headline=headline, published=published, public_name=public_name,
            chosen=set(credential_ids) | set(imported_ids),
        )  # fmt: skip
    return RedirectResponse("/wallet/profile?saved=1", status_code=303)


@pages.get("/people/{handle}", response_class=HTMLResponse)
def public_profile_page(
    handle: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> HTMLResponse:
    profile = profiles.public_profile(session, handle, _base_url(request))
    return render(
        request, "wallet/public_profile.html", principal, profile=profile,
        page_url=f"{_base_url(request)}/people/{profile.handle}",
    )  # fmt: skip


# --- JSON API ----------------------------------------------------------------------------------


class ProfileEntryOut(BaseModel):
    kind: str = Field(description="earned: issued here and verified live; imported: verified")
    name: str
    issuer_name: str
    issued_on: datetime
    valid_until: datetime | None
    page_url: str | None = Field(description="The credential's public verification page")
    credential_id: str
    skills: list[str]


class PublicProfileOut(BaseModel):
    handle: str
    name: str
    headline: str
    url: str
    credentials: list[ProfileEntryOut]
    skills: dict[str, int] = Field(description="Each skill with how many credentials attest it")


class ProfileIn(BaseModel):
    handle: str = Field(max_length=40)
    headline: str = Field(default="", max_length=1000)
    published: bool = False
    show_name_on_credentials: bool = Field(
        default=False, description="Show your name on your credentials' public pages"
    )
    credential_ids: list[str] = Field(default_factory=list, max_length=profiles.MAX_ITEMS)
    imported_ids: list[str] = Field(default_factory=list, max_length=profiles.MAX_ITEMS)


class ProfileSettingsOut(ProfileIn):
    url: str


def _public_out(profile: profiles.PublicProfile, base_url: str) -> PublicProfileOut:
    return PublicProfileOut(
        handle=profile.handle,
        name=profile.name,
        headline=profile.headline,
        url=f"{base_url}/people/{profile.handle}",
        credentials=[
            ProfileEntryOut(
                kind=e.kind,
                name=e.name,
                issuer_name=e.issuer_name,
                issued_on=e.issued_on,
                valid_until=e.valid_until,
                page_url=e.page_url,
                credential_id=e.credential_id,
                skills=list(e.skills),
            )
            for e in profile.entries
        ],
        skills=dict(profile.skills),
    )


@api.get("/profiles/{handle}", response_model=PublicProfileOut, summary="A public profile")
def api_public_profile(handle: str, request: Request, session: DbSession) -> PublicProfileOut:
    base = _base_url(request)
    return _public_out(profiles.public_profile(session, handle, base), base)


def _settings_out(session: DbSession, principal: Principal, base: str) -> ProfileSettingsOut:
    profile = profiles.profile_of(session, principal.user_id)
    if profile is None:
        raise profiles.ProfileError("You have no profile yet: PUT one.", status_code=404)
    items = profiles.chosen_items(session, principal.user_id)
    name_shown = has_consent(session, principal.user_id, profiles.PUBLIC_NAME_CONSENT)
    return ProfileSettingsOut(
        handle=profile.handle, headline=profile.headline, published=profile.published,
        show_name_on_credentials=name_shown,
        credential_ids=[i.credential_id for i in items if i.credential_id],
        imported_ids=[i.imported_id for i in items if i.imported_id],
        url=f"{base}/people/{profile.handle}",
    )  # fmt: skip


@api.get("/me/profile", response_model=ProfileSettingsOut, summary="Your profile settings")
def api_my_profile(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> ProfileSettingsOut:
    return _settings_out(session, principal, _base_url(request))


@api.put("/me/profile", response_model=ProfileSettingsOut, summary="Save your profile")
def api_save_profile(
    body: ProfileIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> ProfileSettingsOut:
    profiles.save_profile(
        session, principal, handle=body.handle, headline=body.headline,
        published=body.published, credential_ids=body.credential_ids,
        imported_ids=body.imported_ids,
    )  # fmt: skip
    profiles.set_public_name(session, principal.user_id, body.show_name_on_credentials)
    return _settings_out(session, principal, _base_url(request))

"""An issuer's issuance settings: the page for its staff (admins change them) and the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from microcred.credentials import service
from microcred.credentials.errors import CredentialError
from microcred.i18n import LOCALE_NAMES
from microcred.mail.service import mail_enabled
from microcred.web.deps import CurrentPrincipal, DbSession, app_context
from microcred.web.rendering import render
from microcred.web.routers.credentials import _staff_context
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["credentials"])


class IssuanceSettingsOut(BaseModel):
    formats: list[str] = Field(
        description="Securing formats of credentials issued by a call that names none"
    )
    email_recipients: bool = Field(
        description="Recipients are e-mailed when a credential is issued to them (only when "
        "this server sends mail: see mail_enabled)"
    )
    mail_locale: str | None = Field(
        description="Default language of mails to people without an account (invitations; "
        "a credential's mails when its definition's language is not one of en, de, fr, es); "
        "null: English"
    )
    mail_enabled: bool = Field(description="Whether this server is configured to send e-mail")


class IssuanceSettingsIn(BaseModel):
    formats: list[str] | None = Field(
        default=None, max_length=10, description="Leave out to keep the current formats"
    )
    email_recipients: bool | None = Field(default=None, description="Leave out to keep it")
    mail_locale: str | None = Field(
        default=None,
        max_length=8,
        description="en, de, fr or es; null for English; leave out to keep it",
    )


def _out(request: Request, found: service.IssuanceSettings) -> IssuanceSettingsOut:
    return IssuanceSettingsOut(
        formats=list(found.formats),
        email_recipients=found.email_recipients,
        mail_locale=found.mail_locale,
        mail_enabled=mail_enabled(app_context(request).settings),
    )


@api.get(
    "/organisations/{slug}/issuance-settings",
    response_model=IssuanceSettingsOut,
    summary="An issuer's issuance settings (its staff; scope credentials:read)",
)
def api_issuance_settings(
    slug: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> IssuanceSettingsOut:
    return _out(request, service.issuance_settings(session, principal, slug))


@api.put(
    "/organisations/{slug}/issuance-settings",
    response_model=IssuanceSettingsOut,
    summary="Change an issuer's issuance settings (its admins; scope credentials:issue)",
)
def api_update_issuance_settings(
    slug: str,
    body: IssuanceSettingsIn,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
) -> IssuanceSettingsOut:
    given = body.model_fields_set
    locale = (body.mail_locale or "") if "mail_locale" in given else None
    service.update_issuance_settings(
        session,
        principal,
        slug,
        formats=body.formats,
        email_recipients=body.email_recipients,
        mail_locale=locale,
    )
    return _out(request, service.issuance_settings(session, principal, slug))


def _page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    slug: str | None,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    organisations, current = _staff_context(session, principal, slug)
    found = service.issuance_settings(session, principal, current.slug)
    response = render(
        request, "credentials/settings.html", principal, organisations=organisations,
        current=current, found=found, labels=service.FORMAT_LABELS, languages=LOCALE_NAMES,
        can_change=principal.can(current.id, scope=service.ISSUE_SCOPE),
        mail=mail_enabled(app_context(request).settings), notice=notice, error=error,
    )  # fmt: skip
    response.status_code = status_code
    return response


@pages.get("/manage/credentials/settings", response_class=HTMLResponse)
def issuance_settings_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Annotated[str | None, Query(max_length=80)] = None,
    saved: bool = False,
) -> HTMLResponse:
    notice = "Settings saved." if saved else None
    return _page(request, session, principal, organisation, notice=notice)


@pages.post("/manage/credentials/settings", response_model=None)
def issuance_settings_submit(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Annotated[str, Form(max_length=80)],
    formats: Annotated[list[str] | None, Form()] = None,
    email_recipients: Annotated[str | None, Form(max_length=10)] = None,
    mail_locale: Annotated[str | None, Form(max_length=8)] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf_token)
    try:
        service.update_issuance_settings(
            session, principal, organisation, formats=formats or [],
            email_recipients=email_recipients == "on", mail_locale=mail_locale,
        )  # fmt: skip
    except CredentialError as error:
        session.rollback()
        return _page(request, session, principal, organisation, error=str(error), status_code=400)
    return RedirectResponse(
        f"/manage/credentials/settings?organisation={organisation}&saved=1", status_code=303
    )


routers = [pages, api]

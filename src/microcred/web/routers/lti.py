"""LTI 1.3: the OIDC login and launch endpoints an LMS calls, the launch pages shown inside the
LMS, the registrations page (/manage/lti) and the JSON API.

Cookies inside an LMS frame: the site's session cookie is SameSite=Lax, which a browser does not
send on the platform's cross-site form post, so a launch never uses it and never signs the
browser in. The login sets one cookie of its own, ``microcred_lti_browser`` (SameSite=None;
Secure; HttpOnly; path /lti), naming the browser the state was issued to; the launch must come
back with it. After the launch the page's forms carry a launch token (random, its hash stored,
two hours) in the form body: not an ambient credential, so a forged cross-site post has none
(CSRF holds without the session's token).
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation, Role
from microcred.accounts.service import Principal, staff_organisations
from microcred.assessment.awards import CredentialAwarder
from microcred.catalogue import service as catalogue
from microcred.errors import MicrocredError
from microcred.lti import ags, deeplinking, registrations
from microcred.lti import service as lti
from microcred.lti.errors import LaunchRejected, LtiError, LtiForbidden
from microcred.lti.schemas import LinkOut, PlatformIn, PlatformOut, SyncOut, ToolUrlsOut
from microcred.web.deps import CurrentPrincipal, DbSession, app_context
from microcred.web.form_errors import errors_on_inputs, is_bad_input
from microcred.web.rendering import render
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["lti"])
routers = [pages, api]

BROWSER_COOKIE = "microcred_lti_browser"
FRAME_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors *; form-action 'self'"
)
"""Launch pages may be framed by any LMS (Canvas frames them from the institution's domain, not
the issuer's): each exists only as the answer to a signed, nonce-bound launch or to a form that
carries its launch token, so there is nothing a framing page could click on for someone else."""

Slug = Annotated[str, Form(max_length=80)]
CsrfToken = Annotated[str, Form()]
INPUTS = {
    name: name
    for name in (
        "name",
        "issuer",
        "client_id",
        "deployment_ids",
        "auth_login_url",
        "auth_token_url",
        "jwks_url",
        "platform_jwks",
    )
}
LABELS = {
    "name": "Name",
    "issuer": "Platform issuer",
    "client_id": "Client ID",
    "deployment_ids": "Deployment IDs",
    "auth_login_url": "Authentication URL",
    "auth_token_url": "Token URL",
    "jwks_url": "JWKS URL",
    "platform_jwks": "Pasted JWKS",
}


def _frameable(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = FRAME_POLICY
    return response


def _frame_page(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    response = render(request, template, None, status_code=status_code, **context)
    _frameable(response)
    return response


def _refused(request: Request, error: MicrocredError) -> HTMLResponse:
    status = error.status_code if error.status_code < 500 else 502
    return _frame_page(request, "lti/error.html", status_code=status, message=error.message)


# --- the LMS-facing endpoints -------------------------------------------------------------------


async def _params(request: Request) -> dict[str, str]:
    values: dict[str, str] = {k: str(v) for k, v in request.query_params.items()}
    if request.method == "POST":
        form = await request.form()
        values.update({k: v for k, v in form.items() if isinstance(v, str)})
    return values


@pages.api_route("/lti/login", methods=["GET", "POST"], response_model=None)
async def lti_login(request: Request) -> Response:
    """OIDC third-party initiated login: check the request and send the browser to the
    platform's authentication URL with a state and nonce."""
    params = await _params(request)
    context = app_context(request)
    browser = request.cookies.get(BROWSER_COOKIE) or lti.new_browser_id()
    login = lti.LoginRequest(
        iss=params.get("iss", ""),
        login_hint=params.get("login_hint", ""),
        target_link_uri=params.get("target_link_uri", ""),
        lti_message_hint=params.get("lti_message_hint", ""),
        client_id=params.get("client_id", ""),
        lti_deployment_id=params.get("lti_deployment_id", ""),
    )
    try:
        with context.sessions.begin() as session:
            url = lti.begin_login(session, context.settings, login, browser)
    except MicrocredError as error:
        return _refused(request, error)
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        max_age=int(lti.STATE_LIFETIME.total_seconds()),
        path="/lti",
        secure=True,
        httponly=True,
        samesite="none",
    )
    return response


def _launch_page(
    request: Request, session: Session, launch: lti.LaunchContext, **extra: Any
) -> HTMLResponse:
    """A learner's progress; for staff, connecting the link or, once connected, syncing."""
    settings = app_context(request).settings
    link = launch.resource_link
    progress = None if launch.is_staff else lti.learner_progress(session, launch, settings.base_url)
    definitions = (
        lti.published_definitions(session, launch.organisation)
        if launch.is_staff and link is not None and link.definition_id is None
        else []
    )
    connected = (
        catalogue.current_published(session, link.definition_id)
        if launch.is_staff and link is not None and link.definition_id
        else None
    )
    return _frame_page(
        request,
        "lti/launch.html",
        launch_token=launch.token,
        user=launch.user,
        organisation=launch.organisation,
        platform=launch.platform,
        link=link,
        progress=progress,
        is_staff=launch.is_staff,
        instructor=launch.row.instructor,
        definitions=definitions,
        connected=connected,
        **extra,
    )


@pages.post("/lti/launch", response_model=None)
@pages.post("/lti/deep-linking", response_model=None)
async def lti_launch(request: Request) -> Response:
    """The platform's form post of the id_token (LtiResourceLinkRequest or, at either URL,
    LtiDeepLinkingRequest)."""
    form = await request.form()
    id_token, state = str(form.get("id_token") or ""), str(form.get("state") or "")
    context = app_context(request)
    try:
        with context.sessions.begin() as session:
            launch = lti.complete_launch(
                session, id_token, state, request.cookies.get(BROWSER_COOKIE), now=time.time()
            )
            opened = lti.open_launch(session, launch.token)
            if launch.message_type == "LtiDeepLinkingRequest":
                return _deep_linking_page(request, session, opened)
            return _launch_page(request, session, opened, account_created=launch.account_created)
    except MicrocredError as error:
        return _refused(request, error)
    except IntegrityError:  # the same user's or link's first launch twice at once
        return _refused(
            request, LaunchRejected("Another launch of yours was being recorded: open it again.")
        )


@pages.post("/lti/link", response_model=None)
def lti_link(
    request: Request,
    session: DbSession,
    launch: Annotated[str, Form(max_length=100)] = "",
    definition_id: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """An instructor (issuer staff here) connects the course link to a credential."""
    try:
        opened = lti.open_launch(session, launch)
    except MicrocredError as error:
        return _refused(request, error)
    try:
        lti.link_definition(session, opened, definition_id)
    except LtiError as error:
        if not is_bad_input(error):
            return _refused(request, error)
        return _launch_page(request, session, opened, error=error.message)
    session.flush()
    opened = lti.open_launch(session, launch)
    return _launch_page(request, session, opened, notice="The course link is connected.")


@pages.post("/lti/sync", response_model=None)
def lti_sync(
    request: Request,
    session: DbSession,
    launch: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """A staff instructor syncs the course's grades from inside the LMS."""
    try:
        opened = lti.open_launch(session, launch)
    except MicrocredError as error:
        return _refused(request, error)
    if opened.resource_link is None or not opened.is_staff:
        return _refused(request, LtiForbidden("Only issuer staff sync grades."))
    settings = app_context(request).settings
    try:
        report = ags.sync_grades(
            session,
            opened.principal,
            settings,
            opened.organisation.slug,
            opened.resource_link.id,
            awarder=CredentialAwarder(settings),
        )
    except LtiError as error:
        session.rollback()
        return _launch_page(request, session, lti.open_launch(session, launch), error=error.message)
    return _launch_page(request, session, opened, notice=report.summary())


def _deep_linking_page(
    request: Request, session: Session, launch: lti.LaunchContext
) -> HTMLResponse:
    return _frame_page(
        request,
        "lti/deep_linking.html",
        launch_token=launch.token,
        user=launch.user,
        organisation=launch.organisation,
        is_staff=launch.is_staff,
        definitions=lti.published_definitions(session, launch.organisation),
    )


@pages.post("/lti/deep-linking/respond", response_model=None)
def lti_deep_linking_respond(
    request: Request,
    session: DbSession,
    launch: Annotated[str, Form(max_length=100)] = "",
    definition_id: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Staff picked a credential: post the signed LtiDeepLinkingResponse back to the LMS."""
    try:
        opened = lti.open_launch(session, launch)
        answer = deeplinking.respond(
            session, app_context(request).settings, opened, definition_id, time.time()
        )
    except MicrocredError as error:
        return _refused(request, error)
    response = _frame_page(
        request, "lti/autopost.html", return_url=answer.return_url, jwt=answer.jwt
    )
    origin = urlsplit(answer.return_url)
    response.headers["Content-Security-Policy"] = FRAME_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {origin.scheme}://{origin.netloc}"
    )
    return response


@pages.get("/lti/organisations/{slug}/jwks.json")
def lti_jwks(slug: str, session: DbSession) -> JSONResponse:
    """The tool's public keys for the organisation's registrations (what the LMS verifies the
    tool's client assertions and deep linking responses with)."""
    return JSONResponse(
        registrations.organisation_jwks(session, slug),
        headers={"Cache-Control": "public, max-age=300"},
    )


# --- the manage page ----------------------------------------------------------------------------


def _organisations(
    session: Session, principal: Principal, slug: str | None
) -> tuple[list[Organisation], Organisation]:
    organisations = [
        o
        for o in staff_organisations(session, principal, Role.issuer_staff)
        if registrations.can_read(principal, o.id)
    ]
    if not organisations:
        raise LtiForbidden("Only an organisation's staff see its LMS registrations.")
    chosen = next((o for o in organisations if o.slug == slug), organisations[0])
    return organisations, chosen


def _manage_page(
    request: Request,
    session: Session,
    principal: Principal,
    slug: str | None,
    *,
    error: MicrocredError | None = None,
    form: dict[str, str] | None = None,
    notice: str = "",
    sync_error: MicrocredError | None = None,
) -> HTMLResponse:
    organisations, current = _organisations(session, principal, slug)
    failed = error or sync_error
    links = registrations.links_of(session, principal, current.slug)
    definitions = catalogue.definitions_by_ids(
        session, [link.definition_id for link in links if link.definition_id]
    )
    empty = dict.fromkeys(INPUTS, "")
    return render(
        request,
        "lti/manage.html",
        principal,
        status_code=failed.status_code if failed else 200,
        sync_error=sync_error.message if sync_error else "",
        organisations=organisations,
        current=current,
        platforms=registrations.platforms_of(session, principal, current.slug),
        links=links,
        definitions=definitions,
        urls=registrations.tool_urls(app_context(request).settings.base_url, current.slug),
        can_manage=registrations.can_manage(principal, current.id),
        notice=notice,
        errors=errors_on_inputs(error, INPUTS) if error else {},
        labels=LABELS,
        form=form or empty,
    )


@pages.get("/manage/lti", response_class=HTMLResponse)
def manage_lti(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Annotated[str | None, Query(max_length=80)] = None,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    notices = {"create": "The LMS is registered.", "delete": "The registration is deleted."}
    return _manage_page(request, session, principal, organisation, notice=notices.get(done, ""))


def _pasted_jwks(text: str) -> dict[str, Any] | None:
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise LtiError(f"The pasted JWKS is not JSON: {error}.", field="platform_jwks") from None
    if not isinstance(value, dict):
        raise LtiError("The pasted JWKS must be a JSON object.", field="platform_jwks")
    return value


@pages.post("/manage/lti", response_model=None)
def create_platform_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Slug,
    csrf_token: CsrfToken = "",
    name: Annotated[str, Form(max_length=200)] = "",
    issuer: Annotated[str, Form(max_length=500)] = "",
    client_id: Annotated[str, Form(max_length=255)] = "",
    deployment_ids: Annotated[str, Form(max_length=20000)] = "",
    auth_login_url: Annotated[str, Form(max_length=2000)] = "",
    auth_token_url: Annotated[str, Form(max_length=2000)] = "",
    jwks_url: Annotated[str, Form(max_length=2000)] = "",
    platform_jwks: Annotated[str, Form(max_length=100_000)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    form = {
        "name": name,
        "issuer": issuer,
        "client_id": client_id,
        "deployment_ids": deployment_ids,
        "auth_login_url": auth_login_url,
        "auth_token_url": auth_token_url,
        "jwks_url": jwks_url,
        "platform_jwks": platform_jwks,
    }
    try:
        data = registrations.PlatformInput(
            name,
            issuer,
            client_id,
            [deployment_ids],
            auth_login_url,
            auth_token_url,
            jwks_url,
            _pasted_jwks(platform_jwks),
        )
        registrations.create_platform(
            session, principal, app_context(request).settings, organisation, data
        )
    except LtiForbidden:
        raise
    except LtiError as error:
        session.rollback()
        return _manage_page(request, session, principal, organisation, error=error, form=form)
    return RedirectResponse(f"/manage/lti?organisation={organisation}&done=create", 303)


@pages.post("/manage/lti/{platform_id}/delete")
def delete_platform_page(
    platform_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Slug,
    csrf_token: CsrfToken = "",
) -> RedirectResponse:
    check_csrf(request, csrf_token)
    registrations.delete_platform(session, principal, organisation, platform_id)
    return RedirectResponse(f"/manage/lti?organisation={organisation}&done=delete", 303)


@pages.post("/manage/lti/links/{link_id}/sync", response_class=HTMLResponse)
def sync_link_page(
    link_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Slug,
    csrf_token: CsrfToken = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    settings = app_context(request).settings
    try:
        report = ags.sync_grades(
            session,
            principal,
            settings,
            organisation,
            link_id,
            awarder=CredentialAwarder(settings),
        )
    except LtiForbidden:
        raise
    except LtiError as error:
        session.rollback()
        return _manage_page(request, session, principal, organisation, sync_error=error)
    return _manage_page(request, session, principal, organisation, notice=report.summary())


# --- JSON API -----------------------------------------------------------------------------------

ADMIN_NOTE = "(organisation admins, scope accounts:admin)"
STAFF_NOTE = "(organisation staff, scope catalogue:read)"


def _urls(request: Request, slug: str) -> registrations.ToolUrls:
    return registrations.tool_urls(app_context(request).settings.base_url, slug)


@api.get(
    "/organisations/{slug}/lti/platforms",
    response_model=list[PlatformOut],
    summary=f"An organisation's LMS (LTI 1.3) registrations {STAFF_NOTE}",
)
def api_platforms(
    slug: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> list[PlatformOut]:
    urls = _urls(request, slug)
    return [PlatformOut.of(p, urls) for p in registrations.platforms_of(session, principal, slug)]


@api.post(
    "/organisations/{slug}/lti/platforms",
    response_model=PlatformOut,
    status_code=201,
    summary=f"Register an LMS; the tool's key pair is made for it {ADMIN_NOTE}",
)
def api_create_platform(
    slug: str, body: PlatformIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> PlatformOut:
    data = registrations.PlatformInput(
        body.name,
        body.issuer,
        body.client_id,
        body.deployment_ids,
        body.auth_login_url,
        body.auth_token_url,
        body.jwks_url,
        body.platform_jwks,
    )
    platform = registrations.create_platform(
        session, principal, app_context(request).settings, slug, data
    )
    return PlatformOut.of(platform, _urls(request, slug))


@api.get(
    "/organisations/{slug}/lti/platforms/{platform_id}",
    response_model=PlatformOut,
    summary=f"One LMS registration {STAFF_NOTE}",
)
def api_platform(
    slug: str, platform_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> PlatformOut:
    platform = registrations.get_platform(session, principal, slug, platform_id)
    return PlatformOut.of(platform, _urls(request, slug))


@api.delete(
    "/organisations/{slug}/lti/platforms/{platform_id}",
    status_code=204,
    summary=f"Delete an LMS registration with its course links {ADMIN_NOTE}",
)
def api_delete_platform(
    slug: str, platform_id: str, session: DbSession, principal: CurrentPrincipal
) -> Response:
    registrations.delete_platform(session, principal, slug, platform_id)
    return Response(status_code=204)


@api.get(
    "/organisations/{slug}/lti/tool",
    response_model=ToolUrlsOut,
    summary=f"The URLs to paste into the LMS {STAFF_NOTE}",
)
def api_tool_urls(
    slug: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> ToolUrlsOut:
    registrations.readable_organisation(session, principal, slug)
    return ToolUrlsOut.of(_urls(request, slug))


@api.get(
    "/organisations/{slug}/lti/links",
    response_model=list[LinkOut],
    summary=f"The course links (resource links) that launched microcred {STAFF_NOTE}",
)
def api_links(slug: str, session: DbSession, principal: CurrentPrincipal) -> list[LinkOut]:
    return [LinkOut.of(link) for link in registrations.links_of(session, principal, slug)]


@api.post(
    "/organisations/{slug}/lti/links/{link_id}/sync",
    response_model=SyncOut,
    summary="Import the course link's grades from the LMS (AGS), all or nothing "
    "(issuer staff, scope assessment:write)",
)
def api_sync(
    slug: str, link_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> SyncOut:
    """Reads the line items and results with the client_credentials grant; a line item maps to
    the assessment whose code is its tag, resourceId or label. Award rules then issue the
    credentials as for a gradebook CSV."""
    if not principal.has_scope("assessment:write"):
        raise LtiForbidden("This token lacks the assessment:write scope.")
    settings = app_context(request).settings
    report = ags.sync_grades(
        session, principal, settings, slug, link_id, awarder=CredentialAwarder(settings)
    )
    return SyncOut.of(report)

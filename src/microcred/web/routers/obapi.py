"""The 1EdTech Open Badges 3.0 API (``/ims/ob/v3p0``) and its OAuth 2.0 endpoints.

Client-facing endpoints take no session cookie and no CSRF token: the registration endpoint
is open (limited per network address), the token and revocation endpoints authenticate the
client (HTTP Basic), the resource endpoints the access token. OAuth errors are RFC 6749 /
RFC 7591 JSON with ``Cache-Control: no-store``; resource errors are Imsx_StatusInfo bodies.
The authorization endpoint and the consent form are pages of the signed-in learner (CSRF).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from microcred.credentials.documents import parse_datetime
from microcred.credentials.errors import CredentialError
from microcred.oauth import OAuthError
from microcred.obapi import protocol
from microcred.obapi import service as obapi
from microcred.obapi.protocol import BASE_PATH
from microcred.obapi.schemas import CredentialsOut, RegistrationOut, StatusInfoOut, TokenOut
from microcred.settings import Settings
from microcred.web.deps import CurrentPrincipal, DbSession, OptionalPrincipal, app_context
from microcred.web.oauth import OAuthErrorOut, json_body
from microcred.web.rendering import render
from microcred.web.security import check_csrf

log = logging.getLogger(__name__)


class _ImsxRoute(APIRoute):
    """A resource endpoint: an unexpected failure is answered as the spec lists it, a 500 with
    an Imsx_StatusInfo body (the request's transaction is rolled back before)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handle(request)
            except HTTPException:
                raise
            except Exception:
                log.exception("OB 3.0 API %s %s failed", request.method, request.url.path)
                body = protocol.status_info(
                    "internal_server_error", "The server failed to answer; try again later."
                )
                return JSONResponse(body, status_code=500)

        return guarded


api = APIRouter(prefix=BASE_PATH, tags=["openbadges"])
resources = APIRouter(prefix=BASE_PATH, tags=["openbadges"], route_class=_ImsxRoute)
pages = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
JSON_TYPES = ("application/json", "application/vc+ld+json", "application/ld+json")


def _oauth_errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": OAuthErrorOut} for code in codes}


def _imsx_errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": StatusInfoOut} for code in codes}


def _oauth_error(error: OAuthError) -> JSONResponse:
    headers = {**error.headers, **NO_STORE}
    if error.error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="microcred"'
    return JSONResponse(error.as_dict(), status_code=error.status_code, headers=headers)


def _imsx(error: obapi.ObApiError) -> JSONResponse:
    body = protocol.status_info(error.code_minor, error.message)
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


def _refusal_page(request: Request, principal: Any, message: str) -> HTMLResponse:
    return render(request, "error.html", principal, status_code=400, message=message, status=400)


def _base(settings: Settings) -> str:
    return settings.base_url.rstrip("/")


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


# --- discovery and registration --------------------------------------------------------------


@api.get(
    "/discovery",
    summary="getServiceDescription: the Service Description Document (OpenAPI, with OAuth2ACG)",
    response_model=dict[str, Any],
)
def discovery(request: Request, response: Response) -> dict[str, Any]:
    """Public, and readable from any origin (a wallet in a browser discovers the API too)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    settings = app_context(request).settings
    base = _base(settings)
    privacy = settings.privacy_policy_url or f"{base}/privacy"
    return protocol.service_description(
        base,
        name=f"microcred · {urlsplit(base).netloc or base}",
        privacy_policy_url=privacy,
        terms_url=privacy,
        image_url=f"{base}/static/microcred-logo.svg",
    )


@api.post(
    "/register",
    summary="Dynamic Client Registration (RFC 7591): register a client app",
    status_code=201,
    response_model=RegistrationOut,
    responses={**_oauth_errors(400), 429: {"model": OAuthErrorOut}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {}}}},
)
async def register(request: Request, session: DbSession) -> Response:
    body = await json_body(request)
    try:
        client, secret = obapi.register_client(session, body, ip=_ip(request))
    except OAuthError as error:
        return _oauth_error(error)
    except obapi.RegistrationThrottled as error:
        return JSONResponse(
            {"error": "too_many_requests", "error_description": error.message},
            status_code=429,
            headers={"Retry-After": "3600", **NO_STORE},
        )
    return JSONResponse(
        RegistrationOut.of(client, secret).model_dump(), status_code=201, headers=NO_STORE
    )


# --- authorization (pages) -------------------------------------------------------------------


def _consent_page(
    request: Request, principal: CurrentPrincipal, checked: obapi.AuthorizationRequest
) -> HTMLResponse:
    page = render(
        request,
        "obapi/consent.html",
        principal,
        client=checked.client,
        client_host=urlsplit(checked.client.client_uri).netloc,
        redirect_uri=checked.redirect_uri,
        redirect_host=urlsplit(checked.redirect_uri).netloc,
        scopes=checked.scopes,
        scope_words=protocol.SCOPE_WORDS,
        state=checked.state,
        code_challenge=checked.code_challenge,
        privacy_url=app_context(request).settings.privacy_policy_url or "/privacy",
    )
    # the answer redirects the form to the client: allow that one origin as a form target
    page.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"frame-ancestors 'none'; form-action 'self' {protocol.origin_of(checked.redirect_uri)}"
    )
    page.headers["Cache-Control"] = "no-store"
    return page


def _checked(session: DbSession, values: Mapping[str, str]) -> obapi.AuthorizationRequest:
    return obapi.check_authorization(
        session,
        client_id=values.get("client_id"),
        redirect_uri=values.get("redirect_uri"),
        response_type=values.get("response_type"),
        scope=values.get("scope"),
        state=values.get("state"),
        code_challenge=values.get("code_challenge"),
        code_challenge_method=values.get("code_challenge_method"),
    )


@pages.get(f"{BASE_PATH}/authorize", response_model=None)
def authorize(request: Request, session: DbSession, principal: OptionalPrincipal) -> Response:
    """The authorization endpoint: check the request, have the learner sign in, then ask."""
    try:
        checked = _checked(session, dict(request.query_params))
    except obapi.AuthorizationPageError as error:
        return _refusal_page(request, principal, error.message)
    except obapi.RedirectedError as error:
        return RedirectResponse(error.location, status_code=303)
    if principal is None or principal.scopes is not None:
        target = f"{request.url.path}?{request.url.query}"
        return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)
    return _consent_page(request, principal, checked)


@pages.post(f"{BASE_PATH}/authorize", response_model=None)
async def authorize_answer(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    decision: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """The consent form's answer: Allow issues a code, Deny says access_denied."""
    check_csrf(request, csrf_token)
    form = await request.form()
    values = {key: str(value) for key, value in form.items()}
    try:
        checked = _checked(session, values)
    except obapi.AuthorizationPageError as error:
        return _refusal_page(request, principal, error.message)
    except obapi.RedirectedError as error:
        return RedirectResponse(error.location, status_code=303)
    if decision != "allow":
        location = protocol.redirect_with(
            checked.redirect_uri,
            error="access_denied",
            error_description="The learner did not allow access.",
            state=checked.state,
        )
        return RedirectResponse(location, status_code=303)
    code = obapi.approve(session, principal, checked, settings=app_context(request).settings)
    location = protocol.redirect_with(checked.redirect_uri, code=code, state=checked.state)
    return RedirectResponse(location, status_code=303)


@pages.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request, principal: OptionalPrincipal) -> HTMLResponse:
    return render(request, "obapi/privacy.html", principal)


@pages.post("/account/connected-apps/{grant_id}/revoke")
def revoke_connected_app(
    grant_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(request, csrf_token)
    obapi.revoke_grant(session, principal, grant_id)
    return RedirectResponse("/account?done=app-revoked#connected-apps", status_code=303)


# --- token and revocation --------------------------------------------------------------------


@api.post(
    "/token",
    summary="Token endpoint: authorization_code (with PKCE) and refresh_token grants",
    response_model=TokenOut,
    responses=_oauth_errors(400, 401),
)
def token(
    request: Request,
    session: DbSession,
    grant_type: Annotated[str | None, Form()] = None,
    code: Annotated[str | None, Form()] = None,
    redirect_uri: Annotated[str | None, Form()] = None,
    code_verifier: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,
) -> Response:
    """Failures are committed too: a spent code or refresh token stays spent, and a reused one
    has revoked its grant."""
    try:
        client = obapi.authenticate_client(session, request.headers.get("authorization"))
        if grant_type == "authorization_code":
            issued = obapi.exchange_code(
                session, client, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
            )
        elif grant_type == "refresh_token":
            issued = obapi.refresh(session, client, refresh_token=refresh_token, scope=scope)
        elif not grant_type:
            raise OAuthError("invalid_request", "grant_type is required.")
        else:
            raise OAuthError(
                "unsupported_grant_type", "grant_type must be authorization_code or refresh_token."
            )
    except OAuthError as error:
        return _oauth_error(error)
    body = TokenOut(
        access_token=issued.access_token,
        expires_in=int(obapi.ACCESS_LIFETIME.total_seconds()),
        refresh_token=issued.refresh_token,
        scope=" ".join(issued.scopes),
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


@api.post(
    "/revoke",
    summary="Token revocation (RFC 7009): revoke an access or refresh token",
    response_model=dict[str, Any],
    responses=_oauth_errors(400, 401),
)
def revoke(
    request: Request,
    session: DbSession,
    token: Annotated[str | None, Form()] = None,
    token_type_hint: Annotated[str | None, Form()] = None,
) -> Response:
    """A refresh token revokes its whole grant. ``token_type_hint`` is not needed: the token
    says what it is."""
    try:
        client = obapi.authenticate_client(session, request.headers.get("authorization"))
        obapi.revoke_token(session, client, token)
    except OAuthError as error:
        return _oauth_error(error)
    return JSONResponse({}, headers=NO_STORE)


# --- resources -------------------------------------------------------------------------------


@resources.get(
    "/credentials",
    summary="getCredentials: the learner's OpenBadgeCredentials (paged)",
    response_model=CredentialsOut,
    responses=_imsx_errors(400, 401, 403),
)
def get_credentials(
    request: Request,
    session: DbSession,
    limit: str | None = None,
    offset: str | None = None,
    since: str | None = None,
) -> Response:
    try:
        access = obapi.access_for(
            session, request.headers.get("authorization"), protocol.CREDENTIAL_READONLY
        )
        size, start = obapi.page_bounds(limit, offset)
        after: datetime | None = None
        if since:
            try:
                after = parse_datetime(since, "since")
            except CredentialError:
                raise obapi.ObApiError(
                    "since must be a date-time (ISO 8601).", code_minor="invalid_query_parameter"
                ) from None
        page = obapi.credentials_page(
            session, access.user.id, limit=size, offset=start, since=after
        )
    except obapi.ObApiError as error:
        return _imsx(error)
    body: dict[str, Any] = {}
    if page.credentials:
        body["credential"] = page.credentials
    if page.compact_jws:
        body["compactJwsString"] = page.compact_jws
    url = _base(app_context(request).settings) + request.url.path
    headers = {
        "X-Total-Count": str(page.total),
        "Link": protocol.paging_links(
            url, limit=size, offset=start, total=page.total, extra={"since": since} if since else {}
        ),
        "Cache-Control": "no-store",
    }
    return JSONResponse(body, headers=headers)


@resources.post(
    "/credentials",
    summary="upsertCredential: add a credential to the learner's wallet, or replace it",
    response_model=dict[str, Any],
    responses={201: {"model": dict[str, Any]}, **_imsx_errors(400, 401, 403, 415)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {}, "text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def upsert_credential(request: Request, session: DbSession) -> Response:
    try:
        access = obapi.access_for(
            session, request.headers.get("authorization"), protocol.CREDENTIAL_UPSERT
        )
    except obapi.ObApiError as error:
        return _imsx(error)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if media not in (*JSON_TYPES, "text/plain"):
        return _imsx(
            obapi.ObApiError(
                "Send the credential as application/json, or a compact JWS as text/plain.",
                status_code=415,
                code_minor="not_acceptable",
            )
        )
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return _imsx(obapi.ObApiError("The body is not UTF-8 text."))
    try:
        _, created = obapi.upsert_credential(session, access, text, app_context(request).settings)
    except obapi.ObApiError as error:
        session.rollback()
        return _imsx(error)
    status = 201 if created else 200
    if media == "text/plain":
        return Response(text, status_code=status, media_type="text/plain")
    return Response(text, status_code=status, media_type=media)


@resources.get(
    "/profile",
    summary="getProfile: the learner as an OB 3.0 Profile",
    response_model=dict[str, Any],
    responses=_imsx_errors(401, 403),
)
def get_profile(request: Request, session: DbSession) -> Response:
    try:
        access = obapi.access_for(
            session, request.headers.get("authorization"), protocol.PROFILE_READONLY
        )
    except obapi.ObApiError as error:
        return _imsx(error)
    return JSONResponse(obapi.profile_of(access.user), headers={"Cache-Control": "no-store"})


@resources.put(
    "/profile",
    summary="putProfile: change the learner's display name",
    response_model=dict[str, Any],
    responses=_imsx_errors(400, 401, 403),
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {}}}},
)
async def put_profile(request: Request, session: DbSession) -> Response:
    try:
        access = obapi.access_for(
            session, request.headers.get("authorization"), protocol.PROFILE_UPDATE
        )
        profile = obapi.update_profile(session, access, await json_body(request))
    except obapi.ObApiError as error:
        session.rollback()
        return _imsx(error)
    return JSONResponse(profile, headers={"Cache-Control": "no-store"})


@resources.api_route("/credentials", methods=["PUT", "PATCH", "DELETE"], include_in_schema=False)
@resources.api_route("/profile", methods=["POST", "PATCH", "DELETE"], include_in_schema=False)
def not_allowed(request: Request) -> Response:
    """405 as an Imsx_StatusInfo body, as the spec lists it."""
    allowed = "GET, POST" if request.url.path.endswith("/credentials") else "GET, PUT"
    error = obapi.ObApiError(
        f"{request.method} is not allowed here.", status_code=405, code_minor="not_allowed"
    )
    error.headers["Allow"] = allowed
    return _imsx(error)


routers = [api, resources, pages]

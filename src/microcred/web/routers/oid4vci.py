"""OpenID4VCI 1.0 credential pickup: the learner's offer page and API, and the endpoints a wallet
app calls (metadata, offer by reference, token, nonce, credential).

The wallet-facing endpoints take no session cookie and need no CSRF token: they are called by
wallet apps, authenticated by the pre-authorized code and then the access token only. Their
errors are OAuth 2.0 JSON (``error``, ``error_description``) with ``Cache-Control: no-store``;
a failed attempt (a wrong PIN, a spent nonce) is committed, so the attempt limit holds.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from microcred.accounts.service import Principal
from microcred.credentials import service as credentials
from microcred.errors import PermissionDenied
from microcred.oauth import OAuthError
from microcred.obapi.protocol import redirect_with
from microcred.wallet import oid4vci
from microcred.wallet.models import CredentialOffer
from microcred.wallet.qr import qr_svg
from microcred.web.deps import CurrentPrincipal, DbSession, OptionalPrincipal, app_context
from microcred.web.oauth import OAuthErrorOut, json_body
from microcred.web.rendering import render
from microcred.web.security import check_csrf

wallet_api = APIRouter(tags=["openid4vci"])
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["wallet"])
OFFER_SCOPE = "wallet:offer"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "WWW-Authenticate"}
"""Wallets running in a browser may call the wallet-facing endpoints from any origin: they read
no cookie, so a foreign page gains nothing it could not get by itself."""
NO_STORE = {"Cache-Control": "no-store", **CORS}
SESSION_KEY = "oid4vci_offers"
"""Per offer, what the learner's page shows until the offer closes: its address and PIN (the
database holds hashes only). Kept in the learner's own signed session cookie."""
MAX_REMEMBERED = 3


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="Seconds the token can be used for")
    c_nonce: str = Field(description="A first c_nonce, for wallets on drafts before 1.0")
    c_nonce_expires_in: int


class NonceOut(BaseModel):
    c_nonce: str


class IssuedCredentialOut(BaseModel):
    credential: dict[str, Any] | str = Field(
        description="The signed credential: a JSON-LD document (ldp_vc) or a compact JWT"
    )


class CredentialOut(BaseModel):
    credentials: list[IssuedCredentialOut]


class OfferOut(BaseModel):
    offer_id: str
    credential_id: str
    credential_offer_uri: str = Field(description="Where the wallet fetches the offer")
    offer_link: str = Field(description="openid-credential-offer:// link (what the QR code holds)")
    tx_code: str | None = Field(description="The PIN the learner types in the wallet (shown once)")
    expires_at: datetime
    credential_configuration_ids: list[str]


class OfferStatusOut(BaseModel):
    offer_id: str
    created_at: datetime
    expires_at: datetime
    state: str = Field(description="open, picked_up, expired, closed or redeemed")
    picked_up_at: datetime | None
    picked_up_formats: list[str]
    holder: str | None = Field(description="The key the wallet proved (DID or JWK thumbprint)")


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": OAuthErrorOut} for code in codes}


def _oauth_error(error: OAuthError) -> JSONResponse:
    headers = {**error.headers, **CORS}
    return JSONResponse(error.as_dict(), status_code=error.status_code, headers=headers)


# --- what a wallet calls ---------------------------------------------------------------------


@wallet_api.get(
    "/.well-known/openid-credential-issuer",
    summary="OpenID4VCI Credential Issuer metadata",
    response_model=dict[str, Any],
)
def credential_issuer_metadata(request: Request, response: Response) -> dict[str, Any]:
    response.headers.update(CORS)
    return oid4vci.issuer_metadata(app_context(request).settings)


@wallet_api.get(
    "/.well-known/oauth-authorization-server",
    summary="OAuth 2.0 Authorization Server metadata (pre-authorized code grant)",
    response_model=dict[str, Any],
)
def authorization_server_metadata(request: Request, response: Response) -> dict[str, Any]:
    response.headers.update(CORS)
    return oid4vci.authorization_server_metadata(app_context(request).settings)


@wallet_api.options("/oid4vci/{endpoint}", include_in_schema=False)
def preflight(endpoint: str) -> Response:
    """CORS preflight of a browser wallet's token, nonce or credential request."""
    return Response(
        status_code=204,
        headers={
            **CORS,
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Authorization, Content-Type, DPoP",
            "Access-Control-Max-Age": "600",
        },
    )


@wallet_api.get(
    "/oid4vci/offers/{address}",
    summary="A credential offer, by reference (credential_offer_uri)",
    response_model=dict[str, Any],
    responses=_errors(404),
)
def credential_offer(address: str, request: Request, session: DbSession) -> Response:
    try:
        offer = oid4vci.offer_at(session, address, app_context(request).settings)
    except oid4vci.OfferError as error:
        return _oauth_error(OAuthError("invalid_request", error.message, status_code=404))
    return JSONResponse(offer, headers=NO_STORE)


@wallet_api.post(
    "/oid4vci/token",
    summary="Token endpoint: a pre-authorized code (and PIN), or an authorization code with its "
    "PKCE verifier, for an access token",
    response_model=TokenOut,
    responses=_errors(400),
)
def token(
    request: Request,
    session: DbSession,
    grant_type: Annotated[str | None, Form()] = None,
    pre_authorized_code: Annotated[str | None, Form(alias="pre-authorized_code")] = None,
    tx_code: Annotated[str | None, Form()] = None,
    code: Annotated[str | None, Form(max_length=200)] = None,
    code_verifier: Annotated[str | None, Form(max_length=200)] = None,
    redirect_uri: Annotated[str | None, Form(max_length=1000)] = None,
    client_id: Annotated[str | None, Form(max_length=255)] = None,
) -> Response:
    try:
        issued = oid4vci.exchange_code(
            session,
            app_context(request).settings,
            grant_type=grant_type,
            code=pre_authorized_code,
            tx_code=tx_code,
            authorization_code=code,
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            client_id=client_id,
        )
    except OAuthError as error:
        return _oauth_error(error)
    body = TokenOut(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        c_nonce=issued.c_nonce,
        c_nonce_expires_in=int(oid4vci.NONCE_LIFETIME.total_seconds()),
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


@wallet_api.post(
    "/oid4vci/nonce",
    summary="Nonce endpoint: a fresh c_nonce for a key proof (single use)",
    response_model=NonceOut,
)
def nonce(request: Request) -> Response:
    c_nonce = oid4vci.new_nonce(app_context(request).settings)
    return JSONResponse({"c_nonce": c_nonce}, headers=NO_STORE)


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


@wallet_api.post(
    "/oid4vci/credential",
    summary="Credential endpoint: the offered credential, as issued and signed",
    response_model=CredentialOut,
    responses=_errors(400, 401),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "credential_configuration_id": {
                                "type": "string",
                                "enum": list(oid4vci.CONFIGURATION_IDS),
                            },
                            "credential_identifier": {"type": "string"},
                            "proofs": {
                                "type": "object",
                                "properties": {
                                    "jwt": {"type": "array", "items": {"type": "string"}}
                                },
                            },
                        },
                    }
                }
            },
        }
    },
)
def credential(
    request: Request, session: DbSession, body: Annotated[Any, Depends(json_body)]
) -> Response:
    try:
        delivery = oid4vci.deliver_credential(
            session, app_context(request).settings, access_token=_bearer(request), body=body
        )
    except OAuthError as error:
        return _oauth_error(error)
    if delivery.legacy:
        return JSONResponse({"credential": delivery.credential}, headers=NO_STORE)
    return JSONResponse({"credentials": [{"credential": delivery.credential}]}, headers=NO_STORE)


# --- the learner's side ----------------------------------------------------------------------


def _offerer(principal: Principal) -> Principal:
    if not principal.has_scope(OFFER_SCOPE):
        raise PermissionDenied(f"This token lacks the {OFFER_SCOPE} scope.")
    return principal


def offer_state(offer: CredentialOffer, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    expires = offer.expires_at if offer.expires_at.tzinfo else offer.expires_at.replace(tzinfo=UTC)
    if offer.picked_up_at is not None:
        return "picked_up"
    if offer.closed_reason is not None:
        return "closed"
    if offer.redeemed_at is not None:
        return "redeemed"
    return "expired" if moment >= expires else "open"


def _status(offer: CredentialOffer) -> OfferStatusOut:
    return OfferStatusOut(
        offer_id=offer.id,
        created_at=offer.created_at,
        expires_at=offer.expires_at,
        state=offer_state(offer),
        picked_up_at=offer.picked_up_at,
        picked_up_formats=[f for f in (offer.picked_up_format or "").split(",") if f],
        holder=offer.holder,
    )


@api.post(
    "/credentials/{credential_id}/offers",
    summary="Offer my credential to a wallet app (OpenID4VCI pre-authorized code)",
    status_code=201,
    response_model=OfferOut,
)
def api_create_offer(
    credential_id: str,
    request: Request,
    response: Response,
    session: DbSession,
    principal: CurrentPrincipal,
    tx_code: bool = True,
) -> OfferOut:
    """``tx_code=false`` leaves out the PIN (only for a link sent to the learner's own device)."""
    response.headers["Cache-Control"] = "no-store"  # it holds the PIN
    new = oid4vci.create_offer(
        session,
        _offerer(principal),
        credential_id,
        app_context(request).settings,
        with_tx_code=tx_code,
    )
    return OfferOut(
        offer_id=new.offer.id,
        credential_id=credential_id,
        credential_offer_uri=new.uri,
        offer_link=new.link,
        tx_code=new.tx_code,
        expires_at=new.offer.expires_at,
        credential_configuration_ids=new.configuration_ids,
    )


@api.get(
    "/credentials/{credential_id}/offers",
    summary="My offers of a credential to wallet apps, and which were picked up",
    response_model=list[OfferStatusOut],
)
def api_offers(
    credential_id: str, session: DbSession, principal: CurrentPrincipal
) -> list[OfferStatusOut]:
    return [_status(o) for o in oid4vci.offers_of(session, _offerer(principal), credential_id)]


@api.delete(
    "/credentials/{credential_id}/offers/{offer_id}",
    summary="Cancel my offer of a credential before a wallet app picks it up",
    status_code=204,
)
def api_cancel_offer(
    credential_id: str, offer_id: str, session: DbSession, principal: CurrentPrincipal
) -> Response:
    offer = oid4vci.own_offer(session, _offerer(principal), offer_id)
    if offer.credential_id != credential_id:
        raise oid4vci.OfferError("No such offer of yours.", status_code=404)
    oid4vci.cancel_offer(session, principal, offer_id)
    return Response(status_code=204)


def _remembered(request: Request) -> dict[str, dict[str, str]]:
    held = request.session.get(SESSION_KEY)
    return held if isinstance(held, dict) else {}


def _form_checked(
    request: Request, _: CurrentPrincipal, csrf_token: Annotated[str, Form()] = ""
) -> None:
    """The page forms are posted signed in (else to sign-in first), with the CSRF token."""
    check_csrf(request, csrf_token)


@pages.post("/credentials/{credential_id}/wallet-offers", dependencies=[Depends(_form_checked)])
def create_offer_page(
    credential_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> RedirectResponse:
    new = oid4vci.create_offer(session, principal, credential_id, app_context(request).settings)
    remembered = {
        key: value
        for key, value in _remembered(request).items()
        if (held := session.get(CredentialOffer, key)) is not None and offer_state(held) == "open"
    }
    remembered[new.offer.id] = {"address": new.address_secret, "pin": new.tx_code or ""}
    request.session[SESSION_KEY] = dict(list(remembered.items())[-MAX_REMEMBERED:])
    return RedirectResponse(f"/wallet/offers/{new.offer.id}", status_code=303)


def _qr_data_uri(link: str) -> str:
    svg = qr_svg(link, scale=5).encode()
    return f"data:image/svg+xml;base64,{base64.b64encode(svg).decode('ascii')}"


@pages.post("/wallet/offers/{offer_id}/cancel", dependencies=[Depends(_form_checked)])
def cancel_offer_page(
    offer_id: str, session: DbSession, principal: CurrentPrincipal
) -> RedirectResponse:
    oid4vci.cancel_offer(session, principal, offer_id)
    return RedirectResponse(f"/wallet/offers/{offer_id}", status_code=303)


@pages.get("/wallet/offers/{offer_id}", response_class=HTMLResponse)
def offer_page(
    offer_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> HTMLResponse:
    offer = oid4vci.own_offer(session, principal, offer_id)
    credential = credentials.get_credential(session, offer.credential_id)
    state = offer_state(offer)
    shown = _remembered(request).get(offer.id) if state == "open" else None
    link = None
    if shown is not None:
        link = oid4vci.offer_link(app_context(request).settings, shown["address"])
    elif offer.id in _remembered(request):  # closed: forget its address and PIN
        request.session[SESSION_KEY] = {
            key: value for key, value in _remembered(request).items() if key != offer.id
        }
    page = render(
        request,
        "wallet/offer.html",
        principal,
        offer=offer,
        credential=credential,
        state=state,
        link=link,
        qr=_qr_data_uri(link) if link else None,
        pin=shown["pin"] if shown else None,
        formats=[f for f in (offer.picked_up_format or "").split(",") if f],
        pickups=[
            o
            for o in oid4vci.offers_of(session, principal, credential.id)
            if o.picked_up_at is not None
        ],
        max_attempts=oid4vci.MAX_TX_CODE_ATTEMPTS,
    )
    page.headers["Cache-Control"] = "no-store"  # it shows the PIN
    return page


routers = [wallet_api, pages, api]


# --- the authorization code flow: the learner gives a credential to a wallet app -------------


def _authorization_page(
    request: Request, session: DbSession, principal: Principal,
    checked: oid4vci.AuthorizationRequest, *, status_code: int = 200, error: str | None = None,
) -> HTMLResponse:  # fmt: skip
    target = urlsplit(checked.redirect_uri)
    page = render(
        request, "wallet/authorize.html", principal, status_code=status_code, checked=checked,
        destination=target.netloc or f"{target.scheme}:", error=error,
        credentials=oid4vci.grantable_credentials(session, principal, checked),
    )  # fmt: skip
    # the answer redirects the form to the wallet: allow that one origin (or app scheme)
    allowed = f"{target.scheme}://{target.netloc}" if target.netloc else f"{target.scheme}:"
    page.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"frame-ancestors 'none'; form-action 'self' {allowed}"
    )
    page.headers["Cache-Control"] = "no-store"
    return page


def _checked_request(
    request: Request, principal: Principal | None, values: dict[str, str]
) -> oid4vci.AuthorizationRequest | Response:
    try:
        return oid4vci.check_authorization_request(values)
    except oid4vci.AuthorizationRedirect as error:
        return RedirectResponse(error.location, status_code=303)
    except OAuthError as error:
        return render(
            request, "error.html", principal, status_code=400, status=400,
            message=f"This request from a wallet app cannot be answered: {error.message}",
        )  # fmt: skip


@pages.get("/oid4vci/authorize", response_model=None)
def authorize(request: Request, session: DbSession, principal: OptionalPrincipal) -> Response:
    """The authorization endpoint (§5): check the wallet's request, have the learner sign in,
    then ask which credential to give it."""
    checked = _checked_request(request, principal, dict(request.query_params))
    if isinstance(checked, Response):
        return checked
    if principal is None or principal.scopes is not None:
        target = f"{request.url.path}?{request.url.query}"
        return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)
    return _authorization_page(request, session, principal, checked)


@pages.post("/oid4vci/authorize", response_model=None)
async def authorize_answer(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await request.form()
    values = {key: str(value) for key, value in form.items()}
    check_csrf(request, values.get("csrf_token", ""))
    checked = _checked_request(request, principal, values)
    if isinstance(checked, Response):
        return checked
    if values.get("decision") != "give":
        location = redirect_with(
            checked.redirect_uri, error="access_denied",
            error_description="The learner did not give a credential.", state=checked.state,
        )  # fmt: skip
        return RedirectResponse(location, status_code=303)
    try:
        location = oid4vci.grant(
            session, app_context(request).settings, principal, checked,
            values.get("credential", ""),
        )  # fmt: skip
    except oid4vci.OfferError as error:
        session.rollback()
        return _authorization_page(
            request, session, principal, checked, status_code=400, error=error.message
        )
    return RedirectResponse(location, status_code=303)

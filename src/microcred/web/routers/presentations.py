"""Verifiable presentations: a learner signs a selection of their credentials for a verifier."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, model_validator

from microcred.accounts.service import Principal
from microcred.credentials import service as credentials
from microcred.errors import MicrocredError, PermissionDenied
from microcred.wallet.holders import holder_key, holder_verification_method
from microcred.wallet.presentations import (
    CRYPTOSUITES,
    FORMATS,
    MAX_CHALLENGE_LENGTH,
    MAX_CREDENTIALS,
    VP_JWT_MEDIA_TYPE,
    create_presentation,
)
from microcred.web.deps import CurrentPrincipal, DbSession, app_context
from microcred.web.downloads import attachment
from microcred.web.rendering import render
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["wallet"])
PRESENT_SCOPE = "wallet:present"
PRESENTATION_MEDIA_TYPE = "application/vp+ld+json"


def _presenter(principal: Principal) -> Principal:
    if not principal.has_scope(PRESENT_SCOPE):
        raise PermissionDenied(f"This token lacks the {PRESENT_SCOPE} scope.")
    return principal


class PresentationIn(BaseModel):
    credential_ids: list[str] = Field(min_length=1, max_length=MAX_CREDENTIALS)
    challenge: str = Field(max_length=MAX_CHALLENGE_LENGTH)
    domain: str | None = Field(default=None, max_length=MAX_CHALLENGE_LENGTH)
    format: str | None = Field(
        default=None,
        max_length=40,
        description="How the presentation is secured: a Data Integrity cryptosuite (JSON, "
        f"{PRESENTATION_MEDIA_TYPE}), or vp-jose for a VC-JOSE-COSE JWT ({VP_JWT_MEDIA_TYPE}: "
        f"the challenge is its nonce claim, the domain its aud claim). Default {CRYPTOSUITES[0]}.",
        json_schema_extra={"enum": list(FORMATS)},
    )
    cryptosuite: str | None = Field(
        default=None,
        max_length=40,
        description="The former name of `format` (still read; `format` wins when both are given "
        "and they must then agree).",
        json_schema_extra={"enum": list(FORMATS), "deprecated": True},
    )

    @model_validator(mode="after")
    def _one_format(self) -> PresentationIn:
        if self.format and self.cryptosuite and self.format != self.cryptosuite:
            raise ValueError("format and cryptosuite name different formats: give format only")
        return self

    @property
    def chosen(self) -> str:
        return self.format or self.cryptosuite or CRYPTOSUITES[0]


def _presentation_response(presentation: dict[str, Any] | str, status_code: int) -> Response:
    if isinstance(presentation, str):
        return Response(presentation, status_code=status_code, media_type=VP_JWT_MEDIA_TYPE)
    return JSONResponse(presentation, status_code=status_code)


@api.post(
    "/me/presentations",
    summary="Sign a Verifiable Presentation of my credentials",
    status_code=201,
    response_class=JSONResponse,
    responses={
        201: {
            "description": "The signed presentation: JSON with a Data Integrity proof, or a "
            "compact JWS for vp-jose",
            "content": {
                PRESENTATION_MEDIA_TYPE: {"schema": {"type": "object"}},
                VP_JWT_MEDIA_TYPE: {"schema": {"type": "string"}},
            },
        }
    },
)
def api_create_presentation(
    body: PresentationIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    presentation = create_presentation(
        session,
        _presenter(principal),
        body.credential_ids,
        challenge=body.challenge,
        domain=body.domain,
        cryptosuite=body.chosen,
        settings=app_context(request).settings,
    )
    return _presentation_response(presentation, 201)


@api.get("/me/holder", summary="My holder DID (made on first use)")
def api_holder(request: Request, session: DbSession, principal: CurrentPrincipal) -> dict[str, str]:
    row = holder_key(session, principal, app_context(request).settings)
    return {"did": row.did, "verification_method": holder_verification_method(row)}


def _page(
    request: Request,
    session: DbSession,
    principal: Principal,
    *,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    return render(
        request, "wallet/presentations.html", principal, status_code=status_code,
        earned=credentials.credentials_of_learner(session, principal.user_id, principal),
        cryptosuites=FORMATS, max_length=MAX_CHALLENGE_LENGTH, **context,
    )  # fmt: skip


@pages.get("/wallet/presentations", response_class=HTMLResponse)
def presentations_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    credential: Annotated[list[str] | None, Query(max_length=MAX_CREDENTIALS)] = None,
) -> HTMLResponse:
    """``?credential=ID`` (from a credential's share panel) ticks that credential."""
    chosen = list(credential or [])
    return _page(request, session, principal, chosen=chosen, challenge="", domain="")


@pages.post("/wallet/presentations", response_model=None)
def presentations_submit(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    credential_ids: Annotated[list[str] | None, Form(max_length=MAX_CREDENTIALS)] = None,
    challenge: Annotated[str, Form(max_length=MAX_CHALLENGE_LENGTH)] = "",
    domain: Annotated[str, Form(max_length=MAX_CHALLENGE_LENGTH)] = "",
    cryptosuite: Annotated[str, Form(max_length=40)] = CRYPTOSUITES[0],
) -> Response:
    check_csrf(request, csrf_token)
    chosen = credential_ids or []
    try:
        presentation = create_presentation(
            session, principal, chosen, challenge=challenge, domain=domain,
            cryptosuite=cryptosuite, settings=app_context(request).settings,
        )  # fmt: skip
    except MicrocredError as error:
        session.rollback()
        return _page(
            request, session, principal, status_code=error.status_code, error=error.message,
            chosen=chosen, challenge=challenge, domain=domain, cryptosuite=cryptosuite,
        )  # fmt: skip
    if isinstance(presentation, str):
        return Response(
            presentation,
            media_type=VP_JWT_MEDIA_TYPE,
            headers={"Content-Disposition": attachment("presentation.jwt")},
        )
    return Response(
        json.dumps(presentation, ensure_ascii=False, indent=2),
        media_type=PRESENTATION_MEDIA_TYPE,
        headers={"Content-Disposition": attachment("presentation.json")},
    )


routers = [pages, api]

"""Endorsements: an organisation's admins endorse (/manage/endorsements/new), answer and withdraw
(/manage/endorsements), the JSON API, and the public endorsement credential at its id URL."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation
from microcred.accounts.service import Principal
from microcred.catalogue import service as catalogue
from microcred.endorsements import service as endorsements
from microcred.endorsements.documents import MAX_COMMENT
from microcred.endorsements.errors import EndorsementError, EndorsementForbidden
from microcred.endorsements.models import Endorsement
from microcred.endorsements.schemas import EndorseIn, EndorsementOut, WithdrawIn
from microcred.web.deps import CurrentPrincipal, DbSession, app_context
from microcred.web.form_errors import errors_on_inputs
from microcred.web.rendering import render
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)
public = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["endorsements"])
routers = [pages, public, api]

Slug = Annotated[str, Form(max_length=80)]
CsrfToken = Annotated[str, Form()]
JSON_LD = "application/ld+json"


def _organisations(session: Session, principal: Principal) -> list[Organisation]:
    organisations = endorsements.managed_organisations(session, principal)
    if not organisations:
        raise EndorsementForbidden("Only an organisation's admins endorse and answer endorsements.")
    return organisations


def _outs(session: Session, found: list[Endorsement]) -> list[EndorsementOut]:
    organisations = endorsements.organisations_by_id(session, found)
    return [EndorsementOut.of(endorsement, organisations) for endorsement in found]


def _out(session: Session, endorsement: Endorsement) -> EndorsementOut:
    return _outs(session, [endorsement])[0]


def public_context(
    session: Session,
    principal: Principal | None,
    organisation_id: str,
    definition_id: str | None = None,
) -> dict[str, Any]:
    """What a public definition or issuer page shows: its endorsements in force with their
    endorsers (``endorsements``, ``names``), and whether the visitor may endorse it."""
    if definition_id is not None:
        found = endorsements.accepted_of_definition(session, definition_id)
    else:
        found = endorsements.accepted_of_issuer(session, organisation_id)
    can_endorse = principal is not None and any(
        org.id != organisation_id for org in endorsements.managed_organisations(session, principal)
    )
    return {
        "endorsements": found,
        "names": endorsements.organisations_by_id(session, found),
        "can_endorse": can_endorse,
    }


@pages.get("/manage/endorsements", response_class=HTMLResponse)
def manage_endorsements(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Annotated[str | None, Query(max_length=80)] = None,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return _manage_page(request, session, principal, organisation, notice=NOTICES.get(done, ""))


NOTICES = {
    "created": "Your endorsement is signed and waits for the endorsed organisation's answer.",
    "accept": "Accepted: credentials issued from now on carry this endorsement.",
    "decline": "Declined: credentials issued from now on do not carry it.",
    "withdraw": "Withdrawn: verifiers now see it as withdrawn, new credentials leave it out.",
}


def _current_versions(session: Session, found: list[Endorsement]) -> dict[str, int]:
    """The version now issued of each endorsed definition (one query): an endorsement of an
    older version is no longer carried by new credentials."""
    lineages = sorted({e.definition_id for e in found if e.definition_id})
    return {k: d.version for k, d in catalogue.definitions_by_ids(session, lineages).items()}


def _manage_page(
    request: Request,
    session: Session,
    principal: Principal,
    organisation: str | None,
    *,
    notice: str = "",
    error: str = "",
) -> HTMLResponse:
    organisations = _organisations(session, principal)
    current = next((o for o in organisations if o.slug == organisation), organisations[0])
    received = endorsements.received(session, principal, current.slug)
    given = endorsements.given(session, principal, current.slug)
    received.sort(key=lambda e: e.state.value != "pending")  # pending first, stable otherwise
    return render(
        request, "endorsements/manage.html", principal, organisations=organisations,
        current=current, received=received, given=given, notice=notice,
        names=endorsements.organisations_by_id(session, [*received, *given]), error=error,
        current_versions=_current_versions(session, [*received, *given]),
    )  # fmt: skip


ENDORSE_INPUTS = {"endorser": "endorser", "comment": "comment", "valid_until": "valid_until"}
"""The endorsement form's input for each field a refusal names."""


def _form_page(
    request: Request,
    session: Session,
    principal: Principal,
    definition: str | None,
    issuer: str | None,
    *,
    form: dict[str, Any] | None = None,
    error: EndorsementError | None = None,
) -> HTMLResponse:
    settings = app_context(request).settings
    subject = endorsements.resolve_subject(
        session, settings, definition_id=definition or None, issuer=issuer or None
    )
    organisations = [
        o for o in _organisations(session, principal) if o.id != subject.organisation.id
    ]
    return render(
        request, "endorsements/new.html", principal,
        status_code=error.status_code if error else 200, subject=subject,
        organisations=organisations, definition=definition or "", issuer=issuer or "",
        form=form or {"comment": "", "valid_until": "", "endorser": ""},
        errors=errors_on_inputs(error, ENDORSE_INPUTS) if error else {},
        max_comment=MAX_COMMENT,
    )  # fmt: skip


@pages.get("/manage/endorsements/new", response_class=HTMLResponse)
def new_endorsement(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    definition: Annotated[str | None, Query(max_length=32)] = None,
    issuer: Annotated[str | None, Query(max_length=80)] = None,
) -> HTMLResponse:
    return _form_page(request, session, principal, definition, issuer)


def _end_of_day(text: str) -> datetime | None:
    """A date from the form's date field, as the end of that day (UTC)."""
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError as error:
        raise EndorsementError(
            f"'{text}' is not a date (YYYY-MM-DD).", field="valid_until"
        ) from error
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


@pages.post("/manage/endorsements/new", response_model=None)
def create_endorsement(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    endorser: Slug,
    csrf_token: CsrfToken = "",
    definition: Annotated[str, Form(max_length=32)] = "",
    issuer: Annotated[str, Form(max_length=80)] = "",
    comment: Annotated[str, Form(max_length=MAX_COMMENT + 100)] = "",
    valid_until: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse | RedirectResponse:
    check_csrf(request, csrf_token)
    settings = app_context(request).settings
    try:
        endorsements.endorse(
            session, principal, settings, endorser, comment=comment,
            definition_id=definition or None, issuer=issuer or None,
            valid_until=_end_of_day(valid_until),
        )  # fmt: skip
    except EndorsementForbidden:
        raise
    except EndorsementError as error:
        session.rollback()
        form = {"comment": comment, "valid_until": valid_until, "endorser": endorser}
        return _form_page(request, session, principal, definition, issuer, form=form, error=error)
    return RedirectResponse(f"/manage/endorsements?organisation={endorser}&done=created", 303)


@pages.post("/manage/endorsements/{endorsement_id}", response_model=None)
def change_endorsement(
    endorsement_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Slug,
    action: Annotated[str, Form(max_length=20)],
    csrf_token: CsrfToken = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> HTMLResponse | RedirectResponse:
    """Accept, decline (the endorsed organisation) or withdraw (the endorser); declared after
    ``/new``, which this path would otherwise match."""
    check_csrf(request, csrf_token)
    settings = app_context(request).settings
    try:
        if action in ("accept", "decline"):
            endorsements.decide(
                session, principal, endorsement_id, accept=action == "accept", settings=settings
            )
        elif action == "withdraw":
            endorsements.withdraw(session, principal, settings, endorsement_id, reason)
        else:
            raise EndorsementError(f"Unknown action '{action}'.")
    except EndorsementForbidden:
        raise
    except EndorsementError as error:
        session.rollback()
        return _manage_page(request, session, principal, organisation, error=error.message)
    return RedirectResponse(f"/manage/endorsements?organisation={organisation}&done={action}", 303)


@public.get(
    "/endorsements/{endorsement_id}",
    summary="An accepted endorsement credential, at its id (public)",
    response_model=dict[str, Any],
)
def endorsement_credential(endorsement_id: str, session: DbSession) -> JSONResponse:
    """The signed OB 3.0 EndorsementCredential. Answers once the endorsed organisation has
    accepted it, and after a withdrawal too (its status entry then says so)."""
    document = endorsements.public_document(session, endorsement_id)
    return JSONResponse(document, media_type=JSON_LD)


# --- JSON API ----------------------------------------------------------------------------------

SCOPE_NOTE = "(organisation admins, scope endorsements:manage)"
States = Annotated[list[str] | None, Query(description="Only these states")]


@api.post(
    "/organisations/{slug}/endorsements",
    response_model=EndorsementOut,
    status_code=201,
    summary=f"Endorse a published definition or an issuer, as this organisation {SCOPE_NOTE}",
)
def api_endorse(
    slug: str, body: EndorseIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> EndorsementOut:
    """Signs an OB 3.0 EndorsementCredential with the organisation's key; it waits for the
    endorsed organisation's admins to accept it. A live endorsement of the same subject by the
    same organisation is withdrawn (replaced)."""
    endorsement = endorsements.endorse(
        session, principal, app_context(request).settings, slug, comment=body.comment,
        definition_id=body.definition_id, issuer=body.issuer, valid_until=body.valid_until,
        suite=body.format,
    )  # fmt: skip
    return _out(session, endorsement)


@api.get(
    "/organisations/{slug}/endorsements/given",
    response_model=list[EndorsementOut],
    summary=f"Endorsements the organisation made, newest first {SCOPE_NOTE}",
)
def api_given(
    slug: str, session: DbSession, principal: CurrentPrincipal, state: States = None
) -> list[EndorsementOut]:
    return _outs(session, endorsements.given(session, principal, slug, state))


@api.get(
    "/organisations/{slug}/endorsements/received",
    response_model=list[EndorsementOut],
    summary=f"Endorsements of the organisation and its definitions, newest first {SCOPE_NOTE}",
)
def api_received(
    slug: str, session: DbSession, principal: CurrentPrincipal, state: States = None
) -> list[EndorsementOut]:
    return _outs(session, endorsements.received(session, principal, slug, state))


@api.get(
    "/endorsements/{endorsement_id}",
    response_model=EndorsementOut,
    summary="One endorsement (the endorser's or the endorsed organisation's admins)",
)
def api_get(endorsement_id: str, session: DbSession, principal: CurrentPrincipal) -> EndorsementOut:
    return _out(session, endorsements.get_endorsement(session, principal, endorsement_id))


@api.get(
    "/endorsements/{endorsement_id}/credential",
    response_model=dict[str, Any],
    summary="The signed EndorsementCredential, pending ones too (the two organisations' admins)",
)
def api_credential(
    endorsement_id: str, session: DbSession, principal: CurrentPrincipal
) -> dict[str, Any]:
    return endorsements.get_endorsement(session, principal, endorsement_id).document


@api.post(
    "/endorsements/{endorsement_id}/withdraw",
    response_model=EndorsementOut,
    summary="Withdraw an endorsement: its status entry is revoked (the endorser's admins)",
)
def api_withdraw(
    endorsement_id: str,
    body: WithdrawIn,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
) -> EndorsementOut:
    settings = app_context(request).settings
    withdrawn = endorsements.withdraw(session, principal, settings, endorsement_id, body.reason)
    return _out(session, withdrawn)


@api.post(
    "/endorsements/{endorsement_id}/{decision}",
    response_model=EndorsementOut,
    summary="Accept (new credentials carry it) or decline an endorsement (the endorsed's admins)",
)
def api_decide(
    endorsement_id: str,
    decision: Literal["accept", "decline"],
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
) -> EndorsementOut:
    """``accept`` a pending endorsement: credentials issued from now on embed it. ``decline`` a
    pending or accepted one: credentials issued from now on leave it out (those issued before
    keep it; only the endorser can withdraw the signed statement itself). Declared after
    ``withdraw``, which this path would otherwise match."""
    settings = app_context(request).settings
    decided = endorsements.decide(
        session, principal, endorsement_id, accept=decision == "accept", settings=settings
    )
    return _out(session, decided)

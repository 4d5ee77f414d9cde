"""Credentials: issue/revoke API, verification, public credential pages, DID documents, status
lists, issuer staff pages and bulk issuance jobs."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from microcred.accounts import admin
from microcred.accounts.mailing import mail_recipient_invitations
from microcred.accounts.models import Organisation, Role
from microcred.accounts.service import (
    Principal,
    get_organisation,
    has_consent,
    staff_organisations,
)
from microcred.catalogue import service as catalogue
from microcred.catalogue.badge_image import default_badge_svg
from microcred.credentials import bulk, service
from microcred.credentials.badge_png import default_badge_png
from microcred.credentials.baking import bake_png, bake_svg
from microcred.credentials.documents import result_labels
from microcred.credentials.errors import CredentialError
from microcred.credentials.keystore import did_document_for_slug, issuer_keys, rotate_issuer_key
from microcred.credentials.models import BulkJob, IssuedCredential
from microcred.credentials.proofs.jwt import media_type
from microcred.credentials.resolvers import verify
from microcred.credentials.statuslists import status_list_document
from microcred.credentials.verify import VerificationReport
from microcred.endorsements.documents import embedded_endorsements
from microcred.errors import MicrocredError, NotFound, PermissionDenied
from microcred.mail.service import mail_enabled
from microcred.outcomes import engagement
from microcred.settings import Settings
from microcred.spreadsheet import safe_writer
from microcred.wallet.oid4vci import last_pickup
from microcred.wallet.profiles import PUBLIC_NAME_CONSENT
from microcred.wallet.sharing import share_links
from microcred.web.deps import CurrentPrincipal, DbSession, OptionalPrincipal, app_context
from microcred.web.form_errors import FieldErrors, errors_on_inputs, is_bad_input
from microcred.web.rendering import render
from microcred.web.routers.members import invitation_link
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["credentials"])

JSON_LD = "application/ld+json"
SHORT_CACHE = "public, max-age=30, must-revalidate"
ICONS = {"pass": "✔", "fail": "✘", "warning": "⚠"}


def _settings(request: Request) -> Settings:
    return app_context(request).settings


# --- shared views ---------------------------------------------------------------------------


class CredentialOut(BaseModel):
    id: str
    url: str
    issuer: str
    definition_id: str
    achievement_name: str
    state: str
    status_purpose: str
    formats: list[str]
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    recipient_email: str | None = None
    credential: dict[str, Any]
    jwts: dict[str, str]
    ledger_leaf_index: int | None


def _credential_out(
    credential: IssuedCredential, settings: Settings, *, with_recipient: bool
) -> CredentialOut:
    return CredentialOut(
        id=credential.id,
        url=f"{settings.base_url.rstrip('/')}/credentials/{credential.id}",
        issuer=str(credential.document.get("issuer", {}).get("id", "")),
        definition_id=credential.definition_id,
        achievement_name=credential.achievement_name,
        state=credential.state.value,
        status_purpose=credential.status_purpose,
        formats=credential.formats,
        issued_at=credential.issued_at,
        valid_from=credential.valid_from,
        valid_until=credential.valid_until,
        recipient_email=credential.recipient_email if with_recipient else None,
        credential=credential.document,
        jwts=credential.jwts,
        ledger_leaf_index=credential.ledger_leaf_index,
    )


def _can_see_recipient(principal: Principal | None, credential: IssuedCredential) -> bool:
    if principal is None:
        return False
    return principal.user_id == credential.recipient_user_id or service.can_read(
        principal, credential.organisation_id
    )


def visible_recipient_name(
    session: Session, principal: Principal | None, credential: IssuedCredential
) -> str | None:
    """The recipient's name for the recipient and the issuer's staff; for anyone else only once
    the recipient consented to showing it on their public pages."""
    shown = _can_see_recipient(principal, credential) or (
        credential.recipient_user_id is not None
        and has_consent(session, credential.recipient_user_id, PUBLIC_NAME_CONSENT)
    )
    return credential.recipient_name if shown else None


# --- API: issue, revoke, list ---------------------------------------------------------------


class IssueIn(BaseModel):
    definition_id: str = Field(max_length=32)
    recipient_user_id: str | None = Field(default=None, max_length=32)
    recipient_email: str | None = Field(default=None, max_length=254)
    recipient_did: str | None = Field(default=None, max_length=500)
    recipient_name: str | None = Field(default=None, max_length=200)
    results: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    evidence: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    formats: list[str] | None = Field(default=None, max_length=10)
    idempotency_key: str | None = Field(default=None, max_length=200)
    status_purpose: str = Field(default="revocation", max_length=20)


class StatusIn(BaseModel):
    reason: str = Field(max_length=1000)
    purpose: str = Field(default="revocation", max_length=20)


class ReasonIn(BaseModel):
    reason: str = Field(max_length=1000)


class CredentialPageOut(BaseModel):
    items: list[CredentialOut]
    total: int
    page: int
    pages: int
    next_cursor: str | None = Field(
        default=None,
        description="Pass as `after` for the next page (None on the last page): walking a large "
        "list by cursor reads on where the last page ended instead of skipping page by page.",
    )


@api.post("/credentials", response_model=CredentialOut, status_code=201, summary="Issue")
def api_issue(
    body: IssueIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> CredentialOut:
    settings = _settings(request)
    credential = service.issue_credential(
        session, principal, settings=settings, **body.model_dump()
    )
    return _credential_out(credential, settings, with_recipient=True)


@api.get("/credentials/{credential_id}", response_model=CredentialOut, summary="One credential")
def api_credential(
    credential_id: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> CredentialOut:
    credential = service.get_credential(session, credential_id)
    return _credential_out(
        credential,
        _settings(request),
        with_recipient=_can_see_recipient(principal, credential),
    )


@api.post(
    "/credentials/{credential_id}/revoke", response_model=CredentialOut, summary="Revoke/suspend"
)
def api_revoke(
    credential_id: str,
    body: StatusIn,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
) -> CredentialOut:
    settings = _settings(request)
    credential = service.revoke_credential(
        session, principal, credential_id, reason=body.reason, purpose=body.purpose,
        settings=settings,
    )  # fmt: skip
    return _credential_out(credential, settings, with_recipient=True)


@api.post(
    "/credentials/{credential_id}/reinstate", response_model=CredentialOut, summary="Reinstate"
)
def api_reinstate(
    credential_id: str,
    body: ReasonIn,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
) -> CredentialOut:
    settings = _settings(request)
    credential = service.reinstate_credential(
        session, principal, credential_id, reason=body.reason, settings=settings
    )
    return _credential_out(credential, settings, with_recipient=True)


@api.get(
    "/organisations/{slug}/credentials",
    response_model=CredentialPageOut,
    summary="Credentials an issuer issued",
)
def api_issuer_credentials(
    slug: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    state: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page")
    ] = None,
) -> CredentialPageOut:
    found = service.credentials_of_issuer(
        session, principal, slug, state=state, query=q, page=page, per_page=per_page, after=after
    )
    settings = _settings(request)
    return CredentialPageOut(
        items=[_credential_out(c, settings, with_recipient=True) for c in found.items],
        total=found.total,
        page=found.page,
        pages=found.pages,
        next_cursor=found.next_cursor,
    )


@api.get(
    "/organisations/{slug}/credentials.csv",
    summary="Export an issuer's credentials (CSV)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "CSV, one line per credential (header: service.EXPORT_COLUMNS)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
def api_issuer_credentials_csv(
    slug: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    state: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> StreamingResponse:
    """Every credential the issuer issued under the filters, newest first (scope
    ``credentials:read``; audited ``credentials.exported``)."""
    return _export_response(request, session, principal, slug, state, q)


def _export_response(
    request: Request,
    session: Session,
    principal: Principal,
    slug: str,
    state: str | None,
    q: str | None,
) -> StreamingResponse:
    export = service.start_credentials_export(session, principal, slug, state=state, query=q)
    session.commit()  # the audit entry, before any row leaves
    context = app_context(request)

    def rows() -> Iterator[str]:
        with context.sessions() as reading:  # the request's session is closed by then
            yield from service.export_credentials_csv(reading, export, context.settings.base_url)

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="credentials-{export.organisation_slug}-{stamp}.csv"'
            )
        },
    )


@api.get("/me/credentials", response_model=list[CredentialOut], summary="My credentials")
def api_my_credentials(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> list[CredentialOut]:
    settings = _settings(request)
    return [
        _credential_out(c, settings, with_recipient=True)
        for c in service.credentials_of_learner(session, principal.user_id, principal)
    ]


class RotateIn(BaseModel):
    algorithm: str = Field(default="Ed25519", max_length=10)


@api.post("/organisations/{slug}/keys/rotate", summary="Rotate an issuer key (admins)")
def api_rotate(
    slug: str, body: RotateIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> dict[str, str]:
    row = rotate_issuer_key(
        session, principal, slug, algorithm=body.algorithm, settings=_settings(request)
    )
    return {"fragment": row.fragment, "algorithm": row.algorithm.value}


# --- API: verification ----------------------------------------------------------------------


async def _verification_input(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if isinstance(upload, str) or upload is None:
            text = form.get("credential")
            if isinstance(text, str) and text.strip():
                return text.encode()
            raise CredentialError(
                "Upload a file (field 'file') or paste a credential (field 'credential').",
                field="file",
            )
        return await upload.read()
    return await request.body()


@api.post("/verify", summary="Verify a credential or a presentation (JSON, JWT, PNG/SVG)")
async def api_verify(
    request: Request,
    challenge: Annotated[str | None, Query(max_length=500)] = None,
    domain: Annotated[str | None, Query(max_length=500)] = None,
) -> JSONResponse:
    """The body is the credential: JSON, a compact JWT as text, or a multipart upload. For a
    Verifiable Presentation, ``challenge`` and ``domain`` are what its holder must have signed."""
    data = await _verification_input(request)
    context = app_context(request)
    with context.sessions() as session:
        report = verify(session, data, context.settings, challenge=challenge, domain=domain)
        _count_verification(session, report, context.settings)
    return JSONResponse(report.as_dict())


def _count_verification(session: Session, report: Any, settings: Settings) -> None:
    """One more verification of a credential issued here (found by its id, which is its page's
    address on this server); a presentation counts for none."""
    document = report.credential if report.kind == "credential" else None
    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
        return
    prefix = f"{settings.base_url.rstrip('/')}/credentials/"
    if not document["id"].startswith(prefix):
        return
    credential = session.get(IssuedCredential, document["id"].removeprefix(prefix))
    if credential is not None and engagement.record(session, credential, engagement.VERIFY):
        session.commit()


# --- API: bulk issuance ---------------------------------------------------------------------


class JobOut(BaseModel):
    id: str
    state: str
    source_name: str
    total_rows: int
    processed_rows: int
    issued_count: int
    existing_count: int
    error_count: int
    failure: str | None
    created_at: datetime
    finished_at: datetime | None
    result_url: str


def _job_out(job: BulkJob, slug: str) -> JobOut:
    return JobOut(
        id=job.id,
        state=job.state.value,
        source_name=job.source_name,
        total_rows=job.total_rows,
        processed_rows=job.processed_rows,
        issued_count=job.issued_count,
        existing_count=job.existing_count,
        error_count=job.error_count,
        failure=job.failure,
        created_at=job.created_at,
        finished_at=job.finished_at,
        result_url=f"/api/v1/organisations/{slug}/issuance-jobs/{job.id}/result.csv",
    )


def start_job(request: Request, job_id: str) -> None:
    """Run the job in a background thread; the request returns at once."""
    context = app_context(request)
    thread = threading.Thread(
        target=_run_job_quietly,
        args=(context.sessions, job_id, context.settings),
        name=f"bulk-{job_id}",
        daemon=True,
    )
    thread.start()


def _run_job_quietly(sessions: Any, job_id: str, settings: Settings) -> None:
    try:
        bulk.run_job(sessions, job_id, settings)
    except Exception:  # the job row records the failure; the thread has no one to tell
        return


async def _bulk_input(request: Request) -> tuple[bytes, str]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise CredentialError("Upload a CSV or JSON file (field 'file').", field="file")
        return await upload.read(), upload.filename or "upload.csv"
    name = "upload.json" if "json" in content_type else "upload.csv"
    return await request.body(), name


def _job_in_organisation(session: Session, principal: Principal, slug: str, job_id: str) -> BulkJob:
    organisation = get_organisation(session, slug)
    job = bulk.get_job(session, principal, job_id)
    if job.organisation_id != organisation.id:
        raise bulk.BulkError("No such job for this organisation.", status_code=404)
    return job


@api.post(
    "/organisations/{slug}/issuance-jobs",
    response_model=JobOut,
    status_code=202,
    summary="Start a bulk issuance job (CSV or JSON array)",
)
async def api_create_job(
    slug: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    formats: Annotated[str | None, Query(max_length=200)] = None,
) -> JobOut:
    data, name = await _bulk_input(request)
    chosen = formats.split(",") if formats else None
    job = bulk.create_job(session, principal, slug, data, source_name=name, formats=chosen)
    session.commit()
    start_job(request, job.id)
    return _job_out(job, slug)


@api.get(
    "/organisations/{slug}/issuance-jobs/{job_id}", response_model=JobOut, summary="Job progress"
)
def api_job(slug: str, job_id: str, session: DbSession, principal: CurrentPrincipal) -> JobOut:
    return _job_out(_job_in_organisation(session, principal, slug, job_id), slug)


class JobRevokedOut(BaseModel):
    revoked: int = Field(description="Credentials of the job revoked by this call")
    already_revoked: int = Field(description="Credentials of the job that were revoked before")


@api.post(
    "/organisations/{slug}/issuance-jobs/{job_id}/revoke",
    response_model=JobRevokedOut,
    summary="Revoke every credential a job issued",
)
def api_job_revoke(
    slug: str,
    job_id: str,
    body: ReasonIn,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
) -> JobRevokedOut:
    """All or nothing; each status list is re-signed once; audited ``credentials.revoked_many``
    (scope ``credentials:issue``)."""
    job = _job_in_organisation(session, principal, slug, job_id)
    settings = _settings(request)
    done = bulk.revoke_job(session, principal, job.id, reason=body.reason, settings=settings)
    return JobRevokedOut(revoked=done.revoked, already_revoked=done.already_revoked)


@api.get("/organisations/{slug}/issuance-jobs/{job_id}/result.csv", summary="Job result file")
def api_job_result(
    slug: str, job_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    job = _job_in_organisation(session, principal, slug, job_id)
    return _result_response(session, job, _settings(request))


def _result_response(session: Session, job: BulkJob, settings: Settings) -> Response:
    return Response(
        bulk.result_csv(session, job, settings.base_url),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="issuance-{job.id}.csv"'},
    )


# --- public documents -----------------------------------------------------------------------


@pages.get("/issuers/{slug}/did.json")
def did_json(slug: str, request: Request, session: DbSession) -> JSONResponse:
    document = did_document_for_slug(session, slug, _settings(request).base_url)
    return JSONResponse(
        document, media_type="application/did+json", headers={"Cache-Control": SHORT_CACHE}
    )


@pages.get("/status/{list_id}")
def status_list(list_id: str, request: Request, session: DbSession) -> JSONResponse:
    document = status_list_document(session, list_id, _settings(request))
    return JSONResponse(
        document, media_type=JSON_LD, headers={"Cache-Control": "no-cache, max-age=0"}
    )


def _issuing_organisation(session: Session, credential: IssuedCredential) -> Organisation | None:
    return session.get(Organisation, credential.organisation_id)


def _organisation_name(session: Session, credential: IssuedCredential) -> str:
    organisation = _issuing_organisation(session, credential)
    return organisation.name if organisation else "?"


@pages.get("/credentials/{credential_id}/credential.json")
def credential_json(credential_id: str, session: DbSession) -> Response:
    credential = service.get_credential(session, credential_id)
    return Response(
        service.credential_text(credential),
        media_type=JSON_LD,
        headers={"Content-Disposition": f'attachment; filename="credential-{credential.id}.json"'},
    )


@pages.get("/credentials/{credential_id}/credential.jwt")
def credential_jwt(
    credential_id: str,
    session: DbSession,
    format: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    credential = service.get_credential(session, credential_id)
    chosen = format or next(iter(credential.jwts), None)
    if chosen is None or chosen not in credential.jwts:
        raise CredentialError("This credential was not issued as a JWT.", status_code=404)
    return Response(
        credential.jwts[chosen],
        media_type=media_type(chosen),
        headers={"Content-Disposition": f'attachment; filename="credential-{credential.id}.jwt"'},
    )


def badge_image_png(session: Session, credential: IssuedCredential) -> bytes:
    """The credential's badge image (not baked): its issuer's default badge."""
    return default_badge_png(_organisation_name(session, credential))


@pages.get("/credentials/{credential_id}/badge.png")
def credential_png(credential_id: str, session: DbSession) -> Response:
    credential = service.get_credential(session, credential_id)
    return Response(
        bake_png(badge_image_png(session, credential), service.preferred_text(credential)),
        media_type="image/png",
        headers={"Content-Disposition": f'attachment; filename="badge-{credential.id}.png"'},
    )


@pages.get("/credentials/{credential_id}/badge.svg")
def credential_svg(credential_id: str, session: DbSession) -> Response:
    credential = service.get_credential(session, credential_id)
    image = default_badge_svg(credential.achievement_name, _organisation_name(session, credential))
    return Response(
        bake_svg(image.encode(), service.preferred_text(credential)),
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'attachment; filename="badge-{credential.id}.svg"'},
    )


# --- public pages ---------------------------------------------------------------------------


def _report_view(report: VerificationReport) -> dict[str, Any]:
    return {
        "valid": report.valid,
        "source": report.source,
        "checks": [
            {"name": c.name, "status": c.status, "reason": c.reason, "icon": ICONS[c.status]}
            for c in report.checks
        ],
    }


def _ledger_entries(session: Session, credential: IssuedCredential) -> list[Any]:
    from microcred.ledger.service import ledger_entries_for_credential

    return ledger_entries_for_credential(session, bytes.fromhex(credential.credential_hash))


@pages.get("/credentials/{credential_id}", response_class=HTMLResponse)
def credential_page(
    credential_id: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> HTMLResponse:
    return _credential_page(credential_id, request, session, principal)


def _credential_page(
    credential_id: str,
    request: Request,
    session: Session,
    principal: Principal | None,
    *,
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The credential's page; ``errors`` on its status form when a change was refused."""
    settings = _settings(request)
    credential = service.get_credential(session, credential_id)
    report = verify(session, service.preferred_text(credential), settings)
    ledger_checks = {"ledger"}
    report.checks = [c for c in report.checks if c.name not in ledger_checks]
    document = credential.document
    subject = document.get("credentialSubject", {})
    page_url = f"{settings.base_url.rstrip('/')}/credentials/{credential.id}"
    is_holder = principal is not None and principal.user_id == credential.recipient_user_id
    is_staff = service.can_read(principal, credential.organisation_id)
    if not (is_holder or is_staff or engagement.is_automated(request.headers.get("user-agent"))):
        engagement.record(session, credential, engagement.VIEW)
    return render(
        request,
        "credentials/page.html",
        principal,
        page_url=page_url,
        share=share_links(document, page_url, f"{page_url}/badge.png") if is_holder else None,
        wallet_pickup=last_pickup(session, principal, credential.id)
        if is_holder and principal is not None
        else None,
        credential=credential,
        document=document,
        achievement=subject.get("achievement", {}),
        results=result_labels(subject),
        evidence=document.get("evidence", []),
        issuer=document.get("issuer", {}),
        carried=[e for e in embedded_endorsements(document) if isinstance(e.document, Mapping)],
        issuer_slug=getattr(_issuing_organisation(session, credential), "slug", None),
        recipient_name=visible_recipient_name(session, principal, credential),
        report=_report_view(report),
        entries=_ledger_entries(session, credential),
        can_manage=service.can_manage(principal, credential.organisation_id),
        history=service.status_history(session, credential.id) if is_staff else [],
        engagement=engagement.kinds_in_order(engagement.counts_of(session, credential.id))
        if is_holder or is_staff
        else None,
        errors=errors or {},
        status_code=status_code,
    )


@pages.get("/verify", response_class=HTMLResponse)
def verify_page(request: Request, principal: OptionalPrincipal) -> HTMLResponse:
    return render(request, "credentials/verify.html", principal, report=None, pasted="")


@pages.post("/verify", response_class=HTMLResponse)
async def verify_submit(
    request: Request,
    principal: OptionalPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    credential: Annotated[str, Form(max_length=1_000_000)] = "",
    file: Annotated[UploadFile | None, File()] = None,
    challenge: Annotated[str, Form(max_length=500)] = "",
    domain: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    data = await file.read() if file is not None and file.filename else credential.encode()
    if not data.strip():
        return render(
            request, "credentials/verify.html", principal, report=None, pasted=credential,
            error="Paste a credential or choose a file.", status_code=400,
        )  # fmt: skip
    context = app_context(request)
    with context.sessions() as session:
        report = verify(
            session, data, context.settings, challenge=challenge.strip() or None,
            domain=domain.strip() or None,
        )  # fmt: skip
        _count_verification(session, report, context.settings)
    return render(
        request, "credentials/verify.html", principal, report=_report_view(report),
        pasted=credential, credential=report.credential, challenge=challenge, domain=domain,
    )  # fmt: skip


# --- issuer staff pages ---------------------------------------------------------------------


def _staff_organisations(session: Session, principal: Principal) -> list[Organisation]:
    found = staff_organisations(session, principal, Role.issuer_staff)
    if not found:
        raise PermissionDenied("Only issuer staff can manage credentials.")
    return found


def _staff_context(
    session: Session, principal: Principal, slug: str | None
) -> tuple[list[Organisation], Organisation]:
    """The issuers the user is staff of, and the one chosen (``?organisation=``, else the first)."""
    organisations = _staff_organisations(session, principal)
    chosen = next((o for o in organisations if o.slug == slug), organisations[0])
    return organisations, chosen


@pages.get("/manage/credentials", response_class=HTMLResponse)
def manage_credentials(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Annotated[str | None, Query(max_length=80)] = None,
    state: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    notice: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    organisations, current = _staff_context(session, principal, organisation)
    found = service.credentials_of_issuer(
        session, principal, current.id, state=state or None, query=q, page=page
    )
    return render(
        request, "credentials/manage.html", principal, organisations=organisations,
        current=current, found=found, state=state or "", q=q or "", notice=notice,
        jobs=bulk.jobs_of(session, principal, current.id)[:10],
        has_keys=bool(issuer_keys(session, current.id)),
    )  # fmt: skip


@pages.get("/manage/credentials/export.csv")
def manage_credentials_export(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Annotated[str | None, Query(max_length=80)] = None,
    state: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> StreamingResponse:
    _, current = _staff_context(session, principal, organisation)
    return _export_response(request, session, principal, current.slug, state or None, q or None)


def _issue_form(
    request: Request,
    session: DbSession,
    principal: Principal,
    current: Organisation,
    organisations: list[Organisation],
    **context: Any,
) -> HTMLResponse:
    published = [
        found
        for definition in catalogue.managed_definitions(session, principal, current.id)
        if (found := catalogue.current_published(session, definition.definition_id)) is not None
    ]
    return render(
        request, "credentials/issue.html", principal, organisations=organisations,
        current=current, definitions=published, formats=service.FORMAT_LABELS,
        default_formats=service.default_formats_of(session, current.id), **context,
    )  # fmt: skip


ISSUE_INPUTS = {
    "definition_id": "definition_id", "recipient_email": "recipient_email",
    "results[0].level": "result_level", "valid_until": "valid_until",
}  # fmt: skip
"""The issue form's input for each field a refusal can name (the form sends one result)."""


@pages.get("/manage/credentials/issue", response_class=HTMLResponse)
def issue_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Annotated[str | None, Query(max_length=80)] = None,
) -> HTMLResponse:
    organisations, current = _staff_context(session, principal, organisation)
    return _issue_form(request, session, principal, current, organisations, values={}, errors={})


@pages.post("/manage/credentials/issue", response_model=None)
def issue_submit(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form(max_length=80)] = "",
    definition_id: Annotated[str, Form(max_length=32)] = "",
    recipient_email: Annotated[str, Form(max_length=254)] = "",
    recipient_name: Annotated[str, Form(max_length=200)] = "",
    result_level: Annotated[str, Form(max_length=200)] = "",
    valid_until: Annotated[str, Form(max_length=40)] = "",
    formats: Annotated[list[str] | None, Form()] = None,
    status_purpose: Annotated[str, Form(max_length=20)] = "revocation",
) -> Response:
    check_csrf(request, csrf_token)
    organisations, current = _staff_context(session, principal, organisation)
    values = {
        "definition_id": definition_id, "recipient_email": recipient_email,
        "recipient_name": recipient_name, "result_level": result_level,
        "valid_until": valid_until, "status_purpose": status_purpose,
    }  # fmt: skip
    try:
        until = datetime.fromisoformat(valid_until) if valid_until else None
        if until is not None and until.tzinfo is None:
            until = until.astimezone()
        with session.begin_nested():
            credential = service.issue_credential(
                session, principal, settings=_settings(request), definition_id=definition_id,
                recipient_email=recipient_email or None, recipient_name=recipient_name or None,
                results=[{"level": result_level}] if result_level else [],
                valid_until=until, formats=formats or None, status_purpose=status_purpose,
            )  # fmt: skip
    except ValueError:
        return _issue_form(
            request, session, principal, current, organisations, values=values,
            errors={"valid_until": ["valid until is not a date."]}, status_code=400,
        )  # fmt: skip
    except MicrocredError as error:
        return _issue_form(
            request, session, principal, current, organisations, values=values,
            errors=errors_on_inputs(error, ISSUE_INPUTS), status_code=error.status_code,
        )  # fmt: skip
    return RedirectResponse(f"/credentials/{credential.id}?issued=1", status_code=303)


@pages.post("/manage/credentials/{credential_id}/status")
def change_status(
    credential_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    action: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    settings = _settings(request)
    try:
        if action == "reinstate":
            service.reinstate_credential(
                session, principal, credential_id, reason=reason, settings=settings
            )
        elif action in {"revoke", "suspend"}:
            purpose = "revocation" if action == "revoke" else "suspension"
            service.revoke_credential(
                session, principal, credential_id, reason=reason, purpose=purpose,
                settings=settings,
            )  # fmt: skip
        else:
            raise CredentialError("action must be revoke, suspend or reinstate.", field="action")
    except CredentialError as error:
        if not is_bad_input(error):
            raise
        session.rollback()
        errors = errors_on_inputs(error, {"reason": "reason"})
        return _credential_page(
            credential_id, request, session, principal, errors=errors,
            status_code=error.status_code,
        )  # fmt: skip
    return RedirectResponse(f"/credentials/{credential_id}", status_code=303)


@pages.get("/manage/credentials/bulk", response_class=HTMLResponse)
def bulk_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Annotated[str | None, Query(max_length=80)] = None,
) -> HTMLResponse:
    organisations, current = _staff_context(session, principal, organisation)
    return render(
        request, "credentials/bulk.html", principal, organisations=organisations,
        current=current, columns=bulk.COLUMNS, jobs=bulk.jobs_of(session, principal, current.id),
        errors={},
    )  # fmt: skip


@pages.post("/manage/credentials/bulk", response_model=None)
async def bulk_submit(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form(max_length=80)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    check_csrf(request, csrf_token)
    organisations, current = _staff_context(session, principal, organisation)
    try:
        if file is None or not file.filename:
            raise CredentialError("Choose a CSV or JSON file.", field="file")
        data = await file.read()
        with session.begin_nested():
            job = bulk.create_job(session, principal, current.id, data, source_name=file.filename)
    except CredentialError as error:
        return render(
            request, "credentials/bulk.html", principal, organisations=organisations,
            current=current, columns=bulk.COLUMNS, status_code=400,
            errors={"file": [error.message]},  # whatever a row lacks, the file is to fix
            jobs=bulk.jobs_of(session, principal, current.id),
        )  # fmt: skip
    session.commit()
    start_job(request, job.id)
    return RedirectResponse(f"/manage/credentials/jobs/{job.id}", status_code=303)


JOB_PAGE_ERRORS = 200


@pages.get("/manage/credentials/jobs/{job_id}", response_class=HTMLResponse)
def job_page(
    job_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    notice: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    return _job_page(job_id, request, session, principal, notice=notice)


def _job_page(
    job_id: str,
    request: Request,
    session: Session,
    principal: Principal,
    *,
    notice: str | None = None,
    errors: FieldErrors | None = None,
    reason: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """A bulk job's page; ``errors`` and the ``reason`` typed on its revoke form when refused."""
    job = bulk.get_job(session, principal, job_id)
    rows = bulk.error_rows(session, job.id, limit=JOB_PAGE_ERRORS)
    percent = int(100 * job.processed_rows / job.total_rows) if job.total_rows else 100
    states = bulk.job_credential_states(session, job.id)
    return render(
        request, "credentials/job.html", principal, job=job, error_rows=rows, percent=percent,
        running=job.state.value in {"pending", "running"}, states=states,
        revocable=states.get("active", 0) + states.get("suspended", 0),
        can_revoke=service.can_manage(principal, job.organisation_id), notice=notice,
        mail_on=mail_enabled(app_context(request).settings), errors=errors or {},
        reason=reason, status_code=status_code,
    )  # fmt: skip


JOB_REVOKE_INPUTS = {"reason": "revoke-reason", "confirm": "revoke-confirm"}


@pages.post("/manage/credentials/jobs/{job_id}/revoke")
def job_revoke(
    job_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        if confirm != "yes":
            raise CredentialError(
                "Tick the box to confirm: a revocation is final.", field="confirm"
            )
        done = bulk.revoke_job(
            session, principal, job_id, reason=reason, settings=_settings(request)
        )
    except CredentialError as error:
        if not is_bad_input(error):
            raise
        session.rollback()
        return _job_page(
            job_id, request, session, principal, reason=reason, status_code=error.status_code,
            errors=errors_on_inputs(error, JOB_REVOKE_INPUTS),
        )  # fmt: skip
    session.commit()
    notice = f"Revoked {done.revoked} credential{'s' if done.revoked != 1 else ''}."
    return RedirectResponse(
        f"/manage/credentials/jobs/{job_id}?notice={quote(notice)}", status_code=303
    )


@pages.post("/manage/credentials/{credential_id}/invite-recipient", response_class=HTMLResponse)
def invite_recipient(
    credential_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    credential = service.get_credential(session, credential_id)
    organisation = _issuing_organisation(session, credential)
    if organisation is None:
        raise NotFound(f"No credential '{credential_id}'.")
    invited = admin.invite_recipients(
        session, principal, organisation.slug, credential_ids=[credential.id]
    )
    session.commit()
    return render(
        request, "credentials/invited.html", principal, credential=credential,
        invited=[(item, _invitation_url(request, item.secret)) for item in invited],
    )  # fmt: skip


def _invitation_url(request: Request, secret: str | None) -> str:
    return invitation_link(request, secret) if secret else ""


def _recipient_invitations_csv(request: Request, items: list[admin.RecipientInvitation]) -> str:
    out = io.StringIO()
    writer = safe_writer(out)
    writer.writerow(("email", "name", "invitation_url", "note"))
    for item in items:
        note = "" if item.secret else "has an account: the credential is in its wallet"
        writer.writerow((item.email, item.name or "", _invitation_url(request, item.secret), note))
    return out.getvalue()


@pages.post("/manage/credentials/jobs/{job_id}/invitations.csv")
def job_invitations(
    job_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    job = bulk.get_job(session, principal, job_id)
    organisation = session.get(Organisation, job.organisation_id)
    assert organisation is not None
    invited = admin.invite_recipients(session, principal, organisation.slug, bulk_job_id=job.id)
    session.commit()
    return Response(
        _recipient_invitations_csv(request, invited),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="invitations-{job.id}.csv"'},
    )


@pages.post("/manage/credentials/jobs/{job_id}/invitations/email")
def job_invitations_email(
    job_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """E-mail each recipient without an account a new invitation link (mail on only)."""
    check_csrf(request, csrf_token)
    settings = app_context(request).settings
    if not mail_enabled(settings):
        raise NotFound("This server sends no e-mail: download the invitation links instead.")
    job = bulk.get_job(session, principal, job_id)
    organisation = session.get(Organisation, job.organisation_id)
    assert organisation is not None
    invited = admin.invite_recipients(session, principal, organisation.slug, bulk_job_id=job.id)
    mailed = mail_recipient_invitations(session, settings, invited, principal)
    session.commit()
    held = sum(item.secret is None for item in invited)
    notice = f"E-mailed {mailed} invitation{'s' if mailed != 1 else ''}" + (
        f"; {held} recipient{'s' if held != 1 else ''} had an account: the credentials are in "
        "their wallets." if held else "."
    )  # fmt: skip
    return RedirectResponse(
        f"/manage/credentials/jobs/{job_id}?notice={quote(notice)}", status_code=303
    )


class RecipientInvitationOut(BaseModel):
    email: str
    name: str | None
    invitation_url: str | None = Field(
        description="One-time link (14 days); null when an account holds the address already"
    )


@api.post(
    "/organisations/{slug}/issuance-jobs/{job_id}/invitations",
    response_model=list[RecipientInvitationOut],
    summary="Invite a job's recipients without an account (learner role; links shown once)",
)
def api_job_invitations(
    slug: str, job_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> list[RecipientInvitationOut]:
    job = _job_in_organisation(session, principal, slug, job_id)
    invited = admin.invite_recipients(session, principal, slug, bulk_job_id=job.id)
    return [
        RecipientInvitationOut(
            email=item.email,
            name=item.name,
            invitation_url=invitation_link(request, item.secret) if item.secret else None,
        )
        for item in invited
    ]


@pages.get("/manage/credentials/jobs/{job_id}/result.csv")
def job_result(
    job_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    return _result_response(session, bulk.get_job(session, principal, job_id), _settings(request))


routers = [api, pages]

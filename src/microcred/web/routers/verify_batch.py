"""Batch verification: the ``/verify/batch`` page and ``POST /api/v1/verify/batch``
(:mod:`microcred.credentials.batch`). Signed-in users only (it makes the server fetch URLs),
rate-limited per user; anonymous single verification (``/verify``) stays as it is."""

from __future__ import annotations

import base64
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from microcred.accounts.service import Principal
from microcred.credentials import batch
from microcred.credentials.models import IssuedCredential
from microcred.market import charts
from microcred.outcomes import engagement
from microcred.settings import Settings
from microcred.web.deps import CurrentPrincipal, DbSession, app_context
from microcred.web.rendering import render
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["credentials"])
routers = [pages, api]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
FORM_OVERHEAD = 2 * 1024 * 1024
"""Room for a batch's references, applicants file and multipart framing beside its items."""
BATCH_BODY_LIMITS = {
    path: batch.MAX_BATCH_BYTES + FORM_OVERHEAD
    for path in ("/verify/batch", "/api/v1/verify/batch")
}
"""Request bodies these paths take (the app's limit elsewhere, MICROCRED_MAX_REQUEST_BYTES)."""


class ProblemOut(BaseModel):
    name: str
    status: Literal["pass", "fail", "warning"]
    reason: str


class BatchRowOut(BaseModel):
    index: int
    name: str
    verdict: Literal["valid", "invalid", "unreadable", "not checked"]
    kind: str
    source: str
    credential_id: str | None
    achievement: str | None
    issuer_name: str | None
    issuer_id: str | None
    recipient: str | None
    valid_from: str | None
    valid_until: str | None
    status: str
    problems: list[ProblemOut]
    duplicate_of: str | None
    applicant_email: str | None
    applicant_name: str | None
    issued_to_applicant: Literal["yes", "no", "cannot tell"] | None
    url: str | None


class BatchTotalsOut(BaseModel):
    total: int
    valid: int
    invalid: int
    unreadable: int
    not_checked: int
    duplicates: int
    not_issued_to_applicant: int


class BatchOut(BaseModel):
    checked_at: str
    time_budget_seconds: float
    totals: BatchTotalsOut
    rows: list[BatchRowOut]


_TEXT = {"type": "string"}
BATCH_REQUEST_BODY: dict[str, Any] = {
    "application/json": {
        "schema": {
            "type": "object",
            "required": ["items"],
            "properties": {
                "items": {
                    "type": "array",
                    "maxItems": batch.MAX_ITEMS,
                    "items": {
                        "type": "object",
                        "description": "Exactly one of credential, jwt, url.",
                        "properties": {
                            "name": _TEXT,
                            "credential": {"oneOf": [{"type": "object"}, _TEXT]},
                            "jwt": _TEXT,
                            "url": {"type": "string", "format": "uri"},
                        },
                    },
                },
                "applicants": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["item", "email"],
                        "properties": {"item": _TEXT, "email": _TEXT, "name": _TEXT},
                    },
                },
            },
        }
    },
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {
                "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                "references": {"type": "string", "description": "URLs, one a line"},
                "applicants": {
                    "type": "string",
                    "format": "binary",
                    "description": "CSV: item, email, name",
                },
            },
        }
    },
}
"""The request body, parsed by hand (it is JSON or a form), described for the OpenAPI schema."""


def _batch_out(result: batch.BatchResult) -> dict[str, Any]:
    totals = {key.replace(" ", "_"): value for key, value in result.totals.items()}
    return {
        "checked_at": result.checked_at.isoformat(),
        "time_budget_seconds": result.time_budget,
        "totals": totals,
        "rows": [batch.row_dict(row) for row in result.rows],
    }


async def _read_upload(upload: StarletteUpload, inputs: batch.BatchInput) -> bytes:
    """An upload's bytes, never more than the batch has room for (plus one, to tell)."""
    data = await upload.read(inputs.max_bytes - inputs.size + 1)
    if len(data) > inputs.max_bytes - inputs.size:
        raise batch.BatchLimitExceeded(
            f"A batch holds at most {inputs.max_bytes} bytes of credentials; "
            f"'{upload.filename}' goes past it. Split it into several batches."
        )
    return data


async def _read_form(request: Request) -> FormData:
    return await request.form(max_files=batch.MAX_ITEMS + 2, max_fields=100)


def _text_field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _form_input(
    form: FormData,
) -> tuple[batch.BatchInput, dict[str, batch.Applicant] | None]:
    """``files`` (repeated), ``references`` and ``applicants``; a file field left empty (a
    browser sends a part without a file name) is no file."""
    inputs = batch.BatchInput()
    for upload in form.getlist("files"):
        if isinstance(upload, StarletteUpload) and upload.filename:
            inputs.add_file(upload.filename, await _read_upload(upload, inputs))
    inputs.add_references(_text_field(form, "references"))
    applicants = form.get("applicants")
    people = None
    if isinstance(applicants, StarletteUpload) and applicants.filename:
        people = batch.read_applicants(await applicants.read(batch.MAX_APPLICANTS_BYTES + 1))
    return inputs, people


def _json_input(body: Any) -> tuple[batch.BatchInput, dict[str, batch.Applicant] | None]:
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise batch.BatchError(
            'The JSON body must be {"items": [{"name", "credential" | "jwt" | "url"}]}',
            field="items",
        )
    inputs = batch.BatchInput()
    for position, item in enumerate(body["items"], 1):
        if not isinstance(item, dict):
            raise batch.BatchError(f"Item {position} must be a JSON object", field="items")
        inputs.add_json_item(position, item)
    people = None
    if body.get("applicants") is not None:
        people = batch.applicants_from_json(body["applicants"])
    return inputs, people


async def _verify(
    request: Request,
    session: Session,
    principal: Principal,
    inputs: batch.BatchInput,
    applicants: dict[str, batch.Applicant] | None,
) -> batch.BatchResult:
    """Checked, counted and run on a worker thread (a batch may take its whole time budget), on
    the request's session; the audit entry and the counts are written at the end, briefly."""
    settings = app_context(request).settings

    def run() -> batch.BatchResult:
        # End what the request wrote so far (a token's last use) before the long reads: on
        # SQLite an open write would block every other writer for the whole batch.
        session.commit()
        result = batch.verify_batch_as(session, principal, inputs, settings, applicants=applicants)
        _count_verifications(session, result, settings)
        return result

    return await run_in_threadpool(run)


def _count_verifications(session: Session, result: batch.BatchResult, settings: Settings) -> None:
    """One more verification of each credential issued here that the batch read (once, however
    many times it appears), as ``/verify`` counts one: the issuer's engagement figures."""
    prefix = f"{settings.base_url.rstrip('/')}/credentials/"
    for row in result.rows:
        identifier = row.credential_id or ""
        if row.kind != "credential" or row.duplicate_of or not identifier.startswith(prefix):
            continue
        credential = session.get(IssuedCredential, identifier.removeprefix(prefix))
        if credential is not None:
            engagement.record(session, credential, engagement.VERIFY)


def _wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


def _csv_response(result: batch.BatchResult) -> Response:
    return Response(
        batch.result_csv(result),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="verification.csv"'},
    )


@api.post(
    "/verify/batch",
    summary="Verify many credentials at once (files, ZIPs, URLs); one row per item",
    response_model=BatchOut,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    openapi_extra={"requestBody": {"required": True, "content": BATCH_REQUEST_BODY}},
)
async def api_verify_batch(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    """Multipart: ``files`` (repeated; JSON, JWT, PNG/SVG/PDF, or ZIPs of them), ``references``
    (URLs, one a line) and ``applicants`` (a CSV: item, email, name). Or JSON:
    ``{"items": [{"name", "credential" | "jwt" | "url"}], "applicants": [{"item", "email",
    "name"}]}``. Answers JSON, or CSV with ``Accept: text/csv``. Needs a signed-in user or a
    token with the ``credentials:verify`` scope; at most 20 batches an hour per user."""
    await run_in_threadpool(batch.check_batch_allowed, session, principal)  # before the upload
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        inputs, people = await _form_input(await _read_form(request))
    else:
        try:
            body = await request.json()
        except ValueError:
            raise batch.BatchError(
                "The body is neither form data (files, references) nor JSON (items)"
            ) from None
        inputs, people = _json_input(body)
    result = await _verify(request, session, principal, inputs, people)
    if _wants_csv(request):
        return _csv_response(result)
    return JSONResponse(_batch_out(result))


# --- the page -------------------------------------------------------------------------------

VERDICT_LABELS = {"valid": "Valid", "invalid": "Invalid", "unreadable": "Unreadable",
                  "not checked": "Not checked"}  # fmt: skip


def _chart(result: batch.BatchResult) -> Markup:
    totals = result.totals
    return Markup(
        charts.bar_chart(
            "Verdicts",
            [(VERDICT_LABELS[v], float(totals[v])) for v in batch.VERDICTS],
            value_format="{:.0f}",
        )
    )


def _form_page(
    request: Request, principal: Principal, *, references: str = "", error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    return render(
        request, "credentials/verify_batch.html", principal, status_code=status_code,
        result=None, references=references, error=error, limits=_limits(),
    )  # fmt: skip


def _limits() -> dict[str, Any]:
    return {
        "max_items": batch.MAX_ITEMS,
        "megabytes": batch.MAX_BATCH_BYTES // (1024 * 1024),
        "per_hour": batch.MAX_BATCHES_PER_HOUR,
        "budget": int(batch.DEFAULT_TIME_BUDGET),
    }


@pages.get("/verify/batch", response_class=HTMLResponse)
def verify_batch_page(request: Request, principal: CurrentPrincipal) -> HTMLResponse:
    return _form_page(request, principal)


@pages.post("/verify/batch", response_class=HTMLResponse)
async def verify_batch_submit(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> HTMLResponse:
    form = await _read_form(request)
    check_csrf(request, _text_field(form, "csrf_token"))
    references = _text_field(form, "references")
    try:
        inputs, people = await _form_input(form)
        result = await _verify(request, session, principal, inputs, people)
    except batch.BatchError as error:
        return _form_page(
            request, principal, references=references, error=error.message,
            status_code=error.status_code,
        )  # fmt: skip
    csv_text = batch.result_csv(result)
    return render(
        request, "credentials/verify_batch.html", principal, result=result,
        totals=result.totals, chart=_chart(result), references=references, limits=_limits(),
        csv_href="data:text/csv;charset=utf-8;base64,"
        + base64.b64encode(csv_text.encode("utf-8")).decode("ascii"),
        labels=VERDICT_LABELS,
    )  # fmt: skip

"""Batch verification: the ``/verify/batch`` page, which runs a batch in the background and
shows its progress at ``/verify/batch/{id}`` (:mod:`microcred.credentials.batch_runs`),
``POST /api/v1/verify/batch`` (answers when done) and ``/api/v1/verify/batches`` (started in the
background, polled). Signed-in users only (it makes the server fetch URLs), rate-limited per
user; anonymous single verification (``/verify``) stays as it is."""

from __future__ import annotations

import base64
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from microcred.accounts.service import Principal
from microcred.credentials import batch, batch_runs
from microcred.credentials.errors import CredentialError
from microcred.credentials.models import VerificationBatch, VerificationBatchState
from microcred.market import charts
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
    for path in ("/verify/batch", "/api/v1/verify/batch", "/api/v1/verify/batches")
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


class BatchRunOut(BaseModel):
    """A batch verified in the background: its progress, and its result once done."""

    id: str = Field(description="The batch's id; its status is at status_url.")
    state: Literal["running", "done", "interrupted"] = Field(
        description="running, done (the result is here), or interrupted (the server stopped "
        "before it finished: submit the batch again)."
    )
    total: int = Field(description="Items in the batch (files, ZIP entries and references).")
    checked: int = Field(description="Items checked so far (updated every few items).")
    status_url: str = Field(description="Where to poll the batch: GET, JSON or text/csv.")
    created_at: str = Field(description="When the batch was started (ISO 8601).")
    finished_at: str | None = Field(description="When it finished; null until then.")
    result: BatchOut | None = Field(
        description="Once done: the rows and totals, as POST /api/v1/verify/batch answers "
        "them; null until then. Kept 24 hours."
    )


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


async def _api_input(
    request: Request,
) -> tuple[batch.BatchInput, dict[str, batch.Applicant] | None]:
    """A form (files, references, applicants) or JSON (items, applicants)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return await _form_input(await _read_form(request))
    try:
        body = await request.json()
    except ValueError:
        raise batch.BatchError(
            "The body is neither form data (files, references) nor JSON (items)"
        ) from None
    return _json_input(body)


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
        batch_runs.count_verifications(session, result, settings)
        return result

    return await run_in_threadpool(run)


async def _start(
    request: Request,
    session: Session,
    principal: Principal,
    inputs: batch.BatchInput,
    applicants: dict[str, batch.Applicant] | None,
) -> VerificationBatch:
    """Checked, counted and recorded (committed), then run on a thread of its own with its own
    sessions; the inputs stay in that thread's memory."""
    context = app_context(request)

    def start() -> VerificationBatch:
        run = batch_runs.start_run(session, principal, inputs)
        session.commit()
        return run

    run = await run_in_threadpool(start)
    batch_runs.start_thread(
        context.sessions, run.id, principal, inputs.items, context.settings,
        applicants=applicants,
    )  # fmt: skip
    return run


def _run_out(run: VerificationBatch) -> dict[str, Any]:
    state = batch_runs.state_of(run)
    done = state is VerificationBatchState.done and run.result is not None
    return {
        "id": run.id,
        "state": state.value,
        "total": run.total,
        "checked": run.checked,
        "status_url": f"/api/v1/verify/batches/{run.id}",
        "created_at": batch.aware(run.created_at).isoformat(),
        "finished_at": batch.aware(run.finished_at).isoformat() if run.finished_at else None,
        "result": _batch_out(batch_runs.result_from_data(run.result))
        if done and run.result is not None
        else None,
    }


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
    inputs, people = await _api_input(request)
    result = await _verify(request, session, principal, inputs, people)
    if _wants_csv(request):
        return _csv_response(result)
    return JSONResponse(_batch_out(result))


@api.post(
    "/verify/batches",
    summary="Start verifying many credentials in the background; poll status_url",
    status_code=202,
    response_model=BatchRunOut,
    openapi_extra={"requestBody": {"required": True, "content": BATCH_REQUEST_BODY}},
)
async def api_start_batch(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> JSONResponse:
    """The body of ``POST /api/v1/verify/batch``, its limits, scope and rate limit (batches
    started here count with those); answers at once (202) with the batch's id and where to
    poll it (``GET /api/v1/verify/batches/{id}``). Its result is kept 24 hours."""
    await run_in_threadpool(batch.check_batch_allowed, session, principal)  # before the upload
    inputs, people = await _api_input(request)
    run = await _start(request, session, principal, inputs, people)
    return JSONResponse(_run_out(run), status_code=202)


@api.get(
    "/verify/batches/{batch_id}",
    summary="A batch verified in the background: progress, then its rows and totals",
    response_model=BatchRunOut,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def api_batch(
    batch_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    """Only its user sees a batch. JSON, or once done the CSV with ``Accept: text/csv`` (409
    while it runs)."""
    batch.check_batch_allowed_scope(principal)
    run = batch_runs.get_run(session, principal, batch_id)
    if _wants_csv(request):
        if batch_runs.state_of(run) is not VerificationBatchState.done or run.result is None:
            raise CredentialError(
                "The batch has not finished: its CSV is ready once its state is 'done'.",
                status_code=409,
            )
        return _csv_response(batch_runs.result_from_data(run.result))
    return JSONResponse(_run_out(run))


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
) -> Response:
    """Starts the batch in the background and sends the browser to its progress page."""
    form = await _read_form(request)
    check_csrf(request, _text_field(form, "csrf_token"))
    references = _text_field(form, "references")
    try:
        inputs, people = await _form_input(form)
        run = await _start(request, session, principal, inputs, people)
    except batch.BatchError as error:
        return _form_page(
            request, principal, references=references, error=error.message,
            status_code=error.status_code,
        )  # fmt: skip
    return RedirectResponse(f"/verify/batch/{run.id}", status_code=303)


@pages.get("/verify/batch/{batch_id}", response_class=HTMLResponse)
def verify_batch_run_page(
    batch_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> HTMLResponse:
    """While it runs: a progress bar, the page refreshing itself; then the results."""
    run = batch_runs.get_run(session, principal, batch_id)
    state = batch_runs.state_of(run)
    if state is not VerificationBatchState.done or run.result is None:
        percent = int(100 * run.checked / run.total) if run.total else 100
        return render(
            request, "credentials/verify_batch_progress.html", principal, run=run,
            state=state.value, percent=percent, limits=_limits(),
        )  # fmt: skip
    result = batch_runs.result_from_data(run.result)
    csv_text = batch.result_csv(result)
    return render(
        request, "credentials/verify_batch.html", principal, result=result,
        totals=result.totals, chart=_chart(result), references="", limits=_limits(),
        csv_href="data:text/csv;charset=utf-8;base64,"
        + base64.b64encode(csv_text.encode("utf-8")).decode("ascii"),
        labels=VERDICT_LABELS,
    )  # fmt: skip

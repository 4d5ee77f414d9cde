"""Application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import microcred.notifications.service
import microcred.pathways.service  # noqa: F401  (registers its credentials listeners)
from microcred import __version__
from microcred.accounts.twofactor import TwoFactorSetupRequired
from microcred.credentials.batch_runs import prune_runs
from microcred.credentials.check_labels import check_name, check_status
from microcred.db.engine import create_db_engine, make_session_factory
from microcred.errors import MicrocredError
from microcred.i18n import install as install_translations
from microcred.ledger.config import LedgerSettings, get_ledger_settings
from microcred.ledger.scheduler import Checkpointer
from microcred.mail.sender import Mailer
from microcred.mail.service import mail_enabled
from microcred.notifications.reminders import Reminders, Sweep
from microcred.outcomes.prompts import prompt_reports
from microcred.settings import Settings, get_settings
from microcred.web.context import WEB_DIR, AppContext
from microcred.web.i18n import LocaleMiddleware
from microcred.web.markdown import render_markdown
from microcred.web.routers import ROUTERS
from microcred.web.routers.verify_batch import BATCH_BODY_LIMITS
from microcred.web.security import csrf_token
from microcred.webhooks.dispatcher import Dispatcher

API_DESCRIPTION = """
The microcred JSON API. Authenticate with a scoped bearer token
(`Authorization: Bearer mcr_…`, created under *Account → API tokens*) or, from the pages,
with the session cookie plus the `X-CSRF-Token` header. Errors are JSON objects
`{"error": …, "message": …, "field": …}` with a 4xx status.
"""


class BodySizeLimit:
    """Refuse request bodies over ``limit`` bytes with 413 before a handler reads them;
    ``larger``: paths that take more (batch verification's uploads)."""

    def __init__(self, app: ASGIApp, limit: int, larger: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = max(self.limit, self.larger.get(scope.get("path", ""), 0))
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        response = JSONResponse(
            {
                "error": "RequestTooLarge",
                "message": f"The request body exceeds {limit} bytes.",
            },
            status_code=413,
        )
        await response({"type": "http"}, _no_receive, send)


class _TooLarge(Exception):
    pass


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def _prune_verification_batches(
    session: Session, now: datetime | None, settings: Settings | None
) -> int:
    return prune_runs(session, now)


SWEEPS: tuple[Sweep, ...] = (prompt_reports, _prune_verification_batches)
"""What the hourly reminders thread also runs: the six-month employment questions, and the
deletion of batch verification results older than a day."""


def create_app(
    settings: Settings | None = None, ledger_settings: LedgerSettings | None = None
) -> FastAPI:
    settings = settings or get_settings()
    ledger_settings = ledger_settings or get_ledger_settings()
    engine = create_db_engine(settings.database_url)
    templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
    templates.env.globals.update(
        csrf_token=csrf_token, version=__version__, help_url=settings.help_url
    )
    templates.env.filters["markdown"] = render_markdown
    install_translations(templates.env)
    templates.env.globals.update(check_name=check_name, check_status=check_status)
    context = AppContext(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        templates=templates,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        checkpointer = None
        if ledger_settings.checkpoint_in_server:
            checkpointer = Checkpointer(context.sessions, settings, ledger_settings)
            checkpointer.start()
        app.state.checkpointer = checkpointer
        webhooks = Dispatcher(context.sessions, settings) if settings.webhooks_in_server else None
        if webhooks is not None:
            webhooks.start()
        app.state.webhooks = webhooks
        reminders = (
            Reminders(context.sessions, settings=settings, sweeps=SWEEPS)
            if settings.reminders_in_server
            else None
        )
        if reminders is not None:
            reminders.start()
        mailer = None
        if mail_enabled(settings) and settings.mail_in_server:
            mailer = Mailer(context.sessions, settings)
            mailer.start()
        app.state.mailer = mailer
        try:
            yield
        finally:
            if mailer is not None:
                mailer.stop()
            if checkpointer is not None:
                checkpointer.stop()
            if webhooks is not None:
                webhooks.stop()
            if reminders is not None:
                reminders.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="microcred API",
        version=__version__,
        description=API_DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.context = context
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="microcred_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(BodySizeLimit, limit=settings.max_request_bytes, larger=BATCH_BODY_LIMITS)
    app.add_middleware(LocaleMiddleware, secure=settings.secure_cookies)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/api/v1/docs"):
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
            )
        return response

    @app.exception_handler(MicrocredError)
    async def microcred_error(request: Request, exc: MicrocredError) -> Response:
        if _wants_json(request):
            return JSONResponse(exc.as_dict(), status_code=exc.status_code)
        if exc.status_code == 401:
            return RedirectResponse(f"/sign-in?next={request.url.path}", status_code=303)
        if isinstance(exc, TwoFactorSetupRequired):
            return RedirectResponse("/account/two-factor?required=1", status_code=303)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"message": exc.message, "status": exc.status_code, "principal": None},
            status_code=exc.status_code,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = jsonable_encoder(exc.errors())
        parts = []
        for error in errors:
            location = ".".join(str(p) for p in error.get("loc", []) if p not in ("body",))
            parts.append(f"{location}: {error.get('msg')}")
        message = "; ".join(parts) or "The request is not valid."
        if _wants_json(request):
            first = errors[0] if errors else {}
            field = ".".join(str(p) for p in first.get("loc", []) if p != "body") or None
            return JSONResponse(
                {"error": "ValidationError", "message": message, "field": field, "errors": errors},
                status_code=422,
            )
        return templates.TemplateResponse(
            request,
            "error.html",
            {"message": message, "status": 422, "principal": None},
            status_code=422,
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    return app


def error_page(request: Request, message: str, status: int = 400) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.context.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {"message": message, "status": status, "principal": None},
        status_code=status,
    )

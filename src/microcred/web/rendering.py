"""Rendering pages: every template gets the principal, the CSRF token and the unread count."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from microcred.accounts.service import Principal
from microcred.i18n import set_locale
from microcred.notifications import service as notifications
from microcred.web.context import AppContext
from microcred.web.i18n import request_locale


def unread_notifications(request: Request, principal: Principal | None) -> int:
    """The menu's count: one indexed query on the request's own session (a second connection
    per page could exhaust a PostgreSQL pool under load), or a short one of its own where the
    request has none or its transaction already failed (an error page)."""
    if principal is None:
        return 0
    session: Session | None = getattr(request.state, "db_session", None)
    if session is not None and session.is_active:
        with session.no_autoflush:  # a page's pending, unchecked changes are not flushed here
            return notifications.unread_count(session, principal.user_id)
    app_context: AppContext = request.app.state.context
    with app_context.sessions() as own:
        return notifications.unread_count(own, principal.user_id)


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    app_context: AppContext = request.app.state.context
    shadowed = context.keys() & app_context.templates.env.globals.keys()
    if shadowed:
        # A page's value would hide the global every template relies on (the footer once showed
        # an object's repr where the version belongs): a programming error, caught in tests.
        raise ValueError(f"Page context names template globals: {', '.join(sorted(shadowed))}")
    unread = unread_notifications(request, principal)
    set_locale(request_locale(request, principal.locale if principal else None))
    return app_context.templates.TemplateResponse(
        request,
        template,
        {"principal": principal, "unread_notifications": unread, **context},
        status_code=status_code,
    )

"""Rendering pages: every template gets the principal, the CSRF token and the unread count."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from microcred.accounts.service import Principal
from microcred.notifications import service as notifications
from microcred.web.context import AppContext


def unread_notifications(app_context: AppContext, principal: Principal | None) -> int:
    """The menu's count (one indexed query in its own short session: pages that render after
    their own transaction ended still show it)."""
    if principal is None:
        return 0
    with app_context.sessions() as session:
        return notifications.unread_count(session, principal.user_id)


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    app_context: AppContext = request.app.state.context
    unread = unread_notifications(app_context, principal)
    return app_context.templates.TemplateResponse(
        request,
        template,
        {"principal": principal, "unread_notifications": unread, **context},
        status_code=status_code,
    )

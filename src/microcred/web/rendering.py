"""Rendering pages: every template gets the principal and the CSRF token."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from microcred.accounts.service import Principal
from microcred.web.context import AppContext


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    app_context: AppContext = request.app.state.context
    return app_context.templates.TemplateResponse(
        request, template, {"principal": principal, **context}, status_code=status_code
    )

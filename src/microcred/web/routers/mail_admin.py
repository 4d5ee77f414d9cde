"""The mail outbox page for platform administrators (``/admin/mail``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from microcred.accounts.service import Principal
from microcred.mail import admin
from microcred.mail.models import MailState
from microcred.mail.service import MailError, mail_enabled, masked_url
from microcred.market import charts
from microcred.web.deps import CurrentPrincipal, DbSession, app_context
from microcred.web.rendering import render
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)


def _chart(days: list[admin.DayCount]) -> Markup | None:
    rows = [(f"{d.day:%d %b} sent", float(d.sent)) for d in days if d.sent] + [
        (f"{d.day:%d %b} failed", float(d.failed)) for d in days if d.failed
    ]
    if not rows:
        return None
    title = f"Mail per day, last {admin.CHART_DAYS} days"
    return Markup(
        charts.bar_chart(title, rows, value_format="{:.0f}")
        + charts.figures(title, ("Day", "Messages"), rows, "{:.0f}")
    )


def _page(
    request: Request,
    session: DbSession,
    principal: Principal,
    state: str | None,
    page: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    address: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    chosen = MailState(state) if state in {s.value for s in MailState} else None
    found = admin.outbox(session, principal, state=chosen, page=page)
    settings = app_context(request).settings
    transport = (
        masked_url(settings.smtp_url)
        if settings.smtp_url
        else (f"files in {settings.mail_dir}" if settings.mail_dir else None)
    )
    return render(
        request, "mail/outbox.html", principal, found=found, state=chosen.value if chosen else "",
        states=[s.value for s in MailState], chart=_chart(admin.daily_counts(session, principal)),
        enabled=mail_enabled(settings), transport=transport, mail_from=settings.mail_from,
        notice=notice, error=error, address=address, status_code=status_code,
    )  # fmt: skip


@pages.get("/admin/mail", response_class=HTMLResponse)
def outbox_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    state: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    return _page(request, session, principal, state, page)


@pages.post("/admin/mail/test", response_class=HTMLResponse)
def send_test(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    address: Annotated[str, Form(max_length=254)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    context = app_context(request)
    try:
        outcome = admin.send_test(context.sessions, context.settings, principal, address)
    except MailError as error:
        return _page(
            request, session, principal, None, 1, error=error.message, address=address,
            status_code=400,
        )  # fmt: skip
    if outcome.sent:
        return _page(request, session, principal, None, 1, notice=f"Sent to {address}.")
    return _page(
        request, session, principal, None, 1, address=address, status_code=502,
        error=f"Not sent: {outcome.error}",
    )  # fmt: skip


routers = [pages]

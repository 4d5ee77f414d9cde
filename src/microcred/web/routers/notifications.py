"""The notifications page (and opening one), and the notifications API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from microcred.notifications import service as notifications
from microcred.notifications.schemas import MarkedOut, MarkReadIn, NotificationOut, NotificationsOut
from microcred.web.deps import CurrentPrincipal, DbSession
from microcred.web.rendering import render
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["notifications"])


@pages.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    before: str | None = None,
    unread: bool = False,
) -> HTMLResponse:
    page = notifications.notifications_of(session, principal, before=before, unread_only=unread)
    return render(request, "notifications/index.html", principal, page=page, unread_only=unread)


@pages.post("/notifications/read")
def notifications_mark_all_read(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(request, csrf_token)
    notifications.mark_read(session, principal)
    return RedirectResponse("/notifications", status_code=303)


@pages.post("/notifications/{notification_id}/open")
def notification_open(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    notification_id: str,
    csrf_token: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Marks it read (a POST: reading changes state) and goes where it points."""
    check_csrf(request, csrf_token)
    target = notifications.open_notification(session, principal, notification_id)
    return RedirectResponse(target, status_code=303)


@api.get(
    "/me/notifications",
    response_model=NotificationsOut,
    summary="Your notifications, newest first (scope notifications:read)",
)
def api_notifications(
    session: DbSession,
    principal: CurrentPrincipal,
    unread: Annotated[bool, Query(description="Only the unread ones")] = False,
    before: Annotated[str | None, Query(description="`next_before` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=notifications.MAX_PAGE)] = notifications.PAGE_SIZE,
) -> NotificationsOut:
    page = notifications.notifications_of(
        session, principal, limit=limit, before=before, unread_only=unread
    )
    return NotificationsOut(
        items=[NotificationOut.of(row) for row in page.items],
        unread=page.unread,
        next_before=page.next_before,
    )


@api.post(
    "/me/notifications/read",
    response_model=MarkedOut,
    summary="Mark your notifications read: the ids given, or all (scope notifications:read)",
)
def api_mark_read(body: MarkReadIn, session: DbSession, principal: CurrentPrincipal) -> MarkedOut:
    return MarkedOut(marked=notifications.mark_read(session, principal, body.ids))


routers = [pages, api]

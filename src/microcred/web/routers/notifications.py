"""The notifications page (and opening one), and the notifications API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from microcred.mail.service import mail_enabled
from microcred.notifications import mailing
from microcred.notifications import service as notifications
from microcred.notifications.schemas import (
    MailChoicesIn,
    MailChoicesOut,
    MarkedOut,
    MarkReadIn,
    NotificationOut,
    NotificationsOut,
)
from microcred.web.deps import CurrentPrincipal, DbSession, OptionalPrincipal, app_context
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
    saved: bool = False,
) -> HTMLResponse:
    page = notifications.notifications_of(session, principal, before=before, unread_only=unread)
    return render(
        request, "notifications/index.html", principal, page=page, unread_only=unread,
        mail=mail_enabled(app_context(request).settings), groups=mailing.GROUPS,
        mailed=mailing.mailed_groups(session, principal), saved=saved,
    )  # fmt: skip


@pages.post("/notifications/email")
def notifications_email_choices(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    groups: Annotated[list[str] | None, Form()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> RedirectResponse:
    check_csrf(request, csrf_token)
    mailing.set_mailed_groups(session, principal, groups or [])
    return RedirectResponse("/notifications?saved=true#email", status_code=303)


@pages.get("/notifications/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(
    request: Request, session: DbSession, principal: OptionalPrincipal, token: str
) -> HTMLResponse:
    """What the link in a mail stops, with a button: a GET changes nothing (mail scanners
    follow links)."""
    found = mailing.read_unsubscribe_token(session, app_context(request).settings, token)
    return render(
        request, "notifications/unsubscribe.html", principal, found=found, token=token, done=False
    )


@pages.post("/notifications/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(
    request: Request, session: DbSession, principal: OptionalPrincipal, token: str
) -> HTMLResponse:
    """The button, and RFC 8058 one-click unsubscription: the signed token is the authority, so
    neither a sign-in nor a CSRF token is asked for."""
    found = mailing.unsubscribe(session, app_context(request).settings, token)
    return render(
        request, "notifications/unsubscribe.html", principal, found=found, token=token, done=True
    )


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


@api.get(
    "/me/notifications/email",
    response_model=MailChoicesOut,
    summary="Which groups of your notifications are e-mailed (scope notifications:read)",
)
def api_email_choices(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> MailChoicesOut:
    return _choices(request, mailing.mailed_groups(session, principal))


@api.put(
    "/me/notifications/email",
    response_model=MailChoicesOut,
    summary="E-mail exactly these groups of your notifications (scope notifications:read)",
)
def api_set_email_choices(
    body: MailChoicesIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> MailChoicesOut:
    return _choices(request, mailing.set_mailed_groups(session, principal, body.groups))


def _choices(request: Request, groups: set[str]) -> MailChoicesOut:
    return MailChoicesOut(
        groups=sorted(groups),
        available=mailing.GROUPS,
        mail_enabled=mail_enabled(app_context(request).settings),
    )


routers = [pages, api]

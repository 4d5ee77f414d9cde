"""Notifications: written where things happen, read on ``/notifications`` and the API.

This is how a learner learns that a credential arrived, was revoked, suspended or reinstated,
or that a pathway was completed, and how staff learn that a bulk job finished; when the server
sends mail, each is also e-mailed unless the person muted its group (:mod:`.mailing`).
Credentials' events reach here through their listeners (registered when this
module is imported: the web app and the CLI import it), in the issuing transaction: a
notification exists exactly when what it tells of does. Only the person notified can read or
mark theirs; every query is by the principal's own user id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from microcred.accounts.models import Membership, Organisation, Role
from microcred.accounts.service import Principal
from microcred.credentials import events
from microcred.credentials.models import BulkJob
from microcred.db.base import new_id, utcnow
from microcred.db.fastinsert import insert_rows
from microcred.errors import NotFound, PermissionDenied
from microcred.i18n import L_, N_, Text, to_json
from microcred.notifications import mailing
from microcred.notifications.models import Notification
from microcred.settings import Settings

READ_SCOPE = "notifications:read"
PAGE_SIZE = 50
MAX_PAGE = 200
MAX_TITLE = 300

CREDENTIAL_ISSUED = "credential.issued"
ENDORSEMENT_RECEIVED = "endorsement.received"
ENDORSEMENT_ACCEPTED = "endorsement.accepted"
ENDORSEMENT_DECLINED = "endorsement.declined"
ENDORSEMENT_WITHDRAWN = "endorsement.withdrawn"
AWARD_REVIEW = "pathway_award.review"
PATHWAY_AWARDED = "pathway.awarded"
JOB_COMPLETED = "issuance_job.completed"
_STATUS_NOTICES = {
    "revoked": ("credential.revoked", N_("Credential revoked: %(achievement)s")),
    "suspended": ("credential.suspended", N_("Credential suspended: %(achievement)s")),
    "active": ("credential.reinstated", N_("Credential reinstated: %(achievement)s")),
}


@dataclass(frozen=True)
class NewNotification:
    """``title`` and ``body`` made with :func:`microcred.i18n.L_` are shown and mailed in each
    reader's language (plain strings as they are); the English is stored for the API."""

    user_id: str
    kind: str
    title: str
    body: str = ""
    link: str | None = None


def _message_of(item: NewNotification) -> dict[str, Any] | None:
    """What of the title and body can be translated later, for ``Notification.message``."""
    parts = {
        part: to_json(text)
        for part, text in (("title", item.title), ("body", item.body))
        if isinstance(text, Text)
    }
    return parts or None


def notify(
    session: Session,
    notifications: Iterable[NewNotification],
    settings: Settings | None = None,
) -> int:
    """Write notifications in the caller's transaction (one multi-row insert); how many. With
    ``settings`` of a server that sends mail, each is e-mailed too (:mod:`.mailing`)."""
    notifications = list(notifications)
    if settings is not None:
        mailing.mail_notifications(session, settings, notifications)
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "user_id": item.user_id,
            "kind": item.kind,
            "title": item.title[:MAX_TITLE],
            "body": item.body,
            "link": item.link,
            "message": _message_of(item),
            "created_at": now,
            "read_at": None,
        }
        for item in notifications
    ]
    insert_rows(session, cast(Table, Notification.__table__), rows)
    return len(rows)


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    unread: int
    next_before: str | None
    """Pass as ``before`` for the next (older) page; None on the last."""


def _require_scope(principal: Principal) -> None:
    if not principal.has_scope(READ_SCOPE):
        raise PermissionDenied(f"This token lacks the {READ_SCOPE} scope.")


def unread_count(session: Session, user_id: str) -> int:
    query = select(func.count()).select_from(Notification)
    return int(
        session.scalar(query.where(Notification.user_id == user_id, Notification.read_at.is_(None)))
        or 0
    )


def notifications_of(
    session: Session,
    principal: Principal,
    *,
    limit: int = PAGE_SIZE,
    before: str | None = None,
    unread_only: bool = False,
) -> NotificationPage:
    """The principal's own notifications, newest first."""
    _require_scope(principal)
    limit = max(1, min(limit, MAX_PAGE))
    query = select(Notification).where(Notification.user_id == principal.user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        anchor = session.get(Notification, before)
        if anchor is None or anchor.user_id != principal.user_id:
            raise NotFound("No such notification.", field="before")
        query = query.where(
            (Notification.created_at < anchor.created_at)
            | ((Notification.created_at == anchor.created_at) & (Notification.id < anchor.id))
        )
    order = (Notification.created_at.desc(), Notification.id.desc())
    items = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    more = len(items) > limit
    items = items[:limit]
    return NotificationPage(
        items,
        unread_count(session, principal.user_id),
        items[-1].id if more else None,
    )


def mark_read(session: Session, principal: Principal, ids: Sequence[str] | None = None) -> int:
    """Mark the principal's notifications read (``ids``, or all when None); how many changed.
    Ids of anyone else's notifications are ignored, as unknown ones are."""
    _require_scope(principal)
    query = update(Notification).where(
        Notification.user_id == principal.user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        if not ids:
            return 0
        query = query.where(Notification.id.in_(list(ids)))
    result = session.execute(
        query.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def open_notification(session: Session, principal: Principal, notification_id: str) -> str:
    """Mark one of the principal's notifications read; where it points (its link, or the list)."""
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != principal.user_id:
        raise NotFound("No such notification.")
    if row.read_at is None:
        row.read_at = utcnow()
    return row.link or "/notifications"


# --- what is notified ---------------------------------------------------------------------------


def _organisation_names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    query = select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
    return {row.id: row.name for row in session.execute(query)}


@events.issued.register
def credentials_issued(session: Session, event: events.IssuedEvent) -> None:
    """ "New credential" for each credential issued to an account."""
    received = [row for row in event.credentials if row.get("recipient_user_id")]
    if not received:
        return
    names = _organisation_names(session, {row["organisation_id"] for row in received})
    notify(
        session,
        (
            NewNotification(
                row["recipient_user_id"],
                CREDENTIAL_ISSUED,
                L_("New credential: %(achievement)s", achievement=row["achievement_name"]),
                L_(
                    "Issued to you by %(issuer)s.",
                    issuer=names.get(row["organisation_id"]) or L_("an issuer"),
                ),
                f"/credentials/{row['id']}",
            )
            for row in received
        ),
        event.settings,
    )


@events.status_changed.register
def credentials_changed(session: Session, event: events.StatusChangeEvent) -> None:
    """Revoked, suspended or reinstated, to the holder. Not the reason: staff write it as an
    internal note ("kept, never published"), so the holder is sent to the issuer instead."""
    kind, title = _STATUS_NOTICES[event.state.value]
    held = [row for row in event.credentials if row.recipient_user_id]
    names = _organisation_names(session, {row.organisation_id for row in held})
    notify(
        session,
        (
            NewNotification(
                cast(str, row.recipient_user_id),
                kind,
                L_(title, achievement=row.achievement_name),
                L_(
                    "Changed by %(issuer)s; ask them why.",
                    issuer=names.get(row.organisation_id) or L_("its issuer"),
                ),
                f"/credentials/{row.id}",
            )
            for row in held
        ),
        event.settings,
    )


@events.job_completed.register
def issuance_job_completed(session: Session, event: events.JobCompletedEvent) -> None:
    """To whoever started a bulk job: it finished, with its counts."""
    job: BulkJob = event.job
    if job.created_by_user_id is None:
        return
    counts = {"issued": job.issued_count, "existing": job.existing_count}
    body = (
        L_(
            "%(issued)s issued, %(existing)s already issued, %(errors)s with errors.",
            errors=job.error_count,
            **counts,
        )
        if job.error_count
        else L_("%(issued)s issued, %(existing)s already issued.", **counts)
    )
    notify(
        session,
        [
            NewNotification(
                job.created_by_user_id,
                JOB_COMPLETED,
                L_("Bulk issuance finished: %(source)s", source=job.source_name or L_("upload")),
                body,
                f"/manage/credentials/jobs/{job.id}",
            )
        ],
        event.settings,
    )


def notify_members(
    session: Session,
    organisation_id: str,
    notification: NewNotification,
    *,
    roles: Sequence[Role] = (Role.admin,),
    actor: Principal | None = None,
    settings: Settings | None = None,
) -> int:
    """``notification`` (its ``user_id`` ignored) to every member of the organisation holding
    one of ``roles`` (admins by default), but the one who acted; how many were written."""
    query = select(Membership.user_id).where(
        Membership.organisation_id == organisation_id, Membership.role.in_(list(roles))
    )
    members = sorted(set(session.scalars(query)) - {actor.user_id if actor else ""})
    return notify(
        session, (replace(notification, user_id=user_id) for user_id in members), settings
    )


def pathway_awarded(
    session: Session,
    user_id: str,
    pathway_id: str,
    pathway_name: str,
    settings: Settings | None = None,
) -> None:
    """Called by pathways when a learner is awarded a pathway."""
    notify(
        session,
        [
            NewNotification(
                user_id,
                PATHWAY_AWARDED,
                L_("Pathway completed: %(pathway)s", pathway=pathway_name),
                L_(
                    "Your stacked credentials earned this pathway; its record (CLR) is in your "
                    "wallet."
                ),
                f"/pathways/{pathway_id}",
            )
        ],
        settings,
    )

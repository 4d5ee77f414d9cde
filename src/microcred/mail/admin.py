"""The outbox as a platform administrator sees it: what is waiting, sent and failed (never a
message's body: one-time links are erased once a message is finished, and a pending one may
still hold one), a day-by-day count, and a test message to check the configuration."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.service import Principal, record_audit
from microcred.db.base import utcnow
from microcred.errors import PermissionDenied
from microcred.mail.models import MailMessage, MailState
from microcred.mail.service import (
    MailError,
    Outcome,
    mail_enabled,
    queue_mail,
    render_mail,
    send_now,
)
from microcred.settings import Settings

PER_PAGE = 50
CHART_DAYS = 14


def _require_platform_admin(principal: Principal) -> None:
    if not principal.is_platform_admin:
        raise PermissionDenied("Only a platform administrator sees the mail outbox.")


@dataclass(frozen=True)
class OutboxPage:
    items: list[MailMessage]
    totals: dict[str, int]
    """Messages per state in the whole outbox."""
    page: int
    pages: int


def outbox(
    session: Session, principal: Principal, *, state: MailState | None = None, page: int = 1
) -> OutboxPage:
    """The outbox newest first, :data:`PER_PAGE` a page, optionally of one state."""
    _require_platform_admin(principal)
    totals = {s.value: 0 for s in MailState}
    for found, count in session.execute(
        select(MailMessage.state, func.count()).group_by(MailMessage.state)
    ):
        totals[MailState(found).value] = int(count)
    total = totals[state.value] if state else sum(totals.values())
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    query = select(MailMessage).order_by(MailMessage.created_at.desc(), MailMessage.id)
    if state is not None:
        query = query.where(MailMessage.state == state)
    items = list(session.scalars(query.offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    return OutboxPage(items, totals, page, pages)


@dataclass(frozen=True)
class DayCount:
    day: date
    sent: int
    failed: int


def daily_counts(
    session: Session, principal: Principal, *, days: int = CHART_DAYS, now: datetime | None = None
) -> list[DayCount]:
    """Messages sent and failed for good per day (UTC) over the last ``days`` days, oldest first:
    a sent one on the day it was sent, a failed one on the day it was queued."""
    _require_platform_admin(principal)
    today = (now or utcnow()).date()
    start = today - timedelta(days=days - 1)
    since = datetime.combine(start, time.min, UTC)
    sent: Counter[date] = Counter()
    failed: Counter[date] = Counter()
    query = select(MailMessage.state, MailMessage.sent_at, MailMessage.created_at).where(
        MailMessage.state.in_([MailState.sent, MailState.failed]),
        (MailMessage.sent_at >= since) | (MailMessage.created_at >= since),
    )
    for state, sent_at, created_at in session.execute(query):
        if state == MailState.sent and sent_at is not None:
            sent[_utc_day(sent_at)] += 1
        elif state == MailState.failed:
            failed[_utc_day(created_at)] += 1
    return [
        DayCount(day, sent[day], failed[day])
        for day in (start + timedelta(days=n) for n in range(days))
    ]


def _utc_day(moment: datetime) -> date:
    """SQLite gives back naive UTC; PostgreSQL an aware time in the session's zone."""
    return (moment if moment.tzinfo is None else moment.astimezone(UTC)).date()


def send_test(
    sessions: sessionmaker[Session], settings: Settings, principal: Principal, address: str
) -> Outcome:
    """Queue a test message to ``address`` and send it at once, without retries (what
    ``microcred mail test`` does); audited with the outcome."""
    _require_platform_admin(principal)
    if not mail_enabled(settings):
        raise MailError("This server sends no e-mail: set MICROCRED_SMTP_URL first.")
    text, html = render_mail("test", base_url=settings.base_url)
    with sessions.begin() as session:
        message = queue_mail(
            session, settings, to=address, subject="microcred test message", text=text,
            html=html, kind="mail.test", user_id=None,
        )  # fmt: skip
        assert message is not None
        message_id = message.id
    outcome = send_now(sessions, settings, message_id)
    with sessions.begin() as session:
        record_audit(
            session, principal, "mail.test", object_type="mail_message", object_id=message_id,
            details={"to": address, "sent": outcome.sent, "error": outcome.error},
        )  # fmt: skip
    return outcome

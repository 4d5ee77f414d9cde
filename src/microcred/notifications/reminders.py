"""Reminders that a credential is about to expire, so its holder can renew it in time.

Each active credential with an end date, held by an account, gets one ``credential.expiring``
notification :data:`NOTICE` before it ends; a sweep (hourly in the web server, or
``microcred notifications remind`` from cron) writes those that are due and not yet written, so
running it often, or from several workers at once, reminds once (the check and the write share
a transaction; a race between two sweeps can at worst write a second reminder, never lose one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.background import BackgroundLoop
from microcred.credentials import service as credentials
from microcred.db.base import utcnow
from microcred.i18n import L_, Day
from microcred.notifications import mailing
from microcred.notifications.models import Notification
from microcred.notifications.service import NewNotification, notify
from microcred.settings import Settings

EXPIRING = mailing.EXPIRING
NOTICE = timedelta(days=30)
EVERY = timedelta(hours=1)
KEEP_READ = timedelta(days=365)
"""Read notifications older than this are deleted by the same sweep; unread ones are kept."""

log = logging.getLogger(__name__)


def remind_expiring(
    session: Session, now: datetime | None = None, settings: Settings | None = None
) -> int:
    """Write the reminders due now (credentials ending within :data:`NOTICE`); how many. With
    ``settings`` of a server that sends mail, they are e-mailed too, and a credential issued to
    an address no account holds is mailed there once (when its issuer e-mails recipients)."""
    now = now or utcnow()
    if settings is not None:
        mailing.mail_expiring_to_addresses(session, settings, now, now + NOTICE)
    due = credentials.credentials_expiring(session, now, now + NOTICE)
    if not due:
        return 0
    links = {f"/credentials/{row.id}": row for row in due}
    told = set(
        session.scalars(
            select(Notification.link).where(
                Notification.user_id.in_({row.recipient_user_id for row in due}),
                Notification.kind == EXPIRING,
                Notification.link.in_(list(links)),
            )
        )
    )
    return notify(
        session,
        (
            NewNotification(
                str(row.recipient_user_id),
                EXPIRING,
                L_(
                    "Expires %(day)s: %(achievement)s",
                    day=Day(row.valid_until),
                    achievement=row.achievement_name,
                )
                if row.valid_until
                else L_("Expires soon: %(achievement)s", achievement=row.achievement_name),
                L_(
                    "Renew it with its issuer before then to keep it valid; after that date "
                    "verifiers report it expired."
                ),
                link,
            )
            for link, row in links.items()
            if link not in told
        ),
        settings,
    )


def prune_read(session: Session, now: datetime | None = None, keep: timedelta = KEEP_READ) -> int:
    """Delete notifications read and older than ``keep``; how many."""
    cutoff = (now or utcnow()) - keep
    result = session.execute(
        delete(Notification)
        .where(Notification.read_at.is_not(None), Notification.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


Sweep = Callable[[Session, datetime | None, Settings | None], int]
"""Another capability's reminders, run in the same transaction as the expiry reminders."""


class Reminders(BackgroundLoop):
    """Runs :func:`remind_expiring` and :func:`prune_read` in the background of the web server,
    every ``every``."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        every: timedelta = EVERY,
        settings: Settings | None = None,
        sweeps: Sequence[Sweep] = (),
    ) -> None:
        super().__init__("microcred-reminders")
        self._sessions = sessions
        self.every = every
        self._settings = settings
        self._sweeps = tuple(sweeps)

    def _run(self) -> None:
        while True:
            try:
                with self._sessions.begin() as session:
                    remind_expiring(session, settings=self._settings)
                    for sweep in self._sweeps:  # other capabilities' reminders (outcomes)
                        sweep(session, None, self._settings)
                    prune_read(session)
            except Exception:  # logged; the next round tries again
                log.exception("Expiry reminders failed")
            if self._stop.wait(self.every.total_seconds()):
                return

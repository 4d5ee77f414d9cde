"""Asking learners, six months after a credential, what they did next.

Employment at six months is the outcome issuers are judged on, and it is only as good as the
share of learners who report it. So once, :data:`AFTER` a credential was issued to an account,
its holder is notified (and e-mailed, unless they muted the group: notifications' *Questions
about what you did next*) with a link to the report form for that credential — unless they have
reported already or the credential is no longer active. The hourly notifications sweep calls
:func:`prompt_reports` (or ``microcred notifications remind``); it looks at the credentials
issued in one week-long band ending :data:`AFTER` ago, so each is considered for a week of
sweeps and prompted once, and a server that was stopped for longer than :data:`BAND` skips
what fell out of the band rather than prompting old credentials in bulk.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation
from microcred.credentials import service as credentials
from microcred.db.base import utcnow
from microcred.i18n import L_
from microcred.notifications.models import Notification
from microcred.notifications.service import NewNotification, notify
from microcred.outcomes.models import EmploymentReport
from microcred.settings import Settings

REPORT_DUE = "outcomes.report_due"
AFTER = timedelta(days=182)
BAND = timedelta(days=7)


def report_link(credential_id: str) -> str:
    return f"/wallet/outcomes?credential={credential_id}"


def prompt_reports(
    session: Session, now: datetime | None = None, settings: Settings | None = None
) -> int:
    """Write the prompts due now; how many. With ``settings`` of a server that sends mail, they
    are e-mailed too."""
    now = now or utcnow()
    due = credentials.credentials_issued_between(session, now - AFTER - BAND, now - AFTER)
    if not due:
        return 0
    ids = [row.id for row in due]
    reported = set(
        session.scalars(
            select(EmploymentReport.credential_id).where(EmploymentReport.credential_id.in_(ids))
        )
    )
    links = {report_link(row.id): row for row in due if row.id not in reported}
    told = set(
        session.scalars(
            select(Notification.link).where(
                Notification.kind == REPORT_DUE, Notification.link.in_(list(links))
            )
        )
    )
    issuers = {
        row.id: row.name
        for row in session.execute(
            select(Organisation.id, Organisation.name).where(
                Organisation.id.in_({row.organisation_id for row in due})
            )
        )
    }
    return notify(
        session,
        (
            NewNotification(
                str(row.recipient_user_id),
                REPORT_DUE,
                L_(
                    "Six months since %(achievement)s: what did you do next?",
                    achievement=row.achievement_name,
                ),
                L_(
                    "Tell %(issuer)s in a minute whether you work in a related role now. It only "
                    "counts in figures of five or more reports, never with your name, and you can "
                    "withdraw it at any time.",
                    issuer=issuers.get(row.organisation_id) or L_("its issuer"),
                ),
                link,
            )
            for link, row in links.items()
            if link not in told
        ),
        settings,
    )

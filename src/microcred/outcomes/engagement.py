"""Engagement: how often others look at, verify and share the credentials an issuer awarded.

Counted per credential, day and kind (:data:`KINDS`) — never who, never from where:

* ``view``: the credential's public page opened by anyone but its holder and the issuer's own
  staff (and not by a crawler: :func:`is_automated`);
* ``verify``: the credential checked on ``/verify`` or ``POST /api/v1/verify``;
* ``pdf``: its PDF certificate downloaded;
* ``linkedin``: its holder sent it to their LinkedIn profile from the share panel.

Counting never fails a request: an increment that cannot be written (a busy database) is
dropped and logged, inside a savepoint, so the page still answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from microcred.credentials.models import IssuedCredential
from microcred.outcomes.models import CredentialEngagement

log = logging.getLogger(__name__)

VIEW, VERIFY, PDF, LINKEDIN = "view", "verify", "pdf", "linkedin"
KINDS = (VIEW, VERIFY, PDF, LINKEDIN)
LABELS = {
    VIEW: "Page views by others",
    VERIFY: "Verifications",
    PDF: "PDF certificates downloaded",
    LINKEDIN: "Added to LinkedIn",
}
AUTOMATED = re.compile(
    r"bot|crawl|spider|slurp|preview|facebookexternalhit|embedly|curl|wget|python-|httpx",
    re.IGNORECASE,
)


def is_automated(user_agent: str | None) -> bool:
    """Crawlers, link previews and scripts: their requests are not counted as people's views."""
    return not user_agent or bool(AUTOMATED.search(user_agent))


def record(
    session: Session,
    credential: IssuedCredential,
    kind: str,
    *,
    today: date | None = None,
) -> bool:
    """Add one to the credential's count of ``kind`` today; False when it could not be written
    (the request goes on)."""
    if kind not in KINDS:
        raise ValueError(f"unknown engagement kind {kind!r}")
    day = today or datetime.now(UTC).date()
    values = {
        "credential_id": credential.id,
        "day": day,
        "kind": kind,
        "organisation_id": credential.organisation_id,
        "count": 1,
    }
    table = CredentialEngagement.__table__
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    statement = dialect.insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["credential_id", "day", "kind"],
        set_={"count": table.c.count + 1},
    )
    try:
        with session.begin_nested():
            session.execute(statement)
    except SQLAlchemyError:
        log.warning("Engagement not counted for credential %s (%s)", credential.id, kind)
        return False
    return True


def counts_of(session: Session, credential_id: str) -> dict[str, int]:
    """Every kind's count for one credential, all days together."""
    rows = session.execute(
        select(CredentialEngagement.kind, func.sum(CredentialEngagement.count))
        .where(CredentialEngagement.credential_id == credential_id)
        .group_by(CredentialEngagement.kind)
    )
    found = {kind: int(total or 0) for kind, total in rows}
    return {kind: found.get(kind, 0) for kind in KINDS}


@dataclass(frozen=True)
class Engagement:
    """An issuer's engagement over a period."""

    totals: dict[str, int]
    issued: int
    """Credentials issued in the period (active or not)."""
    viewed: int
    """Of those, how many were viewed by others at least once (by the end of the period)."""
    monthly: list[tuple[str, dict[str, int]]]
    """(YYYY-MM, counts per kind) for each month of the period with any engagement."""

    @property
    def viewed_share(self) -> float | None:
        return self.viewed / self.issued if self.issued else None


def organisation_engagement(
    session: Session, organisation_id: str, since: date, until: date
) -> Engagement:
    """Engagement with the organisation's credentials on the days ``since`` … ``until``."""
    in_period = (
        CredentialEngagement.organisation_id == organisation_id,
        CredentialEngagement.day >= since,
        CredentialEngagement.day <= until,
    )
    monthly: dict[str, dict[str, int]] = {}
    totals = dict.fromkeys(KINDS, 0)
    for day, kind, count in session.execute(
        select(
            CredentialEngagement.day,
            CredentialEngagement.kind,
            func.sum(CredentialEngagement.count),
        )
        .where(*in_period)
        .group_by(CredentialEngagement.day, CredentialEngagement.kind)
    ):
        month = monthly.setdefault(f"{day:%Y-%m}", dict.fromkeys(KINDS, 0))
        month[kind] = month.get(kind, 0) + int(count or 0)
        totals[kind] = totals.get(kind, 0) + int(count or 0)
    start = datetime.combine(since, time.min, UTC)
    end = datetime.combine(until + timedelta(days=1), time.min, UTC)
    issued_here = select(IssuedCredential.id).where(
        IssuedCredential.organisation_id == organisation_id,
        IssuedCredential.issued_at >= start,
        IssuedCredential.issued_at < end,
    )
    issued = session.scalar(select(func.count()).select_from(issued_here.subquery())) or 0
    viewed = (
        session.scalar(
            select(func.count(func.distinct(CredentialEngagement.credential_id))).where(
                CredentialEngagement.credential_id.in_(issued_here),
                CredentialEngagement.kind == VIEW,
                CredentialEngagement.day <= until,
            )
        )
        or 0
    )
    return Engagement(totals, int(issued), int(viewed), sorted(monthly.items()))


def kinds_in_order(counts: dict[str, int]) -> Iterable[tuple[str, str, int]]:
    """(kind, label, count) in :data:`KINDS` order, for pages."""
    return ((kind, LABELS[kind], counts.get(kind, 0)) for kind in KINDS)

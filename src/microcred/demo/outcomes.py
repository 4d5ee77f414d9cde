"""Synthetic employment reports and engagement counts for the demo's credentials, so
/manage/outcomes has charts.

Every report and count here is made up (deterministic with the demo's random generator);
docs/outcomes.md says so. Reports go through the outcomes service as each learner, like a real
report; counts through the engagement service, one increment at a time.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.accounts import service as accounts
from microcred.catalogue import service as catalogue
from microcred.credentials import service as credentials
from microcred.credentials.models import CredentialState, IssuedCredential
from microcred.outcomes import engagement
from microcred.outcomes import service as outcomes
from microcred.outcomes.models import EmploymentStatus

REPORT_SHARE = 0.75
"""Of the credentials at least MIN_AGE old, the share whose holder reports an outcome."""
MIN_AGE = timedelta(days=60)
STATUS_WEIGHTS = {
    EmploymentStatus.employed_related: 45,
    EmploymentStatus.employed_other: 18,
    EmploymentStatus.self_employed: 6,
    EmploymentStatus.further_study: 12,
    EmploymentStatus.seeking_work: 14,
    EmploymentStatus.prefer_not_to_say: 5,
}
LEFT_TO_TRY = "learner@demo.microcred.org"
"""The demo's named learner reports nothing, so the form is there to try."""
JOB_TITLES = ("Data analyst", "Junior developer", "Care assistant", "Project coordinator",
              "Technician", "Marketing assistant", "Operations associate")  # fmt: skip


def seed_employment_reports(session: Session, rng: random.Random) -> int:
    """Reports for a share of the learners' unrevoked credentials; how many were made."""
    now = datetime.now(UTC)
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    principals: dict[str, accounts.Principal] = {}
    made = 0
    for issuer in catalogue.list_issuers(session):
        for completion in credentials.completions_of_issuer(
            session, issuer.organisation.id, since=datetime(2000, 1, 1, tzinfo=UTC)
        ):
            user_id = completion.recipient_user_id
            if (
                user_id is None
                or completion.state is CredentialState.revoked
                or now - completion.completed_at < MIN_AGE
                or rng.random() >= REPORT_SHARE
            ):
                continue
            if user_id not in principals:
                user = accounts.get_user(session, user_id)
                principals[user_id] = accounts.principal_for(session, user)
            if principals[user_id].email == LEFT_TO_TRY:
                continue
            status = rng.choices(statuses, weights)[0]
            began = min(completion.completed_at + timedelta(days=rng.randint(-60, 240)), now)
            employed = status in (
                EmploymentStatus.employed_related,
                EmploymentStatus.employed_other,
            )
            data = outcomes.ReportInput(
                status.value, began.date(), rng.choice(JOB_TITLES) if employed else ""
            )
            outcomes.save_report(session, principals[user_id], completion.credential_id, data)
            made += 1
    return made


ENGAGEMENT_MEANS = {
    engagement.VIEW: 6.0,
    engagement.VERIFY: 2.0,
    engagement.PDF: 1.0,
    engagement.LINKEDIN: 0.6,
}
"""Mean number of each kind of engagement per credential (exponentially spread)."""


def seed_engagement(session: Session, rng: random.Random) -> int:
    """Views, verifications, PDF downloads and LinkedIn shares on random days since each
    credential took effect (the demo backdates ``valid_from``; ``issued_at`` is the build's
    time); how many increments were made."""
    today = datetime.now(UTC).date()
    made = 0
    for credential in session.scalars(
        select(IssuedCredential).order_by(IssuedCredential.valid_from, IssuedCredential.id)
    ):
        issued = credential.valid_from.date()
        span = (today - issued).days
        if span <= 0:
            continue
        for kind, mean in ENGAGEMENT_MEANS.items():
            for _ in range(int(rng.expovariate(1 / mean))):
                day = issued + timedelta(days=rng.randint(0, span))
                made += engagement.record(session, credential, kind, today=day)
    return made

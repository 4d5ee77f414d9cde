"""Six months after a credential, its holder is asked once what they did next (and e-mailed,
unless they muted the question): not when they reported already, nor for a revoked one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials.models import IssuedCredential
from microcred.credentials.service import revoke_credential
from microcred.mail.models import MailMessage
from microcred.notifications import mailing
from microcred.notifications.models import Notification
from microcred.outcomes import prompts
from microcred.outcomes import service as outcomes
from microcred.settings import Settings
from tests.conftest import World
from tests.outcomes.conftest import (
    Issue,
    academy_definition_id,
    definition_id,
    issue,
    principal,
    skills,
)

__all__ = ["academy_definition_id", "definition_id", "issue", "skills"]
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def issued_days_ago(sessions: sessionmaker[Session], credential_id: str, days: float) -> None:
    with sessions.begin() as session:
        session.execute(
            update(IssuedCredential)
            .where(IssuedCredential.id == credential_id)
            .values(issued_at=NOW - timedelta(days=days))
        )


def prompted(sessions: sessionmaker[Session]) -> list[str | None]:
    with sessions() as session:
        query = select(Notification.link).where(Notification.kind == prompts.REPORT_DUE)
        return sorted(link or "" for link in session.scalars(query))


def sweep(sessions: sessionmaker[Session], settings: Settings) -> int:
    with sessions.begin() as session:
        return prompts.prompt_reports(session, NOW, settings)


@pytest.mark.both_databases
def test_each_holder_is_asked_once_six_months_on(
    db_backend: str, sessions: sessionmaker[Session], world: World, settings: Settings,
    definition_id: str, academy_definition_id: str, issue: Issue,
) -> None:  # fmt: skip
    due = issue(definition_id, world.learner.id)
    other_issuer = issue(academy_definition_id, world.learner.id)
    too_recent = issue(definition_id, world.learner.id)
    too_old = issue(definition_id, world.learner.id)
    reported = issue(definition_id, world.learner.id)
    revoked = issue(definition_id, world.learner.id)
    for credential_id, days in (
        (due, 183), (other_issuer, 188.5), (too_recent, 181), (too_old, 190), (reported, 184),
        (revoked, 185),
    ):  # fmt: skip
        issued_days_ago(sessions, credential_id, days)
    with sessions.begin() as session:
        me = principal(session, world.learner.id)
        outcomes.save_report(
            session, me, reported,
            outcomes.ReportInput("employed_related", NOW.date() - timedelta(days=30)),
        )  # fmt: skip
        revoke_credential(session, None, revoked, reason="Error", settings=settings)

    assert sweep(sessions, settings) == 2
    assert prompted(sessions) == sorted(
        [prompts.report_link(due), prompts.report_link(other_issuer)]
    )
    assert sweep(sessions, settings) == 0  # the next hour's sweep asks nobody again
    with sessions() as session:
        titles = session.scalars(
            select(Notification.title).where(Notification.kind == prompts.REPORT_DUE)
        ).all()
    assert all(t.startswith("Six months since ") for t in titles)


def test_the_question_is_e_mailed_unless_muted(
    sessions: sessionmaker[Session], world: World, mail_settings: Settings, definition_id: str,
    issue: Issue,
) -> None:  # fmt: skip
    first, second = issue(definition_id, world.learner.id), issue(definition_id, world.learner.id)
    issued_days_ago(sessions, first, 183)
    assert sweep(sessions, mail_settings) == 1
    with sessions() as session:
        kinds = session.scalars(select(MailMessage.kind)).all()
    assert f"{mailing.NOTIFICATION_KIND}{prompts.REPORT_DUE}" in kinds

    with sessions.begin() as session:
        mailing.set_mailed_groups(
            session, principal(session, world.learner.id), set(mailing.GROUPS) - {"surveys"}
        )
    issued_days_ago(sessions, second, 183)
    before = len(kinds)
    assert sweep(sessions, mail_settings) == 1  # asked on the page ...
    with sessions() as session:  # ... but not e-mailed
        assert len(session.scalars(select(MailMessage.kind)).all()) == before

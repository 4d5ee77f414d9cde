"""Outcome fixtures: North College's definition, learners holding it, their reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import User
from microcred.accounts.service import Principal
from microcred.credentials.service import issue_credential
from microcred.outcomes import service as outcomes
from microcred.settings import Settings
from tests.conftest import PASSWORD, World
from tests.credentials.service.conftest import academy_definition_id, definition_id, skills

__all__ = ["academy_definition_id", "definition_id", "skills"]

Issue = Callable[..., str]
Cohort = Callable[..., list[str]]
COMPLETED_DAYS_AGO = 250
"""Old enough (≥ 182 days) for the employment-at-6-months figure, within the last 12 months."""


def principal(session: Session, user_id: str, scopes: list[str] | None = None) -> Principal:
    user = session.get(User, user_id)
    assert user is not None
    return accounts.principal_for(session, user, scopes=scopes)


@pytest.fixture
def issue(sessions: sessionmaker[Session], settings: Settings) -> Issue:
    """Issues a definition to a learner account, completed ``days_ago``; the credential id."""

    def issue_to(definition_id: str, user_id: str, days_ago: int = COMPLETED_DAYS_AGO) -> str:
        with sessions.begin() as session:
            row = issue_credential(
                session, None, definition_id=definition_id, recipient_user_id=user_id,
                results=[{"level": "Competent"}], settings=settings,
                valid_from=datetime.now(UTC) - timedelta(days=days_ago),
            )  # fmt: skip
            return row.id

    return issue_to


@pytest.fixture
def cohort(sessions: sessionmaker[Session], issue: Issue) -> Cohort:
    """``count`` new learners who completed a definition and reported ``status``; their
    credential ids."""

    def make(definition_id: str, count: int, status: str = "employed_related") -> list[str]:
        ids = []
        for _ in range(count):
            with sessions.begin() as session:
                number = len(ids) + 1
                user = accounts.create_user(
                    session, email=f"c{number}-{status}-{definition_id[:6]}@example.org",
                    name=f"Cohort {number}", password=PASSWORD, fast_hash=True,
                )  # fmt: skip
                user_id = user.id
            credential_id = issue(definition_id, user_id)
            with sessions.begin() as session:
                outcomes.save_report(
                    session, principal(session, user_id), credential_id,
                    outcomes.ReportInput(status, date.today() - timedelta(days=200)),
                )  # fmt: skip
            ids.append(credential_id)
        return ids

    return make


@pytest.fixture
def learner_credential(world: World, definition_id: str, issue: Issue) -> str:
    """World's learner holds North College's definition."""
    return issue(definition_id, world.learner.id)

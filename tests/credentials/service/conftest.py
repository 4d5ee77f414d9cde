"""Fixtures for the issuance tests: a published definition of North College, principals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import User
from microcred.accounts.service import Principal
from microcred.catalogue import service as catalogue
from tests.catalogue.factories import definition_input, skills
from tests.conftest import World

__all__ = ["skills"]


def principal_of(session: Session, user: User, scopes: list[str] | None = None) -> Principal:
    return accounts.principal_for(session, session.get(User, user.id) or user, scopes=scopes)


@pytest.fixture
def definition_id(sessions: sessionmaker[Session], world: World, skills: dict[str, str]) -> str:
    """A published definition of North College with rubric levels Novice and Competent."""
    with sessions.begin() as session:
        definition = catalogue.create_definition(
            session, None, "north-college", definition_input(), publish=True
        )
        return definition.definition_id


@pytest.fixture
def academy_definition_id(
    sessions: sessionmaker[Session], world: World, skills: dict[str, str]
) -> str:
    with sessions.begin() as session:
        definition = catalogue.create_definition(
            session, None, "south-academy", definition_input(human_code="SA-1"), publish=True
        )
        return definition.definition_id


def issue_input(definition_id: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "definition_id": definition_id,
        "recipient_email": "Learner@Example.org",
        "recipient_name": "Lee Learner",
        "results": [{"level": "Competent"}],
    }
    data.update(overrides)
    return data

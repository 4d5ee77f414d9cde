"""Pathway fixtures: published definitions of two issuers, credentials issued to the learner."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import User
from microcred.accounts.service import Principal
from microcred.catalogue import service as catalogue
from microcred.credentials import service as credentials
from microcred.settings import Settings
from tests.catalogue.factories import PYTHON, SQL, TEAMWORK, definition_input, skills
from tests.conftest import World

__all__ = ["skills"]


@dataclass
class Catalogue:
    python: str
    sql: str
    teamwork: str
    qualification: str


def sqlite_plan(engine: Engine, query: str) -> str:
    """SQLite's ``EXPLAIN QUERY PLAN`` of ``query``, its steps joined: "SEARCH … USING INDEX …"."""
    with engine.connect() as connection:
        plan = connection.execute(text(f"EXPLAIN QUERY PLAN {query}")).all()
    return " ".join(str(row[-1]) for row in plan)


def principal_of(session: Session, user: User) -> Principal:
    return accounts.principal_for(session, session.get(User, user.id) or user)


@pytest.fixture
def defs(sessions: sessionmaker[Session], world: World, skills: dict[str, str]) -> Catalogue:
    def make(session: Session, org: str, **overrides: object) -> str:
        data = definition_input(**overrides)
        return catalogue.create_definition(session, None, org, data, publish=True).definition_id

    with sessions.begin() as session:
        return Catalogue(
            python=make(
                session,
                "north-college",
                name="Python basics",
                human_code="PY-1",
                skills=[PYTHON],
                ects_credits=2,
                workload_hours=50,
            ),
            sql=make(
                session,
                "south-academy",
                name="SQL essentials",
                human_code="SQL-1",
                skills=[SQL],
                ects_credits=3,
                workload_hours=75,
            ),
            teamwork=make(
                session,
                "south-academy",
                name="Teamwork",
                human_code="TW-1",
                skills=[TEAMWORK, SQL],
                ects_credits=1,
                workload_hours=20,
            ),
            qualification=make(
                session,
                "north-college",
                name="Data Analyst Certificate",
                human_code="DA-CERT",
                skills=[PYTHON, SQL],
                ects_credits=5,
                workload_hours=0,
                achievement_type="Certificate",
                rubric_levels=[],
                required_level=None,
            ),
        )


def issue(sessions: sessionmaker[Session], settings: Settings, definition_id: str) -> str:
    with sessions.begin() as session:
        row = credentials.issue_credential(
            session,
            None,
            definition_id=definition_id,
            recipient_email="learner@example.org",
            settings=settings,
        )
        return row.id

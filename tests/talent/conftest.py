"""Talent fixtures: a small taxonomy with one broader skill, definitions, learners who consent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import User
from microcred.catalogue import service as catalogue
from microcred.credentials.models import IssuedCredential
from microcred.credentials.service import issue_credential
from microcred.settings import Settings
from microcred.skills.models import Skill, SkillRelation, TaxonomyVersion
from microcred.talent.service import TALENT_CONSENT
from microcred.wallet.models import ImportedCredential
from tests.catalogue.factories import PYTHON, SQL, definition_input, skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]

PROGRAMMING = "http://data.europa.eu/esco/skill/21d2f96d-35f7-4e3f-9745-c533d2dd6e97"
"""'computer programming': the broader skill of PYTHON in these tests."""


@pytest.fixture
def taxonomy(sessions: sessionmaker[Session], skills: dict[str, str]) -> dict[str, str]:
    """The catalogue's test skills plus 'computer programming', broader than Python."""
    with sessions.begin() as session:
        version = session.scalars(select(TaxonomyVersion)).one()
        broader = Skill(
            uri=PROGRAMMING, preferred_label="computer programming", source="esco",
            skill_type="skill", taxonomy_version_id=version.id,
        )  # fmt: skip
        session.add(broader)
        session.flush()
        python = session.scalars(select(Skill).where(Skill.uri == PYTHON)).one()
        session.add(
            SkillRelation(
                broader_id=broader.id, narrower_id=python.id, relation_type="broader",
                source="esco",
            )
        )  # fmt: skip
    return {**skills, PROGRAMMING: "computer programming"}


@dataclass
class Catalogue:
    data_python: str
    """North College, EQF 5: Python and SQL."""
    sql_only: str
    """South Academy, EQF 6: SQL."""


@pytest.fixture
def definitions(
    sessions: sessionmaker[Session], world: World, taxonomy: dict[str, str]
) -> Catalogue:
    with sessions.begin() as session:
        first = catalogue.create_definition(
            session, None, "north-college", definition_input(), publish=True
        )
        second = catalogue.create_definition(
            session, None, "south-academy",
            definition_input(name="Databases", human_code="DB-1", skills=[SQL], eqf_level=6),
            publish=True,
        )  # fmt: skip
        return Catalogue(first.definition_id, second.definition_id)


Learner = Callable[..., str]


@pytest.fixture
def make_learner(sessions: sessionmaker[Session]) -> Learner:
    """A learner account (consenting to talent search unless told otherwise); its id."""

    def make(email: str, name: str, *, consent: bool = True) -> str:
        with sessions.begin() as session:
            user = accounts.create_user(
                session, email=email, name=name, password=PASSWORD, fast_hash=True
            )
            if consent:
                accounts.grant_consent(session, user.id, TALENT_CONSENT)
            return user.id

    return make


Issue = Callable[..., IssuedCredential]


@pytest.fixture
def issue(sessions: sessionmaker[Session], settings: Settings) -> Issue:
    """Issues a definition to a learner account (as the system, no principal)."""

    def issue_to(definition_id: str, user_id: str, **fields: Any) -> IssuedCredential:
        with sessions.begin() as session:
            user = session.get(User, user_id)
            assert user is not None
            row = issue_credential(
                session, None, definition_id=definition_id, recipient_user_id=user_id,
                recipient_name=user.name, results=[{"level": "Competent"}], settings=settings,
                **fields,
            )  # fmt: skip
            session.expunge(row)
            return row

    return issue_to


def add_import(
    sessions: sessionmaker[Session], user_id: str, skill_uris: list[str], *, verified: bool = True,
    earned_at: datetime | None = None, name: str = "Team player", eqf_level: int | None = None,
) -> str:  # fmt: skip
    """An imported credential as the wallet stores it after its verification on import."""
    with sessions.begin() as session:
        row = ImportedCredential(
            user_id=user_id, source_format="ob3-json", original="{}",
            fingerprint=f"{user_id}{name}".ljust(64, "0")[:64],
            credential={"id": f"urn:uuid:{name}"}, issuer_id="did:web:elsewhere.example",
            issuer_name="Elsewhere U", achievement_id="urn:a", achievement_name=name,
            skills=skill_uris, eqf_level=eqf_level, verified=verified,
            earned_at=earned_at or datetime(2025, 5, 1, tzinfo=UTC),
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id

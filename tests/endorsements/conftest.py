"""Fixtures for the endorsement tests: South Academy gets an admin (the endorser), North College's
admin (``world.admin``) answers; a published definition of North College."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import Role, User
from microcred.accounts.service import Principal
from microcred.endorsements import service as endorsements
from microcred.endorsements.models import Endorsement
from microcred.settings import Settings
from tests.conftest import PASSWORD, World
from tests.credentials.service.conftest import definition_id, principal_of, skills

__all__ = ["definition_id", "skills"]

ENDORSER_EMAIL = "admin@south.example"


@dataclass
class Parties:
    endorser: Principal
    """An admin of South Academy."""
    endorsed: Principal
    """An admin of North College (``world.admin``)."""


@pytest.fixture
def endorser_admin(sessions: sessionmaker[Session], world: World) -> str:
    """An admin of South Academy; their user id."""
    with sessions.begin() as session:
        user = accounts.create_user(
            session, email=ENDORSER_EMAIL, name="Ana Academy", password=PASSWORD, fast_hash=True
        )
        accounts.add_membership(session, user, world.academy, Role.admin)
        return user.id


def principal(session: Session, user_id: str, scopes: list[str] | None = None) -> Principal:
    user = session.get(User, user_id)
    assert user is not None
    return principal_of(session, user, scopes)


def endorse_definition(
    session: Session, settings: Settings, by: Principal, definition_id: str, **extra: object
) -> Endorsement:
    return endorsements.endorse(
        session, by, settings, "south-academy", definition_id=definition_id,
        comment=str(extra.pop("comment", "Meets the **industry** standard.")), **extra,  # type: ignore[arg-type]
    )  # fmt: skip

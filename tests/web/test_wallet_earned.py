"""A learner's wallet lists the credentials issued to them here, and only theirs."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.catalogue import service as catalogue
from microcred.credentials import service as credentials
from microcred.settings import Settings
from tests.catalogue.factories import definition_input, skills
from tests.conftest import World, sign_in_client

__all__ = ["skills"]


def test_wallet_shows_own_earned_credentials_only(
    client: TestClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    world: World,
    skills: dict[str, str],
) -> None:
    with sessions.begin() as session:
        mine = catalogue.create_definition(
            session, None, "north-college", definition_input(name="Mine to keep"), publish=True
        )
        theirs = catalogue.create_definition(
            session, None, "north-college",
            definition_input(name="Someone else's", human_code="OTHER-1"), publish=True,
        )  # fmt: skip
        issued = credentials.issue_credential(
            session, None, definition_id=mine.definition_id,
            recipient_user_id=world.learner.id, settings=settings,
        )  # fmt: skip
        credentials.issue_credential(
            session, None, definition_id=theirs.definition_id,
            recipient_user_id=world.employer.id, settings=settings,
        )  # fmt: skip
    sign_in_client(client, world.learner.email)
    page = client.get("/wallet")
    assert page.status_code == 200
    assert f'href="/credentials/{issued.id}"' in page.text
    assert "Mine to keep" in page.text
    assert "Someone else" not in page.text
    assert f'href="/wallet/outcomes?credential={issued.id}"' in page.text
    share = client.get(f"/credentials/{issued.id}").text
    assert f'href="/wallet/outcomes?credential={issued.id}"' in share
    assert client.get(f"/wallet/outcomes?credential={issued.id}").status_code == 200

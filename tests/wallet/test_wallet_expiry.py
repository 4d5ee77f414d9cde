"""The wallet says when each earned credential ends, and flags one that ends soon or has ended."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import service as credentials
from microcred.settings import Settings
from tests.catalogue.factories import skills
from tests.conftest import World, sign_in_client
from tests.credentials.service.conftest import definition_id

__all__ = ["definition_id", "skills"]


def row_of(page: str, credential_id: str) -> str:
    found = re.search(rf'<tr>\s*<td><a href="/credentials/{credential_id}">.*?</tr>', page, re.S)
    assert found, credential_id
    return found.group(0)


def test_the_wallet_shows_end_dates_and_flags_expiring_and_expired_credentials(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    now = datetime.now(UTC)
    ends = {
        "open": None,
        "soon": now + timedelta(days=20, hours=1),
        "later": now + timedelta(days=400),
        "gone": now - timedelta(days=3),
    }
    ids = {}
    with sessions.begin() as session:
        for name, valid_until in ends.items():
            ids[name] = credentials.issue_credential(
                session, None, definition_id=definition_id, recipient_user_id=world.learner.id,
                valid_from=now - timedelta(days=30), valid_until=valid_until, settings=settings,
            ).id  # fmt: skip
    sign_in_client(client, "learner@example.org")
    page = client.get("/wallet").text
    assert "no end" in row_of(page, ids["open"]) and ">active<" in row_of(page, ids["open"])
    soon = row_of(page, ids["soon"])
    assert "expires in 20 days" in soon and (now + timedelta(days=20)).strftime("%Y-%m-%d") in soon
    assert ">active<" in row_of(page, ids["later"]) and "expires" not in row_of(page, ids["later"])
    assert ">expired<" in row_of(page, ids["gone"])

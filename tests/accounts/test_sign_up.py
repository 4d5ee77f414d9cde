"""Signing up: a learner account with no proved address, which collects nothing by address."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent, Membership, User
from microcred.accounts.selfservice import MAX_SIGN_UPS_PER_IP
from microcred.credentials.service import issue_credential
from microcred.settings import Settings
from microcred.web.app import create_app
from tests.catalogue.factories import skills
from tests.conftest import World
from tests.credentials.service.conftest import definition_id

__all__ = ["definition_id", "skills"]
PASSWORD = "a long enough passphrase"


def form(client: TestClient, path: str = "/sign-up") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def sign_up(client: TestClient, **fields: str) -> object:
    data = {"name": "Nia New", "email": "nia@example.org", "password": PASSWORD,
            "repeat_password": PASSWORD, "csrf_token": form(client)}  # fmt: skip
    data.update(fields)
    return client.post("/sign-up", data=data, follow_redirects=False)


def test_a_new_learner_signs_up_and_is_signed_in(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    assert 'id="sign-up-link"' in client.get("/sign-in").text
    response = sign_up(client, email="  Nia@Example.org ")
    assert response.status_code == 303 and response.headers["location"] == "/account?welcome=1"
    me = client.get("/api/v1/me").json()
    assert (me["name"], me["email"], me["memberships"]) == ("Nia New", "nia@example.org", [])
    assert client.get("/sign-up", follow_redirects=False).status_code == 303
    with sessions() as session:
        user = session.scalars(select(User).where(User.email == "nia@example.org")).one()
        assert not user.email_trusted and not user.is_platform_admin
        assert session.scalars(select(Membership).where(Membership.user_id == user.id)).all() == []
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "account.signed_up")
        ).one()
        assert event.object_id == user.id and event.ip == "testclient"


def test_a_signed_up_account_collects_nothing_issued_to_its_address(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    sign_up(client, email="lee.twin@example.org")
    with sessions.begin() as session:
        issued = issue_credential(
            session, None, definition_id=definition_id, recipient_email="lee.twin@example.org",
            recipient_name="Lee Twin", results=[{"level": "Competent"}], settings=settings,
        )  # fmt: skip
        assert issued.recipient_user_id is None
    assert issued.id not in client.get("/wallet").text


def test_bad_input_comes_back_on_the_form_and_makes_no_account(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    cases = [
        ({"email": "learner@example.org"}, "email", "already exists"),
        ({"email": "not an address"}, "email", "not a valid e-mail address"),
        ({"name": "  "}, "name", "Give your name"),
        ({"password": "short", "repeat_password": "short"}, "password", "at least 10"),
        ({"repeat_password": PASSWORD + "?"}, "repeat-password", "differ"),
    ]
    for fields, input_id, message in cases:
        response = sign_up(client, **fields)
        assert response.status_code == 400, fields  # type: ignore[attr-defined]
        text = response.text  # type: ignore[attr-defined]
        assert f'id="{input_id}-error"' in text and message in text, fields
        if "name" not in fields:
            assert 'value="Nia New"' in text  # what was typed stays (never the password)
        assert PASSWORD not in text
    assert sign_up(client, csrf_token="forged").status_code == 403  # type: ignore[attr-defined]
    with sessions() as session:
        assert session.scalar(select(User).where(User.email == "nia@example.org")) is None


def test_one_network_address_makes_a_bounded_number_of_accounts(
    app: object, sessions: sessionmaker[Session], world: World
) -> None:
    for n in range(MAX_SIGN_UPS_PER_IP):
        with TestClient(app) as fresh:  # type: ignore[arg-type]
            response = sign_up(fresh, email=f"bulk{n}@example.org")
            assert response.status_code == 303  # type: ignore[attr-defined]
    with TestClient(app) as fresh:  # type: ignore[arg-type]
        refused = sign_up(fresh, email="one-more@example.org")
        assert refused.status_code == 429  # type: ignore[attr-defined]
        assert "Too many accounts" in refused.text  # type: ignore[attr-defined]


@pytest.fixture
def closed_app(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(settings.model_copy(update={"open_sign_up": False}))
    yield application
    application.state.context.engine.dispose()


def test_sign_up_can_be_switched_off(closed_app: object, world: World) -> None:
    with TestClient(closed_app) as client:  # type: ignore[arg-type]
        assert client.get("/sign-up").status_code == 404
        token = form(client, "/sign-in")
        assert 'id="sign-up-link"' not in client.get("/sign-in").text
        response = client.post(
            "/sign-up",
            data={"name": "N", "email": "n@example.org", "password": PASSWORD,
                  "repeat_password": PASSWORD, "csrf_token": token},
        )  # fmt: skip
        assert response.status_code == 404

"""The notifications page, the menu's unread count, and the API."""

from __future__ import annotations

import re
import threading

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import User
from microcred.settings import Settings
from tests.conftest import World, sign_in_client
from tests.notifications.test_service import issue


def bearer(sessions: sessionmaker[Session], user: User, *scopes: str) -> dict[str, str]:
    with sessions.begin() as session:
        principal = accounts.principal_for(session, session.get(User, user.id) or user)
        _, secret = accounts.create_api_token(session, principal, name="t", scopes=scopes)
    return {"Authorization": f"Bearer {secret}"}


def unread_in_menu(html: str) -> int:
    found = re.search(r'id="unread-count"[^>]*>(\d+)<', html)
    return int(found.group(1)) if found else 0


def test_the_menu_counts_unread_and_opening_one_marks_it_read_and_goes_there(
    client: TestClient, sessions: sessionmaker[Session], world: World, settings: Settings,
    definition_id: str,
) -> None:  # fmt: skip
    credential_id = issue(sessions, settings, definition_id)
    issue(sessions, settings, definition_id)
    csrf = sign_in_client(client, world.learner.email)

    page = client.get("/notifications")
    assert page.status_code == 200 and unread_in_menu(page.text) == 2
    ids = re.findall(r'id="notification-([0-9a-f]{32})"', page.text)
    assert len(ids) == 2 and page.text.count('class="notification unread"') == 2

    assert client.post(f"/notifications/{ids[1]}/open", data={}).status_code == 403  # no CSRF
    opened = client.post(
        f"/notifications/{ids[1]}/open", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert (
        opened.status_code == 303 and opened.headers["location"] == f"/credentials/{credential_id}"
    )
    assert unread_in_menu(client.get("/wallet").text) == 1

    done = client.post("/notifications/read", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    page = client.get("/notifications")
    assert unread_in_menu(page.text) == 0 and 'class="notification unread"' not in page.text
    assert "No unread notifications." in client.get("/notifications?unread=true").text


def test_nobody_opens_anyone_elses_notifications(
    client: TestClient, sessions: sessionmaker[Session], world: World, settings: Settings,
    definition_id: str,
) -> None:  # fmt: skip
    issue(sessions, settings, definition_id)
    learner = bearer(sessions, world.learner, "notifications:read")
    (mine,) = client.get("/api/v1/me/notifications", headers=learner).json()["items"]

    assert client.get("/notifications", follow_redirects=False).status_code in (303, 401)
    assert client.get("/api/v1/me/notifications").status_code == 401
    csrf = sign_in_client(client, world.employer.email)
    assert (
        client.post(f"/notifications/{mine['id']}/open", data={"csrf_token": csrf}).status_code
        == 404
    )
    assert "No notifications yet." in client.get("/notifications").text
    other = bearer(sessions, world.employer, "notifications:read")
    assert client.post(
        "/api/v1/me/notifications/read", json={"ids": [mine["id"]]}, headers=other
    ).json() == {"marked": 0}
    assert client.get("/api/v1/me/notifications", headers=learner).json()["unread"] == 1


def test_the_api_lists_pages_and_marks_read_with_its_scope_only(
    client: TestClient, sessions: sessionmaker[Session], world: World, settings: Settings,
    definition_id: str,
) -> None:  # fmt: skip
    for _ in range(3):
        issue(sessions, settings, definition_id)
    headers = bearer(sessions, world.learner, "notifications:read")

    first = client.get("/api/v1/me/notifications?limit=2", headers=headers).json()
    assert first["unread"] == 3 and len(first["items"]) == 2 and first["next_before"]
    assert first["items"][0]["kind"] == "credential.issued"
    rest = client.get(
        f"/api/v1/me/notifications?limit=2&before={first['next_before']}", headers=headers
    ).json()
    assert len(rest["items"]) == 1 and rest["next_before"] is None

    marked = client.post(
        "/api/v1/me/notifications/read", json={"ids": [first["items"][0]["id"]]}, headers=headers
    )
    assert marked.json() == {"marked": 1}
    unread = client.get("/api/v1/me/notifications?unread=true", headers=headers).json()
    assert unread["unread"] == 2 and len(unread["items"]) == 2
    assert client.post("/api/v1/me/notifications/read", json={}, headers=headers).json() == {
        "marked": 2
    }
    bad = client.get("/api/v1/me/notifications?before=nope", headers=headers)
    assert bad.status_code == 404 and "notification" in bad.json()["message"]

    narrow = bearer(sessions, world.learner, "credentials:read")
    assert client.get("/api/v1/me/notifications", headers=narrow).status_code == 403


def test_a_page_counts_unread_on_its_own_connection_not_a_second_one(
    client: TestClient, sessions: sessionmaker[Session], world: World, settings: Settings,
    definition_id: str,
) -> None:  # fmt: skip
    issue(sessions, settings, definition_id)
    sign_in_client(client, world.learner.email)
    engine = client.app.state.context.engine  # type: ignore[attr-defined]
    checkouts: list[str] = []

    def listener(*args: object) -> None:  # the server's own background threads not counted
        if not threading.current_thread().name.startswith("microcred-"):
            checkouts.append(threading.current_thread().name)

    event.listen(engine, "checkout", listener)
    try:
        page = client.get("/wallet")
    finally:
        event.remove(engine, "checkout", listener)
    assert unread_in_menu(page.text) == 1
    assert len(checkouts) == 1  # a second per page could exhaust a PostgreSQL pool under load

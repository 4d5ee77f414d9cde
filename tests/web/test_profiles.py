"""Sharing from the web: the holder's share panel, the profile settings page, the public profile."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import service as credentials
from microcred.settings import Settings
from tests.catalogue.factories import skills
from tests.conftest import World, sign_in_client
from tests.credentials.service.conftest import definition_id

__all__ = ["definition_id", "skills"]  # fixtures


def _issue(sessions: sessionmaker[Session], settings: Settings, definition: str, user_id: str):  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        return credentials.issue_credential(
            session, None, definition_id=definition, recipient_user_id=user_id, settings=settings
        )


def test_only_the_holder_sees_the_share_panel_and_everyone_gets_link_previews(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    issued = _issue(sessions, settings, definition_id, world.learner.id)
    page_url = f"{settings.base_url.rstrip('/')}/credentials/{issued.id}"
    anonymous = client.get(f"/credentials/{issued.id}")
    assert anonymous.status_code == 200
    assert 'id="share"' not in anonymous.text
    assert f'<meta property="og:url" content="{page_url}">' in anonymous.text
    assert f'<meta property="og:image" content="{page_url}/badge.png">' in anonymous.text
    sign_in_client(client, world.employer.email)
    assert 'id="share"' not in client.get(f"/credentials/{issued.id}").text
    client.cookies.clear()
    sign_in_client(client, world.learner.email)
    mine = client.get(f"/credentials/{issued.id}").text
    assert 'id="share"' in mine
    linkedin = re.search(r'id="linkedin-add"', mine) and re.search(
        r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', mine
    )
    assert linkedin and "certUrl=" + page_url.replace(":", "%3A").replace("/", "%2F") in (
        linkedin.group(1).replace("&amp;", "&")
    )
    assert f'href="/credentials/{issued.id}/certificate.pdf"' in mine


def test_a_learner_publishes_a_profile_and_anyone_reads_it_as_a_page_and_json(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    shown = _issue(sessions, settings, definition_id, world.learner.id)
    private = _issue(sessions, settings, definition_id, world.learner.id)
    csrf = sign_in_client(client, world.learner.email)
    form = client.get("/wallet/profile")
    assert form.status_code == 200 and f'value="{shown.id}"' in form.text
    saved = client.post(
        "/wallet/profile",
        data={"csrf_token": csrf, "handle": "ana-silva", "headline": "Learning SQL",
              "published": "on", "public_name": "on", "credential": [shown.id]},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    assert "/people/ana-silva" in client.get(saved.headers["location"]).text
    client.cookies.clear()
    page = client.get("/people/ana-silva")
    assert page.status_code == 200
    assert world.learner.name in page.text and "Learning SQL" in page.text
    assert f"/credentials/{shown.id}" in page.text
    assert f"/credentials/{private.id}" not in page.text
    data = client.get("/api/v1/profiles/ana-silva").json()
    assert data["name"] == world.learner.name
    assert [c["page_url"] for c in data["credentials"]] == [
        f"{settings.base_url.rstrip('/')}/credentials/{shown.id}"
    ]
    # the consent ticked on the form shows the name on the credential's public page
    assert world.learner.name in client.get(f"/credentials/{shown.id}").text


def test_the_settings_page_keeps_what_was_typed_when_the_handle_is_refused(
    client: TestClient, world: World
) -> None:
    csrf = sign_in_client(client, world.learner.email)
    response = client.post(
        "/wallet/profile",
        data={"csrf_token": csrf, "handle": "no spaces", "headline": "Kept headline"},
    )
    assert response.status_code == 422
    assert 'aria-describedby="handle-error handle-hint"' in response.text
    assert 'id="handle-error"' in response.text and "3 to 40" in response.text
    assert 'value="Kept headline"' in response.text
    assert client.get("/people/no-spaces").status_code == 404


def test_profile_form_needs_csrf_and_a_signed_in_learner(client: TestClient, world: World) -> None:
    assert client.get("/wallet/profile", follow_redirects=False).status_code in (303, 401)
    sign_in_client(client, world.learner.email)
    response = client.post("/wallet/profile", data={"handle": "ana", "csrf_token": "forged"})
    assert response.status_code == 403


def test_the_api_saves_and_reads_back_the_profile_and_refuses_a_foreign_credential(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    mine = _issue(sessions, settings, definition_id, world.learner.id)
    theirs = _issue(sessions, settings, definition_id, world.employer.id)
    csrf = sign_in_client(client, world.learner.email)
    headers = {"x-csrf-token": csrf}
    assert client.get("/api/v1/me/profile").status_code == 404
    refused = client.put(
        "/api/v1/me/profile", headers=headers,
        json={"handle": "ana", "published": True, "credential_ids": [theirs.id]},
    )  # fmt: skip
    assert refused.status_code == 422 and "your own" in refused.json()["message"]
    saved = client.put(
        "/api/v1/me/profile", headers=headers,
        json={"handle": "ana", "published": True, "credential_ids": [mine.id],
              "show_name_on_credentials": True},
    )  # fmt: skip
    assert saved.status_code == 200, saved.text
    body = client.get("/api/v1/me/profile").json()
    assert body["credential_ids"] == [mine.id] and body["show_name_on_credentials"] is True
    assert body["url"].endswith("/people/ana")
    assert client.put("/api/v1/me/profile", json={"handle": "ana"}).status_code == 403  # no CSRF

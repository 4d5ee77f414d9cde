"""The account page: name, password (other sessions end), tokens, the data download, erasure."""

from __future__ import annotations

import io
import json
import re
import zipfile

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import User
from tests.conftest import PASSWORD, World, sign_in_client

NEW_PASSWORD = "a brand new passphrase"


def form_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def signed_in(app: object, email: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    other = TestClient(app)  # type: ignore[arg-type]
    return other, sign_in_client(other, email, password)


def test_a_password_change_ends_every_other_session(app: object, world: World) -> None:
    here, csrf = signed_in(app, "learner@example.org")
    elsewhere, _ = signed_in(app, "learner@example.org")
    assert elsewhere.get("/api/v1/me").status_code == 200

    wrong = here.post(
        "/account/password",
        data={"current_password": "not it", "new_password": NEW_PASSWORD,
              "repeat_password": NEW_PASSWORD, "csrf_token": csrf},
    )  # fmt: skip
    assert wrong.status_code == 400
    assert 'id="current-password-error"' in wrong.text and "not your current password" in wrong.text
    differ = here.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
              "repeat_password": NEW_PASSWORD + "!", "csrf_token": csrf},
    )  # fmt: skip
    assert differ.status_code == 400 and 'id="repeat-password-error"' in differ.text

    changed = here.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
              "repeat_password": NEW_PASSWORD, "csrf_token": csrf},
    )  # fmt: skip
    assert changed.status_code == 200 and 'id="notice"' in changed.text
    assert "signed out" in changed.text
    assert here.get("/api/v1/me").status_code == 200  # this session goes on
    assert elsewhere.get("/api/v1/me").status_code == 401  # the other one ended
    fresh = TestClient(app)  # type: ignore[arg-type]
    sign_in_client(fresh, "learner@example.org", NEW_PASSWORD)
    old = TestClient(app)  # type: ignore[arg-type]
    page = old.get("/sign-in")
    refused = old.post(
        "/sign-in",
        data={"email": "learner@example.org", "password": PASSWORD,
              "csrf_token": form_token(page.text), "next": "/"},
    )  # fmt: skip
    assert refused.status_code == 401


def test_the_name_changes_and_a_blank_one_is_refused(app: object, world: World) -> None:
    client, csrf = signed_in(app, "learner@example.org")
    blank = client.post("/account/name", data={"name": "   ", "csrf_token": csrf})
    assert blank.status_code == 400 and 'id="account-name-error"' in blank.text
    client.post("/account/name", data={"name": "  Lee   Learner-Smith ", "csrf_token": csrf})
    assert client.get("/api/v1/me").json()["name"] == "Lee Learner-Smith"
    assert client.post("/account/name", data={"name": "X"}).status_code == 403  # no CSRF token


def test_tokens_are_revoked_from_the_page_and_the_api(app: object, world: World) -> None:
    client, csrf = signed_in(app, "learner@example.org")
    headers = {"x-csrf-token": csrf}
    made = [
        client.post(
            "/api/v1/tokens", json={"name": name, "scopes": ["wallet:present"]}, headers=headers
        ).json()
        for name in ("phone", "laptop")
    ]
    bearer = [{"authorization": f"Bearer {token['secret']}"} for token in made]
    anonymous = TestClient(app)  # type: ignore[arg-type]
    assert anonymous.get("/api/v1/me", headers=bearer[0]).status_code == 200

    client.post(f"/account/tokens/{made[0]['id']}/revoke", data={"csrf_token": csrf})
    assert anonymous.get("/api/v1/me", headers=bearer[0]).status_code == 401
    assert "revoked" in client.get("/account").text

    assert anonymous.delete(f"/api/v1/tokens/{made[1]['id']}", headers=bearer[1]).status_code == 204
    assert anonymous.get("/api/v1/me", headers=bearer[1]).status_code == 401
    # another person's token is not found, not revoked
    other, other_csrf = signed_in(app, "hr@acme.example")
    theirs = other.post(
        "/api/v1/tokens", json={"name": "hr", "scopes": ["talent:search"]},
        headers={"x-csrf-token": other_csrf},
    ).json()  # fmt: skip
    assert client.delete(f"/api/v1/tokens/{theirs['id']}", headers=headers).status_code == 404
    assert (
        anonymous.get(
            "/api/v1/me", headers={"authorization": f"Bearer {theirs['secret']}"}
        ).status_code
        == 200
    )


def test_the_data_download_needs_the_form_token_and_holds_the_account(
    app: object, world: World
) -> None:
    client, csrf = signed_in(app, "learner@example.org")
    assert client.post("/account/export").status_code == 403
    response = client.post("/account/export", data={"csrf_token": csrf})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert json.loads(archive.read("account.json"))["email"] == "learner@example.org"


def test_a_learner_deletes_their_account_and_an_only_admin_is_told_why_not(
    app: object, world: World, sessions: sessionmaker[Session]
) -> None:
    admin, _ = signed_in(app, "admin@north.example")
    blocked = admin.get("/account/delete")
    assert 'id="blockers"' in blocked.text and "only administrator of North College" in blocked.text
    assert 'action="/account/delete"' not in blocked.text

    client, csrf = signed_in(app, "learner@example.org")
    page = client.get("/account/delete")
    assert "Deleted at once" in page.text and 'action="/account/delete"' in page.text
    wrong = client.post(
        "/account/delete",
        data={"password": "nope", "confirmation": "delete my account", "csrf_token": csrf},
    )
    assert wrong.status_code == 400 and 'id="erase-password-error"' in wrong.text
    gone = client.post(
        "/account/delete",
        data={"password": PASSWORD, "confirmation": "Delete my account", "csrf_token": csrf},
    )
    assert gone.status_code == 200 and 'id="erased"' in gone.text
    assert client.get("/api/v1/me").status_code == 401
    with sessions() as session:
        assert session.get(User, world.learner.id) is None


def test_the_export_api_needs_its_scope(app: object, world: World) -> None:
    client, csrf = signed_in(app, "learner@example.org")
    headers = {"x-csrf-token": csrf}
    tokens = {
        scope: client.post(
            "/api/v1/tokens", json={"name": scope, "scopes": [scope]}, headers=headers
        ).json()["secret"]
        for scope in ("account:export", "wallet:present")
    }
    anonymous = TestClient(app)  # type: ignore[arg-type]
    refused = anonymous.get(
        "/api/v1/me/export", headers={"authorization": f"Bearer {tokens['wallet:present']}"}
    )
    assert refused.status_code == 403 and "account:export" in refused.json()["message"]
    allowed = anonymous.get(
        "/api/v1/me/export", headers={"authorization": f"Bearer {tokens['account:export']}"}
    )
    assert allowed.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(allowed.content))
    assert json.loads(archive.read("account.json"))["name"] == "Lee Learner"
    assert anonymous.get("/api/v1/me/export").status_code == 401

"""Platform registrations: admins manage them, staff read them, other organisations see nothing;
the tool key is sealed at rest; every change is audited."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import decrypt_secret
from microcred.lti.models import LtiPlatform
from microcred.lti.registrations import tool_key
from microcred.settings import Settings
from tests.conftest import World, sign_in_client
from tests.lti.platform import TestPlatform

API = "/api/v1/organisations/north-college/lti/platforms"


def body(lms: TestPlatform, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Moodle",
        "issuer": lms.issuer,
        "client_id": lms.client_id,
        "deployment_ids": [lms.deployment_id],
        "auth_login_url": f"{lms.url}/auth",
        "auth_token_url": f"{lms.url}/token",
        "jwks_url": f"{lms.url}/jwks",
    }
    return data | changes


def api_headers(client: TestClient, email: str) -> dict[str, str]:
    return {"X-CSRF-Token": sign_in_client(client, email)}


@pytest.mark.both_databases
def test_admin_registers_a_platform_and_its_tool_key_is_sealed(
    client: TestClient,
    world: World,
    lms: TestPlatform,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    headers = api_headers(client, world.admin.email)
    response = client.post(API, json=body(lms), headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["tool"]["login"].endswith("/lti/login")
    assert created["tool"]["launch"].endswith("/lti/launch")
    assert created["tool"]["jwks"].endswith("/lti/organisations/north-college/jwks.json")
    assert created["tool_public_jwk"]["kty"] == "RSA"
    assert "d" not in created["tool_public_jwk"]
    with sessions() as session:
        row = session.get(LtiPlatform, created["id"])
        assert row is not None
        assert "PRIVATE KEY" not in row.sealed_tool_key
        assert tool_key(row, settings).public_jwk == created["tool_public_jwk"]
        with pytest.raises(CredentialError):  # sealed to its own row
            decrypt_secret(row.sealed_tool_key, settings.master_key, context="lti-tool-key:other")
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "lti.platform.create")
        ).all()
        assert [a.object_id for a in audit] == [created["id"]]
    jwks = client.get("/lti/organisations/north-college/jwks.json").json()
    assert [k["kid"] for k in jwks["keys"]] == [created["tool_kid"]]
    assert all("d" not in k for k in jwks["keys"])
    assert client.get("/lti/organisations/south-academy/jwks.json").json() == {"keys": []}


def test_staff_read_registrations_but_only_admins_change_them(
    client: TestClient, world: World, lms: TestPlatform, registration: str
) -> None:
    headers = api_headers(client, world.staff.email)
    listed = client.get(API, headers=headers)
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()] == [registration]
    assert client.post(API, json=body(lms, client_id="x"), headers=headers).status_code == 403
    assert client.delete(f"{API}/{registration}", headers=headers).status_code == 403
    page = client.get("/manage/lti")
    assert page.status_code == 200
    assert "/lti/login" in page.text and "Register an LMS" not in page.text


def test_another_organisation_cannot_see_or_delete_a_registration(
    client: TestClient, world: World, lms: TestPlatform, registration: str
) -> None:
    headers = api_headers(client, world.other_staff.email)
    assert client.get(API, headers=headers).status_code == 403
    assert client.get(f"{API}/{registration}", headers=headers).status_code == 403
    own = f"/api/v1/organisations/south-academy/lti/platforms/{registration}"
    assert client.get(own, headers=headers).status_code == 404
    assert client.delete(own, headers=headers).status_code == 403  # not an admin there either
    learner = TestClient(client.app)
    assert learner.get(API, headers=api_headers(learner, world.learner.email)).status_code == 403


def test_admin_deletes_a_registration_audited(
    client: TestClient, world: World, registration: str, sessions: sessionmaker[Session]
) -> None:
    headers = api_headers(client, world.admin.email)
    assert client.delete(f"{API}/{registration}", headers=headers).status_code == 204
    assert client.get(API, headers=headers).json() == []
    with sessions() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == registration)
        ).all()
        assert sorted(actions) == ["lti.platform.create", "lti.platform.delete"]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"auth_login_url": "http://lms.example/auth"}, "auth_login_url", "https"),
        ({"jwks_url": ""}, "jwks_url", "JWKS"),
        ({"deployment_ids": [" "]}, "deployment_ids", "deployment id"),
        ({"issuer": ""}, "issuer", "required"),
        (
            {
                "jwks_url": "",
                "platform_jwks": {
                    "keys": [{"kty": "RSA", "n": "x", "e": "AQAB", "d": "secret", "kid": "k"}]
                },
            },
            "platform_jwks",
            "private",
        ),
    ],
)
def test_bad_registrations_are_refused_naming_the_field(
    client: TestClient,
    world: World,
    lms: TestPlatform,
    changes: dict[str, Any],
    field: str,
    words: str,
) -> None:
    response = client.post(
        API, json=body(lms, **changes), headers=api_headers(client, world.admin.email)
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert words in response.json()["message"]


def test_the_same_platform_and_client_id_register_once(
    client: TestClient, world: World, lms: TestPlatform, registration: str
) -> None:
    response = client.post(API, json=body(lms), headers=api_headers(client, world.admin.email))
    assert response.status_code == 422
    assert "already registered" in response.json()["message"]


def test_a_pasted_jwks_registers_without_a_url(
    client: TestClient, world: World, lms: TestPlatform
) -> None:
    response = client.post(
        API,
        json=body(lms, jwks_url="", platform_jwks=lms.jwks),
        headers=api_headers(client, world.admin.email),
    )
    assert response.status_code == 201, response.text
    assert response.json()["has_pasted_jwks"] is True


def test_the_manage_page_registers_with_csrf(
    client: TestClient, world: World, lms: TestPlatform
) -> None:
    csrf = sign_in_client(client, world.admin.email)
    form = {
        "organisation": "north-college",
        "name": "Canvas",
        "issuer": lms.issuer,
        "client_id": "10000000001",
        "deployment_ids": "d-1\nd-2",
        "auth_login_url": f"{lms.url}/auth",
        "auth_token_url": f"{lms.url}/token",
        "jwks_url": f"{lms.url}/jwks",
        "platform_jwks": "",
    }
    assert client.post("/manage/lti", data=form).status_code == 403  # no CSRF token
    done = client.post("/manage/lti", data=form | {"csrf_token": csrf})
    assert done.status_code == 200
    assert "The LMS is registered." in done.text
    assert "<code>d-1</code>, <code>d-2</code>" in done.text
    bad = client.post(
        "/manage/lti",
        data=form | {"csrf_token": csrf, "client_id": "2", "auth_token_url": "ftp://x"},
    )
    assert bad.status_code == 422
    assert "is not an https:// URL" in bad.text

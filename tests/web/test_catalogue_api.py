"""Catalogue JSON API: status codes, field-naming errors, isolation, scopes, OpenAPI."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import User
from tests.catalogue.factories import PYTHON, UNKNOWN, definition_input, skills
from tests.conftest import World

__all__ = ["skills"]


def token(sessions: sessionmaker[Session], user: User, *scopes: str) -> dict[str, str]:
    with sessions.begin() as session:
        principal = accounts.principal_for(session, session.get(User, user.id) or user)
        _, secret = accounts.create_api_token(session, principal, name="t", scopes=scopes)
    return {"Authorization": f"Bearer {secret}"}


def create(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/organisations/north-college/definitions",
        json=definition_input(**overrides),
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_publish_edit_and_read_versions(
    client: TestClient, sessions: sessionmaker[Session], world: World, skills: dict[str, str]
) -> None:
    staff = token(sessions, world.staff, "catalogue:write", "catalogue:read")
    created = create(client, staff)
    assert (created["status"], created["version"]) == ("draft", 1)
    assert created["skills"][0] == {"uri": PYTHON, "label": skills[PYTHON]}
    definition_id = created["id"]
    assert client.get(f"/api/v1/definitions/{definition_id}").status_code == 404

    published = client.post(f"/api/v1/definitions/{definition_id}/publish", headers=staff)
    assert published.json()["status"] == "published"
    edited = client.patch(
        f"/api/v1/definitions/{definition_id}", json={"eqf_level": 6}, headers=staff
    ).json()
    assert (edited["version"], edited["status"], edited["eqf_level"]) == (2, "draft", 6)
    assert client.get(f"/api/v1/definitions/{definition_id}").json()["version"] == 1
    client.post(f"/api/v1/definitions/{definition_id}/publish", headers=staff)
    versions = client.get(f"/api/v1/definitions/{definition_id}/versions").json()
    assert [(v["version"], v["status"]) for v in versions] == [(2, "published"), (1, "superseded")]
    old = client.get(f"/api/v1/definitions/{definition_id}/versions/1").json()
    assert old["eqf_level"] == 5
    achievement = client.get(f"/api/v1/definitions/{definition_id}/achievement").json()
    assert achievement["type"] == ["Achievement"] and achievement["id"].endswith("/v/2")
    listed = client.get("/api/v1/definitions", params={"skill": PYTHON, "eqf_level": 6}).json()
    assert [item["id"] for item in listed["items"]] == [definition_id]
    retired = client.post(f"/api/v1/definitions/{definition_id}/retire", headers=staff)
    assert retired.json()["status"] == "retired"
    assert client.get("/api/v1/definitions").json()["total"] == 0


def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    client: TestClient, sessions: sessionmaker[Session], world: World, skills: dict[str, str]
) -> None:
    staff = token(sessions, world.staff, "catalogue:write", "catalogue:read")
    url = "/api/v1/organisations/north-college/definitions"
    cases = [
        ({"eqf_level": 11}, 422, "eqf_level"),
        ({"workload_hours": -2}, 422, "workload_hours"),
        ({"skills": [PYTHON, UNKNOWN]}, 422, "skills[1]"),
        ({"eqf_level": "high"}, 422, "eqf_level"),
        ({"surprise": 1}, 422, "surprise"),
    ]
    for override, status, field in cases:
        response = client.post(url, json=definition_input(**override), headers=staff)
        assert response.status_code == status, response.text
        assert response.json()["field"] == field
        assert field in response.json()["message"]
    malformed = client.post(
        url, content=b'{"name": ', headers={**staff, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 422
    create(client, staff)
    duplicate = client.post(url, json=definition_input(), headers=staff)
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "human_code"
    mine = client.get("/api/v1/definitions", headers=staff).json()
    assert mine["total"] == 0  # only the one draft exists, and drafts are not listed


def test_other_organisations_and_missing_scopes_are_refused(
    client: TestClient, sessions: sessionmaker[Session], world: World, skills: dict[str, str]
) -> None:
    staff = token(sessions, world.staff, "catalogue:write", "catalogue:read")
    draft = create(client, staff)
    other = token(sessions, world.other_staff, "catalogue:write", "catalogue:read")
    assert client.get(f"/api/v1/definitions/{draft['id']}", headers=other).status_code == 404
    assert (
        client.patch(
            f"/api/v1/definitions/{draft['id']}", json={"name": "x"}, headers=other
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/organisations/north-college/definitions",
            json=definition_input(human_code="X"), headers=other,
        ).status_code
        == 403
    )  # fmt: skip
    read_only = token(sessions, world.staff, "catalogue:read")
    assert client.get(f"/api/v1/definitions/{draft['id']}", headers=read_only).status_code == 200
    assert (
        client.post(f"/api/v1/definitions/{draft['id']}/publish", headers=read_only).status_code
        == 403
    )
    anonymous = client.post(
        "/api/v1/organisations/north-college/definitions", json=definition_input()
    )
    assert anonymous.status_code == 401


def test_issuers_and_profiles(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    staff = token(sessions, world.staff, "catalogue:write")
    response = client.patch(
        "/api/v1/issuers/north-college",
        json={"url": "https://north.example", "email": "hello@north.example"},
        headers=staff,
    )
    assert response.status_code == 200 and response.json()["url"] == "https://north.example"
    bad = client.patch("/api/v1/issuers/north-college", json={"url": "ftp://x"}, headers=staff)
    assert bad.status_code == 422 and bad.json()["field"] == "url"
    other = token(sessions, world.other_staff, "catalogue:write")
    denied = client.patch("/api/v1/issuers/north-college", json={"phone": "1234"}, headers=other)
    assert denied.status_code == 403
    slugs = [i["slug"] for i in client.get("/api/v1/issuers").json()]
    assert slugs == ["north-college", "south-academy"]
    profile = client.get("/api/v1/issuers/north-college/profile").json()
    assert profile["type"] == ["Profile"] and profile["url"] == "https://north.example"
    assert client.get("/api/v1/issuers/acme").status_code == 404


def test_import_endpoint_is_all_or_nothing_unless_partial(
    client: TestClient, sessions: sessionmaker[Session], world: World, skills: dict[str, str]
) -> None:
    staff = token(sessions, world.staff, "catalogue:write", "catalogue:read")
    url = "/api/v1/organisations/north-college/definitions/import"
    rows = [definition_input(human_code="A"), definition_input(human_code="B", eqf_level=0)]
    refused = client.post(url, json=rows, headers=staff)
    assert refused.status_code == 422
    assert refused.json()["problems"] == [
        {"line": 2, "field": "eqf_level", "message": refused.json()["problems"][0]["message"]}
    ]
    accepted = client.post(url, params={"partial": "true", "publish": "true"}, json=rows,
                           headers=staff).json()  # fmt: skip
    assert [row["line"] for row in accepted["imported"]] == [1]
    assert [row["line"] for row in accepted["skipped"]] == [2]
    assert client.get("/api/v1/definitions").json()["total"] == 1


def test_openapi_lists_the_catalogue_endpoints(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/definitions", "/api/v1/definitions/{definition_id}",
        "/api/v1/definitions/{definition_id}/publish", "/api/v1/definitions/{definition_id}/retire",
        "/api/v1/definitions/{definition_id}/versions",
        "/api/v1/definitions/{definition_id}/versions/{version}",
        "/api/v1/definitions/{definition_id}/achievement",
        "/api/v1/organisations/{slug}/definitions",
        "/api/v1/organisations/{slug}/definitions/import",
        "/api/v1/issuers", "/api/v1/issuers/{slug}", "/api/v1/issuers/{slug}/profile",
    ):  # fmt: skip
        assert path in paths, path
    assert "patch" in paths["/api/v1/definitions/{definition_id}"]

"""The endorsements JSON API: scopes, isolation, answers, withdrawal, the OpenAPI description."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from tests.conftest import World
from tests.web.test_talent import token_for

SCOPE = ["endorsements:manage"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_endorse_list_accept_and_withdraw_through_the_api(
    client: TestClient, sessions: sessionmaker[Session], world: World, settings: Settings,
    endorser_admin: str, definition_id: str,
) -> None:  # fmt: skip
    endorser = _bearer(token_for(sessions, endorser_admin, SCOPE))
    endorsed = _bearer(token_for(sessions, world.admin.id, SCOPE))
    body = {"definition_id": definition_id, "comment": "Aligned with our *framework*."}
    unscoped = _bearer(token_for(sessions, endorser_admin, ["catalogue:read"]))
    base = "/api/v1/organisations/south-academy/endorsements"
    assert client.post(base, json=body, headers=unscoped).status_code == 403
    assert client.post(base, json={**body, "comment": ""}, headers=endorser).status_code == 422
    bad = client.post(base, json={"comment": "x"}, headers=endorser)
    assert bad.status_code == 422 and bad.json()["field"] == "definition_id"
    created = client.post(base, json={**body, "format": "eddsa-jcs-2022"}, headers=endorser)
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["state"] == "pending" and out["endorser"]["slug"] == "south-academy"
    assert out["endorsed"] == {"slug": "north-college", "name": "North College"}
    assert out["subject_id"].endswith(f"/definitions/{definition_id}/v/1")
    assert out["credential_url"] == f"{settings.base_url.rstrip('/')}/endorsements/{out['id']}"
    one = f"/api/v1/endorsements/{out['id']}"

    credential = client.get(f"{one}/credential", headers=endorsed).json()
    assert credential["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    verified = client.post("/api/v1/verify", json=credential).json()
    assert verified["valid"], verified["checks"]
    assert any(c["name"] == "schema" and "endorsement" in c["reason"] for c in verified["checks"])

    given = client.get(f"{base}/given", headers=endorser).json()
    assert [item["id"] for item in given] == [out["id"]]
    received = "/api/v1/organisations/north-college/endorsements/received"
    assert [e["id"] for e in client.get(received, headers=endorsed).json()] == [out["id"]]
    assert client.get(f"{received}?state=accepted", headers=endorsed).json() == []
    assert client.get(f"{received}?state=nonsense", headers=endorsed).status_code == 422
    assert client.post(f"{one}/approve", headers=endorsed).status_code == 422
    assert client.get(received, headers=endorser).status_code == 403  # not theirs to see

    assert client.post(f"{one}/accept", headers=endorser).status_code == 403
    accepted = client.post(f"{one}/accept", headers=endorsed)
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    assert client.get(f"/endorsements/{out['id']}").json() == credential

    assert client.post(f"{one}/withdraw", json={"reason": "x"}, headers=endorsed).status_code == 403
    withdrawn = client.post(f"{one}/withdraw", json={"reason": "Review"}, headers=endorser)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert withdrawn.json()["withdrawn_reason"] == "Review"
    after = client.post("/api/v1/verify", json=credential).json()
    assert not after["valid"]
    assert any(c["name"] == "status" and c["status"] == "fail" for c in after["checks"])


def test_other_organisations_and_anonymous_callers_see_nothing_pending(
    client: TestClient, sessions: sessionmaker[Session], world: World, endorser_admin: str,
    definition_id: str,
) -> None:  # fmt: skip
    endorser = _bearer(token_for(sessions, endorser_admin, SCOPE))
    body = {"definition_id": definition_id, "comment": "Good"}
    base = "/api/v1/organisations/south-academy/endorsements"
    created = client.post(base, json=body, headers=endorser).json()
    one = f"/api/v1/endorsements/{created['id']}"
    for user in (world.staff, world.other_staff, world.learner, world.employer):
        headers = _bearer(token_for(sessions, user.id, SCOPE))
        assert client.get(one, headers=headers).status_code == 404
        assert client.get(f"{one}/credential", headers=headers).status_code == 404
        assert client.post(f"{one}/accept", headers=headers).status_code == 404
        assert client.post(base, json=body, headers=headers).status_code == 403
    assert client.get(one).status_code == 401
    assert client.get(f"/endorsements/{created['id']}").status_code == 404
    issuer = client.post(base, json={"issuer": "south-academy", "comment": "Us"}, headers=endorser)
    assert issuer.status_code == 422 and issuer.json()["field"] == "endorser"


def test_the_openapi_schema_describes_every_endorsement_endpoint(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    wanted = {
        ("/api/v1/organisations/{slug}/endorsements", "post"),
        ("/api/v1/organisations/{slug}/endorsements/given", "get"),
        ("/api/v1/organisations/{slug}/endorsements/received", "get"),
        ("/api/v1/endorsements/{endorsement_id}", "get"),
        ("/api/v1/endorsements/{endorsement_id}/credential", "get"),
        ("/api/v1/endorsements/{endorsement_id}/{decision}", "post"),
        ("/api/v1/endorsements/{endorsement_id}/withdraw", "post"),
    }
    for path, method in wanted:
        operation = paths[path][method]
        assert operation["summary"], path
        assert "endorsements" in operation["tags"]

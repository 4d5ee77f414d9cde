"""Presentations on the web, the API and the CLI: learners sign their own; anyone verifies."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.accounts import service as accounts
from microcred.accounts.models import User
from microcred.cli.main import app
from microcred.credentials import service
from microcred.credentials.keys import base64url_decode, base64url_encode
from microcred.settings import Settings
from tests.conftest import World, sign_in_client
from tests.credentials.service.conftest import definition_id, issue_input

__all__ = ["definition_id"]
CHALLENGE, DOMAIN = "nonce-8d1f", "careers.acme.example"


def _issue(
    sessions: sessionmaker[Session], settings: Settings, definition_id: str, **kw: Any
) -> str:
    with sessions.begin() as session:
        row = service.issue_credential(
            session, None, settings=settings, **issue_input(definition_id, **kw)
        )
        return row.id


def _token(sessions: sessionmaker[Session], user: User, scopes: list[str]) -> str:
    with sessions.begin() as session:
        principal = accounts.principal_for(session, session.get(User, user.id) or user)
        _, secret = accounts.create_api_token(session, principal, name="t", scopes=scopes)
    return secret


def _verify_api(client: TestClient, vp: dict[str, Any], **params: str) -> dict[str, Any]:
    response = client.post("/api/v1/verify", content=json.dumps(vp), params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_learner_signs_a_presentation_through_the_api_and_anyone_verifies_it(
    client: TestClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    world: World,
    definition_id: str,
) -> None:
    credential_id = _issue(sessions, settings, definition_id)
    token = _token(sessions, world.learner, ["wallet:present"])
    headers = {"Authorization": f"Bearer {token}"}
    holder = client.get("/api/v1/me/holder", headers=headers).json()
    assert holder["did"].startswith("did:key:z6Mk")
    response = client.post(
        "/api/v1/me/presentations",
        json={"credential_ids": [credential_id], "challenge": CHALLENGE, "domain": DOMAIN,
              "cryptosuite": "eddsa-jcs-2022"},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    vp = response.json()
    assert vp["holder"] == holder["did"]
    assert vp["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    report = _verify_api(client, vp, challenge=CHALLENGE, domain=DOMAIN)
    assert report["valid"] and report["kind"] == "presentation"
    assert [item["valid"] for item in report["credentials"]] == [True]
    wrong = _verify_api(client, vp, challenge="replayed", domain=DOMAIN)
    assert not wrong["valid"]
    assert any(c["name"] == "challenge" and c["status"] == "fail" for c in wrong["checks"])


def test_the_api_refuses_others_credentials_anonymous_callers_and_tokens_without_the_scope(
    client: TestClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    world: World,
    definition_id: str,
) -> None:
    theirs = _issue(sessions, settings, definition_id, recipient_email="hr@acme.example")
    body = {"credential_ids": [theirs], "challenge": CHALLENGE}
    learner = {"Authorization": f"Bearer {_token(sessions, world.learner, ['wallet:present'])}"}
    refused = client.post("/api/v1/me/presentations", json=body, headers=learner)
    assert refused.status_code == 404 and theirs in refused.json()["message"]
    assert client.post("/api/v1/me/presentations", json=body).status_code == 401
    assert client.get("/api/v1/me/holder").status_code == 401
    unscoped = {"Authorization": f"Bearer {_token(sessions, world.learner, ['credentials:read'])}"}
    assert client.post("/api/v1/me/presentations", json=body, headers=unscoped).status_code == 403


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_the_wallet_page_downloads_a_presentation_of_the_ticked_credentials(
    client: TestClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    world: World,
    definition_id: str,
    tmp_path: Path,
    runner: CliRunner,
) -> None:
    ids = [_issue(sessions, settings, definition_id) for _ in range(2)]
    theirs = _issue(sessions, settings, definition_id, recipient_email="hr@acme.example")
    anonymous = client.get("/wallet/presentations", follow_redirects=False)
    assert anonymous.status_code == 303 and "/sign-in" in anonymous.headers["location"]
    sign_in_client(client, world.learner.email)
    page = client.get("/wallet/presentations")
    assert page.status_code == 200 and all(f'value="{i}"' in page.text for i in ids)
    assert theirs not in page.text
    preselected = client.get("/wallet/presentations", params={"credential": ids[0]}).text
    assert f'id="present-{ids[0]}" name="credential_ids" value="{ids[0]}" checked' in preselected
    assert f'value="{ids[1]}" checked' not in preselected
    form = {"csrf_token": _csrf(page.text), "challenge": CHALLENGE, "domain": DOMAIN,
            "cryptosuite": "eddsa-rdfc-2022"}  # fmt: skip
    response = client.post("/wallet/presentations", data={**form, "credential_ids": ids[1:]})
    assert response.status_code == 200, response.text
    assert 'filename="presentation.json"' in response.headers["content-disposition"]
    vp = response.json()
    assert len(vp["verifiableCredential"]) == 1
    assert vp["verifiableCredential"][0]["id"] == service_document_id(sessions, ids[1])

    refused = client.post("/wallet/presentations", data={**form, "credential_ids": [theirs]})
    assert refused.status_code == 404 and "presentation-error" in refused.text
    missing_csrf = client.post("/wallet/presentations", data={**form, "csrf_token": "x"})
    assert missing_csrf.status_code == 403

    shown = _verify_page(client, json.dumps(vp))
    assert "verification-valid" in shown and "credential 1 · proof" in shown

    tampered = copy.deepcopy(vp)
    tampered["verifiableCredential"][0]["name"] = "Something else"
    _cli_verifies(
        runner, tmp_path / "presentation.json", json.dumps(vp), json.dumps(tampered), "{not json"
    )


def service_document_id(sessions: sessionmaker[Session], credential_id: str) -> str:
    with sessions() as session:
        return str(service.get_credential(session, credential_id).document["id"])


def _verify_page(client: TestClient, text: str) -> str:
    form = {"csrf_token": _csrf(client.get("/verify").text), "credential": text,
            "challenge": CHALLENGE, "domain": DOMAIN}  # fmt: skip
    return client.post("/verify", data=form).text


def _cli_verifies(
    runner: CliRunner, path: Path, presentation: str, tampered: str, unreadable: str
) -> None:
    """``microcred verify``: 0 for the presentation, 1 replayed or tampered, 2 unreadable."""
    path.write_text(presentation)
    good = ["verify", str(path), "--offline", "--challenge", CHALLENGE, "--domain", DOMAIN]
    result = runner.invoke(app, good)
    assert result.exit_code == 0, result.output
    assert "holder proof" in result.output and "credential 1 · proof" in result.output
    as_json = json.loads(runner.invoke(app, [*good, "--json"]).output)
    assert as_json["kind"] == "presentation" and as_json["valid"]
    replayed = ["verify", str(path), "--offline", "--challenge", "other", "--domain", DOMAIN]
    assert runner.invoke(app, replayed).exit_code == 1
    path.write_text(tampered)
    assert runner.invoke(app, good).exit_code == 1
    path.write_text(unreadable)
    assert runner.invoke(app, good).exit_code == 2


def test_a_vp_jwt_through_the_api_form_verify_page_and_cli(
    client: TestClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    world: World,
    definition_id: str,
    tmp_path: Path,
    runner: CliRunner,
) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    schema = spec["components"]["schemas"]["PresentationIn"]
    assert "vp-jose" in schema["properties"]["format"]["enum"]
    assert schema["properties"]["cryptosuite"]["deprecated"] is True
    credential_id = _issue(
        sessions, settings, definition_id, formats=["eddsa-rdfc-2022", "vc-jose-eddsa"]
    )
    headers = {"Authorization": f"Bearer {_token(sessions, world.learner, ['wallet:present'])}"}
    response = client.post(
        "/api/v1/me/presentations",
        json={"credential_ids": [credential_id], "challenge": CHALLENGE, "domain": DOMAIN,
              "format": "vp-jose"},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    conflicting = client.post(
        "/api/v1/me/presentations",
        json={"credential_ids": [credential_id], "challenge": CHALLENGE,
              "format": "vp-jose", "cryptosuite": "eddsa-jcs-2022"},
        headers=headers,
    )  # fmt: skip
    assert conflicting.status_code == 422 and "format" in conflicting.text
    assert response.headers["content-type"].startswith("application/vp+jwt")
    token = response.text
    verified = client.post("/api/v1/verify", content=token, params={"challenge": CHALLENGE})
    assert verified.status_code == 200 and verified.json()["kind"] == "presentation"
    assert verified.json()["valid"], verified.json()["checks"]

    sign_in_client(client, world.learner.email)
    page = client.get("/wallet/presentations")
    assert '<option value="vp-jose"' in page.text and "presentation.jwt" in page.text
    form = {"csrf_token": _csrf(page.text), "challenge": CHALLENGE, "domain": DOMAIN,
            "cryptosuite": "vp-jose", "credential_ids": [credential_id]}  # fmt: skip
    download = client.post("/wallet/presentations", data=form)
    assert download.status_code == 200, download.text
    assert download.headers["content-type"].startswith("application/vp+jwt")
    assert 'filename="presentation.jwt"' in download.headers["content-disposition"]
    assert download.text.count(".") == 2 and download.text.startswith("eyJ")

    shown = _verify_page(client, download.text)
    assert "verification-valid" in shown and "vp+jwt" in shown and "credential 1 · proof" in shown

    header, payload, signature = download.text.split(".")
    claims = json.loads(base64url_decode(payload)) | {"id": "urn:uuid:another"}
    forged = f"{header}.{base64url_encode(json.dumps(claims).encode())}.{signature}"
    _cli_verifies(runner, tmp_path / "presentation.jwt", download.text, forged, download.text[:20])

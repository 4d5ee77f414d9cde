"""OpenID4VCI's authorization code flow, as a wallet app starts it: metadata, the authorization
page (sign in, pick a credential, give it), the code with PKCE at the token endpoint, the
credential; and every refusal."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent
from microcred.credentials import service
from microcred.obapi.protocol import s256
from microcred.settings import Settings
from microcred.wallet.oid4vci import AUTHORIZATION_CODE_GRANT, JWT_VC_JSON, LDP_VC
from tests.conftest import World, sign_in_client
from tests.credentials.service.conftest import definition_id, principal_of
from tests.wallet.test_oid4vci import ISSUER, _ask, _error, credential_id

__all__ = ["credential_id", "definition_id"]
REDIRECT = "https://wallet.example/callback"
APP_REDIRECT = "openid-credential-wallet:/cb"


def request_params(verifier: str, **overrides: str) -> dict[str, str]:
    return {
        "response_type": "code", "client_id": "a-wallet", "redirect_uri": REDIRECT,
        "code_challenge": s256(verifier), "code_challenge_method": "S256",
        "state": "st-1", "scope": LDP_VC, **overrides,
    }  # fmt: skip


def give(client: TestClient, params: dict[str, str], credential: str) -> dict[str, str]:
    """The learner answers the authorization page: what the wallet gets at its redirect URI."""
    page = client.get("/oid4vci/authorize", params=params)
    assert page.status_code == 200, page.text
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/oid4vci/authorize",
        data={**params, "csrf_token": token, "decision": "give", "credential": credential},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(params["redirect_uri"] + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def token_request(client: TestClient, code: str, verifier: str, **overrides: str) -> Any:
    form = {"grant_type": AUTHORIZATION_CODE_GRANT, "code": code, "code_verifier": verifier,
            "redirect_uri": REDIRECT, "client_id": "a-wallet", **overrides}  # fmt: skip
    return client.post("/oid4vci/token", data=form)


@pytest.mark.both_databases
def test_a_wallet_starts_the_flow_and_gets_the_credential_the_learner_gives_it(
    db_backend: str, client: TestClient, sessions: sessionmaker[Session], world: World,
    credential_id: str,
) -> None:  # fmt: skip
    server = client.get("/.well-known/oauth-authorization-server").json()
    assert server["authorization_endpoint"] == f"{ISSUER}/oid4vci/authorize"
    assert AUTHORIZATION_CODE_GRANT in server["grant_types_supported"]
    assert server["code_challenge_methods_supported"] == ["S256"]
    issuer = client.get("/.well-known/openid-credential-issuer").json()
    assert issuer["credential_configurations_supported"][LDP_VC]["scope"] == LDP_VC

    verifier = secrets.token_urlsafe(48)
    params = request_params(verifier)
    first = client.get("/oid4vci/authorize", params=params, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith("/sign-in?next=")
    sign_in_client(client, "learner@example.org")
    page = client.get("/oid4vci/authorize", params=params)
    assert "a-wallet" in page.text and "wallet.example" in page.text
    assert "form-action 'self' https://wallet.example" in page.headers["content-security-policy"]
    back = give(client, params, credential_id)
    assert back["state"] == "st-1" and back["iss"] == ISSUER

    wallet = TestClient(client.app)  # the wallet app: no cookie of the learner's
    granted = token_request(wallet, back["code"], verifier)
    assert granted.status_code == 200, granted.text
    token = granted.json()["access_token"]
    answer = _ask(wallet, token, {"credential_configuration_id": LDP_VC})
    assert answer.status_code == 200, answer.text
    delivered = answer.json()["credentials"][0]["credential"]
    assert delivered["id"].endswith(credential_id) or credential_id in delivered["id"]
    _error(token_request(wallet, back["code"], verifier), 400, "invalid_grant")  # once only
    with sessions() as session:
        audit = session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.action == "wallet.oid4vci_authorization.grant"
            )
        ).one()
    assert audit["client_id"] == "a-wallet" and audit["redirect_uri"] == REDIRECT


def test_the_code_needs_its_verifier_redirect_uri_and_client(
    client: TestClient, world: World, credential_id: str
) -> None:
    verifier = secrets.token_urlsafe(48)
    sign_in_client(client, "learner@example.org")
    code = give(client, request_params(verifier), credential_id)["code"]
    wallet = TestClient(client.app)
    assert "code_verifier does not match" in _error(
        token_request(wallet, code, secrets.token_urlsafe(48)), 400, "invalid_grant"
    )
    assert "redirect_uri" in _error(
        token_request(wallet, code, verifier, redirect_uri="https://evil.example/cb"),
        400, "invalid_grant",
    )  # fmt: skip
    assert "another client_id" in _error(
        token_request(wallet, code, verifier, client_id="another"), 400, "invalid_grant"
    )
    assert "missing" in _error(
        token_request(wallet, code, "", code_verifier=""), 400, "invalid_request"
    )
    # A pre-authorized code cannot stand in for an authorization code, nor the reverse.
    assert "not known" in _error(
        wallet.post("/oid4vci/token", data={
            "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
            "pre-authorized_code": code}), 400, "invalid_grant",
    )  # fmt: skip
    assert token_request(wallet, code, verifier).status_code == 200  # still unused: works


def test_requests_are_refused_on_a_page_or_at_the_redirect_uri_as_the_spec_says(
    client: TestClient, world: World, credential_id: str
) -> None:
    sign_in_client(client, "learner@example.org")
    verifier = secrets.token_urlsafe(48)
    page_refusals = [
        {"redirect_uri": "javascript:alert(1)"}, {"redirect_uri": "http://evil.example/"},
        {"redirect_uri": ""}, {"client_id": ""}, {"redirect_uri": REDIRECT + "#frag"},
    ]  # fmt: skip
    for bad in page_refusals:
        page = client.get("/oid4vci/authorize", params=request_params(verifier, **bad),
                          follow_redirects=False)  # fmt: skip
        assert page.status_code == 400 and "cannot be answered" in page.text, bad
    for bad, error in (
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"scope": "something-else"}, "invalid_scope"),
        ({"scope": "", "authorization_details": "[{\"type\": \"x\"}]"},
         "invalid_authorization_details"),
    ):  # fmt: skip
        answer = client.get("/oid4vci/authorize", params=request_params(verifier, **bad),
                            follow_redirects=False)  # fmt: skip
        assert answer.status_code == 303, (bad, answer.text)
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        assert query["error"] == [error] and query["state"] == ["st-1"], bad


def test_the_learner_may_refuse_and_gives_only_their_own_active_credential(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    credential_id: str, definition_id: str,
) -> None:  # fmt: skip
    verifier = secrets.token_urlsafe(48)
    details = f'[{{"type": "openid_credential", "credential_configuration_id": "{JWT_VC_JSON}"}}]'
    params = request_params(
        verifier, redirect_uri=APP_REDIRECT, authorization_details=details, scope=""
    )
    sign_in_client(client, "learner@example.org")
    page = client.get("/oid4vci/authorize", params=params)
    assert page.status_code == 200
    assert "form-action 'self' openid-credential-wallet:" in page.headers["content-security-policy"]
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    refused = client.post("/oid4vci/authorize", data={**params, "csrf_token": token,
                                                      "decision": "refuse"},
                          follow_redirects=False)  # fmt: skip
    assert parse_qs(urlsplit(refused.headers["location"]).query)["error"] == ["access_denied"]
    with sessions.begin() as session:  # someone else's credential
        other = service.issue_credential(
            session, principal_of(session, world.staff), definition_id=definition_id,
            recipient_email="someone@example.org", settings=settings,
        ).id  # fmt: skip
    stolen = client.post("/oid4vci/authorize", data={**params, "csrf_token": token,
                                                     "decision": "give", "credential": other},
                         follow_redirects=False)  # fmt: skip
    assert stolen.status_code == 400 and 'id="authorize-error"' in stolen.text
    forged = client.post("/oid4vci/authorize", data={**params, "csrf_token": "forged",
                                                     "decision": "give",
                                                     "credential": credential_id})  # fmt: skip
    assert forged.status_code == 403

"""OpenID4VCI pickup over HTTP, as a wallet app does it: metadata, offer by reference, token with
the PIN, nonce, key proof, credential in ldp_vc and jwt_vc_json; and every refusal."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent
from microcred.credentials import service
from microcred.credentials.proofs.jwt import decode_jwt
from microcred.db.base import utcnow
from microcred.settings import Settings
from microcred.wallet.models import CredentialOffer
from microcred.wallet.oid4vci import JWT_VC_JSON, LDP_VC, PRE_AUTHORIZED_GRANT
from tests.conftest import World, sign_in_client
from tests.credentials.service.conftest import definition_id, principal_of
from tests.wallet.oid4vci_wallet import Wallet, offer_uri_of, path_of
from tests.web.test_sharing import _issue as issue_with_jwt
from tests.web.test_talent import token_for

__all__ = ["definition_id"]
ISSUER = "http://127.0.0.1:8000"


@pytest.fixture
def credential_id(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> str:
    return issue_with_jwt(sessions, settings, definition_id)


@pytest.fixture
def learner_api(sessions: sessionmaker[Session], world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(sessions, world.learner.id, ['wallet:offer'])}"}


def _offer(client: TestClient, credential_id: str, headers: dict[str, str], **params: Any) -> Any:
    response = client.post(
        f"/api/v1/credentials/{credential_id}/offers", headers=headers, params=params
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def _access_token(client: TestClient, offer: dict[str, Any]) -> str:
    grant = client.get(path_of(offer["credential_offer_uri"])).json()["grants"]
    response = client.post(
        "/oid4vci/token",
        data={
            "grant_type": PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": grant[PRE_AUTHORIZED_GRANT]["pre-authorized_code"],
            "tx_code": offer["tx_code"],
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _form(code: str, tx_code: str | None = None) -> dict[str, str]:
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
    return form if tx_code is None else {**form, "tx_code": tx_code}


def _nonce(client: TestClient) -> str:
    response = client.post("/oid4vci/nonce")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    return str(response.json()["c_nonce"])


def _ask(client: TestClient, token: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/oid4vci/credential", json=body, headers=headers)


def _ask_with_proof(
    client: TestClient, token: str, wallet: Wallet, configuration: str = LDP_VC, **proof: Any
) -> Any:
    nonce = proof.pop("nonce", None) or _nonce(client)
    jwt = wallet.proof(audience=proof.pop("audience", ISSUER), nonce=nonce, **proof)
    return _ask(client, token, {"credential_configuration_id": configuration,
                                "proofs": {"jwt": [jwt]}})  # fmt: skip


def _error(response: Any, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error, response.text
    assert response.headers["cache-control"] == "no-store"
    return str(response.json()["error_description"])


@pytest.mark.both_databases
def test_a_wallet_reads_metadata_and_picks_up_the_credential_in_both_formats(
    db_backend: str,
    client: TestClient,
    sessions: sessionmaker[Session],
    credential_id: str,
    learner_api: dict[str, str],
) -> None:
    issuer = client.get("/.well-known/openid-credential-issuer").json()
    assert issuer["credential_issuer"] == ISSUER
    assert issuer["display"][0]["name"] == "microcred · 127.0.0.1:8000"
    assert path_of(issuer["credential_endpoint"]) == "/oid4vci/credential"
    assert path_of(issuer["nonce_endpoint"]) == "/oid4vci/nonce"
    configurations = issuer["credential_configurations_supported"]
    assert configurations[LDP_VC]["format"] == "ldp_vc"
    assert configurations[LDP_VC]["credential_definition"]["type"] == [
        "VerifiableCredential", "OpenBadgeCredential"]  # fmt: skip
    assert (
        "https://www.w3.org/ns/credentials/v2"
        in (configurations[LDP_VC]["credential_definition"]["@context"])
    )
    assert "eddsa-rdfc-2022" in configurations[LDP_VC]["credential_signing_alg_values_supported"]
    assert configurations[JWT_VC_JSON]["format"] == "jwt_vc_json"
    for configuration in configurations.values():  # not bound: §12.2.4 wants both absent
        assert "cryptographic_binding_methods_supported" not in configuration
        assert "proof_types_supported" not in configuration
    preflight = client.options("/oid4vci/credential", headers={
        "Origin": "https://wallet.example", "Access-Control-Request-Method": "POST"})  # fmt: skip
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    assert client.get("/.well-known/openid-credential-issuer").headers[
        "access-control-allow-origin"] == "*"  # fmt: skip
    server = client.get("/.well-known/oauth-authorization-server").json()
    assert path_of(server["token_endpoint"]) == "/oid4vci/token"
    assert server["pre-authorized_grant_anonymous_access_supported"] is True
    assert PRE_AUTHORIZED_GRANT in server["grant_types_supported"]

    offer = _offer(client, credential_id, learner_api)
    assert re.fullmatch(r"\d{6}", offer["tx_code"])
    assert offer_uri_of(offer["offer_link"]) == offer["credential_offer_uri"]
    offered = client.get(path_of(offer["credential_offer_uri"]))
    assert offered.headers["cache-control"] == "no-store"
    body = offered.json()
    assert body["credential_issuer"] == ISSUER
    assert body["credential_configuration_ids"] == [LDP_VC, JWT_VC_JSON]
    grant = body["grants"][PRE_AUTHORIZED_GRANT]
    assert grant["tx_code"]["length"] == 6 and grant["tx_code"]["input_mode"] == "numeric"
    token_response = client.post(
        "/oid4vci/token",
        data={"grant_type": PRE_AUTHORIZED_GRANT, "tx_code": offer["tx_code"],
              "pre-authorized_code": grant["pre-authorized_code"]},
    )  # fmt: skip
    assert token_response.status_code == 200, token_response.text
    assert token_response.headers["cache-control"] == "no-store"
    issued = token_response.json()
    assert issued["token_type"] == "Bearer" and 0 < issued["expires_in"] <= 600

    wallet = Wallet()
    response = _ask_with_proof(client, issued["access_token"], wallet)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    document = response.json()["credentials"][0]["credential"]
    assert document["id"].endswith(credential_id) or credential_id in document["id"]
    report = client.post("/api/v1/verify", content=json.dumps(document)).json()
    assert report["valid"], report

    response = _ask_with_proof(client, issued["access_token"], wallet, JWT_VC_JSON)
    assert response.status_code == 200, response.text
    jwt = response.json()["credentials"][0]["credential"]
    assert isinstance(jwt, str) and jwt.count(".") == 2
    decoded = decode_jwt(jwt)  # a jwt_vc_json: the OB 3.0 VC-JWT, the credential in "vc"
    assert decoded.header["alg"] == "ES256" and decoded.payload["vc"]["id"] == document["id"]
    report = client.post("/api/v1/verify", content=jwt).json()
    assert report["valid"], report

    with sessions() as session:
        row = session.scalars(select(CredentialOffer)).one()
        assert row.picked_up_at is not None and row.holder == wallet.did
        assert row.picked_up_format == "ldp_vc,jwt_vc_json"
        actions = set(session.scalars(select(AuditEvent.action)))
        assert {"wallet.oid4vci_offer.create", "wallet.oid4vci_offer.pickup"} <= actions
    statuses = client.get(f"/api/v1/credentials/{credential_id}/offers", headers=learner_api)
    assert statuses.json()[0]["state"] == "picked_up"
    assert statuses.json()[0]["holder"] == wallet.did


def test_the_credential_is_delivered_without_a_proof_as_it_is_not_bound(
    client: TestClient, credential_id: str, learner_api: dict[str, str]
) -> None:
    token = _access_token(client, _offer(client, credential_id, learner_api))
    response = _ask(client, token, {"credential_configuration_id": LDP_VC})
    assert response.status_code == 200, response.text
    assert response.json()["credentials"][0]["credential"]["type"][-1] == "OpenBadgeCredential"


def test_an_offer_without_pin_needs_none_and_refuses_one(
    client: TestClient, credential_id: str, learner_api: dict[str, str]
) -> None:
    offer = _offer(client, credential_id, learner_api, tx_code="false")
    assert offer["tx_code"] is None
    grant = client.get(path_of(offer["credential_offer_uri"])).json()["grants"]
    assert "tx_code" not in grant[PRE_AUTHORIZED_GRANT]
    code = grant[PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    refused = client.post("/oid4vci/token", data=_form(code, "1"))
    _error(refused, 400, "invalid_request")
    ok = client.post(
        "/oid4vci/token", data={"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
    )
    assert ok.status_code == 200, ok.text


def test_the_token_endpoint_refuses_reused_expired_and_malformed_requests(
    client: TestClient,
    sessions: sessionmaker[Session],
    credential_id: str,
    learner_api: dict[str, str],
) -> None:
    _error(client.post("/oid4vci/token", data={}), 400, "invalid_request")
    _error(
        client.post("/oid4vci/token", data={"grant_type": "client_credentials", "code": "x"}),
        400,
        "unsupported_grant_type",
    )
    _error(  # the authorization code grant needs its PKCE verifier
        client.post("/oid4vci/token", data={"grant_type": "authorization_code", "code": "x"}),
        400,
        "invalid_request",
    )
    _error(
        client.post("/oid4vci/token", data={"grant_type": PRE_AUTHORIZED_GRANT}),
        400,
        "invalid_request",
    )
    unknown = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": "nope", "tx_code": "1"}
    assert "not known" in _error(client.post("/oid4vci/token", data=unknown), 400, "invalid_grant")

    offer = _offer(client, credential_id, learner_api)
    grant = client.get(path_of(offer["credential_offer_uri"])).json()["grants"]
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "tx_code": offer["tx_code"],
            "pre-authorized_code": grant[PRE_AUTHORIZED_GRANT]["pre-authorized_code"]}  # fmt: skip
    missing_pin = {k: v for k, v in form.items() if k != "tx_code"}
    _error(client.post("/oid4vci/token", data=missing_pin), 400, "invalid_request")
    assert client.post("/oid4vci/token", data=form).status_code == 200
    reused = _error(client.post("/oid4vci/token", data=form), 400, "invalid_grant")
    assert "already used" in reused
    gone = client.get(path_of(offer["credential_offer_uri"]))
    assert gone.status_code == 404 and "expired or was already used" in gone.json()[
        "error_description"]  # fmt: skip

    late = _offer(client, credential_id, learner_api)
    late_grant = client.get(path_of(late["credential_offer_uri"])).json()["grants"]
    with sessions.begin() as session:
        session.execute(
            update(CredentialOffer)
            .where(CredentialOffer.id == late["offer_id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = _form(late_grant[PRE_AUTHORIZED_GRANT]["pre-authorized_code"], late["tx_code"])
    assert "expired" in _error(client.post("/oid4vci/token", data=expired), 400, "invalid_grant")
    assert client.get(path_of(late["credential_offer_uri"])).status_code == 404


@pytest.mark.both_databases
def test_wrong_pins_are_counted_and_the_fifth_closes_the_offer(
    db_backend: str,
    client: TestClient,
    sessions: sessionmaker[Session],
    credential_id: str,
    learner_api: dict[str, str],
) -> None:
    offer = _offer(client, credential_id, learner_api)
    grant = client.get(path_of(offer["credential_offer_uri"])).json()["grants"]
    code = grant[PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    wrong = f"{(int(offer['tx_code']) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        answer = client.post("/oid4vci/token", data=_form(code, wrong))
        assert f"{left} attempts left" in _error(answer, 400, "invalid_grant")
    fifth = client.post("/oid4vci/token", data=_form(code, wrong))
    assert "closed" in _error(fifth, 400, "invalid_grant")
    right = client.post("/oid4vci/token", data=_form(code, offer["tx_code"]))
    assert "closed" in _error(right, 400, "invalid_grant")
    with sessions() as session:
        row = session.get(CredentialOffer, offer["offer_id"])
        assert row is not None and row.failed_tx_codes == 5 and row.redeemed_at is None


@pytest.mark.both_databases
def test_the_credential_endpoint_checks_token_request_and_proof(
    db_backend: str,
    client: TestClient,
    sessions: sessionmaker[Session],
    credential_id: str,
    learner_api: dict[str, str],
) -> None:
    missing = _ask(client, None, {"credential_configuration_id": LDP_VC})
    _error(missing, 401, "invalid_token")
    assert missing.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert missing.headers["access-control-allow-origin"] == "*"
    _error(_ask(client, "made-up", {"credential_configuration_id": LDP_VC}), 401, "invalid_token")
    sign_in_client(client, "learner@example.org")  # a session cookie is no access token
    _error(_ask(client, None, {"credential_configuration_id": LDP_VC}), 401, "invalid_token")

    token = _access_token(client, _offer(client, credential_id, learner_api))
    wallet = Wallet()
    _error(_ask(client, token, {"credential_configuration_id": "Diploma"}), 400,
           "unknown_credential_configuration")  # fmt: skip
    _error(_ask(client, token, {}), 400, "invalid_credential_request")
    _error(_ask(client, token, ["not", "an", "object"]), 400, "invalid_credential_request")

    assert "aud" in _error(
        _ask_with_proof(client, token, wallet, audience="https://elsewhere.example"),
        400, "invalid_proof",
    )  # fmt: skip
    assert "stale" in _error(
        _ask_with_proof(client, token, wallet, iat=time.time() - 3600), 400, "invalid_proof"
    )
    assert "future" in _error(
        _ask_with_proof(client, token, wallet, iat=time.time() + 3600), 400, "invalid_proof"
    )
    assert "typ" in _error(
        _ask_with_proof(client, token, wallet, header={"typ": "JWT"}), 400, "invalid_proof"
    )
    assert "'none'" in _error(
        _ask_with_proof(client, token, wallet, header={"alg": "none"}), 400, "invalid_proof"
    )
    assert "signature" in _error(
        _ask_with_proof(client, token, wallet, header={"kid": Wallet().kid}), 400, "invalid_proof"
    )
    unknown_nonce = _ask_with_proof(client, token, wallet, nonce="not-ours")
    _error(unknown_nonce, 400, "invalid_nonce")
    no_nonce = wallet.proof(audience=ISSUER, nonce=None)
    _error(_ask(client, token, {"credential_configuration_id": LDP_VC,
                                "proofs": {"jwt": [no_nonce]}}), 400, "invalid_nonce")  # fmt: skip
    nonce = _nonce(client)
    assert _ask_with_proof(client, token, wallet, nonce=nonce).status_code == 200
    replayed = _ask_with_proof(client, token, wallet, nonce=nonce)
    assert "already used" in _error(replayed, 400, "invalid_nonce")

    with sessions.begin() as session:
        session.execute(update(CredentialOffer).values(token_expires_at=utcnow()))
    expired = _ask(client, token, {"credential_configuration_id": LDP_VC})
    assert "expired" in _error(expired, 401, "invalid_token")


def test_a_credential_revoked_after_the_offer_is_refused_at_pickup(
    client: TestClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    world: World,
    credential_id: str,
    learner_api: dict[str, str],
) -> None:
    offer = _offer(client, credential_id, learner_api)
    token = _access_token(client, offer)
    unused = _offer(client, credential_id, learner_api)
    with sessions.begin() as session:
        service.revoke_credential(
            session, principal_of(session, world.staff), credential_id,
            reason="Issued in error", settings=settings,
        )  # fmt: skip
    refused = _ask(client, token, {"credential_configuration_id": LDP_VC})
    assert "revoked" in _error(refused, 400, "credential_request_denied")
    gone = client.get(path_of(unused["credential_offer_uri"]))
    assert gone.status_code == 404 and "revoked" in gone.json()["error_description"]
    again = client.post(f"/api/v1/credentials/{credential_id}/offers", headers=learner_api)
    assert again.status_code == 409 and "revoked" in again.json()["message"]


def test_only_the_recipient_can_offer_their_credential(
    client: TestClient,
    sessions: sessionmaker[Session],
    world: World,
    credential_id: str,
) -> None:
    url = f"/api/v1/credentials/{credential_id}/offers"
    assert client.post(url).status_code == 401
    for user in (world.staff, world.admin, world.employer):
        token = token_for(sessions, user.id, ["wallet:offer"])
        refused = client.post(url, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 403, refused.text
        assert "recipient" in refused.json()["message"]
    scoped = token_for(sessions, world.learner.id, ["wallet:present"])
    lacking = client.post(url, headers={"Authorization": f"Bearer {scoped}"})
    assert lacking.status_code == 403 and "wallet:offer" in lacking.json()["message"]
    with sessions() as session:
        assert session.scalars(select(CredentialOffer)).all() == []


def test_the_learner_adds_the_credential_from_its_page_and_sees_the_pickup(
    client: TestClient, sessions: sessionmaker[Session], credential_id: str
) -> None:
    csrf = sign_in_client(client, "learner@example.org")
    page = client.get(f"/credentials/{credential_id}")
    assert "Add to a wallet app" in page.text
    assert 'id="wallet-picked-up"' not in page.text
    wallet = client.get("/wallet").text
    assert f'action="/credentials/{credential_id}/wallet-offers"' in wallet
    forged = client.post(f"/credentials/{credential_id}/wallet-offers", data={})
    assert forged.status_code == 403
    created = client.post(
        f"/credentials/{credential_id}/wallet-offers", data={"csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303
    offer_page = client.get(created.headers["location"])
    assert offer_page.headers["cache-control"] == "no-store"
    assert 'id="offer-qr" src="data:image/svg+xml;base64,' in offer_page.text
    pin = re.search(r'id="offer-pin">(\d{6})<', offer_page.text)
    link = re.search(r'id="offer-link-text" readonly value="([^"]+)"', offer_page.text)
    assert pin and link
    offer = {"credential_offer_uri": offer_uri_of(link.group(1).replace("&amp;", "&")),
             "tx_code": pin.group(1)}  # fmt: skip
    token = _access_token(client, offer)
    assert _ask_with_proof(client, token, Wallet()).status_code == 200
    reloaded = client.get(created.headers["location"])
    assert "Picked up by a wallet app at" in reloaded.text
    assert 'id="offer-pin"' not in reloaded.text
    credential_page = client.get(f"/credentials/{credential_id}").text
    assert 'id="wallet-picked-up"' in credential_page
    assert "Picked up by a wallet app at" in credential_page


def test_staff_and_other_learners_cannot_open_an_offer_page(
    client: TestClient,
    sessions: sessionmaker[Session],
    world: World,
    credential_id: str,
    learner_api: dict[str, str],
) -> None:
    offer = _offer(client, credential_id, learner_api)
    csrf = sign_in_client(client, "staff@north.example")
    assert client.get(f"/wallet/offers/{offer['offer_id']}").status_code == 404
    refused = client.post(f"/credentials/{credential_id}/wallet-offers", data={"csrf_token": csrf})
    assert refused.status_code == 403 and "recipient" in refused.text
    assert "Add to a wallet app" not in client.get(f"/credentials/{credential_id}").text


def test_a_revoked_credential_has_no_wallet_button_and_its_offer_is_refused_on_the_page(
    client: TestClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    world: World,
    credential_id: str,
) -> None:
    anonymous = client.post(f"/credentials/{credential_id}/wallet-offers", follow_redirects=False)
    assert anonymous.status_code == 303 and "/sign-in" in anonymous.headers["location"]
    with sessions.begin() as session:
        service.revoke_credential(
            session, principal_of(session, world.staff), credential_id,
            reason="Issued in error", settings=settings,
        )  # fmt: skip
    csrf = sign_in_client(client, "learner@example.org")
    assert 'id="add-to-wallet-app"' not in client.get(f"/credentials/{credential_id}").text
    refused = client.post(f"/credentials/{credential_id}/wallet-offers", data={"csrf_token": csrf})
    assert refused.status_code == 409
    assert "revoked, so it cannot be added to a wallet app" in refused.text


def test_a_wallet_on_a_draft_before_1_0_gets_its_nonce_and_response_shape(
    client: TestClient, credential_id: str, learner_api: dict[str, str]
) -> None:
    """Drafts up to 13: the first c_nonce in the token response, the single ``proof`` object,
    ``format`` instead of a configuration id, and ``{"credential": …}`` back."""
    offer = _offer(client, credential_id, learner_api)
    grant = client.get(path_of(offer["credential_offer_uri"])).json()["grants"]
    code = grant[PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    issued = client.post("/oid4vci/token", data=_form(code, offer["tx_code"])).json()
    assert issued["c_nonce_expires_in"] == 300
    wallet = Wallet()
    proof = {"proof_type": "jwt", "jwt": wallet.proof(audience=ISSUER, nonce=issued["c_nonce"])}
    headers = {"Authorization": f"Bearer {issued['access_token']}"}
    definition = {"type": ["VerifiableCredential", "OpenBadgeCredential"]}
    body = {"format": "jwt_vc_json", "proof": proof, "credential_definition": definition}
    response = client.post("/oid4vci/credential", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert decode_jwt(response.json()["credential"]).payload["vc"]["id"].endswith(credential_id)
    sd_jwt = client.post("/oid4vci/credential", json={"format": "vc+sd-jwt"}, headers=headers)
    _error(sd_jwt, 400, "unsupported_credential_format")
    both = {"format": "ldp_vc", "proof": proof, "proofs": {"jwt": [proof["jwt"]]}}
    _error(client.post("/oid4vci/credential", json=both, headers=headers), 400,
           "invalid_credential_request")  # fmt: skip


def test_the_learner_cancels_an_offer_and_its_code_and_token_stop_working(
    client: TestClient, sessions: sessionmaker[Session], world: World, credential_id: str,
    learner_api: dict[str, str],
) -> None:  # fmt: skip
    offer = _offer(client, credential_id, learner_api)
    token = _access_token(client, offer)
    other = token_for(sessions, world.staff.id, ["wallet:offer"])
    url = f"/api/v1/credentials/{credential_id}/offers/{offer['offer_id']}"
    assert client.delete(url, headers={"Authorization": f"Bearer {other}"}).status_code == 404
    assert client.delete(url, headers=learner_api).status_code == 204
    refused = _ask(client, token, {"credential_configuration_id": LDP_VC})
    assert "cancelled by the learner" in _error(refused, 401, "invalid_token")
    statuses = client.get(f"/api/v1/credentials/{credential_id}/offers", headers=learner_api)
    assert statuses.json()[0]["state"] == "closed"

    csrf = sign_in_client(client, "learner@example.org")
    created = client.post(f"/credentials/{credential_id}/wallet-offers",
                          data={"csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    shown = client.get(created.headers["location"]).text
    link = re.search(r'id="offer-link-text" readonly value="([^"]+)"', shown)
    assert link and 'id="cancel-offer"' in shown
    offer_id = created.headers["location"].rsplit("/", 1)[1]
    cancelled = client.post(f"/wallet/offers/{offer_id}/cancel", data={"csrf_token": csrf})
    assert "cancelled by the learner" in cancelled.text and 'id="offer-qr"' not in cancelled.text
    assert client.get(path_of(offer_uri_of(link.group(1)))).status_code == 404
    with sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
        assert actions.count("wallet.oid4vci_offer.cancel") == 2

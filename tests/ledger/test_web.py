"""The public ledger page, the checkpoint URL and the proofs API, including their refusals."""

from __future__ import annotations

import base64
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.ledger import service
from microcred.ledger.merkle import verify_consistency, verify_inclusion
from microcred.ledger.receipts import verify_receipt
from microcred.settings import Settings
from tests.conftest import World, sign_in_client
from tests.ledger.conftest import credential_hash, record


def _checkpointed(sessions: sessionmaker[Session], settings: Settings, count: int) -> str:
    with sessions.begin() as session:
        record(session, count)
        service.create_checkpoint(session, settings)
        return service.log_verifier(session).encode()


def test_the_ledger_page_before_and_after_the_first_checkpoint(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    empty = client.get("/ledger")
    assert empty.status_code == 200 and "No checkpoint has been signed yet" in empty.text
    assert client.get("/ledger/checkpoint").status_code == 404
    log_key = _checkpointed(sessions, settings, 12)
    page = client.get("/ledger")
    assert page.status_code == 200
    assert "12 leaves" in page.text and log_key in page.text
    # one checkpoint is no line: the page says so instead of drawing a lone dot
    assert '<svg class="ledger-chart"' not in page.text and 'id="growth-single"' in page.text
    _checkpointed(sessions, settings, 3)
    grown = client.get("/ledger").text
    assert '<svg class="ledger-chart"' in grown and 'id="growth-single"' not in grown
    # both checkpoints fall on one day: the axis names their times, not the same date twice
    labels = re.findall(r'<text class="chart-label"[^>]*>([^<]+)</text>', grown)
    assert len(labels) == 4
    for label in labels[2:]:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", label), label
    assert "style=" not in grown and "<script" not in grown


def test_a_credential_lookup_shows_its_verified_ledger_section(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    _checkpointed(sessions, settings, 4)
    page = client.get("/ledger", params={"credential": credential_hash(2).hex()})
    assert "check-pass" in page.text and "leaf 2" in page.text
    unknown = client.get("/ledger", params={"credential": "ab" * 32})
    assert "no event in the public ledger" in unknown.text
    bad = client.get("/ledger", params={"credential": "xyz"})
    assert "64 hex digits" in bad.text


def test_the_checkpoint_is_served_as_a_signed_note_at_a_stable_url(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    log_key = _checkpointed(sessions, settings, 3)
    response = client.get("/ledger/checkpoint")
    assert response.headers["content-type"].startswith("text/plain")
    origin = log_key.split("+")[0]
    assert response.text.startswith(f"{origin}\n3\n")
    assert client.get("/ledger/key").text.strip() == log_key
    status = client.get("/api/v1/ledger").json()
    assert status["tree_size"] == 3 and status["latest_checkpoint"]["note"] == response.text


def test_proofs_from_the_api_verify(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    _checkpointed(sessions, settings, 11)
    inclusion = client.get(
        "/api/v1/ledger/proofs/inclusion", params={"leaf_index": 7, "tree_size": 11}
    ).json()
    decode = base64.b64decode
    verify_inclusion(
        7,
        11,
        decode(inclusion["leaf_hash"]),
        [decode(p) for p in inclusion["proof"]],
        decode(inclusion["root_hash"]),
    )
    consistency = client.get(
        "/api/v1/ledger/proofs/consistency", params={"first": 4, "second": 11}
    ).json()
    verify_consistency(
        4,
        11,
        decode(consistency["first_root"]),
        decode(consistency["second_root"]),
        [decode(p) for p in consistency["proof"]],
    )
    leaf = client.get("/api/v1/ledger/leaves/7").json()
    assert leaf["credential_hash"] == credential_hash(7).hex() and leaf["event"] == "issued"
    receipts = client.get(
        "/api/v1/ledger/receipts", params={"credential_hash": credential_hash(7).hex()}
    ).json()
    key = client.get("/ledger/key").text
    assert [c.status for c in verify_receipt(receipts[0], key)] == ["pass"]
    assert client.get("/api/v1/ledger/checkpoints").json()[0]["tree_size"] == 11
    assert client.get("/api/v1/ledger/checkpoints/11").status_code == 200


def test_bad_proof_requests_are_clear_4xx_errors(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    _checkpointed(sessions, settings, 5)
    too_big = client.get(
        "/api/v1/ledger/proofs/inclusion", params={"leaf_index": 1, "tree_size": 9}
    )
    assert too_big.status_code == 400
    assert too_big.json() == {
        "error": "ProofError",
        "message": "The log has 5 leaves; there is no tree of 9 leaves yet.",
        "field": "tree_size",
    }
    outside = client.get(
        "/api/v1/ledger/proofs/inclusion", params={"leaf_index": 5, "tree_size": 5}
    )
    assert outside.status_code == 400 and outside.json()["field"] == "leaf_index"
    negative = client.get(
        "/api/v1/ledger/proofs/inclusion", params={"leaf_index": -1, "tree_size": 5}
    )
    assert negative.status_code == 422
    backwards = client.get("/api/v1/ledger/proofs/consistency", params={"first": 5, "second": 2})
    assert backwards.status_code == 400
    assert client.get("/api/v1/ledger/leaves/99").status_code == 404
    assert client.get("/api/v1/ledger/checkpoints/4").status_code == 404
    assert (
        client.get("/api/v1/ledger/receipts", params={"credential_hash": "zz"}).status_code == 400
    )
    garbage = client.post("/api/v1/ledger/cosignatures", json={"checkpoint": "not a note"})
    assert garbage.status_code == 400 and garbage.json()["error"] == "CheckpointError"


def test_only_administrators_sign_checkpoints_on_demand(client: TestClient, world: World) -> None:
    assert client.post("/api/v1/ledger/checkpoints").status_code == 401
    csrf = sign_in_client(client, world.learner.email)
    refused = client.post("/api/v1/ledger/checkpoints", headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403
    client.cookies.clear()
    csrf = sign_in_client(client, world.admin.email)
    created = client.post("/api/v1/ledger/checkpoints", headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201 and created.json()["tree_size"] == 0
    assert re.match(r"^\S+\n0\n", created.json()["note"])

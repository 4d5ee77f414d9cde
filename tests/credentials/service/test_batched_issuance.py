"""The batched issuance path (``Issuance.queue`` + ``finish``) stores what ``issue`` stores."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import service
from microcred.credentials.keys import Ed25519Key
from microcred.credentials.models import IssuedCredential
from microcred.credentials.proofs import jcs
from microcred.credentials.proofs.dataintegrity import add_proof
from microcred.credentials.resolvers import verify
from microcred.ledger.service import leaves_for_credential
from microcred.settings import Settings
from tests.conftest import World
from tests.credentials.service.conftest import issue_input

FORMATS = ["eddsa-jcs-2022", "vc-jwt-es256"]


def test_a_queued_batch_is_stored_signed_linked_and_recorded_at_finish(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> None:
    with sessions.begin() as session:
        issuance = service.Issuance(session, settings, audit=False, defer_ledger=True)
        emails = ["LEARNER@example.org", "nobody@example.org"]
        issuance.prefetch_recipients([*emails, "not an address"], world.college.id)
        ids = [
            issuance.queue(
                None, **issue_input(definition_id, recipient_email=email), formats=FORMATS
            )
            for email in emails
        ]
        assert session.scalar(select(IssuedCredential.id)) is None  # nothing written yet
        issuance.finish()
    with sessions() as session:
        rows = [service.get_credential(session, credential_id) for credential_id in ids]
        assert rows[0].recipient_user_id == world.learner.id
        assert rows[0].recipient_email == "learner@example.org"
        assert rows[1].recipient_user_id is None
        for row in rows:
            assert row.formats == FORMATS and set(row.jwts) == {"vc-jwt-es256"}
            assert row.credential_hash == service.credential_hash(row.document).hex()
            leaves = leaves_for_credential(session, bytes.fromhex(row.credential_hash))
            assert [index for index, _ in leaves] == [row.ledger_leaf_index]
            for source in (row.document, row.jwts["vc-jwt-es256"]):
                assert verify(session, source, settings, allow_remote=False).valid
        assert rows[0].status_index != rows[1].status_index


def test_a_repeated_idempotency_key_in_a_batch_issues_once(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> None:
    with sessions.begin() as session:
        issuance = service.Issuance(session, settings, audit=False, defer_ledger=True)
        first = issuance.queue(None, **issue_input(definition_id), idempotency_key="row-1")
        again = issuance.queue(None, **issue_input(definition_id), idempotency_key=" row-1 ")
        issuance.finish()
    assert first == again
    with sessions.begin() as session:
        issuance = service.Issuance(session, settings, audit=False, defer_ledger=True)
        assert issuance.queue(None, **issue_input(definition_id), idempotency_key="row-1") == first
        issuance.finish()
        assert len(session.scalars(select(IssuedCredential.id)).all()) == 1


def test_a_given_jcs_digest_signs_exactly_what_hashing_the_document_signs() -> None:
    key = Ed25519Key.generate()
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:x", "n": 1}
    created = datetime(2025, 1, 2, tzinfo=UTC)
    digest = hashlib.sha256(jcs.canonicalize(document)).digest()
    for suite in ("eddsa-jcs-2022", "eddsa-rdfc-2022"):
        plain = add_proof(document, key, "did:key:z#k", suite=suite, created=created)
        reused = add_proof(
            document, key, "did:key:z#k", suite=suite, created=created, jcs_digest=digest
        )
        assert reused == plain

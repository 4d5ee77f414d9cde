"""The verification service's per-process caches never serve a stale DID document or status list."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import service
from microcred.credentials.keystore import did_document_for_slug, rotate_issuer_key
from microcred.credentials.resolvers import cached_did_document, issuer_record, verify
from microcred.settings import Settings
from tests.conftest import World
from tests.credentials.service.conftest import issue_input


def _issue(
    sessions: sessionmaker[Session], settings: Settings, definition_id: str, email: str
) -> tuple[str, dict[str, Any]]:
    with sessions.begin() as session:
        row = service.issue_credential(
            session,
            None,
            settings=settings,
            **issue_input(definition_id, recipient_email=email),
        )
        return row.id, row.document


def test_a_revocation_after_a_cached_verification_is_seen_at_once(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> None:
    credential_id, document = _issue(sessions, settings, definition_id, "a@example.org")
    with sessions() as session:
        assert verify(session, document, settings, allow_remote=False).valid  # now cached
    with sessions.begin() as session:
        service.revoke_credential(session, None, credential_id, reason="Fraud", settings=settings)
    with sessions() as session:
        report = verify(session, document, settings, allow_remote=False)
    assert report.failed("status") and not report.valid


def test_a_key_rotated_in_another_transaction_is_resolved_at_once(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> None:
    _, old = _issue(sessions, settings, definition_id, "a@example.org")
    with sessions() as session:
        assert verify(session, old, settings, allow_remote=False).valid  # DID document cached
    with sessions.begin() as session:
        rotate_issuer_key(session, None, "north-college", settings=settings)
    _, new = _issue(sessions, settings, definition_id, "b@example.org")
    assert new["proof"]["verificationMethod"].endswith("#key-2")
    with sessions() as session:
        for document in (old, new):
            assert verify(session, document, settings, allow_remote=False).valid


def test_the_cached_did_document_is_the_uncached_one_and_a_private_copy(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> None:
    _issue(sessions, settings, definition_id, "a@example.org")
    with sessions() as session:
        record = issuer_record(session, "north-college")
        assert record is not None and record.key_count == 1
        expected = did_document_for_slug(session, "north-college", settings.base_url)
        first = cached_did_document(session, record, settings.base_url)
        assert first == expected
        first["verificationMethod"].clear()  # a caller's change must not reach the cache
        assert cached_did_document(session, record, settings.base_url) == expected
        assert issuer_record(session, "no-such-issuer") is None

"""Verification's hot reads (driver-level queries, per-process caches) on both databases: they
return what the ORM returns and never hide a revocation or a key rotation committed elsewhere."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import service
from microcred.credentials.keystore import rotate_issuer_key
from microcred.credentials.models import IssuerKey, StatusList
from microcred.credentials.resolvers import issuer_record, verify
from microcred.db.prepared import PreparedRead
from microcred.ledger.service import leaves_for_credential
from microcred.settings import Settings
from tests.conftest import World
from tests.credentials.service.conftest import issue_input

pytestmark = pytest.mark.both_databases


def _issue(
    sessions: sessionmaker[Session],
    settings: Settings,
    definition_id: str,
    email: str,
    formats: list[str] | None = None,
) -> tuple[str, dict[str, Any], dict[str, str]]:
    with sessions.begin() as session:
        row = service.issue_credential(
            session,
            None,
            settings=settings,
            **issue_input(definition_id, recipient_email=email, formats=formats),
        )
        return row.id, row.document, dict(row.jwts)


def test_a_prepared_read_returns_the_values_the_orm_returns(
    db_backend: str, sessions: sessionmaker[Session], settings: Settings, definition_id: str
) -> None:
    _issue(sessions, settings, definition_id, "a@example.org")
    columns = StatusList.__table__.c
    statement = select(columns.id, columns.revision, columns.signed_credential)
    key_columns = IssuerKey.__table__.c
    dates = select(key_columns.created_at, key_columns.public_jwk)
    with sessions() as session:
        assert PreparedRead(statement).all(session, {}) == [
            tuple(row) for row in session.execute(statement)
        ]
        assert PreparedRead(dates).all(session, {}) == [
            tuple(row) for row in session.execute(dates)
        ]


def test_a_prepared_read_sees_the_sessions_pending_changes(
    db_backend: str, sessions: sessionmaker[Session], settings: Settings, definition_id: str
) -> None:
    _issue(sessions, settings, definition_id, "a@example.org")
    columns = StatusList.__table__.c
    with sessions() as session:
        status_list = session.scalars(select(StatusList)).one()
        status_list.revision += 7
        revision = PreparedRead(select(columns.revision)).first(session, {})
        assert revision == (status_list.revision,)
        session.rollback()


@pytest.mark.parametrize("fmt", ["eddsa-jcs-2022", "vc-jwt-es256", "vc-jose-eddsa"])
def test_a_revocation_committed_after_a_cached_verification_is_seen_at_once(
    db_backend: str,
    fmt: str,
    sessions: sessionmaker[Session],
    settings: Settings,
    world: World,
    definition_id: str,
) -> None:
    credential_id, document, jwts = _issue(
        sessions, settings, definition_id, "a@example.org", [fmt]
    )
    source = jwts.get(fmt, document)
    with sessions() as reader:  # a long-lived reading session, as a web worker's verifier
        assert verify(reader, source, settings, allow_remote=False).valid  # caches now warm
        reader.commit()
        with sessions.begin() as writer:
            service.revoke_credential(
                writer, None, credential_id, reason="Fraud", settings=settings
            )
        report = verify(reader, source, settings, allow_remote=False)
    assert report.failed("status") and not report.valid


def test_a_rotation_committed_elsewhere_is_resolved_and_the_old_key_still_verifies(
    db_backend: str,
    sessions: sessionmaker[Session],
    settings: Settings,
    world: World,
    definition_id: str,
) -> None:
    _, old, _ = _issue(sessions, settings, definition_id, "a@example.org", ["eddsa-jcs-2022"])
    with sessions() as reader:
        assert verify(reader, old, settings, allow_remote=False).valid
        before = issuer_record(reader, "north-college")
        reader.commit()
        with sessions.begin() as writer:
            rotate_issuer_key(writer, None, "north-college", settings=settings)
        _, new, _ = _issue(sessions, settings, definition_id, "b@example.org", ["eddsa-jcs-2022"])
        assert new["proof"]["verificationMethod"].endswith("#key-2")
        after = issuer_record(reader, "north-college")
        assert before is not None and after is not None and after != before
        assert after.key_count == 2
        for document in (old, new):
            assert verify(reader, document, settings, allow_remote=False).valid


def test_the_ledger_check_reuses_the_proofs_hash_which_is_the_credential_hash(
    db_backend: str,
    sessions: sessionmaker[Session],
    settings: Settings,
    world: World,
    definition_id: str,
) -> None:
    _, document, _ = _issue(sessions, settings, definition_id, "a@example.org", ["eddsa-jcs-2022"])
    with sessions() as session:
        report = verify(session, document, settings, allow_remote=False)
        digest = service.credential_hash(document)
        assert report.valid and report.jcs_digest == digest
        assert [leaf.event.value for _, leaf in leaves_for_credential(session, digest)] == [
            "issued"
        ]
        assert [check.status for check in report.check("ledger")] == ["warning"]


def test_a_verification_of_our_credential_reads_the_database_once(
    db_backend: str,
    sessions: sessionmaker[Session],
    settings: Settings,
    world: World,
    definition_id: str,
) -> None:
    if db_backend != "sqlite":
        pytest.skip("counts statements with SQLite's trace callback")
    _, _, jwts = _issue(sessions, settings, definition_id, "a@example.org", ["vc-jose-eddsa"])
    with sessions() as session:
        assert verify(session, jwts["vc-jose-eddsa"], settings, allow_remote=False).valid  # warm
        statements: list[str] = []
        driver = session.connection().connection.dbapi_connection
        assert driver is not None
        driver.set_trace_callback(statements.append)  # type: ignore[attr-defined]
        report = verify(session, jwts["vc-jose-eddsa"], settings, allow_remote=False)
        driver.set_trace_callback(None)  # type: ignore[attr-defined]
    assert report.valid
    assert len([sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]) == 1

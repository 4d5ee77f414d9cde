"""Revocation, suspension and reinstatement: visible in the served status list at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.credentials import service
from microcred.credentials.errors import CredentialError
from microcred.credentials.models import CredentialState, StatusChange, StatusList
from microcred.credentials.resolvers import verify
from microcred.credentials.status.bitstring import MIN_LIST_LENGTH, decode_list, get_bit
from microcred.credentials.statuslists import status_list_document
from microcred.errors import PermissionDenied
from microcred.ledger.service import leaves_for_credential
from microcred.settings import Settings
from tests.conftest import World
from tests.credentials.service.conftest import issue_input, principal_of


def _published_bit(session: Session, settings: Settings, list_id: str, index: int) -> bool:
    document = status_list_document(session, list_id, settings)
    return get_bit(decode_list(document["credentialSubject"]["encodedList"]), index)  # type: ignore[index]


@pytest.mark.both_databases
def test_revocation_is_published_at_once_and_recorded(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    row = service.issue_credential(session, None, settings=settings, **issue_input(definition_id))
    assert not _published_bit(session, settings, row.status_list_id, row.status_index)
    service.revoke_credential(
        session, principal_of(session, world.staff), row.id, reason="Plagiarism", settings=settings
    )
    assert _published_bit(session, settings, row.status_list_id, row.status_index)
    report = verify(session, row.document, settings, allow_remote=False)
    assert report.failed("status") and not report.valid
    assert row.state is CredentialState.revoked
    change = session.scalar(select(StatusChange).where(StatusChange.credential_id == row.id))
    assert change is not None and change.reason == "Plagiarism"
    events = [
        leaf.event.value
        for _, leaf in leaves_for_credential(session, bytes.fromhex(row.credential_hash))
    ]
    assert events == ["issued", "revoked"]
    # the reason is kept, never published
    assert "Plagiarism" not in str(status_list_document(session, row.status_list_id, settings))
    with pytest.raises(CredentialError):
        service.revoke_credential(session, None, row.id, reason="again", settings=settings)


@pytest.mark.both_databases
def test_suspension_and_reinstatement(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    row = service.issue_credential(
        session, None, settings=settings, **issue_input(definition_id, status_purpose="suspension")
    )
    assert row.document["credentialStatus"]["statusPurpose"] == "suspension"
    service.revoke_credential(
        session, None, row.id, reason="Under review", purpose="suspension", settings=settings
    )
    assert verify(session, row.document, settings, allow_remote=False).failed("status")
    service.reinstate_credential(session, None, row.id, reason="Cleared", settings=settings)
    assert verify(session, row.document, settings, allow_remote=False).valid
    assert row.state is CredentialState.active
    events = [
        leaf.event.value
        for _, leaf in leaves_for_credential(session, bytes.fromhex(row.credential_hash))
    ]
    assert events == ["issued", "suspended", "reinstated"]


def test_a_revocation_entry_cannot_be_suspended_nor_an_active_one_reinstated(
    session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    row = service.issue_credential(session, None, settings=settings, **issue_input(definition_id))
    with pytest.raises(CredentialError) as raised:
        service.revoke_credential(
            session, None, row.id, reason="x", purpose="suspension", settings=settings
        )
    assert raised.value.field == "purpose"
    with pytest.raises(CredentialError):
        service.reinstate_credential(session, None, row.id, reason="x", settings=settings)
    with pytest.raises(CredentialError) as raised:
        service.revoke_credential(session, None, row.id, reason="  ", settings=settings)
    assert raised.value.field == "reason"


def test_staff_of_another_issuer_cannot_revoke(
    session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    row = service.issue_credential(session, None, settings=settings, **issue_input(definition_id))
    with pytest.raises(PermissionDenied):
        service.revoke_credential(
            session, principal_of(session, world.other_staff), row.id, reason="x", settings=settings
        )
    assert row.state is CredentialState.active
    assert not _published_bit(session, settings, row.status_list_id, row.status_index)


def test_status_lists_are_large_random_and_never_reuse_an_index(
    session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    rows = [
        service.issue_credential(
            session,
            None,
            settings=settings,
            **issue_input(definition_id, recipient_email=f"l{n}@example.org"),
        )
        for n in range(12)
    ]
    indexes = [row.status_index for row in rows]
    assert len(set(indexes)) == len(indexes)
    assert indexes != sorted(indexes)  # random, not sequential (1 in 12! to fail by chance)
    status_list = session.get(StatusList, rows[0].status_list_id)
    assert status_list is not None and status_list.length >= MIN_LIST_LENGTH
    assert status_list.allocated_count == 12
    listing = status_list_document(session, status_list.id, settings)
    assert len(decode_list(listing["credentialSubject"]["encodedList"])) * 8 >= 131_072  # type: ignore[index]
    assert listing["proof"]["cryptosuite"] == "eddsa-rdfc-2022"  # type: ignore[index]


def test_a_tampered_status_list_fails_even_after_the_genuine_one_was_checked(
    session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    from microcred.credentials.resolvers import verification_fetcher
    from microcred.credentials.status.bitstring import encode_list, new_bitstring, set_bit

    row = service.issue_credential(session, None, settings=settings, **issue_input(definition_id))
    assert verify(session, row.document, settings, allow_remote=False).valid  # cached as good
    genuine = verification_fetcher(session, settings, allow_remote=False)
    bits = new_bitstring()
    set_bit(bits, row.status_index, True)

    def forging(url: str) -> dict[str, object]:
        document = genuine(url)
        if "/status/" in url:
            subject = {**document["credentialSubject"], "encodedList": encode_list(bits)}  # type: ignore[dict-item]
            return {**document, "credentialSubject": subject}
        return document

    report = verify(session, row.document, settings, fetcher=forging)
    assert report.failed("status")
    assert any("proof" in check.reason for check in report.check("status"))

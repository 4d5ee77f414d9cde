"""Status entries for documents that are not credential rows (a pathway award's CLR): allocated
from the issuer's lists, changed with the list re-signed and a ledger event."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from microcred.credentials import service
from microcred.credentials.errors import CredentialError
from microcred.credentials.status.bitstring import decode_list, get_bit
from microcred.credentials.statuslists import status_list_document
from microcred.ledger.service import leaves_for_credential
from microcred.settings import Settings
from tests.conftest import World


def _published_bit(session: Session, settings: Settings, status: service.DocumentStatus) -> bool:
    document = status_list_document(session, status.status_list_id, settings)
    encoded = document["credentialSubject"]["encodedList"]  # type: ignore[index]
    return get_bit(decode_list(encoded), status.status_index)


@pytest.mark.both_databases
def test_a_document_status_is_allocated_changed_and_recorded(
    session: Session, settings: Settings, world: World
) -> None:
    status = service.allocate_document_status(session, world.college, settings, "suspension")
    other = service.allocate_document_status(session, world.college, settings, "suspension")
    assert (status.status_list_id, status.status_index) != (
        other.status_list_id,
        other.status_index,
    )
    entry = status.entry(settings)
    assert entry["statusPurpose"] == "suspension"
    assert entry["statusListIndex"] == str(status.status_index)
    document = {"id": "urn:uuid:1", "credentialStatus": entry}
    service.record_document_event(session, document, world.college, "issued", settings)
    assert not _published_bit(session, settings, status)

    service.change_document_status(
        session, status, document, world.college, action="suspended", settings=settings
    )
    assert _published_bit(session, settings, status)
    service.change_document_status(
        session, status, document, world.college, action="reinstated", settings=settings
    )
    assert not _published_bit(session, settings, status)

    events = [
        leaf.event.value
        for _, leaf in leaves_for_credential(session, service.credential_hash(document))
    ]
    assert events == ["issued", "suspended", "reinstated"]


def test_a_revocation_entry_can_only_be_revoked(
    session: Session, settings: Settings, world: World
) -> None:
    status = service.allocate_document_status(session, world.college, settings)
    document = {"id": "urn:uuid:2", "credentialStatus": status.entry(settings)}
    with pytest.raises(CredentialError, match="revocation status entry"):
        service.change_document_status(
            session, status, document, world.college, action="suspended", settings=settings
        )
    service.change_document_status(
        session, status, document, world.college, action="revoked", settings=settings
    )
    assert _published_bit(session, settings, status)

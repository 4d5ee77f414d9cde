"""Bitstring Status Lists in the database: random index allocation, bit changes, the signed list.

Each issuer has lists per purpose (revocation, suspension) of :data:`LIST_LENGTH` entries. An
index is drawn with a CSPRNG among those never handed out (the map of taken indexes is kept per
list), so a list reveals nothing about issuance order; a list stops taking new credentials once
three quarters are taken and a new one starts. A change of a bit re-signs the list credential at
once, so verifiers fetching ``/status/{id}`` see a revocation immediately.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from secrets import randbelow

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation
from microcred.credentials.errors import CredentialError
from microcred.credentials.keystore import issuer_did, signing_key
from microcred.credentials.models import KeyAlgorithm, StatusList
from microcred.credentials.proofs.dataintegrity import add_proof
from microcred.credentials.status.bitstring import (
    MIN_LIST_LENGTH,
    PURPOSES,
    Purpose,
    build_status_list_credential,
    get_bit,
    new_bitstring,
    set_bit,
)
from microcred.db.base import new_id, utcnow
from microcred.errors import NotFound
from microcred.settings import Settings

LIST_LENGTH = MIN_LIST_LENGTH
FULL_AT = LIST_LENGTH * 3 // 4
STATUS_LIST_SUITE = "eddsa-rdfc-2022"


def status_list_url(base_url: str, list_id: str) -> str:
    return f"{base_url.rstrip('/')}/status/{list_id}"


def _pack(bits: bytes | bytearray) -> bytes:
    return gzip.compress(bytes(bits), compresslevel=6, mtime=0)


def _unpack(packed: bytes) -> bytearray:
    return bytearray(gzip.decompress(packed))


@dataclass
class _OpenList:
    row: StatusList
    taken: bytearray
    added: int = 0


@dataclass
class StatusAllocator:
    """Hands out status indexes within one transaction; :meth:`flush` writes the maps back.

    Bulk issuance keeps one allocator per batch so each list map is unpacked and packed once.
    """

    session: Session
    settings: Settings
    _open: dict[tuple[str, str], _OpenList] = field(default_factory=dict)

    def _lock_and_load(self, organisation: Organisation, purpose: str) -> _OpenList:
        # A write first: PostgreSQL locks the rows, SQLite takes its write lock now rather than
        # failing later when this transaction upgrades from reading.
        self.session.execute(
            update(StatusList)
            .where(
                StatusList.organisation_id == organisation.id,
                StatusList.purpose == purpose,
                StatusList.is_full.is_(False),
            )
            .values(revision=StatusList.revision)
            .execution_options(synchronize_session=False)
        )
        row = self.session.scalars(
            select(StatusList)
            .where(
                StatusList.organisation_id == organisation.id,
                StatusList.purpose == purpose,
                StatusList.is_full.is_(False),
            )
            .order_by(StatusList.created_at)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if row is None:
            row = create_status_list(self.session, organisation, purpose, self.settings)
        return _OpenList(row, _unpack(row.allocated))

    def allocate(self, organisation: Organisation, purpose: str) -> tuple[StatusList, int]:
        if purpose not in PURPOSES:
            raise CredentialError(
                f"status purpose must be one of {', '.join(PURPOSES)}.", field="status_purpose"
            )
        key = (organisation.id, purpose)
        current = self._open.get(key) or self._lock_and_load(organisation, purpose)
        self._open[key] = current
        if current.row.allocated_count + current.added >= FULL_AT:
            self._close(current)
            current = _OpenList(
                create_status_list(self.session, organisation, purpose, self.settings),
                new_bitstring(LIST_LENGTH),
            )
            self._open[key] = current
        taken, length = current.taken, current.row.length
        for _ in range(64):  # a random free index (the list is at most 3/4 full)
            index = randbelow(length)
            byte, mask = index >> 3, 0x80 >> (index & 7)
            if not taken[byte] & mask:
                taken[byte] |= mask
                current.added += 1
                return current.row, index
        self._close(current)
        del self._open[key]
        return self.allocate(organisation, purpose)

    def release(self, row: StatusList, index: int) -> None:
        """Give back an index whose credential was not issued after all (never published)."""
        for current in self._open.values():
            if current.row is row and current.added and get_bit(current.taken, index):
                set_bit(current.taken, index, False)
                current.added -= 1
                return

    def _close(self, current: _OpenList) -> None:
        current.row.allocated = _pack(current.taken)
        current.row.allocated_count += current.added
        current.row.is_full = True
        current.added = 0

    def flush(self) -> None:
        for current in self._open.values():
            if current.added:
                current.row.allocated = _pack(current.taken)
                current.row.allocated_count += current.added
                current.row.is_full = current.row.allocated_count >= FULL_AT
                current.added = 0
        self.session.flush()


def create_status_list(
    session: Session, organisation: Organisation, purpose: str, settings: Settings
) -> StatusList:
    empty = _pack(new_bitstring(LIST_LENGTH))
    row = StatusList(
        id=new_id(),
        organisation_id=organisation.id,
        purpose=purpose,
        length=LIST_LENGTH,
        bits=empty,
        allocated=empty,
        allocated_count=0,
        is_full=False,
        revision=0,
    )
    session.add(row)
    session.flush()
    sign_status_list(session, row, organisation, settings)
    return row


def sign_status_list(
    session: Session, row: StatusList, organisation: Organisation, settings: Settings
) -> None:
    """Regenerate the list's ``BitstringStatusListCredential``, signed by the issuer's key."""
    key = signing_key(session, organisation, KeyAlgorithm.ed25519, settings)
    assert key.ed25519 is not None
    purpose: Purpose = "suspension" if row.purpose == "suspension" else "revocation"
    now = utcnow()
    unsigned = build_status_list_credential(
        list_url=status_list_url(settings.base_url, row.id),
        issuer=issuer_did(settings.base_url, organisation.slug),
        purpose=purpose,
        bitstring=_unpack(row.bits),
        valid_from=now,
    )
    row.signed_credential = add_proof(
        unsigned, key.ed25519, key.verification_method, suite=STATUS_LIST_SUITE, created=now
    )
    row.updated_at = now


def set_status_bit(
    session: Session, list_id: str, index: int, value: bool, settings: Settings
) -> StatusList:
    """Set or clear one entry and re-sign the list (in the caller's transaction)."""
    return set_status_bits(session, list_id, (index,), value, settings)


def set_status_bits(
    session: Session, list_id: str, indexes: Iterable[int], value: bool, settings: Settings
) -> StatusList:
    """Set or clear entries and re-sign the list once (in the caller's transaction)."""
    session.execute(
        update(StatusList)
        .where(StatusList.id == list_id)
        .values(revision=StatusList.revision + 1)
        .execution_options(synchronize_session=False)
    )
    row = session.scalars(
        select(StatusList)
        .where(StatusList.id == list_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    bits = _unpack(row.bits)
    for index in indexes:
        set_bit(bits, index, value)
    row.bits = _pack(bits)
    organisation = session.get(Organisation, row.organisation_id)
    assert organisation is not None
    sign_status_list(session, row, organisation, settings)
    session.flush()
    return row


def status_bit(row: StatusList, index: int) -> bool:
    return get_bit(_unpack(row.bits), index)


def status_list_document(session: Session, list_id: str, settings: Settings) -> dict[str, object]:
    """The signed status list credential as served at ``/status/{list_id}``."""
    row = session.get(StatusList, list_id)
    if row is None:
        raise NotFound(f"No status list '{list_id}'.")
    if row.signed_credential is None:
        organisation = session.get(Organisation, row.organisation_id)
        assert organisation is not None
        sign_status_list(session, row, organisation, settings)
    assert row.signed_credential is not None
    return dict(row.signed_credential)


def status_lists_of(session: Session, organisation_id: str) -> Iterator[StatusList]:
    yield from session.scalars(
        select(StatusList)
        .where(StatusList.organisation_id == organisation_id)
        .order_by(StatusList.created_at)
    )

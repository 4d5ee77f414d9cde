"""Ledger fixtures: events recorded through the service, a signed checkpoint."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from microcred.ledger import service
from microcred.ledger.leaves import LeafData, LedgerEvent

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def credential_hash(number: int) -> bytes:
    return hashlib.sha256(f"credential-{number}".encode()).digest()


def make_leaves(count: int, start: int = 0, issuer: str = "north-college") -> list[LeafData]:
    return [
        LeafData(LedgerEvent.issued, credential_hash(i), issuer, T0 + timedelta(minutes=i))
        for i in range(start, start + count)
    ]


def record(session: Session, count: int, start: int = 0) -> list[service.LeafReceipt]:
    return service.record_events(session, make_leaves(count, start))


from tests.browser.conftest import live_server  # noqa: E402, F401  (the app on loopback)

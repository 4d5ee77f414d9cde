"""What a leaf commits to, and its canonical bytes.

A leaf records one credential event: the event, the SHA-256 of the credential's canonical bytes,
the issuer's identifier and the time to the second. No personal data appears in clear; the
credential hash reveals nothing without the credential itself.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from microcred.ledger.errors import LedgerError
from microcred.ledger.merkle import HASH_SIZE, leaf_hash

LEAF_HEADER = "microcred/ledger-leaf/v1"
ISSUER_ID_RE = re.compile(r"^[A-Za-z0-9._:/@-]{1,200}$")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class LedgerEvent(enum.StrEnum):
    issued = "issued"
    revoked = "revoked"
    suspended = "suspended"
    reinstated = "reinstated"


def parse_event(value: str) -> LedgerEvent:
    try:
        return LedgerEvent(value)
    except ValueError:
        allowed = ", ".join(event.value for event in LedgerEvent)
        raise LedgerError(f"'{value}' is not a ledger event ({allowed}).", field="event") from None


def normalise_time(moment: datetime) -> datetime:
    """UTC, to the second: what the leaf commits to."""
    if moment.tzinfo is None:
        raise LedgerError("The event time must carry a time zone.", field="at")
    return moment.astimezone(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class LeafData:
    event: LedgerEvent
    credential_hash: bytes
    issuer_id: str
    at: datetime

    def __post_init__(self) -> None:
        if len(self.credential_hash) != HASH_SIZE:
            raise LedgerError(
                "The credential hash must be the 32-byte SHA-256 of the credential.",
                field="credential_hash",
            )
        if not ISSUER_ID_RE.match(self.issuer_id):
            raise LedgerError(
                "The issuer identifier must be 1-200 letters, digits or ._:/@- characters.",
                field="issuer_id",
            )
        object.__setattr__(self, "event", parse_event(self.event))
        object.__setattr__(self, "at", normalise_time(self.at))

    def canonical_bytes(self) -> bytes:
        return (
            f"{LEAF_HEADER}\n"
            f"event {self.event.value}\n"
            f"credential sha256:{self.credential_hash.hex()}\n"
            f"issuer {self.issuer_id}\n"
            f"time {self.at.strftime(TIME_FORMAT)}\n"
        ).encode()

    def leaf_hash(self) -> bytes:
        return leaf_hash(self.canonical_bytes())

    def as_json(self) -> dict[str, str]:
        return {
            "event": self.event.value,
            "credential_hash": self.credential_hash.hex(),
            "issuer_id": self.issuer_id,
            "at": self.at.strftime(TIME_FORMAT),
        }

    @classmethod
    def from_json(cls, data: object) -> LeafData:
        if not isinstance(data, dict):
            raise LedgerError("The leaf must be an object.", field="leaf")
        try:
            credential_hash = bytes.fromhex(str(data["credential_hash"]))
            at = datetime.strptime(str(data["at"]), TIME_FORMAT).replace(tzinfo=UTC)
            return cls(parse_event(str(data["event"])), credential_hash, str(data["issuer_id"]), at)
        except KeyError as missing:
            raise LedgerError(f"The leaf lacks '{missing.args[0]}'.", field="leaf") from None
        except ValueError:
            raise LedgerError(
                "The leaf's credential hash or time is malformed.", field="leaf"
            ) from None

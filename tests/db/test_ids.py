"""Row identifiers: version-4 UUIDs in hex, as ``uuid.uuid4().hex`` writes them."""

from __future__ import annotations

import uuid

from microcred.db.base import new_id


def test_new_ids_are_distinct_random_version_4_uuids_in_hex() -> None:
    identifiers = [new_id() for _ in range(10_000)]
    assert len(set(identifiers)) == len(identifiers)
    for identifier in identifiers:
        parsed = uuid.UUID(hex=identifier)
        assert parsed.hex == identifier and len(identifier) == 32
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122

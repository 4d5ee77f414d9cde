from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import base64url_encode
from microcred.credentials.status.bitstring import (
    MIN_LIST_LENGTH,
    BitstringStatusChecker,
    allocate_index,
    build_status_list_credential,
    decode_list,
    encode_list,
    get_bit,
    new_bitstring,
    set_bit,
    status_entry,
)
from tests.credentials.helpers import LocalFetcher
from tests.credentials.vectors import load_json

LIST_URL = "https://north.example/status/1"


def test_1edtech_test_list_has_only_bit_23_set() -> None:
    listing = load_json("ob3-validator/bitstring-status-list/testlist")
    bitstring = decode_list(listing["credentialSubject"]["encodedList"])
    assert len(bitstring) * 8 == MIN_LIST_LENGTH
    assert [index for index in range(MIN_LIST_LENGTH) if get_bit(bitstring, index)] == [23]


@settings(deadline=None)
@given(st.sets(st.integers(0, MIN_LIST_LENGTH - 1), max_size=20))
def test_set_bits_survive_encoding(indexes: set[int]) -> None:
    bitstring = new_bitstring()
    for index in indexes:
        set_bit(bitstring, index, True)
    decoded = decode_list(encode_list(bitstring))
    assert {index for index in indexes if get_bit(decoded, index)} == indexes
    assert not get_bit(decoded, next(i for i in range(MIN_LIST_LENGTH) if i not in indexes))


def test_bit_zero_is_the_most_significant_bit_of_the_first_byte() -> None:
    bitstring = new_bitstring()
    set_bit(bitstring, 0, True)
    assert bitstring[0] == 0x80
    set_bit(bitstring, 0, False)
    assert bitstring[0] == 0


def test_short_lists_zip_bombs_and_garbage_are_rejected() -> None:
    with pytest.raises(CredentialError, match="fewer than"):
        decode_list("u" + base64url_encode(gzip.compress(bytes(100))))
    with pytest.raises(CredentialError, match="too large"):
        decode_list("u" + base64url_encode(gzip.compress(bytes(64 * 1024 * 1024))))
    with pytest.raises(CredentialError, match="GZIP"):
        decode_list("u" + base64url_encode(b"not gzip"))
    with pytest.raises(CredentialError):
        new_bitstring(1000)


def test_random_allocation_avoids_taken_indexes() -> None:
    taken = {allocate_index(set()) for _ in range(50)}
    assert len(taken) > 40
    assert allocate_index(taken) not in taken


def _checker(bits: set[int], purpose: str = "revocation") -> BitstringStatusChecker:
    bitstring = new_bitstring()
    for index in bits:
        set_bit(bitstring, index, True)
    listing = build_status_list_credential(
        list_url=LIST_URL,
        issuer="did:example:north",
        purpose=purpose,  # type: ignore[arg-type]
        bitstring=bitstring,
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
    )
    return BitstringStatusChecker(LocalFetcher({LIST_URL: listing}))


def test_checker_reports_revoked_and_clear_entries() -> None:
    checker = _checker({5})
    assert checker.check(status_entry(LIST_URL, 5)).set is True
    assert checker.check(status_entry(LIST_URL, 6)).set is False


def test_checker_fails_cleanly_on_unreachable_list_wrong_purpose_and_bad_index() -> None:
    checker = _checker(set())
    unreachable = checker.check(status_entry("https://gone.example/list", 5))
    assert unreachable.set is None and "not reachable" in unreachable.reason
    suspension = checker.check(status_entry(LIST_URL, 5, "suspension"))
    assert suspension.set is None and "not 'suspension'" in suspension.reason
    outside = checker.check(status_entry(LIST_URL, MIN_LIST_LENGTH))
    assert outside.set is None and "outside" in outside.reason
    unknown = checker.check({"type": "1EdTechRevocationList", "id": "https://x.example"})
    assert not unknown.supported


def test_decoded_lists_are_kept_only_when_small() -> None:
    from microcred.credentials.status import bitstring

    small = bytearray(16 * 1024)
    small[3] = 0b1000_0000
    small_encoded = bitstring.encode_list(small)
    huge_encoded = bitstring.encode_list(bytes(4 * 1024 * 1024))  # 32 Mi entries, ~4 KiB of GZIP
    assert len(huge_encoded) < 65_536
    assert bitstring.decode_list(huge_encoded) == bytes(4 * 1024 * 1024)
    assert huge_encoded not in bitstring._DECODED  # 64 of these would keep 256 MiB
    assert bitstring.decode_list(small_encoded) == bytes(small)
    assert bitstring._DECODED[small_encoded] == bytes(small)

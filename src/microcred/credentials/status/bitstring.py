"""Bitstring Status List v1.0: revocation and suspension as one bit per credential.

A list is a GZIP-compressed bitstring (at least 131,072 bits, so that a list reveals little about
any one credential), carried as multibase base64url (``u…``) in ``encodedList``. Bit 0 is the most
significant bit of the first byte. Indexes are allocated at random for the same privacy reason.
"""

from __future__ import annotations

import gzip
import secrets
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from microcred.credentials.dids import JsonFetcher, KeyResolver
from microcred.credentials.documents import format_datetime
from microcred.credentials.errors import CredentialError
from microcred.credentials.jsonld.loader import VC_V2
from microcred.credentials.keys import base64url_decode, base64url_encode
from microcred.i18n import L_

MIN_LIST_LENGTH = 131_072
MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024
PURPOSES = ("revocation", "suspension")
ENTRY_TYPES = {"BitstringStatusListEntry", "StatusList2021Entry"}
LIST_TYPES = {"BitstringStatusListCredential", "StatusList2021Credential"}

Purpose = Literal["revocation", "suspension"]


def new_bitstring(length: int = MIN_LIST_LENGTH) -> bytearray:
    if length < MIN_LIST_LENGTH or length % 8:
        raise CredentialError(f"A status list has at least {MIN_LIST_LENGTH} entries, in bytes")
    return bytearray(length // 8)


def get_bit(bitstring: bytes | bytearray, index: int) -> bool:
    if not 0 <= index < len(bitstring) * 8:
        raise CredentialError(
            f"Status index {index} is outside the list of {len(bitstring) * 8} entries",
            field="statusListIndex",
        )
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def set_bit(bitstring: bytearray, index: int, value: bool) -> None:
    get_bit(bitstring, index)
    if value:
        bitstring[index // 8] |= 0x80 >> (index % 8)
    else:
        bitstring[index // 8] &= ~(0x80 >> (index % 8)) & 0xFF


def encode_list(bitstring: bytes | bytearray) -> str:
    return "u" + base64url_encode(gzip.compress(bytes(bitstring), mtime=0))


_MAX_CACHED_LISTS = 64
_MAX_CACHED_ENCODED = 65_536
_MAX_CACHED_BITSTRING = 1024 * 1024
"""Every verification against an unchanged list would inflate the same 16 KiB, so decoded lists
are kept — but only lists of up to 8 Mi entries: 64 KiB of GZIP can inflate to 16 MiB, and
anyone may make a verifier fetch a list."""
_DECODED: OrderedDict[str, bytes] = OrderedDict()
_DECODED_LOCK = threading.Lock()


def decode_list(encoded: str) -> bytes:
    """The raw bitstring of an ``encodedList`` (``u``-multibase, or bare base64url as in 2021)."""
    if not isinstance(encoded, str) or not encoded:
        raise CredentialError("The status list has no encodedList", field="encodedList")
    if len(encoded) > _MAX_CACHED_ENCODED:
        return _decode_list(encoded)
    with _DECODED_LOCK:
        known = _DECODED.get(encoded)
        if known is not None:
            _DECODED.move_to_end(encoded)
            return known
    bitstring = _decode_list(encoded)
    if len(bitstring) <= _MAX_CACHED_BITSTRING:
        with _DECODED_LOCK:
            _DECODED[encoded] = bitstring
            while len(_DECODED) > _MAX_CACHED_LISTS:
                _DECODED.popitem(last=False)
    return bitstring


def _decode_list(encoded: str) -> bytes:
    compressed = base64url_decode(encoded[1:] if encoded[0] == "u" else encoded)
    try:
        decompressor = zlib.decompressobj(wbits=31)
        bitstring = decompressor.decompress(compressed, MAX_DECOMPRESSED_BYTES)
    except zlib.error as error:
        raise CredentialError("The status list is not GZIP data", field="encodedList") from error
    if decompressor.unconsumed_tail:
        raise CredentialError("The status list is too large", field="encodedList")
    if len(bitstring) * 8 < MIN_LIST_LENGTH:
        raise CredentialError(
            f"The status list has {len(bitstring) * 8} entries, fewer than {MIN_LIST_LENGTH}",
            field="encodedList",
        )
    return bitstring


def allocate_index(taken: Container[int], length: int = MIN_LIST_LENGTH) -> int:
    """A random index not in ``taken`` (callers retry on a full list or use a new one)."""
    for _ in range(64):
        index = secrets.randbelow(length)
        if index not in taken:
            return index
    raise CredentialError("The status list is (nearly) full: start a new list")


def status_entry(list_url: str, index: int, purpose: Purpose = "revocation") -> dict[str, Any]:
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def build_status_list_credential(
    *,
    list_url: str,
    issuer: str | Mapping[str, Any],
    purpose: Purpose,
    bitstring: bytes | bytearray,
    valid_from: datetime,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """The unsigned BitstringStatusListCredential that publishes ``bitstring``."""
    credential: dict[str, Any] = {
        "@context": [VC_V2],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": format_datetime(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_list(bitstring),
        },
    }
    if valid_until:
        credential["validUntil"] = format_datetime(valid_until)
    return credential


@dataclass(frozen=True)
class StatusOutcome:
    """``set`` is True when the bit is set (revoked / suspended); None when it cannot be told."""

    purpose: str
    set: bool | None
    reason: str
    supported: bool = True


class StatusChecker(Protocol):
    def check(self, entry: Mapping[str, Any]) -> StatusOutcome: ...


def _entry_index(entry: Mapping[str, Any]) -> int:
    raw = entry.get("statusListIndex")
    try:
        index = int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        raise CredentialError(
            f"Invalid statusListIndex {raw!r}", field="statusListIndex"
        ) from error
    if index < 0:
        raise CredentialError("statusListIndex must not be negative", field="statusListIndex")
    return index


ProofVerifier = Callable[[Mapping[str, Any], KeyResolver], str | None]
"""Checks a status list credential's proof: None when it holds, else the reason."""


class BitstringStatusChecker:
    """Fetches the status list credential (through ``fetch_json``) and reads the entry's bit.

    With a ``resolver`` and ``verify_proof``, the list credential's own proof must hold too.
    """

    def __init__(
        self,
        fetch_json: JsonFetcher,
        *,
        resolver: KeyResolver | None = None,
        verify_proof: ProofVerifier | None = None,
    ) -> None:
        self._fetch_json = fetch_json
        self._resolver = resolver
        self._verify_proof = verify_proof

    def check(self, entry: Mapping[str, Any]) -> StatusOutcome:
        purpose = str(entry.get("statusPurpose", ""))
        if entry.get("type") not in ENTRY_TYPES:
            reason = L_("Unsupported credentialStatus type %(type)s", type=repr(entry.get("type")))
            return StatusOutcome(purpose, None, reason, supported=False)
        try:
            if purpose not in PURPOSES:
                raise CredentialError(
                    L_("Unsupported statusPurpose %(purpose)s", purpose=repr(purpose))
                )
            index = _entry_index(entry)
            url = entry.get("statusListCredential")
            if not isinstance(url, str):
                raise CredentialError(L_("The status entry names no statusListCredential"))
            listing = self._fetch_json(url)
            types = listing.get("type", [])
            if not set(types if isinstance(types, list) else [types]) & LIST_TYPES:
                raise CredentialError(L_("%(url)s is not a status list credential", url=url))
            if self._resolver is not None and self._verify_proof is not None:
                failure = self._verify_proof(listing, self._resolver)
                if failure:
                    raise CredentialError(
                        L_("The status list's proof does not hold: %(failure)s", failure=failure)
                    )
            subject = listing.get("credentialSubject")
            if not isinstance(subject, Mapping):
                raise CredentialError(L_("%(url)s has no credentialSubject", url=url))
            if subject.get("statusPurpose") != purpose:
                raise CredentialError(
                    L_(
                        "The status list is for %(listed)s, not %(purpose)s",
                        listed=repr(subject.get("statusPurpose")),
                        purpose=repr(purpose),
                    )
                )
            bit = get_bit(decode_list(str(subject.get("encodedList", ""))), index)
        except CredentialError as error:
            return StatusOutcome(purpose, None, error.message)
        if bit:
            set_reason = (
                L_("Revoked (index %(index)s is set)", index=index)
                if purpose == "revocation"
                else L_("Suspended (index %(index)s is set)", index=index)
            )
            return StatusOutcome(purpose, True, set_reason)
        clear = (
            L_("Not revoked (index %(index)s is clear)", index=index)
            if purpose == "revocation"
            else L_("Not suspended (index %(index)s is clear)", index=index)
        )
        return StatusOutcome(purpose, False, clear)

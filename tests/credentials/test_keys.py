from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import (
    Ed25519Key,
    base58_decode,
    base58_encode,
    decrypt_secret,
    encrypt_secret,
    multibase_decode,
    multibase_encode,
)
from tests.credentials.vectors import load_json


@settings(deadline=None)
@given(st.binary(max_size=64))
def test_base58_round_trips_including_leading_zero_bytes(data: bytes) -> None:
    assert base58_decode(base58_encode(data)) == data


@settings(deadline=None)
@given(st.binary(max_size=64), st.sampled_from(["z", "u"]))
def test_multibase_round_trips(data: bytes, base: str) -> None:
    assert multibase_decode(multibase_encode(data, base)) == data


def test_w3c_key_pair_decodes_to_the_published_public_key() -> None:
    pair = load_json("vc-di-eddsa/keyPair.json")
    key = Ed25519Key.from_private_multibase(pair["privateKeyMultibase"])
    assert key.public_key_multibase == pair["publicKeyMultibase"]
    assert key.private_key_multibase == pair["privateKeyMultibase"]


def test_1edtech_64_byte_secret_key_form_is_accepted() -> None:
    pair = load_json("ob3/obv3p0/keyPair.json")
    key = Ed25519Key.from_private_multibase(pair["secretKeyMultibase"])
    assert key.public_key.hex() == pair["publicKeyHex"]
    assert key.public_key_multibase == pair["publicKeyMultibase"]


def test_signatures_verify_only_for_the_signed_bytes_and_key() -> None:
    key, other = Ed25519Key.generate(), Ed25519Key.generate()
    signature = key.sign(b"message")
    assert Ed25519Key.from_public_multibase(key.public_key_multibase).verify(signature, b"message")
    assert not key.verify(signature, b"messagE")
    assert not other.verify(signature, b"message")
    with pytest.raises(CredentialError):
        Ed25519Key(key.public_key).sign(b"message")


def test_secret_encryption_needs_the_same_master_key_and_context() -> None:
    seed = Ed25519Key.generate().seed
    sealed = encrypt_secret(seed, "master", context="issuer-1")
    assert seed.hex() not in sealed
    assert decrypt_secret(sealed, "master", context="issuer-1") == seed
    with pytest.raises(CredentialError, match="master key"):
        decrypt_secret(sealed, "other master", context="issuer-1")
    with pytest.raises(CredentialError):
        decrypt_secret(sealed, "master", context="issuer-2")
    with pytest.raises(CredentialError, match="Malformed"):
        decrypt_secret("garbage", "master")


@pytest.mark.parametrize("bad", ["", "x123", "z0OIl", "zabc"])
def test_malformed_multikeys_are_rejected(bad: str) -> None:
    with pytest.raises(CredentialError):
        Ed25519Key.from_public_multibase(bad)

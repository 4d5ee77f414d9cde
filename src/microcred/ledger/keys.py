"""Encryption at rest for the log's signing key: AES-256-GCM under a key from the master key.

The derivation is HKDF-SHA256 with a purpose label, so the same master key yields unrelated
keys for other purposes; a fresh 96-bit nonce is stored with each ciphertext.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from microcred.ledger.errors import LedgerError

NONCE_SIZE = 12
PURPOSE = b"microcred ledger signing key v1"


def _derive(master_key: str, purpose: bytes) -> AESGCM:
    if not master_key:
        raise LedgerError("The master key is not set (MICROCRED_MASTER_KEY).", field="master_key")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        master_key.encode()
    )
    return AESGCM(key)


def encrypt_secret(master_key: str, secret: bytes, *, purpose: bytes = PURPOSE) -> bytes:
    nonce = os.urandom(NONCE_SIZE)
    return nonce + _derive(master_key, purpose).encrypt(nonce, secret, purpose)


def decrypt_secret(master_key: str, sealed: bytes, *, purpose: bytes = PURPOSE) -> bytes:
    try:
        return _derive(master_key, purpose).decrypt(
            sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], purpose
        )
    except (InvalidTag, ValueError):
        raise LedgerError(
            "The ledger key cannot be decrypted: the master key differs from the one it was "
            "stored with.",
            field="master_key",
        ) from None

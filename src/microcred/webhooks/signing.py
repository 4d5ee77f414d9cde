"""Standard Webhooks signatures (spec 1.0.0, "Signature scheme" and "Webhook headers").

The symmetric scheme: the secret is at least 24 random bytes, shown as ``whsec_`` + base64; the
signature is ``v1,`` + base64 of HMAC-SHA256 over ``{msg_id}.{timestamp}.{body}`` keyed with the
decoded bytes; the headers are ``webhook-id``, ``webhook-timestamp`` (integer Unix seconds) and
``webhook-signature`` (space-delimited signatures).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_SECRET_BYTES = 24


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key: the bytes the ``whsec_`` text encodes."""
    text = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("A webhook secret is whsec_ followed by base64.") from None
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"A webhook secret has at least {MIN_SECRET_BYTES} bytes.")
    return key


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one attempt: ``v1,<base64 HMAC-SHA256>``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(
    secrets_in_use: str | Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three headers; one signature per secret (space-delimited), so that a receiver still
    holding the previous secret verifies during a rotation."""
    keys = [secrets_in_use] if isinstance(secrets_in_use, str) else list(secrets_in_use)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(key, msg_id, timestamp, body) for key in keys),
    }


def verify(secret: str, msg_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether one of the header's ``v1`` signatures matches (compared in constant time)."""
    expected = signature(secret, msg_id, timestamp, body)
    return any(
        hmac.compare_digest(candidate.encode(), expected.encode())
        for candidate in header.split()
        if candidate.startswith("v1,")
    )

"""Ed25519 signing keys, their Multikey / multibase / JWK encodings, and encryption at rest.

A Multikey public key is ``z`` + base58btc(0xed 0x01 + 32 key bytes), the familiar ``z6Mk…``;
a Multikey secret key is ``z`` + base58btc(0x80 0x26 + 32 seed bytes).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from microcred.credentials.errors import CredentialError

ED25519_PUBLIC_PREFIX = b"\xed\x01"
ED25519_PRIVATE_PREFIX = b"\x80\x26"
X25519_PUBLIC_PREFIX = b"\xec\x01"
_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {character: index for index, character in enumerate(_BASE58_ALPHABET)}
_ENCRYPTED_KEY_VERSION = "v1"


_BASE58_PAIRS = [a + b for a in _BASE58_ALPHABET for b in _BASE58_ALPHABET]
_BASE58_CHUNK = 58**10


def base58_encode(data: bytes) -> str:
    """Bitcoin-alphabet base58, five digit pairs per 58**10 chunk (few big-int divisions)."""
    number = int.from_bytes(data, "big")
    chunks = []
    while number:
        number, chunk = divmod(number, _BASE58_CHUNK)
        chunks.append(chunk)
    pairs = _BASE58_PAIRS
    digits = []
    for chunk in reversed(chunks):
        first, rest = divmod(chunk, 3364**4)
        second, rest = divmod(rest, 3364**3)
        third, rest = divmod(rest, 3364**2)
        fourth, fifth = divmod(rest, 3364)
        digits.append(pairs[first] + pairs[second] + pairs[third] + pairs[fourth] + pairs[fifth])
    encoded = "".join(digits).lstrip("1")
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading_zeros + encoded


_BASE58_DIGITS = bytes(_BASE58_INDEX.get(chr(code), 255) for code in range(256))
"""A character's digit value, 255 for anything not in the alphabet (for ``bytes.translate``)."""


def base58_decode(text: str) -> bytes:
    """The inverse of :func:`base58_encode`: the digits come from one C ``translate`` and are
    summed as small integers, ten at a time, into few big-int steps. No large table is touched:
    a 3,364-pair dictionary was faster in a tight loop and 3x slower amid a verification."""
    try:
        digits = text.encode("ascii").translate(_BASE58_DIGITS)
    except UnicodeEncodeError:
        digits = b"\xff"
    if b"\xff" in digits:
        bad = next(character for character in text if character not in _BASE58_INDEX)
        raise CredentialError(f"{bad!r} is not a base58btc character")
    head = len(digits) % 10
    number = 0
    for digit in digits[:head]:
        number = number * 58 + digit
    for start in range(head, len(digits), 10):
        d0, d1, d2, d3, d4, d5, d6, d7, d8, d9 = digits[start : start + 10]
        chunk = ((((d0 * 58 + d1) * 58 + d2) * 58 + d3) * 58 + d4) * 58**5
        chunk += (((d5 * 58 + d6) * 58 + d7) * 58 + d8) * 58 + d9
        number = number * _BASE58_CHUNK + chunk
    leading_zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading_zeros + body


def base64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def base64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise CredentialError("Invalid base64url data") from error


def multibase_encode(data: bytes, base: str = "z") -> str:
    if base == "z":
        return "z" + base58_encode(data)
    if base == "u":
        return "u" + base64url_encode(data)
    raise CredentialError(f"Unsupported multibase encoding {base!r}")


def multibase_decode(text: str) -> bytes:
    """Decode base58btc (``z``) or base64url (``u``) multibase text."""
    if not isinstance(text, str) or not text:
        raise CredentialError("Empty multibase value")
    if text[0] == "z":
        return base58_decode(text[1:])
    if text[0] == "u":
        return base64url_decode(text[1:])
    raise CredentialError(f"Unsupported multibase prefix {text[0]!r} (expected 'z' or 'u')")


def decode_public_key_multibase(text: str) -> bytes:
    """The 32 raw bytes of an Ed25519 Multikey (``z6Mk…``)."""
    data = multibase_decode(text)
    if data[:2] != ED25519_PUBLIC_PREFIX or len(data) != 34:
        raise CredentialError(f"{text!r} is not an Ed25519 Multikey public key")
    return data[2:]


def encode_public_key_multibase(public_key: bytes) -> str:
    return multibase_encode(ED25519_PUBLIC_PREFIX + public_key)


def x25519_public_from_ed25519(public_key: bytes) -> bytes:
    """The X25519 key an Ed25519 key converts to (u = (1 + y) / (1 - y) mod p), as did:key lists."""
    prime = 2**255 - 19
    y = int.from_bytes(public_key, "little") & ((1 << 255) - 1)
    u = (1 + y) * pow(1 - y, prime - 2, prime) % prime
    return u.to_bytes(32, "little")


@dataclass(frozen=True)
class Ed25519Key:
    """An Ed25519 key pair (or a public key alone, for verification)."""

    public_key: bytes
    private: Ed25519PrivateKey | None = None

    @classmethod
    def generate(cls) -> Ed25519Key:
        return cls.from_seed(os.urandom(32))

    @classmethod
    def from_seed(cls, seed: bytes) -> Ed25519Key:
        if len(seed) != 32:
            raise CredentialError("An Ed25519 seed is 32 bytes")
        private = Ed25519PrivateKey.from_private_bytes(seed)
        public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return cls(public_key=public, private=private)

    @classmethod
    def from_private_multibase(cls, text: str) -> Ed25519Key:
        """Accepts the 32-byte seed form and the 64-byte (seed + public key) form."""
        data = multibase_decode(text)
        if data[:2] != ED25519_PRIVATE_PREFIX or len(data) not in (34, 66):
            raise CredentialError("Not an Ed25519 Multikey secret key")
        return cls.from_seed(data[2:34])

    @classmethod
    def from_public_multibase(cls, text: str) -> Ed25519Key:
        return cls(public_key=decode_public_key_multibase(text))

    @property
    def seed(self) -> bytes:
        if self.private is None:
            raise CredentialError("This key has no private part")
        return self.private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    @property
    def public_key_multibase(self) -> str:
        return encode_public_key_multibase(self.public_key)

    @property
    def private_key_multibase(self) -> str:
        return multibase_encode(ED25519_PRIVATE_PREFIX + self.seed)

    @property
    def public_jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": base64url_encode(self.public_key)}

    def sign(self, data: bytes) -> bytes:
        if self.private is None:
            raise CredentialError("Cannot sign with a public key")
        return self.private.sign(data)

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True


def _wrapping_key(master_key: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose).derive(
        hashlib.sha256(master_key.encode("utf-8")).digest()
    )


def encrypt_secret(secret: bytes, master_key: str, *, context: str = "") -> str:
    """AES-256-GCM under a key derived from the master key; ``context`` is authenticated too."""
    nonce = os.urandom(12)
    sealed = AESGCM(_wrapping_key(master_key, b"microcred signing key")).encrypt(
        nonce, secret, context.encode("utf-8")
    )
    return f"{_ENCRYPTED_KEY_VERSION}.{base64url_encode(nonce)}.{base64url_encode(sealed)}"


def decrypt_secret(token: str, master_key: str, *, context: str = "") -> bytes:
    try:
        version, nonce_text, sealed_text = token.split(".")
    except ValueError as error:
        raise CredentialError("Malformed encrypted key") from error
    if version != _ENCRYPTED_KEY_VERSION:
        raise CredentialError(f"Unknown encrypted key version {version!r}")
    try:
        return AESGCM(_wrapping_key(master_key, b"microcred signing key")).decrypt(
            base64url_decode(nonce_text), base64url_decode(sealed_text), context.encode("utf-8")
        )
    except InvalidTag as error:
        raise CredentialError(
            "Cannot decrypt the signing key: wrong master key or corrupted data"
        ) from error

"""C2SP ``signed-note`` (Ed25519, type 0x01) and ``tlog-cosignature`` (cosignature/v1, type 0x04).

A note is UTF-8 text ending in a newline, a blank line, then signature lines
``— <key name> <base64(4-byte key ID || signature)>``. The key ID is the first four bytes of
SHA-256(name || "\\n" || type || public key), so a verifier skips lines of keys it does not know.
Keys are written the Go way: ``name+hexid+base64(type||public)`` for verifiers and
``PRIVATE+KEY+name+hexid+base64(type||seed)`` for signers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from microcred.ledger.errors import CheckpointError

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "— "
MAX_SIGNATURES = 100
PRIVATE_PREFIX = "PRIVATE+KEY+"


def decode_base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise CheckpointError(f"The {what} is not valid base64.", field=what) from None


def check_key_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name) or not name.isprintable():
        raise CheckpointError(
            f"'{name}' is not a valid key name: it must be non-empty, without spaces or '+'.",
            field="name",
        )
    return name


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


def _raw_public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted public key: a log key (type 0x01) or a witness cosigning key (type 0x04)."""

    name: str
    key_type: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.key_type, self.public_key)

    def encode(self) -> str:
        material = base64.b64encode(bytes([self.key_type]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise CheckpointError(
                "A verifier key looks like name+hexid+base64key.", field="verifier_key"
            )
        name, hex_id, material = parts
        check_key_name(name)
        raw = decode_base64(material, "verifier_key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise CheckpointError(
                "The verifier key is not an Ed25519 note or cosignature key.", field="verifier_key"
            )
        verifier = cls(name, raw[0], raw[1:])
        if verifier.key_id.hex() != hex_id.lower():
            raise CheckpointError(
                "The verifier key's ID does not match its name and key.", field="verifier_key"
            )
        return verifier

    def check(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class NoteSigner:
    """An Ed25519 private key with its name; signs notes (0x01) or cosigns them (0x04)."""

    name: str
    private_key: Ed25519PrivateKey
    key_type: int = ED25519

    @classmethod
    def generate(cls, name: str, key_type: int = ED25519) -> NoteSigner:
        return cls(check_key_name(name), Ed25519PrivateKey.generate(), key_type)

    @classmethod
    def from_seed(cls, name: str, seed: bytes, key_type: int = ED25519) -> NoteSigner:
        return cls(check_key_name(name), Ed25519PrivateKey.from_private_bytes(seed), key_type)

    @property
    def seed(self) -> bytes:
        return self.private_key.private_bytes_raw()

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.key_type, _raw_public(self.private_key))

    def encode(self) -> str:
        material = base64.b64encode(bytes([self.key_type]) + self.seed).decode()
        return f"{PRIVATE_PREFIX}{self.name}+{self.verifier.key_id.hex()}+{material}"

    @classmethod
    def parse(cls, skey: str) -> NoteSigner:
        if not skey.startswith(PRIVATE_PREFIX):
            raise CheckpointError("A signer key starts with PRIVATE+KEY+.", field="signer_key")
        parts = skey.strip()[len(PRIVATE_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise CheckpointError("A signer key looks like PRIVATE+KEY+name+hexid+base64.")
        name, hex_id, material = parts
        raw = decode_base64(material, "signer_key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise CheckpointError("The signer key is not an Ed25519 key.", field="signer_key")
        signer = cls.from_seed(name, raw[1:], raw[0])
        if signer.verifier.key_id.hex() != hex_id.lower():
            raise CheckpointError("The signer key's ID does not match.", field="signer_key")
        return signer


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        blob = base64.b64encode(self.key_id + self.signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {blob}"

    @classmethod
    def parse_line(cls, line: str) -> NoteSignature:
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError(
                "A signature line must start with '— ' (an em dash and a space).",
                field="signature",
            )
        fields = line[len(SIGNATURE_PREFIX) :].split(" ")
        if len(fields) != 2:
            raise CheckpointError("A signature line is '— <name> <base64>'.", field="signature")
        name, blob = fields
        check_key_name(name)
        raw = decode_base64(blob, "signature")
        if len(raw) < 5:
            raise CheckpointError("A note signature is too short.", field="signature")
        return cls(name, raw[:4], raw[4:])


@dataclass(frozen=True)
class SignedNote:
    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(sig.line() + "\n" for sig in self.signatures)

    def with_signature(self, signature: NoteSignature) -> SignedNote:
        kept = tuple(
            s for s in self.signatures if (s.name, s.key_id) != (signature.name, signature.key_id)
        )
        return SignedNote(self.text, (*kept, signature))


def check_note_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text or "\r" in text:
        raise CheckpointError(
            "A note's text must end with a newline and contain no blank lines.", field="note"
        )
    try:
        text.encode()
    except UnicodeEncodeError:
        raise CheckpointError("A note's text must be valid UTF-8.", field="note") from None


def parse_note(message: str) -> SignedNote:
    """Split a signed note into its text and signature lines (signatures unchecked)."""
    cut = message.rfind("\n\n")
    if cut < 0 or not message.endswith("\n"):
        raise CheckpointError(
            "Not a signed note: expected text, a blank line, then signature lines.", field="note"
        )
    text, block = message[: cut + 1], message[cut + 2 :]
    check_note_text(text)
    lines = block[:-1].split("\n")
    if not block[:-1] or len(lines) > MAX_SIGNATURES:
        raise CheckpointError("The note has no signature lines (or far too many).", field="note")
    return SignedNote(text, tuple(NoteSignature.parse_line(line) for line in lines))


def sign_note(text: str, signer: NoteSigner) -> SignedNote:
    check_note_text(text)
    signature = signer.private_key.sign(text.encode())
    return SignedNote(text, (NoteSignature(signer.name, signer.verifier.key_id, signature),))


def _signature_by(note: SignedNote, verifier: NoteVerifier) -> NoteSignature | None:
    for signature in note.signatures:
        if signature.name == verifier.name and signature.key_id == verifier.key_id:
            return signature
    return None


def verify_note(note: SignedNote, verifier: NoteVerifier) -> None:
    """Raise :class:`CheckpointError` unless ``verifier``'s key signed the note's text."""
    signature = _signature_by(note, verifier)
    if signature is None:
        raise CheckpointError(
            f"The note carries no signature by the key '{verifier.name}' "
            f"({verifier.key_id.hex()}).",
            field="signature",
        )
    if not verifier.check(note.text.encode(), signature.signature):
        raise CheckpointError(
            f"The signature by '{verifier.name}' does not verify: the note was altered or "
            "signed by another key.",
            field="signature",
        )


def cosignature_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosign_note(text: str, witness: NoteSigner, timestamp: int) -> NoteSignature:
    """A timestamped cosignature/v1 by a witness key (key type 0x04)."""
    if witness.key_type != COSIGNATURE_V1:
        raise CheckpointError("A witness cosigns with a cosignature (0x04) key.", field="key")
    if not 0 <= timestamp < 2**63:
        raise CheckpointError("The cosignature time is out of range.", field="timestamp")
    check_note_text(text)
    signature = witness.private_key.sign(cosignature_message(text, timestamp))
    return NoteSignature(
        witness.name, witness.verifier.key_id, struct.pack(">Q", timestamp) + signature
    )


def verify_cosignature(note: SignedNote, witness: NoteVerifier) -> int:
    """The cosignature's timestamp, or :class:`CheckpointError` if ``witness`` did not cosign."""
    signature = _signature_by(note, witness)
    if signature is None:
        raise CheckpointError(
            f"No cosignature by the witness '{witness.name}'.", field="cosignature"
        )
    if len(signature.signature) != 72:
        raise CheckpointError(
            f"The cosignature by '{witness.name}' is malformed.", field="cosignature"
        )
    (timestamp,) = struct.unpack(">Q", signature.signature[:8])
    if not witness.check(cosignature_message(note.text, timestamp), signature.signature[8:]):
        raise CheckpointError(
            f"The cosignature by '{witness.name}' does not verify.", field="cosignature"
        )
    return int(timestamp)

"""C2SP ``tlog-checkpoint`` bodies and their verification with log and witness keys.

Body: the origin line, the tree size in decimal, the base64 root hash, then one extension line
``timestamp <unix seconds>`` (when the log signed it). The origin is the log key's name.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field

from microcred.ledger.errors import CheckpointError
from microcred.ledger.merkle import HASH_SIZE
from microcred.ledger.notes import (
    COSIGNATURE_V1,
    NoteVerifier,
    SignedNote,
    check_key_name,
    decode_base64,
    parse_note,
    verify_cosignature,
    verify_note,
)

TIMESTAMP_EXTENSION = "timestamp "
MAX_TREE_SIZE = 2**63 - 1


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    timestamp: int | None = None

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        if self.timestamp is not None:
            lines.append(f"{TIMESTAMP_EXTENSION}{self.timestamp}")
        return "".join(line + "\n" for line in lines)


def parse_checkpoint(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise CheckpointError(
            "A checkpoint has an origin line, a tree size line and a root hash line.",
            field="checkpoint",
        )
    origin, size_text, root_text, *extensions = lines[:-1]
    check_key_name(origin)
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointError(
            f"The checkpoint's tree size '{size_text}' is not a decimal number.",
            field="tree_size",
        )
    size = int(size_text)
    if size > MAX_TREE_SIZE:
        raise CheckpointError("The checkpoint's tree size is out of range.", field="tree_size")
    root = decode_base64(root_text, "root_hash")
    if len(root) != HASH_SIZE:
        raise CheckpointError("The checkpoint's root hash is not 32 bytes.", field="root_hash")
    timestamp = None
    for extension in extensions:
        if extension.startswith(TIMESTAMP_EXTENSION):
            value = extension[len(TIMESTAMP_EXTENSION) :]
            if not value.isdigit():
                raise CheckpointError("The checkpoint's timestamp is not a number.")
            timestamp = int(value)
    return Checkpoint(origin, size, root, timestamp)


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """A checkpoint whose log signature verified, with the witnesses that validly cosigned it."""

    checkpoint: Checkpoint
    note: SignedNote
    cosigners: dict[str, int] = field(default_factory=dict)  # witness name → cosigning time


def open_checkpoint(
    message: str,
    log_key: NoteVerifier,
    witness_keys: Sequence[NoteVerifier] = (),
    required_witnesses: int = 0,
) -> VerifiedCheckpoint:
    """Verify a signed checkpoint; raise :class:`CheckpointError` with the reason otherwise."""
    note = parse_note(message)
    verify_note(note, log_key)
    checkpoint = parse_checkpoint(note.text)
    if checkpoint.origin != log_key.name:
        raise CheckpointError(
            f"The checkpoint is for the log '{checkpoint.origin}', not '{log_key.name}'.",
            field="origin",
        )
    cosigners: dict[str, int] = {}
    for witness in witness_keys:
        if witness.key_type != COSIGNATURE_V1:
            raise CheckpointError(
                f"The witness key '{witness.name}' is not a cosignature key.", field="witness_key"
            )
        try:
            cosigners[witness.name] = verify_cosignature(note, witness)
        except CheckpointError:
            continue
    if len(cosigners) < required_witnesses:
        raise CheckpointError(
            f"The checkpoint has {len(cosigners)} valid witness cosignature(s); "
            f"{required_witnesses} are required.",
            field="cosignature",
        )
    return VerifiedCheckpoint(checkpoint, note, cosigners)

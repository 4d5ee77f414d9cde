"""Ledger receipts: what a credential carries so anyone can check its inclusion offline.

A receipt holds the leaf data, its index, an inclusion proof and the signed checkpoint (with any
witness cosignatures) the proof leads to. :func:`verify_receipt` needs only the log's public key.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from microcred.i18n import L_
from microcred.ledger.checkpoints import open_checkpoint
from microcred.ledger.errors import LedgerError
from microcred.ledger.leaves import LeafData
from microcred.ledger.merkle import verify_inclusion
from microcred.ledger.notes import NoteVerifier

RECEIPT_TYPE = "microcred-ledger-receipt/v1"
CHECK_NAME = "ledger"

CheckStatus = Literal["pass", "fail", "warning"]


@dataclass(frozen=True)
class LedgerCheck:
    """One verification line, shaped like the credentials report's ``Check``."""

    name: str
    status: CheckStatus
    reason: str


@dataclass(frozen=True)
class Receipt:
    leaf: LeafData
    leaf_index: int
    inclusion_proof: tuple[bytes, ...]
    checkpoint: str

    def as_json(self) -> dict[str, Any]:
        return {
            "type": RECEIPT_TYPE,
            "leaf": self.leaf.as_json(),
            "leaf_index": self.leaf_index,
            "inclusion_proof": [base64.b64encode(item).decode() for item in self.inclusion_proof],
            "checkpoint": self.checkpoint,
        }

    @classmethod
    def from_json(cls, data: object) -> Receipt:
        if not isinstance(data, dict) or data.get("type") != RECEIPT_TYPE:
            raise LedgerError(f"Not a ledger receipt (type {RECEIPT_TYPE}).", field="receipt")
        index, proof, checkpoint = (
            data.get("leaf_index"),
            data.get("inclusion_proof"),
            data.get("checkpoint"),
        )
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise LedgerError(
                "The receipt's leaf_index must be a whole number.", field="leaf_index"
            )
        if not isinstance(proof, list) or not all(isinstance(item, str) for item in proof):
            raise LedgerError(
                "The receipt's inclusion_proof must be a list of base64 hashes.",
                field="inclusion_proof",
            )
        if not isinstance(checkpoint, str):
            raise LedgerError("The receipt lacks its signed checkpoint.", field="checkpoint")
        try:
            hashes = tuple(base64.b64decode(item, validate=True) for item in proof)
        except (binascii.Error, ValueError):
            raise LedgerError(
                "The receipt's inclusion proof is not base64.", field="inclusion_proof"
            ) from None
        return cls(LeafData.from_json(data.get("leaf")), index, hashes, checkpoint)


def verify_receipt(
    receipt: Receipt | dict[str, Any],
    trusted_log_key: NoteVerifier | str,
    *,
    required_witnesses: int = 0,
    witness_keys: Sequence[NoteVerifier | str] = (),
    credential_hash: bytes | None = None,
) -> list[LedgerCheck]:
    """Check a receipt offline: checkpoint signature, witness quorum, inclusion, credential match.

    Never raises for bad input: every problem becomes a ``fail`` line with its reason.
    """
    try:
        parsed = receipt if isinstance(receipt, Receipt) else Receipt.from_json(receipt)
        log_key = (
            trusted_log_key
            if isinstance(trusted_log_key, NoteVerifier)
            else NoteVerifier.parse(trusted_log_key)
        )
        witnesses = [
            w if isinstance(w, NoteVerifier) else NoteVerifier.parse(w) for w in witness_keys
        ]
        verified = open_checkpoint(parsed.checkpoint, log_key, witnesses, required_witnesses)
        tree = verified.checkpoint
        verify_inclusion(
            parsed.leaf_index,
            tree.size,
            parsed.leaf.leaf_hash(),
            parsed.inclusion_proof,
            tree.root_hash,
        )
    except LedgerError as error:
        return [LedgerCheck(CHECK_NAME, "fail", error.message)]
    recorded = {
        "event": parsed.leaf.event.value,
        "issuer": parsed.leaf.issuer_id,
        "at": parsed.leaf.as_json()["at"],
        "index": parsed.leaf_index,
        "log": tree.origin,
        "size": tree.size,
    }
    in_log = (
        L_(
            "'%(event)s' by issuer %(issuer)s at %(at)s is leaf %(index)s of the log '%(log)s'"
            " (checkpoint of %(size)s leaves, cosigned by %(cosigners)s)",
            cosigners=", ".join(sorted(verified.cosigners)),
            **recorded,
        )
        if verified.cosigners
        else L_(
            "'%(event)s' by issuer %(issuer)s at %(at)s is leaf %(index)s of the log '%(log)s'"
            " (checkpoint of %(size)s leaves)",
            **recorded,
        )
    )
    checks = [LedgerCheck(CHECK_NAME, "pass", in_log)]
    if credential_hash is not None and credential_hash != parsed.leaf.credential_hash:
        checks.append(
            LedgerCheck(
                CHECK_NAME,
                "fail",
                L_("The receipt is for another credential: the hashes differ."),
            )
        )
    if witness_keys and not required_witnesses and not verified.cosigners:
        checks.append(
            LedgerCheck(
                CHECK_NAME, "warning", L_("No known witness has cosigned this checkpoint yet.")
            )
        )
    return checks

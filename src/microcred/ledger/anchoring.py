"""Anchoring checkpoint roots on an Ethereum-compatible chain through JSON-RPC (web3.py).

Each anchor is a zero-value transaction from the anchoring account to itself whose data is
``MCLEDGER1 || tree size (8 bytes, big-endian) || root hash (32 bytes)``. Anyone with the
transaction hash and any node of that chain can confirm the root existed by that block, long
after this server is gone. web3 is an optional extra (``microcred[anchoring]``), imported lazily.
"""

from __future__ import annotations

import importlib
import struct
import sys
from dataclasses import dataclass
from typing import Any

from microcred.ledger.checkpoints import Checkpoint
from microcred.ledger.config import LedgerSettings
from microcred.ledger.errors import AnchorError
from microcred.ledger.receipts import CHECK_NAME, LedgerCheck

ANCHOR_MAGIC = b"MCLEDGER1"
ANCHOR_GAS = 60_000


def anchor_payload(size: int, root_hash: bytes) -> bytes:
    return ANCHOR_MAGIC + struct.pack(">Q", size) + root_hash


@dataclass(frozen=True)
class SubmittedAnchor:
    chain_id: int
    tx_hash: str
    sender: str
    block_number: int | None
    succeeded: bool


def _web3_module() -> Any:
    return import_keeping_recursion_limit("web3")


def import_keeping_recursion_limit(name: str) -> Any:
    """Import an Ethereum package without its side effect on the whole process.

    py-evm and py_ecc raise the interpreter's recursion limit to 100,000 when imported. C-level
    recursion (``json.loads`` of hostile input) would then overflow the stack and crash the
    process instead of raising ``RecursionError``; the limit is put back after the import.
    """
    limit = sys.getrecursionlimit()
    try:
        return importlib.import_module(name)
    except ImportError:
        raise AnchorError(
            "Anchoring needs web3: pip install 'microcred[anchoring]'.", field="anchoring"
        ) from None
    finally:
        sys.setrecursionlimit(limit)


class EvmAnchorClient:
    """Writes and confirms anchors through any web3 provider (HTTP JSON-RPC, or in-process)."""

    def __init__(
        self, web3: Any, private_key: str, *, confirmations: int = 1, timeout: float = 120
    ) -> None:
        self.web3 = web3
        try:
            self.account = web3.eth.account.from_key(private_key)
        except (ValueError, TypeError):
            raise AnchorError(
                "The anchoring private key is not a valid Ethereum key.", field="private_key"
            ) from None
        self.confirmations = confirmations
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: LedgerSettings) -> EvmAnchorClient:
        if not settings.anchor_rpc_url or not settings.anchor_private_key:
            raise AnchorError(
                "Set MICROCRED_LEDGER_ANCHOR_RPC_URL and MICROCRED_LEDGER_ANCHOR_PRIVATE_KEY to "
                "anchor.",
                field="anchoring",
            )
        web3 = _web3_module()
        provider = web3.Web3.HTTPProvider(settings.anchor_rpc_url)
        return cls(
            web3.Web3(provider),
            settings.anchor_private_key,
            confirmations=settings.anchor_confirmations,
        )

    @property
    def address(self) -> str:
        return str(self.account.address)

    def submit(self, checkpoint: Checkpoint) -> SubmittedAnchor:
        """Send the anchor transaction and wait for it to be mined."""
        eth = self.web3.eth
        try:
            chain_id = int(eth.chain_id)
            transaction = {
                "from": self.address,
                "to": self.address,
                "value": 0,
                "data": anchor_payload(checkpoint.size, checkpoint.root_hash),
                "nonce": eth.get_transaction_count(self.address, "pending"),
                "gas": ANCHOR_GAS,
                "gasPrice": eth.gas_price,
                "chainId": chain_id,
            }
            signed = self.account.sign_transaction(transaction)
            tx_hash = eth.send_raw_transaction(signed.raw_transaction)
            receipt = eth.wait_for_transaction_receipt(tx_hash, timeout=self.timeout)
        except AnchorError:
            raise
        except Exception as error:  # web3 raises many unrelated types for RPC failures
            raise AnchorError(f"The chain refused the anchor: {error}", field="anchoring") from None
        return SubmittedAnchor(
            chain_id,
            "0x" + bytes(tx_hash).hex(),
            self.address,
            int(receipt["blockNumber"]),
            int(receipt["status"]) == 1,
        )

    def confirm(self, tx_hash: str, checkpoint: Checkpoint) -> LedgerCheck:
        """Does the chain hold this checkpoint's root in a successful, confirmed transaction?"""
        eth = self.web3.eth
        try:
            transaction = eth.get_transaction(tx_hash)
            receipt = eth.get_transaction_receipt(tx_hash)
            head = int(eth.block_number)
        except Exception:  # not found, node unreachable, malformed hash
            return LedgerCheck(
                CHECK_NAME, "fail", f"The anchor transaction {tx_hash} is not on the chain."
            )
        if bytes(transaction["input"]) != anchor_payload(checkpoint.size, checkpoint.root_hash):
            return LedgerCheck(
                CHECK_NAME,
                "fail",
                f"The anchor transaction {tx_hash} records another root or tree size.",
            )
        if int(receipt["status"]) != 1:
            return LedgerCheck(CHECK_NAME, "fail", f"The anchor transaction {tx_hash} failed.")
        block = int(receipt["blockNumber"])
        confirmations = head - block + 1
        if confirmations < self.confirmations:
            return LedgerCheck(
                CHECK_NAME,
                "warning",
                f"Anchored in block {block} with {confirmations} confirmation(s); "
                f"{self.confirmations} wanted.",
            )
        return LedgerCheck(
            CHECK_NAME,
            "pass",
            f"Root of {checkpoint.size} leaves anchored in block {block} "
            f"({confirmations} confirmations), transaction {tx_hash}.",
        )

"""Anchoring checkpoint roots on a real in-process EVM (web3 + eth-tester/py-evm), no mocks."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.ledger import service
from microcred.ledger.anchoring import (
    EvmAnchorClient,
    anchor_payload,
    import_keeping_recursion_limit,
)
from microcred.ledger.checkpoints import Checkpoint
from microcred.ledger.config import LedgerSettings
from microcred.ledger.errors import AnchorError
from microcred.settings import Settings
from tests.ledger.conftest import record

try:
    web3 = import_keeping_recursion_limit("web3")
    import_keeping_recursion_limit("eth_tester")
except AnchorError:
    pytest.skip("web3 and eth-tester are not installed", allow_module_level=True)


@pytest.fixture(autouse=True)
def recursion_limit_restored() -> Any:
    """py-evm raises the process's recursion limit when its backend loads; put it back."""
    limit = sys.getrecursionlimit()
    yield
    sys.setrecursionlimit(limit)


@pytest.fixture(scope="module")
def chain() -> Any:
    return web3.Web3(web3.EthereumTesterProvider())


@pytest.fixture
def client(chain: Any) -> EvmAnchorClient:
    """A fresh anchoring account, funded by the tester's coinbase, signing its own transactions."""
    account = chain.eth.account.create()
    funding = chain.eth.send_transaction(
        {"from": chain.eth.accounts[0], "to": account.address, "value": 10**18}
    )
    chain.eth.wait_for_transaction_receipt(funding)
    return EvmAnchorClient(chain, account.key.hex())


def _mine(chain: Any, blocks: int) -> None:
    for _ in range(blocks):
        tx = chain.eth.send_transaction(
            {"from": chain.eth.accounts[0], "to": chain.eth.accounts[1], "value": 1}
        )
        chain.eth.wait_for_transaction_receipt(tx)


def test_a_checkpoint_root_is_written_to_the_chain_and_confirmed(
    sessions: sessionmaker[Session], settings: Settings, client: EvmAnchorClient, chain: Any
) -> None:
    with sessions.begin() as session:
        record(session, 9)
        checkpoint = service.create_checkpoint(session, settings)
        anchor = service.anchor_checkpoint(session, checkpoint, client)
        assert anchor.status == "mined" and anchor.block_number is not None
        assert anchor.chain_id == chain.eth.chain_id
        transaction = chain.eth.get_transaction(anchor.tx_hash)
        assert bytes(transaction["input"]) == anchor_payload(9, checkpoint.root_hash)
        check = service.verify_anchor(session, anchor, client)
        assert check.status == "pass" and "anchored in block" in check.reason
        assert anchor.status == "confirmed"
        assert service.unanchored_checkpoints(session) == []


def test_an_anchor_for_another_root_or_an_unknown_transaction_fails(
    client: EvmAnchorClient,
) -> None:
    real = Checkpoint("log.example", 4, b"\x01" * 32)
    submitted = client.submit(real)
    forged = Checkpoint("log.example", 4, b"\x02" * 32)
    check = client.confirm(submitted.tx_hash, forged)
    assert check.status == "fail" and "another root" in check.reason
    missing = client.confirm("0x" + "ab" * 32, real)
    assert missing.status == "fail" and "not on the chain" in missing.reason


def test_too_few_confirmations_is_a_warning_until_more_blocks_arrive(
    client: EvmAnchorClient, chain: Any
) -> None:
    checkpoint = Checkpoint("log.example", 2, b"\x03" * 32)
    submitted = client.submit(checkpoint)
    strict = EvmAnchorClient(chain, client.account.key.hex(), confirmations=4)
    assert strict.confirm(submitted.tx_hash, checkpoint).status == "warning"
    _mine(chain, 3)
    assert strict.confirm(submitted.tx_hash, checkpoint).status == "pass"


def test_misconfigured_anchoring_is_a_clear_error(chain: Any) -> None:
    with pytest.raises(AnchorError, match="not a valid Ethereum key"):
        EvmAnchorClient(chain, "0x1234")
    with pytest.raises(AnchorError, match="MICROCRED_LEDGER_ANCHOR_RPC_URL"):
        EvmAnchorClient.from_settings(LedgerSettings(anchoring_enabled=True))
    assert LedgerSettings().anchoring_enabled is False

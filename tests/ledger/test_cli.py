"""The ledger, audit and witness commands, end to end on a real database (and a live server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.cli.main import app
from microcred.ledger import service
from microcred.ledger.models import LedgerCheckpoint, LedgerHead, LedgerLeaf, LedgerNode
from microcred.settings import Settings, get_settings
from tests.ledger.conftest import record

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MICROCRED_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MICROCRED_MASTER_KEY", settings.master_key)
    monkeypatch.setenv("MICROCRED_LEDGER_ORIGIN", "ledger.test/log")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.usefixtures("cli_env")
def test_checkpoint_prove_receipt_and_verify_from_the_command_line(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions.begin() as session:
        record(session, 6)
    code, out = invoke("ledger", "checkpoint", "--every", "1", "--count", "1")
    assert code == 0, out
    assert "Signed checkpoint of 6 leaves" in out
    code, key = invoke("ledger", "key")
    assert code == 0 and key.startswith("ledger.test/log+")
    log_key = key.strip()
    code, out = invoke("ledger", "prove-inclusion", "--leaf-index", "2", "--tree-size", "6")
    assert code == 0 and len(json.loads(out)["proof"]) == 3
    code, out = invoke("ledger", "prove-consistency", "--first", "2", "--second", "6")
    assert code == 0 and json.loads(out)["first"] == 2
    receipt_file = tmp_path / "receipt.json"
    code, out = invoke("ledger", "receipt", "2", "--output", str(receipt_file))
    assert code == 0, out
    code, out = invoke("ledger", "verify-receipt", str(receipt_file), "--log-key", log_key)
    assert code == 0 and "pass" in out
    tampered = json.loads(receipt_file.read_text())
    tampered["leaf_index"] = 3
    receipt_file.write_text(json.dumps(tampered))
    code, out = invoke("ledger", "verify-receipt", str(receipt_file), "--log-key", log_key)
    assert code == 1 and "fail" in out
    code, out = invoke("ledger", "status")
    assert code == 0 and "Leaves: 6" in out


@pytest.mark.usefixtures("cli_env")
def test_bad_input_exits_2_with_a_message_not_a_trace() -> None:
    code, out = invoke("ledger", "prove-inclusion", "--leaf-index", "0", "--tree-size", "3")
    assert code == 2 and "no tree of 3 leaves" in out and "Traceback" not in out
    code, out = invoke("ledger", "prove-consistency", "--first", "4", "--second", "1")
    assert code == 2 and "no tree of 1 leaves" in out
    code, out = invoke("ledger", "add-witness", "not-a-key")
    assert code == 2 and "verifier key" in out
    code, out = invoke("audit", "--log", "somewhere", "--log-key", "x+00000000+AAAA")
    assert code == 2


@pytest.mark.usefixtures("cli_env")
def test_audit_of_the_database_catches_a_rewritten_history(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    with sessions.begin() as session:
        record(session, 8)
        service.create_checkpoint(session, settings)
        log_key = service.log_verifier(session).encode()
    state = tmp_path / "audit.json"
    audit = ("audit", "--log", settings.database_url, "--log-key", log_key, "--state", str(state))
    code, out = invoke(*audit)
    assert code == 0 and "first one seen" in out
    # The operator wipes the log and re-signs a different history with the same key.
    with sessions.begin() as session:
        for table in (LedgerCheckpoint, LedgerLeaf, LedgerNode, LedgerHead):
            session.execute(delete(table))
        record(session, 10, start=100)
        service.create_checkpoint(session, settings)
    code, out = invoke(*audit)
    assert code == 1 and "ALERT" in out and "Rewritten history" in out
    assert json.loads(state.read_text())["evidence"][0]["reason"].startswith("Rewritten")


@pytest.mark.usefixtures("cli_env")
def test_a_witness_cosigns_and_verifiers_can_require_it(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    key_file = tmp_path / "witness.key"
    code, witness_key = invoke(
        "witness", "keygen", "--name", "w.example/1", "--key-file", str(key_file)
    )
    assert code == 0 and oct(key_file.stat().st_mode & 0o777) == "0o600"
    witness_key = witness_key.strip()
    assert invoke("ledger", "add-witness", witness_key)[0] == 0
    with sessions.begin() as session:
        record(session, 3)
        service.create_checkpoint(session, settings)
        log_key = service.log_verifier(session).encode()
    code, out = invoke(
        "witness",
        "cosign",
        "--log",
        settings.database_url,
        "--log-key",
        log_key,
        "--key-file",
        str(key_file),
        "--state",
        str(tmp_path / "w.json"),
    )
    assert code == 0, out
    receipt = tmp_path / "r.json"
    assert invoke("ledger", "receipt", "1", "--output", str(receipt))[0] == 0
    code, out = invoke(
        "ledger",
        "verify-receipt",
        str(receipt),
        "--log-key",
        log_key,
        "--witness-key",
        witness_key,
        "--require-witnesses",
        "1",
    )
    assert code == 0 and "cosigned by w.example/1" in out
    code, out = invoke(
        "ledger",
        "verify-receipt",
        str(receipt),
        "--log-key",
        log_key,
        "--witness-key",
        witness_key,
        "--require-witnesses",
        "2",
    )
    assert code == 1 and "2 are required" in out


@pytest.mark.usefixtures("cli_env")
def test_audit_of_a_live_server_over_http(
    sessions: sessionmaker[Session], settings: Settings, live_server: str, tmp_path: Path
) -> None:
    with sessions.begin() as session:
        record(session, 5)
        service.create_checkpoint(session, settings)
        log_key = service.log_verifier(session).encode()
    audit = ("audit", "--log", live_server, "--log-key", log_key, "--state", str(tmp_path / "a"))
    assert invoke(*audit)[0] == 0
    with sessions.begin() as session:
        record(session, 5, start=5)
        service.create_checkpoint(session, settings)
    code, out = invoke(*audit)
    assert code == 0 and "10 leaves verified, consistent with 5" in out

"""Independent auditors and witnesses catch forks, shrinking and rewritten histories."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.ledger import service
from microcred.ledger.checkpoints import Checkpoint
from microcred.ledger.errors import AuditFailure, CheckpointError, LedgerError
from microcred.ledger.merkle import MemoryTree, leaf_hash
from microcred.ledger.monitor import (
    HttpLogSource,
    MonitorState,
    check_new_checkpoint,
    open_source,
    witness_checkpoint,
)
from microcred.ledger.notes import COSIGNATURE_V1, NoteSigner, sign_note
from microcred.settings import Settings
from tests.ledger.conftest import record


class ScriptedLog:
    """A log whose operator can misbehave: it signs whatever tree it is told to."""

    def __init__(self) -> None:
        self.signer = NoteSigner.generate("evil.example/ledger")
        self.tree = MemoryTree()
        self.note = ""
        self.cosigned: list[str] = []

    def grow(self, count: int, salt: bytes = b"") -> None:
        for _ in range(count):
            self.tree.append(leaf_hash(salt + self.tree.size.to_bytes(4, "big")))

    def publish(self, size: int | None = None, root: bytes | None = None) -> None:
        size = self.tree.size if size is None else size
        root = self.tree.root(size) if root is None else root
        self.note = sign_note(
            Checkpoint(self.signer.name, size, root, 1).body(), self.signer
        ).encode()

    def latest_checkpoint(self) -> str:
        return self.note

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        return self.tree.consistency_proof(first, second)

    def submit_cosignature(self, cosigned_note: str) -> None:
        self.cosigned.append(cosigned_note)


@pytest.fixture
def scripted() -> ScriptedLog:
    log = ScriptedLog()
    log.grow(5)
    log.publish()
    return log


def _audit(log: ScriptedLog, state: MonitorState) -> str:
    return check_new_checkpoint(log, state, log.signer.verifier).message


def test_an_honest_log_passes_audit_and_the_state_remembers_it(
    scripted: ScriptedLog, tmp_path: Path
) -> None:
    path = tmp_path / "audit.json"
    state = MonitorState.load(path, scripted.signer.verifier)
    assert "first one seen" in _audit(scripted, state)
    state.save(path)
    scripted.grow(12)
    scripted.publish()
    state = MonitorState.load(path, scripted.signer.verifier)
    assert "17 leaves verified, consistent with 5" in _audit(scripted, state)
    assert [seen.size for seen in state.checkpoints] == [5, 17]


def test_a_fork_is_reported_with_evidence(scripted: ScriptedLog) -> None:
    state = MonitorState(scripted.signer.verifier.encode())
    _audit(scripted, state)
    scripted.publish(size=5, root=bytes(32))
    with pytest.raises(AuditFailure, match="Fork"):
        _audit(scripted, state)
    assert state.evidence[0]["new"] == scripted.note


def test_a_log_that_shrank_is_reported(scripted: ScriptedLog) -> None:
    state = MonitorState(scripted.signer.verifier.encode())
    _audit(scripted, state)
    scripted.publish(size=3)
    with pytest.raises(AuditFailure, match=r"shrank.*3 leaves after signing 5"):
        _audit(scripted, state)


def test_a_rewritten_history_is_reported(scripted: ScriptedLog) -> None:
    state = MonitorState(scripted.signer.verifier.encode())
    _audit(scripted, state)
    scripted.tree = MemoryTree()
    scripted.grow(9, salt=b"rewritten")
    scripted.publish()
    with pytest.raises(AuditFailure, match=r"Rewritten history.*9 leaves.*5 leaves"):
        _audit(scripted, state)


def test_a_checkpoint_with_a_bad_signature_is_refused(scripted: ScriptedLog) -> None:
    state = MonitorState(scripted.signer.verifier.encode())
    scripted.note = scripted.note.replace("\n5\n", "\n6\n")
    with pytest.raises(CheckpointError, match="does not verify"):
        _audit(scripted, state)
    assert state.checkpoints == []


def test_state_files_are_bound_to_one_log_key(scripted: ScriptedLog, tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    MonitorState(scripted.signer.verifier.encode()).save(path)
    with pytest.raises(LedgerError, match="another log key"):
        MonitorState.load(path, NoteSigner.generate("other.example").verifier)
    path.write_text("{not json")
    with pytest.raises(LedgerError, match="unreadable"):
        MonitorState.load(path, scripted.signer.verifier)


def test_a_witness_cosigns_only_consistent_checkpoints(scripted: ScriptedLog) -> None:
    witness = NoteSigner.generate("witness.example/w1", COSIGNATURE_V1)
    state = MonitorState(scripted.signer.verifier.encode())
    cosigned = witness_checkpoint(scripted, state, scripted.signer.verifier, witness)
    assert scripted.cosigned == [cosigned]
    assert "— witness.example/w1 " in cosigned
    scripted.publish(size=5, root=bytes(32))
    with pytest.raises(AuditFailure):
        witness_checkpoint(scripted, state, scripted.signer.verifier, witness)
    assert len(scripted.cosigned) == 1


def test_audit_over_http_against_the_real_app(
    sessions: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    with sessions.begin() as session:
        record(session, 4)
        service.create_checkpoint(session, settings)
        log_key = service.log_verifier(session)
    source = HttpLogSource("http://testserver", client)
    state = MonitorState(log_key.encode())
    check_new_checkpoint(source, state, log_key)
    with sessions.begin() as session:
        record(session, 9, start=4)
        service.create_checkpoint(session, settings)
    assert (
        "13 leaves verified, consistent with 4"
        in check_new_checkpoint(source, state, log_key).message
    )


def test_open_source_understands_urls_and_refuses_anything_else() -> None:
    assert isinstance(open_source("https://ledger.example.org"), HttpLogSource)
    with pytest.raises(LedgerError, match="--log"):
        open_source("ledger.example.org")

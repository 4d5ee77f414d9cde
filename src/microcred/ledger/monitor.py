"""Independent monitoring: auditors and witnesses that keep their own memory of the log.

A monitor remembers every checkpoint it accepted (a JSON state file). Each new checkpoint must
carry a valid log signature and be provably consistent with the largest one seen before;
otherwise the monitor reports a fork, a shrunken log or a rewritten history and keeps both
signed checkpoints as evidence. A witness does the same, then cosigns.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from microcred.ledger.checkpoints import VerifiedCheckpoint, open_checkpoint
from microcred.ledger.errors import AuditFailure, LedgerError, ProofError
from microcred.ledger.merkle import verify_consistency
from microcred.ledger.notes import NoteSigner, NoteVerifier, cosign_note


class LogSource(Protocol):
    """Where a monitor reads a log: a microcred server over HTTP, or its database directly."""

    def latest_checkpoint(self) -> str: ...

    def consistency_proof(self, first: int, second: int) -> list[bytes]: ...

    def submit_cosignature(self, cosigned_note: str) -> None: ...


class HttpLogSource:
    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=30)

    def _get(self, path: str, **params: int) -> httpx.Response:
        try:
            response = self.client.get(f"{self.base_url}{path}", params=params)
        except httpx.HTTPError as error:
            raise LedgerError(f"Cannot reach the log at {self.base_url}: {error}") from None
        if response.status_code != 200:
            raise LedgerError(
                f"The log answered {response.status_code} to {path}: {response.text[:200]}"
            )
        return response

    def latest_checkpoint(self) -> str:
        return self._get("/ledger/checkpoint").text

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        data = self._get("/api/v1/ledger/proofs/consistency", first=first, second=second).json()
        try:
            return [base64.b64decode(item, validate=True) for item in data["proof"]]
        except (KeyError, TypeError, ValueError):
            raise ProofError("The log sent a malformed consistency proof.") from None

    def submit_cosignature(self, cosigned_note: str) -> None:
        response = self.client.post(
            f"{self.base_url}/api/v1/ledger/cosignatures", json={"checkpoint": cosigned_note}
        )
        if response.status_code not in (200, 201):
            raise LedgerError(f"The log refused the cosignature: {response.text[:200]}")


class DatabaseLogSource:
    """Reads a log's database directly (an auditor with read access to a replica)."""

    def __init__(self, database_url: str) -> None:
        from microcred.db.engine import create_db_engine, make_session_factory

        self.engine = create_db_engine(database_url)
        self.sessions = make_session_factory(self.engine)

    def latest_checkpoint(self) -> str:
        from microcred.ledger import service

        with self.sessions() as session:
            checkpoint = service.latest_checkpoint(session)
            if checkpoint is None:
                raise LedgerError("The log has published no checkpoint yet.")
            return service.published_note(checkpoint)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        from microcred.ledger import service

        with self.sessions() as session:
            return service.consistency_proof(session, first, second)

    def submit_cosignature(self, cosigned_note: str) -> None:
        from microcred.ledger import service

        with self.sessions.begin() as session:
            service.add_cosignatures(session, cosigned_note)

    def close(self) -> None:
        self.engine.dispose()


def open_source(log: str, client: httpx.Client | None = None) -> LogSource:
    if log.startswith(("http://", "https://")):
        return HttpLogSource(log, client)
    if "://" in log:
        return DatabaseLogSource(log)
    raise LedgerError(
        "--log is a server URL (http://…) or a database URL (sqlite:///…, postgresql://…).",
        field="log",
    )


@dataclass
class SeenCheckpoint:
    size: int
    root_hash: str  # base64
    note: str
    seen_at: str


@dataclass
class MonitorState:
    """What a monitor has accepted so far, plus evidence of any misbehaviour it caught."""

    log_key: str
    checkpoints: list[SeenCheckpoint] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path, log_key: NoteVerifier) -> MonitorState:
        if not path.exists():
            return cls(log_key.encode())
        try:
            data = json.loads(path.read_text())
            state = cls(
                data["log_key"],
                [SeenCheckpoint(**item) for item in data["checkpoints"]],
                list(data.get("evidence", [])),
            )
        except (ValueError, KeyError, TypeError):
            raise LedgerError(f"The monitor state {path} is unreadable.", field="state") from None
        if state.log_key != log_key.encode():
            raise LedgerError(f"The state file {path} belongs to another log key.", field="state")
        return state

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2))
        os.replace(temporary, path)

    def largest(self) -> SeenCheckpoint | None:
        return max(self.checkpoints, key=lambda seen: seen.size, default=None)


@dataclass(frozen=True)
class AuditOutcome:
    checkpoint: VerifiedCheckpoint
    previous_size: int | None
    message: str


def _now() -> datetime:
    return datetime.now(UTC)


def check_new_checkpoint(
    source: LogSource,
    state: MonitorState,
    log_key: NoteVerifier,
    *,
    witness_keys: Sequence[NoteVerifier] = (),
    required_witnesses: int = 0,
) -> AuditOutcome:
    """Fetch, verify and remember the latest checkpoint; :class:`AuditFailure` on misbehaviour."""
    message = source.latest_checkpoint()
    verified = open_checkpoint(message, log_key, witness_keys, required_witnesses)
    new = verified.checkpoint
    last = state.largest()

    def caught(reason: str) -> AuditFailure:
        state.evidence.append(
            {
                "found_at": _now().isoformat(),
                "reason": reason,
                "previous": last.note if last else None,
                "new": message,
            }
        )
        return AuditFailure(reason)

    if last is not None:
        last_root = base64.b64decode(last.root_hash)
        if new.size < last.size:
            raise caught(
                f"The log shrank: it now claims {new.size} leaves after signing {last.size}. "
                "History was rolled back."
            )
        if new.size == last.size and new.root_hash != last_root:
            raise caught(f"Fork: two different signed roots for the same tree size {new.size}.")
        if new.size > last.size:
            try:
                proof = source.consistency_proof(last.size, new.size)
                verify_consistency(last.size, new.size, last_root, new.root_hash, proof)
            except ProofError as error:
                raise caught(
                    f"Rewritten history: the checkpoint of {new.size} leaves is not consistent "
                    f"with the one of {last.size} leaves seen before ({error.message})"
                ) from None
    if last is None or new.size > last.size or new.root_hash != base64.b64decode(last.root_hash):
        state.checkpoints.append(
            SeenCheckpoint(
                new.size, base64.b64encode(new.root_hash).decode(), message, _now().isoformat()
            )
        )
    summary = (
        f"Checkpoint of {new.size} leaves verified"
        + (f", consistent with {last.size} seen before" if last else " (first one seen)")
        + (f"; cosigned by {', '.join(sorted(verified.cosigners))}" if verified.cosigners else "")
        + "."
    )
    return AuditOutcome(verified, last.size if last else None, summary)


def witness_checkpoint(
    source: LogSource,
    state: MonitorState,
    log_key: NoteVerifier,
    witness: NoteSigner,
    *,
    now: datetime | None = None,
) -> str:
    """Verify the latest checkpoint like an auditor, cosign it, hand the cosignature to the log."""
    outcome = check_new_checkpoint(source, state, log_key)
    timestamp = int((now or _now()).timestamp())
    signature = cosign_note(outcome.checkpoint.note.text, witness, timestamp)
    cosigned = outcome.checkpoint.note.with_signature(signature).encode()
    source.submit_cosignature(cosigned)
    return cosigned

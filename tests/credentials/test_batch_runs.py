"""Batch verification in the background (:mod:`microcred.credentials.batch_runs`): the result
kept as data, progress written at most twice a second, a stale or failed batch interrupted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import batch, batch_runs
from microcred.credentials.models import VerificationBatch, VerificationBatchState
from microcred.db.base import utcnow
from microcred.settings import Settings
from tests.conftest import World
from tests.credentials.batch_helpers import Issued, issued
from tests.credentials.service.conftest import definition_id, principal_of, skills

__all__ = ["definition_id", "issued", "skills"]


def _started(sessions: sessionmaker[Session], world: World, items: int) -> str:
    inputs = batch.BatchInput()
    inputs.add_references("\n".join(f"https://a.example/{n}" for n in range(items)))
    with sessions.begin() as session:
        return batch_runs.start_run(session, principal_of(session, world.employer), inputs).id


def test_a_result_kept_as_data_gives_the_same_rows_totals_and_csv(
    sessions: sessionmaker[Session], settings: Settings, issued: Issued
) -> None:
    inputs = batch.BatchInput()
    inputs.add_file("alice.json", issued.valid_json.encode())
    inputs.add_file("tampered.json", issued.tampered_json.encode())
    inputs.add_file("notes.txt", b"not a credential")
    with sessions() as session:
        result = batch.verify_batch(session, inputs.items, settings, allow_remote=False)
    again = batch_runs.result_from_data(batch_runs.result_data(result))
    assert again.rows == result.rows and again.totals == result.totals
    assert batch.result_csv(again) == batch.result_csv(result)
    assert again.checked_at == result.checked_at


def test_progress_is_written_every_half_second_not_every_item(
    sessions: sessionmaker[Session], world: World
) -> None:
    run_id = _started(sessions, world, 10)
    now = [0.0]
    writer = batch_runs.ProgressWriter(sessions, run_id, clock=lambda: now[0])
    row = batch.BatchRow(1, "a", "valid")

    def checked() -> int:
        with sessions() as session:
            run = session.get(VerificationBatch, run_id)
            assert run is not None
            return run.checked

    for _ in range(5):
        writer.advance(row)
    assert checked() == 0  # five items within the same instant: nothing written yet
    now[0] = batch_runs.PROGRESS_EVERY
    writer.advance(row)
    assert checked() == 6
    writer.advance(row)
    assert checked() == 6


def test_a_running_batch_without_a_heartbeat_for_a_minute_is_interrupted(
    sessions: sessionmaker[Session], world: World
) -> None:
    run_id = _started(sessions, world, 1)
    with sessions() as session:
        run = session.get(VerificationBatch, run_id)
        assert run is not None
        assert batch_runs.state_of(run) is VerificationBatchState.running
        later = utcnow() + batch_runs.STALE_AFTER + timedelta(seconds=1)
        assert batch_runs.state_of(run, later) is VerificationBatchState.interrupted


def test_a_batch_that_fails_is_interrupted_and_audits_nothing(
    sessions: sessionmaker[Session], settings: Settings, world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    run_id = _started(sessions, world, 2)

    def broken(*args: object, **kwargs: object) -> batch.BatchResult:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(batch, "verify_batch", broken)
    with sessions() as session:
        principal = principal_of(session, world.employer)
    batch_runs.run_batch(sessions, run_id, principal, [], settings)
    with sessions() as session:
        run = session.get(VerificationBatch, run_id)
        assert run is not None and run.state is VerificationBatchState.interrupted
        assert run.result is None

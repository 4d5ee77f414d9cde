"""Checkpoints signed in the background of the web server: when, by whom, and stopping."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.db.base import utcnow
from microcred.ledger import service
from microcred.ledger.config import LedgerSettings
from microcred.ledger.models import LedgerCheckpoint
from microcred.ledger.scheduler import Checkpointer
from microcred.settings import Settings
from microcred.web.app import create_app
from tests.ledger.conftest import record

EVERY_FIVE_MINUTES = LedgerSettings(checkpoint_interval_seconds=300)


def _checkpoints(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as session:
        return list(
            session.scalars(select(LedgerCheckpoint.tree_size).order_by(LedgerCheckpoint.id))
        )


@pytest.mark.both_databases
def test_a_checkpoint_is_due_when_the_log_grew_and_the_last_one_is_old_enough(
    db_backend: str, session: Session, settings: Settings
) -> None:
    def due(after: timedelta) -> LedgerCheckpoint | None:
        return service.checkpoint_if_due(
            session, settings, now=utcnow() + after, ledger_settings=EVERY_FIVE_MINUTES
        )

    assert due(timedelta(0)) is None  # an empty log
    record(session, 3)
    first = due(timedelta(0))  # no checkpoint yet: at once
    assert first is not None and first.tree_size == 3
    assert due(timedelta(hours=1)) is None  # nothing new to sign
    record(session, 2, start=3)
    assert due(timedelta(seconds=299)) is None  # grown, but the last one is too recent
    second = due(timedelta(seconds=301))
    assert second is not None and second.tree_size == 5
    assert session.scalar(select(func.count()).select_from(LedgerCheckpoint)) == 2


def test_the_background_checkpointer_signs_what_was_recorded_and_stops(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions.begin() as session:
        record(session, 4)
    checkpointer = Checkpointer(sessions, settings, EVERY_FIVE_MINUTES, poll_seconds=0.05)
    checkpointer.start()
    try:
        deadline = time.monotonic() + 10
        while not _checkpoints(sessions) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _checkpoints(sessions) == [4]
        with sessions.begin() as session:
            record(session, 1, start=4)
        time.sleep(0.3)  # several wake-ups: the last checkpoint is not five minutes old
        assert _checkpoints(sessions) == [4]
    finally:
        checkpointer.stop()
    assert not checkpointer.running


def test_a_failing_wake_up_is_logged_and_the_next_one_tries_again(
    sessions: sessionmaker[Session], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    class Flaky(Checkpointer):
        def run_once(self) -> bool:
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("database away")
            return super().run_once()

    with sessions.begin() as session:
        record(session, 2)
    flaky = Flaky(sessions, settings, EVERY_FIVE_MINUTES, poll_seconds=0.05)
    flaky.start()
    try:
        deadline = time.monotonic() + 10
        while not _checkpoints(sessions) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        flaky.stop()
    assert _checkpoints(sessions) == [2] and len(calls) >= 2
    assert "Background checkpoint failed" in caplog.text


@pytest.mark.parametrize("in_server", [True, False])
def test_the_web_server_runs_the_checkpointer_for_its_lifetime_unless_told_not_to(
    settings: Settings, in_server: bool
) -> None:
    app = create_app(
        settings, LedgerSettings(checkpoint_interval_seconds=300, checkpoint_in_server=in_server)
    )
    try:
        with TestClient(app):
            checkpointer = app.state.checkpointer
            assert (checkpointer is not None and checkpointer.running) is in_server
        assert checkpointer is None or not checkpointer.running  # stopped with the server
    finally:
        app.state.context.engine.dispose()

"""Batch verification in the background: the web page and ``POST /api/v1/verify/batches``
start a batch (:func:`start_run`, allowed and counted as :func:`batch.check_batch_allowed`
says), a thread checks it (:func:`run_batch`) while the page shows its progress, and its result
is kept in a :class:`VerificationBatch` for :data:`KEEP_RESULTS`.

The credentials themselves live only in the thread's memory, never in the database. The thread
writes how many items it has checked at most every :data:`PROGRESS_EVERY` seconds, and a
heartbeat every :data:`HEARTBEAT_EVERY` seconds even while it fetches ahead; a batch still
running whose heartbeat is older than :data:`STALE_AFTER` died with its server (a restart) and
is reported ``interrupted``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.service import Principal
from microcred.credentials import batch
from microcred.credentials.dids import JsonFetcher
from microcred.credentials.models import (
    IssuedCredential,
    VerificationBatch,
    VerificationBatchState,
)
from microcred.credentials.verify import Check
from microcred.db.base import new_id, utcnow
from microcred.errors import NotFound
from microcred.outcomes import engagement
from microcred.settings import Settings

log = logging.getLogger(__name__)

KEEP_RESULTS = timedelta(hours=24)
STALE_AFTER = timedelta(seconds=60)
HEARTBEAT_EVERY = 10.0
"""Seconds between heartbeats while nothing is checked (the batch fetches ahead)."""
PROGRESS_EVERY = 0.5
"""Seconds at least between two writes of the progress: at most two commits a second."""


# --- the result as data ---------------------------------------------------------------------


def result_data(result: batch.BatchResult) -> dict[str, Any]:
    """What a finished batch keeps: enough to show its page and write its CSV again."""
    return {
        "checked_at": result.checked_at.isoformat(),
        "time_budget": result.time_budget,
        "rows": [asdict(row) for row in result.rows],
    }


def result_from_data(data: Mapping[str, Any]) -> batch.BatchResult:
    rows = [
        batch.BatchRow(**{**row, "problems": [Check(**check) for check in row["problems"]]})
        for row in data["rows"]
    ]
    checked_at = datetime.fromisoformat(data["checked_at"])
    return batch.BatchResult(rows, checked_at, float(data["time_budget"]))


# --- starting, reading, forgetting ----------------------------------------------------------


def state_of(run: VerificationBatch, now: datetime | None = None) -> VerificationBatchState:
    """The batch's state as a reader should see it: a running batch whose heartbeat stopped is
    ``interrupted``."""
    now = now or utcnow()
    if run.state is VerificationBatchState.running and (
        batch.aware(run.heartbeat_at) < now - STALE_AFTER
    ):
        return VerificationBatchState.interrupted
    return run.state


def prune_runs(session: Session, now: datetime | None = None) -> int:
    """Delete the batches started more than :data:`KEEP_RESULTS` ago; how many."""
    cutoff = (now or utcnow()) - KEEP_RESULTS
    deleted = session.execute(
        delete(VerificationBatch)
        .where(VerificationBatch.created_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return int(deleted.rowcount or 0)  # type: ignore[attr-defined]


def start_run(
    session: Session,
    principal: Principal,
    inputs: batch.BatchInput,
    now: datetime | None = None,
) -> VerificationBatch:
    """Record a batch about to run (allowed and counted by :func:`batch.admit_batch`), and
    forget those past :data:`KEEP_RESULTS`; the caller commits, then :func:`start_thread`."""
    batch.admit_batch(session, principal, inputs, now)
    now = now or utcnow()
    prune_runs(session, now)
    run = VerificationBatch(
        id=new_id(),
        user_id=principal.user_id,
        created_at=now,
        heartbeat_at=now,
        state=VerificationBatchState.running,
        total=len(inputs.items),
        checked=0,
    )
    session.add(run)
    session.flush()
    return run


def get_run(
    session: Session, principal: Principal, run_id: str, now: datetime | None = None
) -> VerificationBatch:
    """The user's own batch, started less than :data:`KEEP_RESULTS` ago; anyone else's is not
    found."""
    run = session.get(VerificationBatch, run_id, populate_existing=True)
    cutoff = (now or utcnow()) - KEEP_RESULTS
    if run is None or run.user_id != principal.user_id or batch.aware(run.created_at) < cutoff:
        raise NotFound(f"No verification batch '{run_id}' (results are kept 24 hours).")
    return run


def count_verifications(session: Session, result: batch.BatchResult, settings: Settings) -> None:
    """One more verification of each credential issued here that the batch read (once, however
    many times it appears), as ``/verify`` counts one: the issuer's engagement figures."""
    prefix = f"{settings.base_url.rstrip('/')}/credentials/"
    for row in result.rows:
        identifier = row.credential_id or ""
        if row.kind != "credential" or row.duplicate_of or not identifier.startswith(prefix):
            continue
        credential = session.get(IssuedCredential, identifier.removeprefix(prefix))
        if credential is not None:
            engagement.record(session, credential, engagement.VERIFY)


# --- the worker -----------------------------------------------------------------------------


class ProgressWriter:
    """Writes a running batch's progress in its own short transactions: ``checked`` when
    :meth:`advance` (the batch's ``progress`` callback) finds :data:`PROGRESS_EVERY` seconds
    passed, and a heartbeat every :data:`HEARTBEAT_EVERY` seconds from a thread of its own."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        run_id: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._run_id = run_id
        self._clock = clock
        self.checked = 0
        self._written_at = clock()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"verify-batch-heartbeat-{run_id}", daemon=True
        )

    def advance(self, row: batch.BatchRow) -> None:
        self.checked += 1
        if self._clock() - self._written_at >= PROGRESS_EVERY:
            self.write()

    def write(self) -> None:
        """Write the count and the heartbeat; a failure is logged, never stops the batch (the
        next write tries again; meanwhile a reader sees older progress)."""
        with self._lock:
            self._written_at = self._clock()
            try:
                with self._sessions.begin() as session:
                    run = session.get(VerificationBatch, self._run_id)
                    if run is not None:
                        run.checked, run.heartbeat_at = self.checked, utcnow()
            except Exception:
                log.exception("Progress of verification batch %s not written", self._run_id)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_EVERY):
            self.write()

    def __enter__(self) -> ProgressWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_batch(
    sessions: sessionmaker[Session],
    run_id: str,
    principal: Principal,
    items: Sequence[batch.BatchItem],
    settings: Settings,
    *,
    applicants: Mapping[str, batch.Applicant] | None = None,
    fetch: JsonFetcher | None = None,
    time_budget: float = batch.DEFAULT_TIME_BUDGET,
) -> None:
    """Check the batch recorded as ``run_id`` and keep its result, audited and counted as
    :func:`batch.verify_batch_as` does; a failure leaves it ``interrupted`` (and is logged)."""
    try:
        with ProgressWriter(sessions, run_id) as progress, sessions() as session:
            result = batch.verify_batch(
                session, items, settings, applicants=applicants, fetch=fetch,
                time_budget=time_budget, progress=progress.advance,
            )  # fmt: skip
            session.rollback()  # a check only reads; end its transaction before the writes
        with sessions.begin() as session:
            run = session.get(VerificationBatch, run_id)
            if run is None:  # deleted meanwhile (its user was)
                return
            run.state, run.checked = VerificationBatchState.done, len(result.rows)
            run.result, run.finished_at = result_data(result), utcnow()
            run.heartbeat_at = run.finished_at
            batch.record_batch_audit(session, principal, result, run_id)
            count_verifications(session, result, settings)
    except Exception:
        log.exception("Verification batch %s failed", run_id)
        with sessions.begin() as session:
            failed = session.get(VerificationBatch, run_id)
            if failed is not None:
                failed.state = VerificationBatchState.interrupted


def start_thread(
    sessions: sessionmaker[Session],
    run_id: str,
    principal: Principal,
    items: Sequence[batch.BatchItem],
    settings: Settings,
    *,
    applicants: Mapping[str, batch.Applicant] | None = None,
) -> threading.Thread:
    """Run :func:`run_batch` on a thread of its own; the request answers at once."""
    thread = threading.Thread(
        target=run_batch,
        args=(sessions, run_id, principal, items, settings),
        kwargs={"applicants": applicants},
        name=f"verify-batch-{run_id}",
        daemon=True,
    )
    thread.start()
    return thread

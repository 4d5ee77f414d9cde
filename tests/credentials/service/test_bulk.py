"""Bulk issuance: row errors, re-runs that issue nothing twice, a crash then exactly-once resume."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent
from microcred.credentials import bulk, service
from microcred.credentials.errors import CredentialError
from microcred.credentials.models import (
    BulkJob,
    BulkJobRow,
    IssuedCredential,
    JobState,
    RowState,
    StatusChange,
    StatusList,
)
from microcred.credentials.resolvers import verify
from microcred.errors import NotFound, PermissionDenied
from microcred.ledger.models import LedgerLeaf
from microcred.settings import Settings
from tests.conftest import World
from tests.credentials.service.conftest import principal_of


def _csv(definition_id: str, count: int, *, extra: list[dict[str, str]] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, ["definition_id", "recipient_email", "recipient_name", "result_level"]
    )
    writer.writeheader()
    for n in range(count):
        writer.writerow(
            {
                "definition_id": definition_id,
                "recipient_email": f"learner{n}@example.org",
                "recipient_name": f"Learner {n}",
                "result_level": "Competent",
            }
        )
    for row in extra or []:
        writer.writerow(row)
    return out.getvalue().encode()


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(IssuedCredential)) or 0)


@pytest.mark.both_databases
def test_row_errors_are_reported_and_a_rerun_issues_nothing_twice(
    db_backend: str, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    bad_rows = [
        {"definition_id": definition_id, "recipient_email": "not-an-email"},
        {"definition_id": "0" * 32, "recipient_email": "x@example.org"},
        {
            "definition_id": definition_id,
            "recipient_email": "y@example.org",
            "result_level": "Guru",
        },
    ]
    data = _csv(definition_id, 6, extra=bad_rows)
    with sessions.begin() as session:
        job_id = bulk.create_job(
            session, principal_of(session, world.staff), "north-college", data
        ).id
    job = bulk.run_job(sessions, job_id, settings, batch_size=4)
    assert (job.state, job.issued_count, job.error_count, job.existing_count) == (
        JobState.completed,
        6,
        3,
        0,
    )
    with sessions() as session:
        result = list(csv.DictReader(io.StringIO(bulk.result_csv(session, job, settings.base_url))))
    assert [row["status"] for row in result] == ["issued"] * 6 + ["error"] * 3
    assert [row["row"] for row in result] == [str(number) for number in range(1, 10)]
    assert result[0]["credential_url"] == (
        f"{settings.base_url.rstrip('/')}/credentials/{result[0]['credential_id']}"
    )
    assert (result[6]["credential_id"], result[6]["credential_url"]) == ("", "")
    with sessions() as session:  # what the job page shows: the first rows in error, in order
        assert [row.row_number for row in bulk.error_rows(session, job_id, limit=2)] == [7, 8]
    assert "recipient_email" in result[6]["error"]
    assert "not a published definition" in result[7]["error"]
    assert "results[0].level" in result[8]["error"] and "Guru" in result[8]["error"]
    # the same file again: every row is found, nothing is issued
    with sessions.begin() as session:
        again = bulk.create_job(session, None, "north-college", data).id
    rerun = bulk.run_job(sessions, again, settings)
    assert (rerun.issued_count, rerun.existing_count, rerun.error_count) == (0, 6, 3)
    assert _count(sessions) == 6


def test_json_arrays_and_explicit_idempotency_keys(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> None:
    rows = [
        {
            "definition_id": definition_id,
            "recipient_email": "a@example.org",
            "idempotency_key": "k1",
        },
        {
            "definition_id": definition_id,
            "recipient_email": "a-renamed@example.org",
            "idempotency_key": "k1",
        },
        {
            "definition_id": definition_id,
            "recipient_did": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        },
        "not an object",
    ]
    with sessions.begin() as session:
        job_id = bulk.create_job(
            session, None, "north-college", json.dumps(rows).encode(), source_name="rows.json"
        ).id
    job = bulk.run_job(sessions, job_id, settings)
    assert (job.issued_count, job.existing_count, job.error_count) == (2, 1, 1)


def test_unreadable_files_and_other_issuers_are_refused(
    sessions: sessionmaker[Session], world: World, definition_id: str
) -> None:
    with sessions.begin() as session:
        for data in (b"", b"[1,", b"definition_id,shoe_size\nx,42\n", b"\xff\xfe"):
            with pytest.raises(bulk.BulkError):
                bulk.create_job(session, None, "north-college", data)
        with pytest.raises(PermissionDenied):
            bulk.create_job(session, principal_of(session, world.other_staff), "north-college",
                            _csv(definition_id, 1))  # fmt: skip
    with sessions() as session:
        assert session.scalars(select(BulkJob)).all() == []


def test_files_as_spreadsheets_save_them_are_read(definition_id: str) -> None:
    """Excel's CSV in a comma-decimal locale (semicolons), its Unicode Text (UTF-16, tabs), and
    a Windows-1252 file refused with the line and how to save it as UTF-8."""
    rows = [["definition_id", "recipient_email", "recipient_name"],
            [definition_id, "jose@example.org", "José Müller"],
            [definition_id, "li@example.org", "李雷; 韩梅梅"]]  # fmt: skip
    semicolons = "\r\n".join(";".join(f'"{cell}"' if ";" in cell else cell for cell in row)
                              for row in rows)  # fmt: skip
    unicode_text = "\r\n".join("\t".join(row) for row in rows)
    for data in (("\ufeff" + semicolons).encode("utf-8"), unicode_text.encode("utf-16")):
        parsed = bulk.parse_rows(data, "learners.csv", "org")
        assert [row.error for row in parsed] == [None, None]
        assert [row.payload["recipient_name"] for row in parsed] == ["José Müller", "李雷; 韩梅梅"]
    with pytest.raises(bulk.BulkError) as refused:
        bulk.parse_rows(semicolons.replace("李雷; 韩梅梅", "Li").encode("cp1252"), "x.csv", "org")
    assert "line 2 has the byte 0xe9" in refused.value.message
    assert "CSV UTF-8" in refused.value.message and refused.value.field == "file"


CRASHING_RUN = textwrap.dedent(
    """
    import os, signal, sys
    from microcred.credentials import bulk, service
    from microcred.db.engine import create_db_engine, make_session_factory
    from microcred.settings import Settings

    settings = Settings(database_url=os.environ["DB_URL"], master_key="test-master-key")
    sessions = make_session_factory(create_db_engine(settings.database_url))
    calls = 0
    original = service.Issuance.finish

    def finish_then_crash(self):
        global calls
        calls += 1
        if calls == 3:  # in the third batch, after issuing, before its commit
            os.kill(os.getpid(), signal.SIGKILL)
        original(self)

    service.Issuance.finish = finish_then_crash
    bulk.run_job(sessions, sys.argv[1], settings, batch_size=5)
    """
)


def test_a_crash_half_way_loses_nothing_and_resume_issues_exactly_once(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> None:
    with sessions.begin() as session:
        job_id = bulk.create_job(session, None, "north-college", _csv(definition_id, 23)).id
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, job_id],
        env={**os.environ, "DB_URL": settings.database_url},
        capture_output=True,
        timeout=120,
    )
    assert crashed.returncode == -9, crashed.stderr.decode()
    assert _count(sessions) == 10  # two committed batches; the third died with its transaction
    with sessions() as session:
        job = session.get(BulkJob, job_id)
        assert job is not None and job.state is JobState.running and job.issued_count == 10
    job = bulk.run_job(sessions, job_id, settings, batch_size=5)
    assert (job.state, job.issued_count, job.existing_count) == (JobState.completed, 23, 0)
    with sessions() as session:
        credentials = session.scalars(select(IssuedCredential)).all()
        assert len(credentials) == 23
        assert len({c.idempotency_key for c in credentials}) == 23
        assert len({c.recipient_email for c in credentials}) == 23
        assert session.scalar(select(func.count()).select_from(LedgerLeaf)) == 23
        states = session.scalars(select(BulkJobRow.state).where(BulkJobRow.job_id == job_id))
        assert set(states) == {RowState.issued}
        assert all(c.ledger_leaf_index is not None for c in credentials)


def _run(sessions: sessionmaker[Session], settings: Settings, world: World, data: bytes) -> str:
    with sessions.begin() as session:
        job_id = bulk.create_job(
            session, principal_of(session, world.staff), "north-college", data
        ).id
    assert bulk.run_job(sessions, job_id, settings).state is JobState.completed
    return job_id


@pytest.mark.both_databases
def test_revoking_a_job_revokes_what_it_issued_at_once_all_or_nothing(
    db_backend: str, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    bad = [{"definition_id": definition_id, "recipient_email": "not-an-email"}]
    job_id = _run(sessions, settings, world, _csv(definition_id, 6, extra=bad))
    again = _run(sessions, settings, world, _csv(definition_id, 6))  # every row already issued
    with sessions.begin() as session:  # one issued elsewhere stays active
        outsider = service.issue_credential(
            session, None, settings=settings, definition_id=definition_id,
            recipient_email="outsider@example.org", results=[{"level": "Competent"}],
        ).id  # fmt: skip
        lists_before = {row.id: row.revision for row in session.scalars(select(StatusList))}
        leaves_before = session.scalar(select(func.count()).select_from(LedgerLeaf))

    # all or nothing: a listener failing on the way leaves everything as it was
    def failing(session: Session, event: service.StatusChangeEvent) -> None:
        raise RuntimeError("a capability refused")

    service.on_status_change(failing)
    try:
        with pytest.raises(RuntimeError), sessions.begin() as session:
            bulk.revoke_job(session, None, job_id, reason="Wrong file", settings=settings)
    finally:
        service.status_listeners.remove(failing)
    with sessions() as session:
        assert bulk.job_credential_states(session, job_id) == {"active": 6}

    with sessions.begin() as session:
        staff = principal_of(session, world.staff)
        assert bulk.revoke_job(session, staff, again, reason="x", settings=settings) == (
            service.ManyRevoked(0, 0)  # its rows were all `existing`: issued by the first job
        )
        done = bulk.revoke_job(session, staff, job_id, reason="Wrong file", settings=settings)
    assert done == service.ManyRevoked(6, 0)
    with sessions() as session:
        assert bulk.job_credential_states(session, job_id) == {"revoked": 6}
        revoked = session.scalars(
            select(IssuedCredential).where(IssuedCredential.bulk_job_id == job_id)
        ).all()
        for credential in revoked[:2]:  # verifiers see it at once
            report = verify(session, credential.document, settings, allow_remote=False)
            assert report.failed("status") and not report.valid
        assert verify(session, session.get(IssuedCredential, outsider).document, settings,
                      allow_remote=False).valid  # fmt: skip
        assert {c.state_reason for c in revoked} == {"Wrong file"}
        changes = session.scalars(
            select(StatusChange).where(StatusChange.credential_id.in_([c.id for c in revoked]))
        ).all()
        assert len(changes) == 6 and {c.actor_user_id for c in changes} == {world.staff.id}
        leaves = session.scalar(select(func.count()).select_from(LedgerLeaf))
        assert leaves == (leaves_before or 0) + 6  # a `revoked` event each
        lists_after = {row.id: row.revision for row in session.scalars(select(StatusList))}
        touched = {key for key in lists_after if lists_after[key] != lists_before.get(key)}
        assert all(lists_after[key] == lists_before[key] + 1 for key in touched)  # signed once
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.action == service.REVOKED_MANY)
        ).all()
        # one entry for the lot; the call that changed nothing wrote none
        assert [(a.details["job"], a.details["revoked"], a.details["reason"]) for a in audit] == [
            (job_id, 6, "Wrong file")
        ]
    with sessions.begin() as session:  # a second time: nothing left to revoke
        assert bulk.revoke_job(
            session, principal_of(session, world.staff), job_id, reason="Again", settings=settings
        ) == service.ManyRevoked(0, 6)


def test_revoking_a_job_is_for_its_issuers_staff_once_it_has_finished(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> None:
    job_id = _run(sessions, settings, world, _csv(definition_id, 2))
    with sessions() as session:
        for user in (world.other_staff, world.learner):
            with pytest.raises((PermissionDenied, NotFound)):
                bulk.revoke_job(
                    session, principal_of(session, user), job_id, reason="x", settings=settings
                )
        with pytest.raises(CredentialError) as empty:
            bulk.revoke_job(session, None, job_id, reason="  ", settings=settings)
        assert empty.value.field == "reason"
    with sessions.begin() as session:
        pending = bulk.create_job(session, None, "north-college", _csv(definition_id, 1))
        with pytest.raises(CredentialError) as running:
            bulk.revoke_job(session, None, pending.id, reason="x", settings=settings)
        assert running.value.status_code == 409
    with sessions() as session:
        assert bulk.job_credential_states(session, job_id) == {"active": 2}

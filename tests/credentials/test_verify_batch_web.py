"""Batch verification through the app: the /verify/batch page (run in the background, its
progress then its results at /verify/batch/{id}), POST /api/v1/verify/batch (JSON and CSV), the
background API /api/v1/verify/batches, who may use them and how often."""

from __future__ import annotations

import base64
import csv
import io
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import AuditEvent, User
from microcred.credentials import batch, batch_runs
from microcred.credentials.errors import CredentialError
from microcred.credentials.models import VerificationBatch, VerificationBatchState
from microcred.db.base import utcnow
from microcred.outcomes import engagement
from microcred.settings import Settings
from microcred.web.routers.verify_batch import FORM_OVERHEAD
from tests.conftest import World, sign_in_client
from tests.credentials.batch_helpers import (
    UNREACHABLE,
    Issued,
    issued,
    make_zip,
    recorded_batch,
    unreachable_fetcher,
)
from tests.credentials.service.conftest import definition_id, skills

__all__ = ["definition_id", "issued", "skills"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Remote look-ups go to a fetcher whose every host times out."""
    calls: list[str] = []
    monkeypatch.setattr(batch, "remote_fetcher", lambda settings: unreachable_fetcher(calls))
    return calls


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Remote look-ups wait until the event is set (then answer 404): a batch with a reference
    runs until the test lets it finish."""
    release = threading.Event()

    def wait_then_refuse(url: str) -> dict[str, object]:
        release.wait(20)
        raise CredentialError(f"{url} answered HTTP 404")

    monkeypatch.setattr(batch, "remote_fetcher", lambda settings: wait_then_refuse)
    yield release
    release.set()


def _finished(client: TestClient, page: httpx.Response) -> httpx.Response:
    """The batch page a POST to /verify/batch redirected to, once the batch is done."""
    assert page.history and page.history[0].status_code == 303, page.text
    assert re.fullmatch(r"/verify/batch/[0-9a-f]{32}", page.url.path)
    deadline = time.monotonic() + 30
    while 'http-equiv="refresh"' in page.text:
        assert time.monotonic() < deadline, "the batch did not finish"
        time.sleep(0.05)
        page = client.get(page.url.path)
    assert page.status_code == 200, page.text
    return page


def _api_finished(client: TestClient, headers: dict[str, str], url: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while (answer := client.get(url, headers=headers)).json()["state"] == "running":
        assert time.monotonic() < deadline, "the batch did not finish"
        time.sleep(0.05)
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def _token(sessions: sessionmaker[Session], user: User, scopes: list[str]) -> str:
    with sessions.begin() as session:
        principal = accounts.principal_for(session, session.get(User, user.id) or user)
        _, secret = accounts.create_api_token(session, principal, name="t", scopes=scopes)
    return secret


def test_the_employer_verifies_files_a_zip_and_links_on_the_page(
    client: TestClient, world: World, settings: Settings, issued: Issued
) -> None:
    assert 'href="/verify/batch"' in client.get("/verify").text
    csrf = sign_in_client(client, world.employer.email)
    form = client.get("/verify/batch")
    assert form.status_code == 200 and 'name="files"' in form.text and "multiple" in form.text
    archive = make_zip({"inside/bob.jwt": issued.valid_jwt.encode(), "../up.json": b"{}"})
    references = f"{settings.base_url}/credentials/{issued.valid_id}\n{UNREACHABLE}\n"
    page = client.post(
        "/verify/batch",
        data={"csrf_token": csrf, "references": references},
        files=[
            ("files", ("alice.json", issued.valid_json.encode(), "application/json")),
            ("files", ("revoked.json", issued.revoked_json.encode(), "application/json")),
            ("files", ("export.zip", archive, "application/zip")),
            (
                "applicants",
                (
                    "people.csv",
                    b"item,email,name\nalice.json,learner@example.org,A\n"
                    b"bob.jwt,bob@example.org,Bob\n",
                ),
            ),
        ],
    )
    html = _finished(client, page).text
    verdicts = re.findall(r'data-verdict="([^"]+)"', html)
    assert verdicts == ["valid", "invalid", "valid", "unreadable", "valid", "unreadable"]
    assert '<svg class="chart bar-chart"' in html and "Verdicts" in html
    assert "duplicate of alice.json" in html and "&#39;..&#39; in its path" in html
    assert "Issued to A: <strong>yes</strong>" in html
    assert "Issued to Bob: <strong>no</strong>" in html  # valid, but someone else's
    assert '<strong class="check-fail" id="batch-mismatches">1 not issued to the applicant' in html
    assert html.count("batch-row verdict-valid mismatch") == 1
    href = re.search(r'id="batch-csv" href="data:text/csv;charset=utf-8;base64,([^"]+)"', html)
    assert href
    rows = list(csv.reader(io.StringIO(base64.b64decode(href.group(1)).decode())))
    assert [row[2] for row in rows[1:7]] == verdicts
    assert rows[1][9] == "yes"


def test_the_page_needs_a_sign_in_and_csrf_and_says_what_is_wrong(
    client: TestClient, world: World
) -> None:
    assert client.get("/verify/batch", follow_redirects=False).status_code == 303
    assert client.post("/api/v1/verify/batch", json={"items": []}).status_code == 401
    csrf = sign_in_client(client, world.employer.email)
    assert client.post("/verify/batch", data={"csrf_token": "wrong"}).status_code == 403
    empty = client.post("/verify/batch", data={"csrf_token": csrf, "references": ""})
    assert empty.status_code == 400 and "Nothing to verify" in empty.text
    no_file_chosen = client.post(  # what a browser sends when no file is chosen
        "/verify/batch",
        data={"csrf_token": csrf, "references": "ftp://x"},
        files=[("files", ("", b"", "application/octet-stream")),
               ("applicants", ("", b"", "application/octet-stream"))],
    )  # fmt: skip
    finished = _finished(client, no_file_chosen)
    assert re.findall(r'data-verdict="([^"]+)"', finished.text) == ["unreadable"]
    bad = client.post(
        "/verify/batch",
        data={"csrf_token": csrf, "references": "https://a.example/1"},
        files=[("applicants", ("people.csv", b"who,where\nx,y\n"))],
    )
    assert bad.status_code == 400 and "&#39;item&#39; column" in bad.text


@pytest.mark.both_databases
def test_the_api_answers_json_and_csv_for_multipart_and_json_bodies(
    client: TestClient, sessions: sessionmaker[Session], world: World, issued: Issued,
    no_network: list[str],
) -> None:  # fmt: skip
    token = _token(sessions, world.employer, ["credentials:verify"])
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.post(
        "/api/v1/verify/batch",
        headers=headers,
        json={
            "items": [
                {"name": "alice", "credential": issued.valid_json},
                {"name": "alice-jwt", "jwt": issued.valid_jwt},
                {"name": "tampered", "credential": issued.tampered_json},
                {"name": "remote", "url": UNREACHABLE},
            ],
            "applicants": [{"item": "alice", "email": "learner@example.org", "name": "Al"}],
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["totals"] == {"total": 4, "valid": 2, "invalid": 1, "unreadable": 1,
                              "not_checked": 0, "duplicates": 1,
                              "not_issued_to_applicant": 0}  # fmt: skip
    rows = body["rows"]
    assert [row["verdict"] for row in rows] == ["valid", "valid", "invalid", "unreadable"]
    assert rows[0]["issued_to_applicant"] == "yes" and rows[1]["duplicate_of"] == "alice"
    assert rows[3]["url"] == UNREACHABLE and "did not answer" in rows[3]["problems"][0]["reason"]
    assert len(no_network) == 1
    with sessions() as session:  # counted once for its issuer, as /verify counts it
        assert engagement.counts_of(session, issued.valid_id).get("verify") == 1
    as_csv = client.post(
        "/api/v1/verify/batch",
        headers={**headers, "Accept": "text/csv"},
        files=[("files", ("a.png", b"\x89PNG\r\n\x1a\nnot an image")),
               ("files", ("b.json", issued.expired_json.encode()))],
        data={"references": "not a url"},
    )  # fmt: skip
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(as_csv.text)))
    assert [line[2] for line in lines[1:4]] == ["unreadable", "invalid", "unreadable"]
    refused = client.post("/api/v1/verify/batch", headers=headers, json={"items": [{"name": "x"}]})
    assert refused.status_code == 400
    assert "exactly one of 'credential', 'jwt' or 'url'" in refused.json()["message"]


@pytest.mark.both_databases
def test_a_token_needs_the_scope_and_each_user_has_batches_an_hour(
    client: TestClient, sessions: sessionmaker[Session], world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    other = _token(sessions, world.employer, ["credentials:read"])
    denied = client.post(
        "/api/v1/verify/batch",
        headers={"Authorization": f"Bearer {other}"},
        json={"items": [{"name": "x", "credential": "{}"}]},
    )
    assert denied.status_code == 403 and "credentials:verify" in denied.json()["message"]
    monkeypatch.setattr(batch, "MAX_BATCHES_PER_HOUR", 2)
    token = _token(sessions, world.employer, ["credentials:verify"])
    headers = {"Authorization": f"Bearer {token}"}
    body = {"items": [{"name": "x", "credential": "{}"}]}
    for _ in range(2):
        assert client.post("/api/v1/verify/batch", headers=headers, json=body).status_code == 200
    throttled = client.post("/api/v1/verify/batch", headers=headers, json=body)
    assert throttled.status_code == 429
    assert "2 batches in the last hour" in throttled.json()["message"]
    learner = _token(sessions, world.learner, ["credentials:verify"])
    allowed = client.post(
        "/api/v1/verify/batch", headers={"Authorization": f"Bearer {learner}"}, json=body
    )
    assert allowed.status_code == 200  # the limit is per user
    with sessions() as session:
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.action == batch.BATCH_VERIFIED)
        ).all()
    assert len(audited) == 3 and audited[0].details["invalid"] == 1


def test_too_many_items_is_refused_naming_the_limit(
    client: TestClient, sessions: sessionmaker[Session], world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(batch, "MAX_ITEMS", 2)
    token = _token(sessions, world.employer, ["credentials:verify"])
    answer = client.post(
        "/api/v1/verify/batch",
        headers={"Authorization": f"Bearer {token}"},
        data={"references": "https://a.example/1\nhttps://a.example/2\nhttps://a.example/3"},
    )
    assert answer.status_code == 413
    assert "at most 2 items" in answer.json()["message"]


def test_the_batch_takes_bodies_past_the_app_limit_and_names_its_own(
    client: TestClient, sessions: sessionmaker[Session], world: World, settings: Settings
) -> None:
    token = _token(sessions, world.employer, ["credentials:verify"])
    headers = {"Authorization": f"Bearer {token}"}
    large = b"x" * (settings.max_request_bytes + 1000)
    single = client.post("/api/v1/verify", content=large, headers=headers)
    assert single.status_code == 413  # the app's limit, unchanged for one credential
    answer = client.post(
        "/api/v1/verify/batch", headers=headers, files=[("files", ("big.txt", large))]
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["rows"][0]["verdict"] == "unreadable"
    huge = client.post(
        "/api/v1/verify/batch",
        headers={**headers, "content-length": str(batch.MAX_BATCH_BYTES * 2)},
        content=b"{}",
    )
    limit = batch.MAX_BATCH_BYTES + FORM_OVERHEAD
    assert huge.status_code == 413
    assert huge.json()["message"] == f"The request body exceeds {limit} bytes."


def test_a_batch_holds_no_write_lock_while_it_checks(
    client: TestClient, sessions: sessionmaker[Session], world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """On SQLite a token's last use, written as the request starts, must not block other
    writers for the whole batch: another connection writes while the batch fetches."""
    written: list[str] = []

    def write_elsewhere(url: str) -> dict[str, object]:
        with sessions.begin() as other:
            accounts.record_audit(other, None, "test.elsewhere", summary="during a batch")
        written.append(url)
        raise CredentialError(f"{url} answered HTTP 404")

    monkeypatch.setattr(batch, "remote_fetcher", lambda settings: write_elsewhere)
    token = _token(sessions, world.employer, ["credentials:verify"])
    answer = client.post(
        "/api/v1/verify/batch",
        headers={"Authorization": f"Bearer {token}"},
        json={"items": [{"name": "remote", "url": "https://issuer.example/c.json"}]},
    )
    assert answer.status_code == 200, answer.text
    assert written == ["https://issuer.example/c.json"]


def test_the_page_shows_the_progress_while_the_batch_runs_then_its_results(
    client: TestClient, world: World, issued: Issued, held: threading.Event
) -> None:
    csrf = sign_in_client(client, world.employer.email)
    started = client.post(
        "/verify/batch",
        data={"csrf_token": csrf, "references": "https://slow.example/credential.json"},
        files=[("files", ("alice.json", issued.valid_json.encode(), "application/json"))],
    )
    assert started.history[0].status_code == 303 and started.status_code == 200
    html = started.text
    assert '<meta http-equiv="refresh" content="2">' in html
    assert re.search(r'<progress class="job-progress" max="2" value="0"', html)
    assert '<p role="status" aria-live="polite" id="batch-progress-text">' in html
    assert "<strong>0 of 2</strong> checked" in html and "batch-results" not in html
    held.set()
    done = _finished(client, started).text
    assert re.findall(r'data-verdict="([^"]+)"', done) == ["valid", "unreadable"]
    assert "answered HTTP 404" in done and 'id="batch-csv"' in done
    assert 'http-equiv="refresh"' not in done and 'id="batch-form"' in done
    assert client.get(started.url.path).text == done  # the results stay (24 hours)


def test_the_post_still_answers_input_errors_and_the_rate_limit_counting_running_batches(
    client: TestClient, sessions: sessionmaker[Session], world: World,
    monkeypatch: pytest.MonkeyPatch, held: threading.Event,
) -> None:  # fmt: skip
    monkeypatch.setattr(batch, "MAX_ITEMS", 2)
    csrf = sign_in_client(client, world.employer.email)
    too_many = client.post(
        "/verify/batch",
        data={"csrf_token": csrf, "references": "https://a.example/1\nhttps://a.example/2\n"
              "https://a.example/3"},
    )  # fmt: skip
    assert too_many.status_code == 413 and "at most 2 items" in too_many.text
    assert 'id="batch-form"' in too_many.text and "https://a.example/3" in too_many.text
    monkeypatch.setattr(batch, "MAX_BATCHES_PER_HOUR", 1)
    running = client.post(
        "/verify/batch", data={"csrf_token": csrf, "references": "https://a.example/1"}
    )
    assert running.history[0].status_code == 303
    throttled = client.post(
        "/verify/batch", data={"csrf_token": csrf, "references": "https://a.example/2"}
    )
    assert throttled.status_code == 429  # the first is still running, not yet audited
    assert "1 batches in the last hour" in throttled.text and 'id="batch-error"' in throttled.text
    held.set()
    _finished(client, running)
    with sessions() as session:
        assert session.query(VerificationBatch).count() == 1
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.action == batch.BATCH_VERIFIED)
        ).all()
    assert len(audited) == 1 and audited[0].object_id == running.url.path.rsplit("/", 1)[1]
    again = client.post(
        "/verify/batch", data={"csrf_token": csrf, "references": "https://a.example/2"}
    )
    assert again.status_code == 429  # counted once: by its audit entry now


def test_only_the_user_who_started_a_batch_sees_it(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    csrf = sign_in_client(client, world.employer.email)
    page = _finished(
        client, client.post("/verify/batch", data={"csrf_token": csrf, "references": "ftp://x"})
    )
    path = page.url.path
    batch_id = path.rsplit("/", 1)[1]
    sign_in_client(client, world.learner.email)
    assert client.get(path).status_code == 404
    token = _token(sessions, world.learner, ["credentials:verify"])
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/verify/batches/{batch_id}", headers=headers).status_code == 404
    assert client.get("/verify/batch/" + "0" * 32).status_code == 404


def test_a_batch_whose_server_stopped_is_reported_interrupted(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    long_ago = utcnow() - batch_runs.STALE_AFTER - timedelta(seconds=5)
    run_id = recorded_batch(sessions, world.employer.id, long_ago)
    sign_in_client(client, world.employer.email)
    page = client.get(f"/verify/batch/{run_id}")
    assert page.status_code == 200
    assert "The batch was interrupted" in page.text and "after 37 of 120 items" in page.text
    assert '<a class="button" href="/verify/batch">Submit it again</a>' in page.text
    assert 'http-equiv="refresh"' not in page.text
    token = _token(sessions, world.employer, ["credentials:verify"])
    answer = client.get(
        f"/api/v1/verify/batches/{run_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.json()["state"] == "interrupted" and answer.json()["result"] is None


@pytest.fixture
def quiet_client(settings: Settings) -> Iterator[TestClient]:
    """The app without its hourly sweeps (which would delete old batches as it starts)."""
    from microcred.web.app import create_app

    app = create_app(settings.model_copy(update={"reminders_in_server": False}))
    with TestClient(app) as test_client:
        yield test_client
    app.state.context.engine.dispose()


def test_results_are_gone_after_24_hours_and_pruned_when_a_batch_starts(
    quiet_client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    client = quiet_client
    old = utcnow() - batch_runs.KEEP_RESULTS - timedelta(minutes=1)
    run_id = recorded_batch(
        sessions, world.learner.id, old, VerificationBatchState.done, total=0, checked=0,
        result={"checked_at": old.isoformat(), "time_budget": 120.0, "rows": []},
    )  # fmt: skip
    sign_in_client(client, world.learner.email)
    assert client.get(f"/verify/batch/{run_id}").status_code == 404
    with sessions() as session:
        assert session.get(VerificationBatch, run_id) is not None
    csrf = sign_in_client(client, world.employer.email)
    _finished(
        client, client.post("/verify/batch", data={"csrf_token": csrf, "references": "ftp://x"})
    )
    with sessions() as session:
        assert session.get(VerificationBatch, run_id) is None
        assert session.query(VerificationBatch).count() == 1


def test_the_hourly_sweep_deletes_results_older_than_a_day(
    sessions: sessionmaker[Session], world: World
) -> None:
    from microcred.web.app import SWEEPS

    old = utcnow() - batch_runs.KEEP_RESULTS - timedelta(minutes=1)
    result = {"checked_at": old.isoformat(), "time_budget": 120.0, "rows": []}
    gone = recorded_batch(
        sessions, world.learner.id, old, VerificationBatchState.done, total=0, checked=0,
        result=result,
    )  # fmt: skip
    kept = recorded_batch(
        sessions, world.learner.id, utcnow(), VerificationBatchState.done, total=0, checked=0,
        result=result,
    )  # fmt: skip
    with sessions.begin() as session:
        for sweep in SWEEPS:
            sweep(session, None, None)
    with sessions() as session:
        assert session.get(VerificationBatch, gone) is None
        assert session.get(VerificationBatch, kept) is not None


@pytest.mark.both_databases
def test_the_background_api_answers_202_then_progress_then_the_rows_totals_and_csv(
    client: TestClient, sessions: sessionmaker[Session], world: World, issued: Issued,
    db_backend: str, held: threading.Event,
) -> None:  # fmt: skip
    token = _token(sessions, world.employer, ["credentials:verify"])
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "items": [
            {"name": "alice", "credential": issued.valid_json},
            {"name": "tampered", "credential": issued.tampered_json},
            {"name": "remote", "url": "https://slow.example/c.json"},
        ],
        "applicants": [{"item": "alice", "email": "learner@example.org"}],
    }
    started = client.post("/api/v1/verify/batches", headers=headers, json=body)
    assert started.status_code == 202, started.text
    answer = started.json()
    assert answer["state"] == "running" and (answer["total"], answer["checked"]) == (3, 0)
    assert answer["status_url"] == f"/api/v1/verify/batches/{answer['id']}"
    assert answer["result"] is None and answer["finished_at"] is None
    url = answer["status_url"]
    not_yet = client.get(url, headers={**headers, "Accept": "text/csv"})
    assert not_yet.status_code == 409 and "has not finished" in not_yet.json()["message"]
    held.set()
    done = _api_finished(client, headers, url)
    assert done["state"] == "done" and done["checked"] == 3 and done["finished_at"]
    result = done["result"]
    assert isinstance(result, dict)
    assert result["totals"] == {"total": 3, "valid": 1, "invalid": 1, "unreadable": 1,
                                "not_checked": 0, "duplicates": 0,
                                "not_issued_to_applicant": 0}  # fmt: skip
    assert [row["verdict"] for row in result["rows"]] == ["valid", "invalid", "unreadable"]
    assert result["rows"][0]["issued_to_applicant"] == "yes"
    assert result["rows"][2]["url"] == "https://slow.example/c.json"
    assert result["time_budget_seconds"] == batch.DEFAULT_TIME_BUDGET
    as_csv = client.get(url, headers={**headers, "Accept": "text/csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(as_csv.text)))
    assert [line[2] for line in lines[1:4]] == ["valid", "invalid", "unreadable"]
    with sessions() as session:  # counted for its issuer, as the synchronous batch counts it
        assert engagement.counts_of(session, issued.valid_id).get("verify") == 1
    form = client.post("/api/v1/verify/batches", headers=headers, data={"references": "not a url"})
    assert form.status_code == 202 and form.json()["total"] == 1
    refused = client.post(
        "/api/v1/verify/batches", headers=headers, json={"items": [{"name": "x"}]}
    )
    assert refused.status_code == 400
    reader = _token(sessions, world.employer, ["credentials:read"])
    for call in (
        lambda h: client.post("/api/v1/verify/batches", headers=h, json=body),
        lambda h: client.get(url, headers=h),
    ):
        denied = call({"Authorization": f"Bearer {reader}"})
        assert denied.status_code == 403 and "credentials:verify" in denied.json()["message"]
    _api_finished(client, headers, form.json()["status_url"])


def test_the_openapi_schema_describes_the_background_batch(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    start = schema["paths"]["/api/v1/verify/batches"]["post"]
    assert "202" in start["responses"] and "requestBody" in start
    status = schema["paths"]["/api/v1/verify/batches/{batch_id}"]["get"]
    assert "text/csv" in status["responses"]["200"]["content"]
    fields = schema["components"]["schemas"]["BatchRunOut"]["properties"]
    assert all(fields[name].get("description") for name in ("state", "checked", "result"))

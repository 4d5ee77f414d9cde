"""An employer verifies an applicant pile at once: three files and two links (one on a server that
answers slowly), the progress page while the batch runs, then a table of verdicts with a chart,
the problems filter, and the CSV download."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials.batch_runs import STALE_AFTER
from microcred.db.base import utcnow
from microcred.settings import Settings
from tests.browser.conftest import serve, sign_in
from tests.browser.test_accessibility import Auditor, signed_in
from tests.conftest import PASSWORD, World
from tests.credentials.batch_helpers import Issued, issued, recorded_batch
from tests.credentials.service.conftest import definition_id, skills

__all__ = ["definition_id", "issued", "skills"]

SLOW_SECONDS = 1.5
"""How long the other server takes to answer: under the fetcher's time-out, over a refresh."""


@pytest.fixture
def slow_issuer(issued: Issued) -> Iterator[str]:
    """Another issuer's server on loopback that serves a credential after a pause."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(SLOW_SECONDS)
            body = issued.did_json.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/credential.json"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fetching_server(settings: Settings) -> Iterator[str]:
    """The app allowed to fetch from loopback (where the slow issuer is)."""
    yield from serve(settings.model_copy(update={"fetch_private_addresses": True}))


def test_an_employer_uploads_three_files_and_links_watches_the_progress_and_downloads_the_csv(
    fetching_server: str, page: Any, sessions: sessionmaker[Session], world: World,
    settings: Settings, issued: Issued, tmp_path: Path, slow_issuer: str,
) -> None:  # fmt: skip
    live_server = fetching_server
    files = {
        "alice.json": issued.valid_json.encode(),
        "bob-badge.png": issued.baked_png,
        "carol.json": issued.revoked_json.encode(),
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    sign_in(page, live_server, world.employer.email, PASSWORD)
    page.goto(f"{live_server}/verify")
    page.get_by_role("link", name="Verify many at once").click()
    page.wait_for_url("**/verify/batch")
    page.get_by_label("Files (several at once, or a ZIP)").set_input_files(
        [str(tmp_path / name) for name in files]
    )
    link = f"{settings.base_url}/credentials/{issued.other_id}"
    page.get_by_label("Links to credentials", exact=False).fill(f"{link}\n{slow_issuer}")
    page.get_by_role("button", name="Verify all").click()
    page.wait_for_url("**/verify/batch/*")
    progress = page.get_by_role("status")
    assert progress.inner_text() == "0 of 5 checked"  # the slow server has not answered yet
    assert page.locator("#batch-progress progress").is_visible()
    page.wait_for_selector("#batch-results", timeout=30_000)  # the page refreshed itself
    assert "5 items: 4 valid, 1 invalid, 0 unreadable" in page.locator("#batch-totals").inner_text()
    assert page.locator("#batch-results svg.bar-chart").is_visible()
    rows = page.locator("#batch-table tbody.batch-row")
    assert rows.count() == 5
    assert "duplicate of alice.json" in rows.nth(1).inner_text()
    assert "revoked" in rows.nth(2).inner_text()
    page.get_by_label("Problems").check()
    visible = [rows.nth(n).is_visible() for n in range(5)]
    assert visible == [False, False, True, False, False]
    page.get_by_label("Valid", exact=True).check()
    assert [rows.nth(n).is_visible() for n in range(5)] == [True, True, False, True, True]
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    saved = Path(download.value.path()).read_text(encoding="utf-8")
    table = list(csv.reader(io.StringIO(saved)))
    assert [row[1] for row in table[1:6]] == [*files, link, slow_issuer]
    assert [row[2] for row in table[1:6]] == ["valid", "valid", "invalid", "valid", "valid"]
    assert download.value.suggested_filename == "verification.csv"


def test_the_progress_and_interrupted_pages_pass_axe_and_reflow(
    live_server: str, browser: Any, sessions: sessionmaker[Session], world: World
) -> None:
    """The progress page is audited as served, less its refresh (which would reload it under
    axe's feet); the interrupted page as it is."""
    now = utcnow()
    running = recorded_batch(sessions, world.employer.id, now)
    stale = recorded_batch(sessions, world.employer.id, now - STALE_AFTER - timedelta(seconds=5))
    audit = Auditor(live_server)
    employer = signed_in(browser, live_server, world.employer.email)

    def without_refresh(route: Any) -> None:
        served = route.fetch()
        body = served.text().replace('<meta http-equiv="refresh" content="2">', "")
        route.fulfill(response=served, body=body)

    employer.route(f"{live_server}/verify/batch/{running}", without_refresh)
    audit.visit(employer, f"/verify/batch/{running}")
    assert employer.get_by_role("status").inner_text() == "37 of 120 checked"
    audit.visit(employer, f"/verify/batch/{stale}")
    assert employer.get_by_role("link", name="Submit it again").is_visible()
    employer.context.close()
    assert not audit.found, "\n".join(audit.found)

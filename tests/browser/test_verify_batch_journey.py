"""An employer verifies an applicant pile at once: three files and a link, a table of verdicts
with a chart, the problems filter, and the CSV download."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD, World
from tests.credentials.batch_helpers import Issued, issued
from tests.credentials.service.conftest import definition_id, skills

__all__ = ["definition_id", "issued", "skills"]


def test_an_employer_uploads_three_files_and_a_link_and_downloads_the_csv(
    live_server: str, page: Any, sessions: sessionmaker[Session], world: World,
    settings: Settings, issued: Issued, tmp_path: Path,
) -> None:  # fmt: skip
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
    page.get_by_label("Links to credentials", exact=False).fill(link)
    page.get_by_role("button", name="Verify all").click()
    page.wait_for_selector("#batch-results")
    assert "4 items: 3 valid, 1 invalid, 0 unreadable" in page.locator("#batch-totals").inner_text()
    assert page.locator("#batch-results svg.bar-chart").is_visible()
    rows = page.locator("#batch-table tbody.batch-row")
    assert rows.count() == 4
    assert "duplicate of alice.json" in rows.nth(1).inner_text()
    assert "revoked" in rows.nth(2).inner_text()
    page.get_by_label("Problems").check()
    visible = [rows.nth(n).is_visible() for n in range(4)]
    assert visible == [False, False, True, False]
    page.get_by_label("Valid", exact=True).check()
    assert [rows.nth(n).is_visible() for n in range(4)] == [True, True, False, True]
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    saved = Path(download.value.path()).read_text(encoding="utf-8")
    table = list(csv.reader(io.StringIO(saved)))
    assert [row[1] for row in table[1:5]] == [*files, link]
    assert [row[2] for row in table[1:5]] == ["valid", "valid", "invalid", "valid"]
    assert download.value.suggested_filename == "verification.csv"

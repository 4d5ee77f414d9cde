"""A learner tells the issuer what they did next; the issuer's staff see it in the KPI charts."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD, World
from tests.outcomes.conftest import (
    Cohort,
    cohort,
    definition_id,
    issue,
    learner_credential,
    skills,
)

__all__ = ["cohort", "definition_id", "issue", "learner_credential", "skills"]


def test_learner_reports_an_outcome_and_staff_see_it_in_the_charts(
    live_server: str, page: Any, browser: Any, world: World, definition_id: str,
    learner_credential: str, cohort: Cohort,
) -> None:  # fmt: skip
    cohort(definition_id, 4)  # four others reported: the learner's report makes five
    sign_in(page, live_server, "learner@example.org", PASSWORD)
    page.goto(f"{live_server}/wallet")
    page.get_by_role("link", name="What next?").click()
    page.wait_for_url(f"**/wallet/outcomes?credential={learner_credential}")
    page.get_by_label("Employed in a role related to this credential").check()
    page.get_by_label("Since when").fill("2025-03-01")
    page.locator("#outcome-form button[type=submit]").click()
    assert "your report was saved" in page.locator("#saved").inner_text()

    staff = browser.new_context().new_page()
    try:
        sign_in(staff, live_server, "staff@north.example", PASSWORD)
        staff.goto(f"{live_server}/manage/outcomes")
        assert staff.locator("#employment-suppressed").count() == 0
        assert staff.locator("#employment-heading").is_visible()
        assert staff.locator("svg.chart").count() >= 3
        headline = staff.locator("#employment-headline").inner_text()
        assert "100%" in headline and "5 of 5" in headline
    finally:
        staff.context.close()

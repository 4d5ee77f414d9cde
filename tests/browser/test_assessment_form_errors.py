"""Staff submit an invalid rubric, see the error beside it with what they typed, fix it, save."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.assessment.models import Assessment
from tests.assessment.conftest import PROJECT_RUBRIC, make_course
from tests.browser.conftest import sign_in
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]


def test_staff_fix_an_invalid_rubric_shown_inline_and_save(
    page: Any, live_server: str, world: World, skills: dict[str, str],
    sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    with sessions.begin() as session:
        course = make_course(session)

    sign_in(page, live_server, world.staff.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/manage/definitions/{course.definition_id}/assessments")
    page.get_by_label("Title (required)").fill("Capstone")
    page.get_by_label("Code (required", exact=False).fill("CAP-1")
    page.get_by_label("Type").select_option("project")
    rubric = page.get_by_label("Rubric (not for quizzes)")
    rubric.fill("Analysis\n- Excellent | lots | Sound method\n")
    page.get_by_role("button", name="Add assessment").click()

    summary = page.locator("#form-errors")
    assert "points must be a number" in summary.inner_text()
    rubric = page.get_by_label("Rubric (not for quizzes)")
    assert rubric.get_attribute("aria-invalid") == "true"
    assert "points must be a number" in page.locator("#rubric_text-error").inner_text()
    assert page.get_by_label("Title (required)").input_value() == "Capstone"
    assert "lots" in rubric.input_value()
    summary.get_by_role("link", name="Rubric").click()
    assert page.evaluate("document.activeElement.id") == "rubric_text" or page.url.endswith(
        "#rubric_text"
    )
    with sessions() as session:
        assert session.scalar(select(Assessment).where(Assessment.code == "CAP-1")) is None

    rubric.fill(PROJECT_RUBRIC)
    page.get_by_role("button", name="Add assessment").click()
    page.wait_for_url(f"{live_server}/manage/assessments/*")
    assert page.locator("#form-errors").count() == 0
    assert "Capstone" in page.locator("h1").inner_text()
    with sessions() as session:
        saved = session.scalar(select(Assessment).where(Assessment.code == "CAP-1"))
        assert saved is not None and [c["id"] for c in saved.rubric] == [
            "analysis", "presentation"
        ]  # fmt: skip

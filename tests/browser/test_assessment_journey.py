"""A learner passes a quiz and a project review (an assessor scores it in the browser) and
receives a credential that verifies."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tests.assessment.conftest import QUESTIONS, make_course
from tests.browser.conftest import sign_in
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]

ANSWERS = {q["prompt"]: q for q in QUESTIONS}


def answer_quiz(page: Any) -> None:
    for fieldset in page.locator("fieldset.question").all():
        legend = fieldset.locator("legend").inner_text()
        question = next(
            q for prompt, q in ANSWERS.items() if legend.split(". ", 1)[1].startswith(prompt)
        )
        if question["kind"] in ("single", "multiple"):
            for index in question["correct"]:
                fieldset.get_by_label(question["options"][index], exact=True).check()
        elif question["kind"] == "numeric":
            fieldset.get_by_label("Your answer").fill("3.5")
        else:
            fieldset.get_by_label("Your answer").fill("Group by")


def test_a_learner_passes_a_quiz_and_a_reviewed_project_and_gets_a_credential(
    page: Any, browser: Any, live_server: str, world: World, skills: dict[str, str],
    sessions: sessionmaker[Session], tmp_path: Any,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        course = make_course(session)

    sign_in(page, live_server, world.learner.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/definitions/{course.definition_id}")
    assert "How it is assessed" in page.locator("main").inner_text()
    page.locator("#main").get_by_role("link", name="My assessments").click()
    page.get_by_role("link", name="Final quiz").click()
    page.get_by_role("button", name="Start the quiz").click()
    assert "Time left" in page.locator("#countdown").inner_text()
    answer_quiz(page)
    page.get_by_role("button", name="Submit answers").click()
    assert "Passed" in page.locator("#attempt-result").inner_text()

    page.goto(f"{live_server}/assessments/{course.project_id}")
    page.get_by_label("Description of your work").fill("Bike rental demand analysis.")
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.7\n%%EOF\n")
    page.get_by_label("Files", exact=False).set_input_files(str(report))
    page.get_by_role("button", name="Submit for review").click()
    assert "submitted" in page.locator("#submission-status").inner_text()

    assessor_context = browser.new_context()
    assessor = assessor_context.new_page()
    assessor.set_default_timeout(10_000)
    sign_in(assessor, live_server, world.assessor.email, PASSWORD)
    assessor.wait_for_url(f"{live_server}/")
    assessor.goto(f"{live_server}/review")
    assessor.get_by_role("link", name="Score").click()
    assessor.get_by_label("Excellent (4) — Sound method, clearly explained").check()
    assessor.get_by_label("Clear (2) — Easy to follow").check()
    assessor.get_by_label("Feedback on Analysis").fill("Convincing method.")
    assessor.get_by_role("button", name="Record mark").click()
    assert "Passed" in assessor.locator("#decision").inner_text()
    assessor_context.close()

    page.goto(f"{live_server}/assessments")
    page.get_by_role("link", name="View your credential").click()
    assert "Valid" in page.locator("#verification").inner_text()
    page.goto(f"{live_server}/assessments")
    page.get_by_label("4").check()
    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Send feedback").click()
    assert "Thank you for your feedback" in page.locator("main").inner_text()

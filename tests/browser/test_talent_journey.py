"""A learner agrees to be found; an employer searches a skill, finds them with the reasons, and
opens the credential's verification page."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from tests.browser.conftest import issue_to_learner, sign_in
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]


def test_learner_consents_and_an_employer_finds_them_by_a_verified_skill(
    live_server: str, browser: Any, sessions: sessionmaker[Session], world: World,
    settings: Settings, skills: dict[str, str],
) -> None:  # fmt: skip
    issued = issue_to_learner(sessions, settings, world.learner.id, "Data analysis with Python")
    learner = browser.new_context().new_page()
    sign_in(learner, live_server, "learner@example.org", PASSWORD)
    learner.goto(f"{live_server}/wallet/talent")
    assert "learner@example.org" in learner.locator("#talent-statement").inner_text()
    learner.get_by_label("Let employers find me by my verified skills").check()
    learner.get_by_role("button", name="Save").click()
    learner.wait_for_selector("#saved")
    assert "Employers can now find you" in learner.locator("#saved").inner_text()

    employer = browser.new_context().new_page()
    sign_in(employer, live_server, "hr@acme.example", PASSWORD)
    employer.goto(f"{live_server}/talent")
    employer.get_by_label("Skills", exact=True).fill("SQL")
    employer.get_by_role("button", name="Search", exact=True).click()
    employer.wait_for_selector("#talent-results")
    assert employer.locator("#talent-count").inner_text() == "1 learner found"
    result = employer.locator(".talent-result").first
    assert "Lee Learner" in result.inner_text()
    assert "1 of 1 skill matched" in result.locator(".talent-why").inner_text()
    result.get_by_role("link", name="Data analysis with Python").click()
    employer.wait_for_url(f"**/credentials/{issued}")
    assert employer.locator(".verification-verdict").inner_text().strip().endswith("Valid")

    learner.reload()
    assert "Acme Ltd" in learner.locator("#who-found-me").inner_text()

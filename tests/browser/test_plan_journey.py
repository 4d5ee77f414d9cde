"""A learner plans for a job from the wallet, sees what they hold and what to take, opens a step."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.catalogue import service as catalogue
from microcred.credentials import service as credentials
from microcred.settings import Settings
from tests.browser.conftest import sign_in
from tests.catalogue.factories import PYTHON, SQL, definition_input, skills
from tests.conftest import PASSWORD, World
from tests.wallet.test_plans import occupation

__all__ = ["occupation", "skills"]


def test_learner_makes_a_plan_for_a_job_within_a_budget_and_opens_a_step(
    live_server: str, page: Any, sessions: sessionmaker[Session], world: World,
    settings: Settings, occupation: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        python = catalogue.create_definition(
            session, None, "north-college",
            definition_input(name="Python 1", human_code="PY", skills=[PYTHON]), publish=True,
        )  # fmt: skip
        for name, price in (("SQL basics", 90), ("SQL deluxe", 900)):
            catalogue.create_definition(
                session, None, "south-academy",
                definition_input(
                    name=name, human_code=name.replace(" ", "-"), skills=[SQL], price_amount=price
                ),
                publish=True,
            )  # fmt: skip
        credentials.issue_credential(
            session, None, definition_id=python.definition_id,
            recipient_user_id=world.learner.id, settings=settings,
        )  # fmt: skip
    sign_in(page, live_server, "learner@example.org", PASSWORD)
    page.goto(f"{live_server}/wallet")
    page.locator("#wallet-plan").click()
    page.get_by_label("Target job").fill("data analyst")
    page.get_by_label("Budget").fill("200")
    page.locator("#currency").select_option("EUR")
    page.get_by_role("button", name="Make my plan").click()
    page.wait_for_url("**/learning-plan?*")
    assert page.locator("#coverage-before").inner_text() == "50%"
    assert page.locator("#coverage-after").inner_text() == "100%"
    assert "by Python 1" in page.locator("#plan-held").inner_text()
    steps = page.locator("#plan-steps-list")
    assert "SQL basics" in steps.inner_text() and "SQL deluxe" not in steps.inner_text()
    assert page.locator("#plan-summary svg[role=img]").count() == 1
    assert page.locator("#plan-steps-list svg[role=img]").count() == 1
    steps.get_by_role("link", name="SQL basics").click()
    page.wait_for_url("**/definitions/*")
    assert page.locator("h1").inner_text().startswith("SQL basics")

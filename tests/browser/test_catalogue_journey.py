"""A visitor browses and filters the catalogue; issuer staff sign in and create a definition."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.catalogue import service as catalogue
from tests.browser.conftest import sign_in
from tests.catalogue.factories import PYTHON, SQL, definition_input, skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]


@pytest.fixture
def offers(sessions: sessionmaker[Session], world: World, skills: dict[str, str]) -> None:
    with sessions.begin() as session:
        for name, slug, level, form, price, skill in (
            ("Python for Analysts", "north-college", 5, "online", 200, PYTHON),
            ("SQL Essentials", "north-college", 4, "online", 0, SQL),
            ("Advanced SQL Tuning", "south-academy", 6, "on-site", 900, SQL),
        ):
            catalogue.create_definition(
                session, None, slug,
                definition_input(
                    name=name, human_code=name.upper().replace(" ", "-")[:20], eqf_level=level,
                    participation_form=form, location="Main campus" if form != "online" else None,
                    price_amount=price, skills=[skill],
                ),
                publish=True,
            )  # fmt: skip


def _titles(page: Any) -> list[str]:
    return sorted(page.locator(".definition-card-title").all_inner_texts())


def test_visitor_browses_and_filters_the_catalogue(
    page: Any, live_server: str, offers: None
) -> None:
    page.goto(f"{live_server}/catalogue")
    assert _titles(page) == ["Advanced SQL Tuning", "Python for Analysts", "SQL Essentials"]
    page.get_by_label("Search").fill("sql")
    page.get_by_role("button", name="Apply filters").click()
    assert _titles(page) == ["Advanced SQL Tuning", "SQL Essentials"]
    page.select_option("#eqf_level", "6")
    page.get_by_role("button", name="Apply filters").click()
    assert _titles(page) == ["Advanced SQL Tuning"]
    assert "eqf_level=6" in page.url and "q=sql" in page.url
    page.goto(f"{live_server}/catalogue?max_price=0")
    assert _titles(page) == ["SQL Essentials"]
    page.get_by_role("link", name="SQL Essentials").click()
    assert page.locator("h1").inner_text() == "SQL Essentials"
    assert "North College" in page.locator("main").inner_text()


def test_staff_sign_in_and_create_a_definition_that_visitors_then_find(
    page: Any, live_server: str, world: World, skills: dict[str, str]
) -> None:
    sign_in(page, live_server, world.staff.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/manage/definitions/new")
    page.fill("#name", "Data Storytelling")
    page.fill("#description", "Tell the story behind the numbers.")
    page.fill("#criteria_narrative", "Present a data story to a panel.")
    page.fill("#learning_outcomes", "Choose charts\nNarrate findings")
    page.fill("#workload_hours", "-5")
    page.fill("#skills", PYTHON)
    page.locator("#publish").click()
    assert "negative" in page.locator("#workload_hours-error").inner_text()
    assert page.locator("#name").input_value() == "Data Storytelling"  # input kept
    page.fill("#workload_hours", "24")
    page.select_option("#eqf_level", "5")
    page.locator("#publish").click()
    page.wait_for_url(f"{live_server}/definitions/**")
    assert page.locator("h1").inner_text() == "Data Storytelling"
    page.context.clear_cookies()
    page.goto(f"{live_server}/catalogue?q=storytelling")
    assert _titles(page) == ["Data Storytelling"]

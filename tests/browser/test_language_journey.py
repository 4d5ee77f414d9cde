"""A visitor opens a shared credential, switches the page to Deutsch from the footer and reads it
in German, with ``lang="de"`` (axe finds nothing to fault); the choice stays for the next page."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from tests.browser.conftest import issue_to_learner, sign_in
from tests.browser.test_accessibility import axe_violations, describe
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]


def test_a_visitor_switches_the_credential_page_to_german(
    live_server: str, page: Any, sessions: sessionmaker[Session], settings: Settings,
    world: World, skills: dict[str, str],
) -> None:  # fmt: skip
    credential_id = issue_to_learner(sessions, settings, world.learner.id, "Data Literacy")
    page.goto(f"{live_server}/credentials/{credential_id}")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".verification-verdict").inner_text().strip().endswith("Valid")

    switcher = page.get_by_role("navigation", name="Language")
    switcher.get_by_role("link", name="Deutsch").click()
    page.wait_for_url("**?lang=de")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.locator(".verification-verdict").inner_text().strip().endswith("Gültig")
    assert page.get_by_role("heading", name="Leistung").is_visible()
    assert "bestanden" in page.locator(".verification-checks").inner_text()
    assert page.locator("#credential-state").inner_text() == "aktiv"
    current = page.get_by_role("navigation", name="Sprache").get_by_role("link", name="Deutsch")
    assert current.get_attribute("aria-current") == "true"
    assert [describe("German credential page", v) for v in axe_violations(page)] == []

    page.get_by_role("link", name="Einen anderen Nachweis prüfen").click()
    page.wait_for_url("**/verify")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("heading", name="Einen Nachweis prüfen").is_visible()


def test_the_learners_wallet_in_german_has_nothing_for_axe_to_fault(
    live_server: str, page: Any, sessions: sessionmaker[Session], settings: Settings,
    world: World, skills: dict[str, str],
) -> None:  # fmt: skip
    issue_to_learner(sessions, settings, world.learner.id, "Data Literacy")
    sign_in(page, live_server, world.learner.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/wallet?lang=de")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("heading", name="Meine Wallet").is_visible()
    assert page.get_by_role("heading", name="Einen Nachweis importieren").is_visible()
    assert page.get_by_role("button", name="Importieren und prüfen").is_visible()
    assert [describe("German wallet", v) for v in axe_violations(page)] == []

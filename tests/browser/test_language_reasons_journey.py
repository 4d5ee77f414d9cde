"""A learner saves German as their language, reads the notification of a new credential in
German, opens it and reads why it verifies in German too (axe finds nothing to fault)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from tests.browser.conftest import issue_to_learner, sign_in
from tests.browser.test_accessibility import axe_violations, describe
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]


def test_a_german_learner_reads_the_notification_and_the_reasons_in_german(
    live_server: str, page: Any, sessions: sessionmaker[Session], settings: Settings,
    world: World, skills: dict[str, str],
) -> None:  # fmt: skip
    issue_to_learner(sessions, settings, world.learner.id, "Data Literacy")
    sign_in(page, live_server, world.learner.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/account")
    page.locator("#account-locale").select_option("de")
    page.get_by_role("button", name="Save language").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "de"

    page.get_by_role("link", name="Benachrichtigungen").first.click()
    page.wait_for_url("**/notifications")
    notice = page.get_by_role("button", name="Neuer Nachweis: Data Literacy")
    assert notice.is_visible()
    assert page.get_by_text("Ihnen ausgestellt von North College.").is_visible()
    assert [describe("German notifications", v) for v in axe_violations(page)] == []

    notice.click()
    page.wait_for_url("**/credentials/*")
    checks = page.locator(".verification-checks").inner_text()
    assert "Signatur: eddsa-rdfc-2022: Signatur geprüft" in checks
    assert "Status: Nicht widerrufen (Index " in checks
    assert "Ausgestellt von North College, registriert auf diesem Server" in checks
    assert [describe("German reasons", v) for v in axe_violations(page)] == []

"""A learner is told, in the menu and on Notifications, that a credential arrived and that staff
revoked it; opening a notification goes to the credential and clears the count."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from tests.browser.conftest import issue_to_learner, sign_in
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]


def test_the_learner_hears_of_a_credential_and_of_its_revocation(
    live_server: str, page: Any, browser: Any, sessions: sessionmaker[Session], world: World,
    settings: Settings, skills: dict[str, str],
) -> None:  # fmt: skip
    sign_in(page, live_server, "learner@example.org", PASSWORD)
    page.goto(f"{live_server}/wallet")
    assert page.locator("#unread-count").count() == 0

    issued = issue_to_learner(sessions, settings, world.learner.id, "Negotiation skills")
    page.reload()
    assert page.locator("#unread-count").inner_text() == "1"
    page.locator("#nav-notifications").click()
    page.get_by_role("button", name="Unread: New credential: Negotiation skills").click()
    page.wait_for_url(f"**/credentials/{issued}")
    assert page.locator("#unread-count").count() == 0

    staff = browser.new_context().new_page()
    try:
        sign_in(staff, live_server, "staff@north.example", PASSWORD)
        staff.goto(f"{live_server}/credentials/{issued}")
        staff.get_by_label("Reason (kept, never published)").fill("Internal: wrong learner")
        staff.get_by_role("button", name="Revoke").click()
        staff.wait_for_load_state()
        assert staff.locator("#credential-state").inner_text() == "revoked"
    finally:
        staff.context.close()

    page.goto(f"{live_server}/notifications")
    assert page.locator("#unread-count").inner_text() == "1"
    newest = page.locator("#notifications li").first
    assert "Credential revoked: Negotiation skills" in newest.inner_text()
    assert "Internal: wrong learner" not in page.content()
    assert "unread" in (newest.get_attribute("class") or "")
    page.get_by_role("button", name="Mark all 1 as read").click()
    page.wait_for_url("**/notifications")
    assert page.locator("#unread-count").count() == 0
    assert page.locator("#notifications li.unread").count() == 0

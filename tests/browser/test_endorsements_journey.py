"""An industry association's admin endorses a college's credential, the college's admin accepts
it, and a badge issued afterwards shows the endorsement on its public page."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import service as credentials
from microcred.settings import Settings
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD, World
from tests.credentials.service.conftest import issue_input
from tests.endorsements.conftest import ENDORSER_EMAIL, definition_id, endorser_admin, skills

__all__ = ["definition_id", "endorser_admin", "skills"]


def test_an_association_endorses_a_college_credential_and_new_badges_show_it(
    live_server: str, browser: Any, page: Any, world: World, endorser_admin: str,
    definition_id: str, sessions: sessionmaker[Session], settings: Settings,
) -> None:  # fmt: skip
    sign_in(page, live_server, ENDORSER_EMAIL, PASSWORD)
    page.goto(f"{live_server}/definitions/{definition_id}")
    page.get_by_role("link", name="Endorse this credential").click()
    page.wait_for_url("**/manage/endorsements/new?definition=*")
    page.get_by_label("Comment (Markdown)").fill("Meets the **association's** practice standard.")
    page.get_by_role("button", name="Sign and send the endorsement").click()
    page.wait_for_url("**/manage/endorsements?**done=created")
    given = page.get_by_role("region", name="Given (1)")
    assert "pending" in given.inner_text()

    college = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(college, live_server, world.admin.email, PASSWORD)
    college.goto(f"{live_server}/manage/definitions")
    college.get_by_role("navigation", name="Manage").get_by_role(
        "link", name="Endorsements"
    ).click()
    college.wait_for_url("**/manage/endorsements")
    received = college.get_by_role("region", name="Received (1)")
    assert "South Academy" in received.inner_text()
    received.get_by_role("button", name="Accept").click()
    college.wait_for_url("**/manage/endorsements?**done=accept")
    assert "accepted" in college.locator(".endorsement-state").first.inner_text()

    with sessions.begin() as session:
        badge = credentials.issue_credential(
            session, None, **issue_input(definition_id), settings=settings
        )
    visitor = browser.new_context().new_page()
    visitor.goto(f"{live_server}/credentials/{badge.id}")
    carried = visitor.locator("#carried-endorsements")
    assert "South Academy" in carried.inner_text()
    assert carried.locator("strong").inner_text() == "association's"
    assert "1 endorsement verified" in visitor.content()
    visitor.goto(f"{live_server}/definitions/{definition_id}")
    assert "Endorsed by" in visitor.content()

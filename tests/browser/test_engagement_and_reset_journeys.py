"""Two short journeys: a stranger's view of a credential shows in its holder's and its issuer's
engagement counts; an administrator's reset link lets a member who forgot their password in."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import Role
from microcred.settings import Settings
from tests.browser.conftest import issue_to_learner, sign_in
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]


def test_a_strangers_view_shows_in_the_holders_and_the_issuers_counts(
    live_server: str, page: Any, browser: Any, sessions: sessionmaker[Session], world: World,
    settings: Settings, skills: dict[str, str],
) -> None:  # fmt: skip
    issued = issue_to_learner(sessions, settings, world.learner.id, "Negotiation skills")
    stranger = browser.new_context().new_page()
    try:
        stranger.goto(f"{live_server}/credentials/{issued}")
        assert stranger.locator(".verification-verdict").inner_text().strip().endswith("Valid")
        assert stranger.locator("#engagement").count() == 0
    finally:
        stranger.context.close()

    sign_in(page, live_server, "learner@example.org", PASSWORD)
    page.goto(f"{live_server}/credentials/{issued}")
    assert page.locator("#engagement-view").inner_text() == "1"

    staff = browser.new_context().new_page()
    try:
        sign_in(staff, live_server, "staff@north.example", PASSWORD)
        staff.goto(f"{live_server}/manage/outcomes")
        assert staff.locator("#engagement-view").inner_text() == "1"
        assert staff.locator("#engagement-viewed-share").inner_text() == "100%"
        assert staff.locator("#engagement svg").count() >= 1
    finally:
        staff.context.close()


def test_a_member_who_forgot_their_password_gets_in_with_the_admins_reset_link(
    live_server: str, page: Any, browser: Any, sessions: sessionmaker[Session], world: World,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        member = accounts.create_user(
            session, email="ina@example.org", name="Ina Invited", password=PASSWORD,
            fast_hash=True, email_trusted=False,
        )  # fmt: skip
        college = accounts.get_organisation(session, "north-college")
        accounts.add_membership(session, member, college, Role.learner)

    sign_in(page, live_server, "admin@north.example", PASSWORD)
    page.goto(f"{live_server}/manage/members")
    page.get_by_role("button", name="Make a password reset link for ina@example.org").click()
    link = page.locator("#reset-link").inner_text().strip()
    path = link[link.index("/password-reset/") :]

    forgetful = browser.new_context().new_page()
    try:
        forgetful.goto(f"{live_server}/sign-in")
        assert "Ask an administrator" in forgetful.locator("#forgotten").inner_text()
        forgetful.goto(f"{live_server}{path}")
        forgetful.get_by_label("New password (at least 10 characters)").fill("remembered at last")
        forgetful.get_by_label("New password again").fill("remembered at last")
        forgetful.get_by_role("button", name="Set password").click()
        forgetful.wait_for_url("**/account?done=password-changed")
        assert forgetful.locator("h1").inner_text() == "Ina Invited"
        forgetful.goto(f"{live_server}{path}")  # used up
        assert "not valid" in forgetful.content()
    finally:
        forgetful.context.close()

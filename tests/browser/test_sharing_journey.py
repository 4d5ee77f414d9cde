"""A learner shares a credential: the share panel, a public profile, and a stranger reading it."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from tests.browser.conftest import issue_to_learner, sign_in
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]


def test_learner_shares_a_credential_and_publishes_a_profile_a_stranger_can_read(
    live_server: str, page: Any, browser: Any, sessions: sessionmaker[Session], world: World,
    settings: Settings, skills: dict[str, str],
) -> None:  # fmt: skip
    issued = issue_to_learner(sessions, settings, world.learner.id, "Spreadsheet modelling")
    sign_in(page, live_server, "learner@example.org", PASSWORD)
    page.goto(f"{live_server}/wallet")
    page.get_by_role("link", name="Spreadsheet modelling").click()
    page.wait_for_url(f"**/credentials/{issued}")
    share = page.locator("#share")
    assert share.is_visible()
    linkedin = urlsplit(page.locator("#linkedin-add").get_attribute("href"))
    fields = {k: v[0] for k, v in parse_qs(linkedin.query).items()}
    assert linkedin.netloc == "www.linkedin.com" and fields["name"] == "Spreadsheet modelling"
    assert fields["certUrl"].endswith(f"/credentials/{issued}")
    assert page.locator("#share-url").input_value().endswith(f"/credentials/{issued}")

    page.locator("#profile-link").click()
    page.wait_for_url("**/wallet/profile")
    page.get_by_label("Address").fill("lee-shares")
    page.get_by_label("Headline").fill("Analyst in training")
    page.get_by_label("Publish my profile").check()
    page.get_by_label("Show my name on my credentials' public pages", exact=False).check()
    page.get_by_label("Spreadsheet modelling", exact=False).check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/wallet/profile?saved=1")
    assert "/people/lee-shares" in page.locator("#saved").inner_text()

    stranger = browser.new_context().new_page()
    try:
        stranger.goto(f"{live_server}/people/lee-shares")
        assert stranger.locator("#profile-name").inner_text() == "Lee Learner"
        assert stranger.locator("#profile-headline").inner_text() == "Analyst in training"
        stranger.get_by_role("link", name="Spreadsheet modelling").click()
        stranger.wait_for_url(f"**/credentials/{issued}")
        assert stranger.locator(".verification-verdict").inner_text().strip().endswith("Valid")
        assert "Lee Learner" in stranger.locator(".credential-head").inner_text()
        assert stranger.locator("#share").count() == 0
    finally:
        stranger.context.close()

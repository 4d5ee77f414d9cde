"""A learner changes their password, downloads their data, and deletes their account; the
credential they were issued still verifies for a stranger afterwards."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from tests.browser.conftest import issue_to_learner, sign_in
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]
NEW_PASSWORD = "correct horse battery staple"


def test_a_learner_takes_their_data_and_leaves(
    live_server: str, page: Any, browser: Any, sessions: sessionmaker[Session], world: World,
    settings: Settings, skills: dict[str, str], tmp_path: Path,
) -> None:  # fmt: skip
    issued = issue_to_learner(sessions, settings, world.learner.id, "Data storytelling")
    sign_in(page, live_server, "learner@example.org", PASSWORD)
    elsewhere = browser.new_context().new_page()
    try:
        sign_in(elsewhere, live_server, "learner@example.org", PASSWORD)
        elsewhere.goto(f"{live_server}/account")
        assert elsewhere.locator("h1").inner_text() == "Lee Learner"

        page.goto(f"{live_server}/account")
        page.get_by_label("Current password").fill(PASSWORD)
        page.get_by_label("New password (at least 10 characters)").fill(NEW_PASSWORD)
        page.get_by_label("New password again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        page.wait_for_url("**/account?done=password-changed")
        assert "signed out" in page.locator("#notice").inner_text()
        elsewhere.goto(f"{live_server}/account")  # the other browser was signed out
        assert "/sign-in" in elsewhere.url
    finally:
        elsewhere.context.close()

    with page.expect_download() as download:
        page.get_by_role("button", name="Download my data").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("microcred-my-data-") and saved.suffix == ".zip"
    archive = zipfile.ZipFile(io.BytesIO(saved.read_bytes()))
    assert json.loads(archive.read("account.json"))["email"] == "learner@example.org"
    signed = json.loads(archive.read(f"credentials/{issued}.json"))

    page.get_by_role("link", name="Delete my account…").click()
    page.wait_for_url("**/account/delete")
    page.get_by_label("Your password").fill(NEW_PASSWORD)
    page.get_by_label("Type “delete my account”").fill("delete my account")
    page.get_by_role("button", name="Delete my account").click()
    assert "everything that belonged to it are deleted" in page.locator("#erased").inner_text()
    page.goto(f"{live_server}/account")
    assert "/sign-in" in page.url

    stranger = browser.new_context().new_page()
    try:  # the credential from the download still verifies
        stranger.goto(f"{live_server}/verify")
        stranger.locator("textarea").first.fill(json.dumps(signed))
        stranger.get_by_role("button", name="Verify").first.click()
        assert "Valid" in stranger.locator(".verification-verdict").inner_text()
    finally:
        stranger.context.close()

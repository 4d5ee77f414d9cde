"""Journeys through the mailbox: a forgotten password reset by the link e-mailed, and a new
account confirming its address by e-mail and so collecting what was issued to it. The server
sends to a real SMTP server on loopback (tests/mail/smtp.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.catalogue import service as catalogue
from microcred.credentials import service as credentials
from microcred.mail.service import send_pending
from microcred.settings import Settings
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import axe_violations
from tests.catalogue.factories import definition_input, skills
from tests.conftest import World
from tests.mail.smtp import SmtpServer

__all__ = ["skills"]
NEW_PASSWORD = "a passphrase from the mail"


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    """Every fixture of these journeys (the live server included) sends mail to the test SMTP
    server; the test sends the outbox itself, as the server's sender would."""
    return settings.model_copy(update={"smtp_url": smtp_server.url, "mail_in_server": False})


def mailed_path(
    sessions: sessionmaker[Session], settings: Settings, smtp_server: SmtpServer, to: str,
    path: str,
) -> str:  # fmt: skip
    """Send the outbox, then the path of the ``path`` link in the last mail to ``to``."""
    send_pending(sessions, settings)
    for mail in reversed(smtp_server.to(to)):
        body = mail.get_body(("plain",))
        assert body is not None
        found = re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", body.get_content())
        if found:
            return found.group(1)
    raise AssertionError(f"no {path} link mailed to {to}")


def test_a_forgotten_password_is_reset_by_the_link_emailed(
    live_server: str, page: Any, sessions: sessionmaker[Session], settings: Settings,
    smtp_server: SmtpServer, world: World,
) -> None:  # fmt: skip
    page.goto(f"{live_server}/sign-in")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Forgot your password?").click()
    assert axe_violations(page) == []
    page.get_by_label("E-mail address").fill("learner@example.org")
    page.get_by_role("button", name="Send me a link").click()
    assert "If an account uses that address" in page.locator("#reset-sent").inner_text()
    assert axe_violations(page) == []

    link = mailed_path(sessions, settings, smtp_server, "learner@example.org", "/password-reset/")
    page.goto(f"{live_server}{link}")
    page.get_by_label("New password (at least 10 characters)").fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_url("**/account?done=password-changed")
    assert "Your password is changed" in page.locator("#notice").inner_text()

    page.context.clear_cookies()
    sign_in(page, live_server, "learner@example.org", NEW_PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}{link}")  # used: the link works once
    assert "not valid" in page.content()


def test_a_new_account_confirms_its_address_and_collects_what_was_issued_to_it(
    live_server: str, page: Any, sessions: sessionmaker[Session], settings: Settings,
    smtp_server: SmtpServer, world: World, skills: dict[str, str],
) -> None:  # fmt: skip
    with sessions.begin() as session:  # issued before the account exists
        definition = catalogue.create_definition(
            session, None, "north-college", definition_input(name="Team leadership"),
            publish=True,
        )  # fmt: skip
        credential_id = credentials.issue_credential(
            session, None, definition_id=definition.definition_id,
            recipient_email="nia@example.org", recipient_name="Nia New", settings=settings,
        ).id  # fmt: skip

    page.goto(f"{live_server}/sign-up")
    page.get_by_label("Your name").fill("Nia New")
    page.get_by_label("E-mail address").fill("nia@example.org")
    page.get_by_label("Password (at least 10 characters)").fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/account?welcome=1")
    assert page.get_by_role("button", name="Resend verification e-mail").is_visible()
    assert axe_violations(page) == []
    page.goto(f"{live_server}/wallet")
    assert page.get_by_role("link", name="Team leadership").count() == 0

    link = mailed_path(sessions, settings, smtp_server, "nia@example.org", "/verify-email/")
    page.goto(f"{live_server}{link}")
    page.wait_for_url("**/account?done=email-verified*")
    assert "Your address is confirmed" in page.locator("#notice").inner_text()
    assert page.get_by_role("button", name="Resend verification e-mail").count() == 0
    page.goto(f"{live_server}/wallet")
    page.get_by_role("link", name="Team leadership").click()
    page.wait_for_url(f"**/credentials/{credential_id}")

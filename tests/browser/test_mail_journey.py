"""E-mail journeys in Chromium, with a real SMTP server: staff issue a credential to a newcomer
who opens the mailed link and sees it valid; a learner stops credential mails in one click from
a mail and finds the choice on their Notifications page; an admin turns recipient mails off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.catalogue import service as catalogue
from microcred.mail.service import send_pending
from microcred.settings import Settings
from tests.browser.conftest import serve, sign_in
from tests.browser.test_accessibility import Auditor, signed_in
from tests.catalogue.factories import definition_input, skills
from tests.conftest import PASSWORD, World
from tests.mail.smtp import SmtpServer

__all__ = ["skills"]


@pytest.fixture
def mail_server(mail_settings: Settings) -> Iterator[str]:
    yield from serve(mail_settings)


@pytest.fixture
def definition(sessions: sessionmaker[Session], world: World, skills: dict[str, str]) -> str:
    with sessions.begin() as session:
        return catalogue.create_definition(
            session, None, "north-college", definition_input(name="Data Wrangling"),
            publish=True,
        ).definition_id  # fmt: skip


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def link(message: EmailMessage, pattern: str) -> str:
    found = re.search(rf"https?://\S*{pattern}\S*", text_of(message))
    assert found, f"no {pattern} link in {text_of(message)!r}"
    return found.group(0)


def issue_by_hand(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/manage/credentials")
    page.click("#issue-credential")
    page.get_by_label("Recipient e-mail").fill(email)
    page.get_by_label("Result level").select_option("Competent")
    page.get_by_role("button", name="Issue and sign").click()
    page.wait_for_url("**/credentials/*")


def test_a_newcomer_opens_the_mailed_credential_and_sees_it_valid(
    mail_server: str, page: Any, browser: Any, sessions: sessionmaker[Session], world: World,
    mail_settings: Settings, smtp_server: SmtpServer, definition: str,
) -> None:  # fmt: skip
    sign_in(page, mail_server, world.staff.email, PASSWORD)
    issue_by_hand(page, mail_server, "newcomer@example.org")
    send_pending(sessions, mail_settings)
    (message,) = smtp_server.to("newcomer@example.org")
    assert message["Subject"] == "North College issued you a credential: Data Wrangling"

    visitor = browser.new_context().new_page()  # the newcomer: no account, no session
    try:
        visitor.goto(link(message, "/credentials/").replace(
            mail_settings.base_url.rstrip("/"), mail_server
        ))  # fmt: skip
        assert visitor.locator("h1").first.inner_text().strip().startswith("Data Wrangling")
        assert visitor.locator(".verification-verdict").inner_text().strip().endswith("Valid")
    finally:
        visitor.context.close()


def test_a_learner_stops_credential_mails_from_a_mail(
    mail_server: str, page: Any, sessions: sessionmaker[Session], world: World,
    mail_settings: Settings, smtp_server: SmtpServer, definition: str,
) -> None:  # fmt: skip
    sign_in(page, mail_server, world.staff.email, PASSWORD)
    issue_by_hand(page, mail_server, world.learner.email)
    send_pending(sessions, mail_settings)
    (message,) = smtp_server.to(world.learner.email)

    page.context.clear_cookies()  # the learner, from their mail client
    page.goto(link(message, "/notifications/unsubscribe/").replace(
        mail_settings.base_url.rstrip("/"), mail_server
    ))  # fmt: skip
    assert "Stop e-mailing" in page.locator("main").inner_text()
    page.get_by_role("button", name="Stop these e-mails").click()
    assert (
        "gets no more e-mails about your credentials" in page.locator("#unsubscribed").inner_text()
    )

    sign_in(page, mail_server, world.learner.email, PASSWORD)
    page.goto(f"{mail_server}/notifications")
    choices = page.locator("#email-choices")
    assert not choices.get_by_label("Your credentials:").is_checked()
    assert choices.get_by_label("Pathways you complete").is_checked()
    choices.get_by_label("Your credentials:").check()
    page.get_by_role("button", name="Save e-mail choices").click()
    assert page.locator("#email-saved").is_visible()
    assert page.locator("#email-choices").get_by_label("Your credentials:").is_checked()


def test_an_admin_turns_recipient_mails_off(
    mail_server: str, page: Any, sessions: sessionmaker[Session], world: World,
    mail_settings: Settings, smtp_server: SmtpServer, definition: str,
) -> None:  # fmt: skip
    sign_in(page, mail_server, world.admin.email, PASSWORD)
    page.goto(f"{mail_server}/manage/credentials")
    page.click("#issuance-settings-link")
    box = page.get_by_label("E-mail each recipient when a credential is issued to them")
    assert box.is_checked()
    box.uncheck()
    page.get_by_role("button", name="Save settings").click()
    assert page.locator("#notice").inner_text() == "Settings saved."
    assert not page.get_by_label(
        "E-mail each recipient when a credential is issued to them"
    ).is_checked()

    issue_by_hand(page, mail_server, "quiet@example.org")
    assert send_pending(sessions, mail_settings).sent == 0
    assert smtp_server.received == []


def test_the_mail_pages_have_no_accessibility_violation(
    mail_server: str, page: Any, browser: Any, sessions: sessionmaker[Session], world: World,
    platform_admin: str, mail_settings: Settings, smtp_server: SmtpServer, definition: str,
) -> None:  # fmt: skip
    """axe-core (WCAG 2.0/2.1 A and AA, best practice) and 320 px reflow on what mail adds:
    the e-mail choices, the unsubscribe page before and after, the issuance settings and the
    outbox with a chart."""
    auditor = Auditor(mail_server)
    sign_in(page, mail_server, world.admin.email, PASSWORD)
    page.wait_for_url(f"{mail_server}/")
    issue_by_hand(page, mail_server, world.learner.email)
    auditor.visit(page, "/manage/credentials/settings")
    auditor.visit(page, "/notifications")
    send_pending(sessions, mail_settings)

    learner = signed_in(browser, mail_server, world.learner.email)
    try:
        auditor.visit(learner, "/notifications")
        (message,) = smtp_server.to(world.learner.email)
        path = link(message, "/notifications/unsubscribe/").removeprefix(
            mail_settings.base_url.rstrip("/")
        )
        auditor.visit(learner, path)
        learner.get_by_role("button", name="Stop these e-mails").click()
        learner.wait_for_selector("#unsubscribed")
        auditor.check(learner, f"{path} (done)")
    finally:
        learner.context.close()

    root = signed_in(browser, mail_server, platform_admin)
    try:
        auditor.visit(root, "/admin/mail")
        assert root.locator("svg.chart").count() == 1
    finally:
        root.context.close()
    assert auditor.found == [], "\n".join(auditor.found)

"""Every other form with fields, sent with a mistake in Chromium as the role that uses it: the
page it comes back as must announce the error in an alert that takes focus, tie it to the input
at fault where there is one, keep what was typed (WCAG 3.3.7, passwords excepted), and have no
axe violation nor sideways scrolling at 320 px. test_accessibility_more.py does the same for the
eleven forms audited first; see docs/accessibility.md.

One test per role, so each serves the app and signs in once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import admin as members
from microcred.accounts import recovery
from microcred.accounts import service as accounts
from microcred.accounts.models import Role, User
from microcred.credentials import bulk
from microcred.credentials import service as credentials
from microcred.settings import Settings
from tests.assessment.conftest import make_course
from tests.browser.test_accessibility import Auditor, signed_in
from tests.browser.test_accessibility_more import submit
from tests.browser.test_mail_journey import mail_server
from tests.catalogue.factories import skills
from tests.conftest import World

__all__ = ["mail_server", "skills"]


Fill = Callable[[Any], None]
"""Fills a form (a Playwright page) with a mistake."""


@dataclass
class Secrets:
    """What the forms act on: a course, a credential, a reset link and an invitation."""

    definition: str
    quiz: str
    project: str
    credential: str
    reset: str
    invitation: str
    job: str


@dataclass(frozen=True)
class Case:
    """A form: where it is, how to fill it wrongly, the button that sends it, the input the
    error must land on (None: an error about no one field, in an alert), and what typed text
    must come back (input id, text)."""

    path: Callable[[Secrets], str]
    fill: Fill
    button: str
    field: str | None
    kept: tuple[tuple[str, str], ...] = ()


def typed(*values: tuple[str, str]) -> Fill:
    """Fill each input (by id) with its text."""

    def fill(page: Any) -> None:
        for field, text in values:
            page.locator(f'[id="{field}"]').fill(text)

    return fill


def steps(*fills: Fill) -> Fill:
    def fill(page: Any) -> None:
        for step in fills:
            step(page)

    return fill


def first_choice(select: str) -> Fill:
    """Choose the first real option of a select (its first is a prompt)."""
    return lambda page: page.locator(f'[id="{select}"]').select_option(index=1) and None


def unticked(name: str) -> Fill:
    def fill(page: Any) -> None:
        for box in page.locator(f'[name="{name}"]').all():
            box.uncheck()

    return fill


def nothing(page: Any) -> None:
    """Send the form as it loads."""


def upload(field: str, name: str, content: bytes) -> Fill:
    return lambda page: page.set_input_files(
        f'[id="{field}"]', files=[{"name": name, "mimeType": "text/plain", "buffer": content}]
    )


def a_word_for_a_number(page: Any) -> None:
    """Start the quiz and answer its number question in words."""
    page.get_by_role("button", name="Start the quiz").click()
    page.locator("fieldset", has_text="7 / 2").locator("input").fill("three and a half")


MAIL_CASES = [  # on a server that sends mail: anyone, then a platform administrator
    Case(lambda s: "/forgot-password", typed(("email", "not an address")), "Send me a link",
         "email", (("email", "not an address"),)),
    Case(lambda s: "/admin/mail", typed(("address", "not an address")), "Send now", None,
         (("address", "not an address"),)),
]  # fmt: skip
CASES: dict[str, list[Case]] = {
    "anyone": [
        Case(lambda s: "/verify", nothing, "Verify", None),
        Case(lambda s: f"/password-reset/{s.reset}",
             typed(("password", "correct horse battery"), ("repeat-password", "other horse")),
             "Set password", "repeat-password"),
        Case(lambda s: f"/invitations/{s.invitation}",
             typed(("name", "Ina Invited"), ("password", "correct horse battery"),
                   ("password_again", "other horse battery")),
             "Create my account", None, (("name", "Ina Invited"),)),
    ],
    "learner": [
        Case(lambda s: "/account", typed(("account-name", " ")), "Save name", "account-name"),
        Case(lambda s: "/account",
             typed(("current-password", "not the password"), ("new-password", "a new passphrase"),
                   ("repeat-password", "a new passphrase")),
             "Change password", "current-password"),
        Case(lambda s: "/account", typed(("token-name", "CI")), "Create token", "token-scopes",
             (("token-name", "CI"),)),
        Case(lambda s: f"/assessments/{s.project}", nothing, "Submit for review", "text"),
        Case(lambda s: f"/assessments/{s.quiz}", a_word_for_a_number, "Save answers", None),
        Case(lambda s: "/wallet", typed(("text", "not a credential")), "Import and verify", None,
             (("text", "not a credential"),)),
        Case(lambda s: "/wallet/presentations", typed(("challenge", "c-123")),
             "Download presentation", None, (("challenge", "c-123"),)),
        Case(lambda s: f"/wallet/outcomes?credential={s.credential}",
             typed(("job_title", "Analyst")), "Save my report", "status",
             (("job_title", "Analyst"),)),
        Case(lambda s: "/account/delete",
             typed(("erase-password", "not the password"),
                   ("erase-confirmation", "delete my account")),
             "Delete my account", "erase-password"),
    ],
    "staff": [
        Case(lambda s: f"/manage/definitions/{s.definition}/assessments",
             typed(("title", "Capstone"), ("code", "CAP-1"),
                   ("rubric_text", "Analysis\n- Excellent | lots | Sound method")),
             "Add assessment", "rubric_text", (("title", "Capstone"),)),
        Case(lambda s: f"/manage/assessments/{s.quiz}", typed(("title", "")), "Save", "title"),
        Case(lambda s: f"/manage/assessments/{s.quiz}", typed(("points", "two")),
             "Add question", "points", (("points", "two"),)),
        Case(lambda s: f"/manage/definitions/{s.definition}/awards", nothing, "Import", "file"),
        Case(lambda s: f"/manage/definitions/{s.definition}/awards",
             upload("file", "grades.csv", b"email,code,score\nnobody@example.org,QUIZ-1,x\n"),
             "Import", None),
        Case(lambda s: "/manage/articulation", typed(("agreement-name", "2027 intake")),
             "Create agreement", "programme", (("agreement-name", "2027 intake"),)),
        Case(lambda s: "/manage/articulation",
             steps(first_choice("definition_id"),
                   typed(("recommending_body", "ACE"), ("credits", "many"), ("level", "lower"),
                         ("discipline", "Data"), ("valid_from", "2026-01-01"))),
             "Add recommendation", "credits", (("recommending_body", "ACE"),)),
        Case(lambda s: f"/credentials/{s.credential}", nothing, "Revoke", "reason"),
        Case(lambda s: f"/manage/credentials/jobs/{s.job}",
             steps(lambda page: page.locator("#job-revoke summary").click(),
                   typed(("revoke-reason", "Wrong cohort file"))),
             "Revoke 1 credential", "revoke-confirm", (("revoke-reason", "Wrong cohort file"),)),
    ],
    "admin": [
        Case(lambda s: "/manage/members", typed(("invite-email", "not an address")), "Invite",
             "invite-email", (("invite-email", "not an address"),)),
        Case(lambda s: "/manage/credentials/settings",
             unticked("formats"), "Save settings", None),
    ],
    "platform_admin": [
        Case(lambda s: "/admin/organisations",
             typed(("org-name", "West School"), ("org-slug", "West School")), "Add", "org-slug",
             (("org-name", "West School"), ("org-slug", "West School"))),
    ],
    "employer": [
        Case(lambda s: "/talent", nothing, "Find the skills and search", None),
        Case(lambda s: "/verify/batch", nothing, "Verify all", None),
    ],
}  # fmt: skip


@pytest.fixture
def secrets(
    sessions: sessionmaker[Session], settings: Settings, world: World, skills: dict[str, str]
) -> Secrets:
    with sessions.begin() as session:
        course = make_course(session)
        credential = credentials.issue_credential(
            session, None, definition_id=course.definition_id, recipient_user_id=world.learner.id,
            settings=settings,
        ).id  # fmt: skip
        reset = recovery.create_reset_link(session, None, world.learner.id).secret
        admin = session.get(User, world.admin.id)
        assert admin is not None
        invitation = members.invite(
            session, accounts.principal_for(session, admin), "north-college",
            email="ina@example.org", role=Role.learner,
        ).secret  # fmt: skip
    assert invitation is not None
    rows = f"definition_id,recipient_email\n{course.definition_id},q@example.org\n"
    with sessions.begin() as session:
        job = bulk.create_job(session, None, "north-college", rows.encode()).id
    bulk.run_job(sessions, job, settings)
    return Secrets(
        course.definition_id,
        course.quiz_id,
        course.project_id,
        credential,
        reset,
        invitation,
        job,
    )


def check(page: Any, base_url: str, cases: list[Case], secrets: Secrets, audit: Auditor) -> None:
    for case in cases:
        path = case.path(secrets)
        response = page.goto(f"{base_url}{path}")
        assert response.ok, f"{path}: {response.status}"
        case.fill(page)
        submit(page, case.button, audit, f"{path} ({case.button})", case.field)
        for field, text in case.kept:
            if page.locator(f'[id="{field}"]').input_value() != text:
                audit.found.append(f"{path} — {field}: what was typed is lost (3.3.7)")


@pytest.mark.parametrize("role", list(CASES))
def test_each_form_sent_with_a_mistake_announces_it_keeps_the_input_and_passes_axe(
    role: str, live_server: str, browser: Any, page: Any, world: World, secrets: Secrets,
    platform_admin: str,
) -> None:  # fmt: skip
    audit = Auditor(live_server)
    if role == "anyone":
        tab = page
    else:
        email = platform_admin if role == "platform_admin" else getattr(world, role).email
        tab = signed_in(browser, live_server, email)
    check(tab, live_server, CASES[role], secrets, audit)
    assert not audit.found, "\n".join([f"{len(audit.found)} problems:", *audit.found])


def test_the_forms_of_a_server_that_sends_mail_announce_their_mistakes_too(
    mail_server: str, browser: Any, page: Any, secrets: Secrets, platform_admin: str
) -> None:
    audit = Auditor(mail_server)
    check(page, mail_server, MAIL_CASES[:1], secrets, audit)
    root = signed_in(browser, mail_server, platform_admin)
    check(root, mail_server, MAIL_CASES[1:], secrets, audit)
    assert not audit.found, "\n".join([f"{len(audit.found)} problems:", *audit.found])

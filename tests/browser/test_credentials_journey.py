"""Staff issue a credential, open its public page and see it valid, revoke it, see it revoked."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.catalogue import service as catalogue
from tests.browser.conftest import sign_in
from tests.catalogue.factories import definition_input, skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]


def test_issue_view_revoke_journey(
    live_server: str, page: Any, sessions: sessionmaker[Session], world: World,
    skills: dict[str, str],
) -> None:  # fmt: skip
    with sessions.begin() as session:
        catalogue.create_definition(
            session, None, "north-college", definition_input(), publish=True
        )
    sign_in(page, live_server, "staff@north.example", PASSWORD)
    page.goto(f"{live_server}/manage/credentials")
    page.click("#issue-credential")
    page.get_by_label("Recipient e-mail").fill("learner@example.org")
    page.get_by_label("Recipient name").fill("Lee Learner")
    page.get_by_label("Result level").select_option("Competent")
    page.get_by_role("button", name="Issue and sign").click()
    page.wait_for_url("**/credentials/*")
    assert page.locator(".verification-verdict").inner_text().strip().endswith("Valid")
    assert page.locator("#credential-state").inner_text() == "active"
    assert page.get_by_text("Competent").first.is_visible()
    page.get_by_label("Reason (kept, never published)").fill("Issued to the wrong learner")
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_load_state()
    assert page.locator("#credential-state").inner_text() == "revoked"
    assert "Not valid" in page.locator(".verification-verdict").inner_text()
    assert "Revoked" in page.locator(".verification-checks").inner_text()


def test_bulk_upload_then_revoke_the_whole_job_journey(
    live_server: str, page: Any, sessions: sessionmaker[Session], world: World,
    skills: dict[str, str],
) -> None:  # fmt: skip
    """Staff upload a file of three learners, watch the job finish, then revoke every credential
    it issued from the job's page, confirming first."""
    with sessions.begin() as session:
        definition = catalogue.create_definition(
            session, None, "north-college", definition_input(), publish=True
        )
    rows = "definition_id,recipient_email,result_level\n" + "".join(
        f"{definition.definition_id},cohort{n}@example.org,Competent\n" for n in range(3)
    )
    sign_in(page, live_server, "staff@north.example", PASSWORD)
    page.goto(f"{live_server}/manage/credentials/bulk")
    page.set_input_files(
        "#file", files=[{"name": "cohort.csv", "mimeType": "text/csv", "buffer": rows.encode()}]
    )
    page.get_by_role("button", name="Start the job").click()
    page.wait_for_url("**/manage/credentials/jobs/*")
    page.wait_for_selector("#job-state:text('completed')", timeout=30_000)
    assert "3 active" in page.locator("#job-credential-states").inner_text()
    page.locator("#job-revoke summary").click()
    page.get_by_label("Reason (kept, not published)").fill("Wrong cohort uploaded")
    button = page.get_by_role("button", name="Revoke 3 credentials")
    button.click()  # the confirmation box is required: the browser does not send the form
    assert page.locator("#job-notice").count() == 0
    page.get_by_label("I understand a revocation cannot be undone").check()
    button.click()
    page.wait_for_selector("#job-notice")
    assert page.locator("#job-notice").inner_text() == "Revoked 3 credentials."
    assert "3 revoked" in page.locator("#job-credential-states").inner_text()
    assert page.locator("#job-revoke").count() == 0
    page.goto(f"{live_server}/manage/credentials?state=revoked")
    assert page.locator("#issued-credentials tbody tr").count() == 3

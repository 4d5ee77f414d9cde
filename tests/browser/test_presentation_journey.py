"""A learner downloads a PDF certificate and a presentation for an employer's challenge; the
employer verifies both on the verify page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from tests.browser.conftest import issue_to_learner, sign_in
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]
CHALLENGE = "interview-2026-0412"
DOMAIN = "careers.acme.example"


def _verify(page: Any, base: str, upload: Path, challenge: str = "", domain: str = "") -> str:
    page.goto(f"{base}/verify")
    page.locator("#file").set_input_files(str(upload))
    if challenge or domain:
        page.locator("#presentation-options summary").click()
        page.locator("#challenge").fill(challenge)
        page.locator("#domain").fill(domain)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()
    return str(page.locator(".verification-verdict").inner_text())


def test_learner_shares_a_pdf_and_a_presentation_that_an_employer_verifies(
    live_server: str, page: Any, browser: Any, sessions: sessionmaker[Session], world: World,
    settings: Settings, skills: dict[str, str], tmp_path: Path,
) -> None:  # fmt: skip
    issued = issue_to_learner(sessions, settings, world.learner.id, "Spreadsheet modelling")
    sign_in(page, live_server, "learner@example.org", PASSWORD)
    page.goto(f"{live_server}/credentials/{issued}")
    with page.expect_download() as pdf_download:
        page.locator("#certificate-pdf").click()
    pdf = tmp_path / "certificate.pdf"
    pdf_download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")

    page.locator("#make-presentation").click()
    page.wait_for_url("**/wallet/presentations?credential=*")
    assert page.locator(f"#present-{issued}").is_checked()
    page.locator("#challenge").fill(CHALLENGE)
    page.locator("#domain").fill(DOMAIN)
    with page.expect_download() as vp_download:
        page.get_by_role("button", name="Download presentation").click()
    presentation = tmp_path / "presentation.json"
    vp_download.value.save_as(presentation)
    page.locator("#cryptosuite").select_option("vp-jose")
    with page.expect_download() as jwt_download:
        page.get_by_role("button", name="Download presentation").click()
    assert jwt_download.value.suggested_filename == "presentation.jwt"
    as_jwt = tmp_path / "presentation.jwt"
    jwt_download.value.save_as(as_jwt)

    employer = browser.new_context().new_page()
    try:
        assert _verify(employer, live_server, pdf).strip().endswith("Valid")
        verdict = _verify(employer, live_server, presentation, CHALLENGE, DOMAIN)
        assert verdict.strip().endswith("Valid"), employer.locator("main").inner_text()
        replayed = _verify(employer, live_server, presentation, "another-challenge", DOMAIN)
        assert "Not valid" in replayed
        assert _verify(employer, live_server, as_jwt, CHALLENGE, DOMAIN).strip().endswith("Valid")
        assert "Not valid" in _verify(employer, live_server, as_jwt, "another-challenge", DOMAIN)
    finally:
        employer.context.close()

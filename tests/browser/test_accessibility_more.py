"""WCAG 2.2 AA in Chromium, continued: axe-core and the 320 px reflow check on the pages
test_accessibility.py leaves out — assessor scoring, articulation agreements, the Open Badges 3.0
API consent page, a wallet-app offer, a public profile — and on forms re-rendered with their
errors, which must announce them (an alert that takes focus) and tie each to its field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.assessment import reviews
from microcred.assessment.reviews import EvidenceStore, UploadedFile
from microcred.obapi import protocol
from microcred.pathways import service as pathways
from microcred.pathways.service import RuleInput
from microcred.settings import Settings
from microcred.wallet import profiles
from tests.assessment.conftest import make_course, principal_of
from tests.browser.test_accessibility import Auditor, signed_in
from tests.catalogue.factories import skills
from tests.conftest import World
from tests.obapi.conftest import registration
from tests.pathways.conftest import Catalogue, defs, issue

__all__ = ["defs", "skills"]
CALLBACK = "http://127.0.0.1:9/backpack/callback"


@dataclass
class Ids:
    """What the pages show: a submitted project, an agreement with a rule, a learner's credential
    on a published profile."""

    definition: str
    submission: str
    agreement: str
    credential: str


@pytest.fixture
def ids(sessions: sessionmaker[Session], settings: Settings, world: World, defs: Catalogue) -> Ids:
    credential = issue(sessions, settings, defs.python)
    with sessions.begin() as session:
        course = make_course(session)
        learner = principal_of(session, world.learner)
        submission = reviews.submit_evidence(
            session, learner, course.project_id, text="Bike rental demand analysis.",
            links=["https://example.org/notebook"],
            files=[UploadedFile("report.pdf", b"%PDF-1.7\n%%EOF\n")],
            store=EvidenceStore(settings.data_dir),
        ).id  # fmt: skip
        staff = principal_of(session, world.staff)
        agreement = pathways.create_agreement(
            session, staff, "north-college", programme="BSc Computing", name="2026 intake",
            max_credits=10,
        ).id  # fmt: skip
        pathways.add_rule(
            session, staff, agreement, RuleInput("issuer", "north-college", "PY-1", "Python", 5)
        )
        profiles.save_profile(
            session, learner, handle="lee-learner", headline="Learning data analysis",
            published=True, credential_ids=[credential],
        )  # fmt: skip
    return Ids(course.definition_id, submission, agreement, credential)


def consent_path(live_server: str) -> str:
    """The OB 3.0 API's authorize address for a freshly registered backpack app."""
    registered = httpx.post(
        f"{live_server}/ims/ob/v3p0/register",
        json=registration(client_name="Trail Backpack", client_uri="http://127.0.0.1:9/",
                          redirect_uris=[CALLBACK], scope=protocol.CREDENTIAL_READONLY),
    )  # fmt: skip
    assert registered.status_code == 201, registered.text
    query = urlencode({
        "response_type": "code", "client_id": registered.json()["client_id"],
        "redirect_uri": CALLBACK, "scope": protocol.CREDENTIAL_READONLY, "state": "s",
        "code_challenge": protocol.s256("v" * 43), "code_challenge_method": "S256",
    })  # fmt: skip
    return f"/ims/ob/v3p0/authorize?{query}"


def submit(page: Any, button: str, audit: Auditor, where: str, field: str | None) -> None:
    """Send the form by its button, past the browser's own checks so the server answers: the
    page it re-renders must announce the errors in an alert that takes focus, and mark ``field``
    (an input's id) invalid, described by its error text; then axe and the reflow check run."""
    page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    page.get_by_role("button", name=button, exact=True).click()
    page.locator("main [role=alert]").first.wait_for()
    if page.evaluate("document.activeElement.getAttribute('role')") != "alert":
        audit.found.append(f"{where} — focus: the error summary does not take focus")
    invalid = page.locator("main [aria-invalid=true]")
    if field and not invalid.and_(page.locator(f'[id="{field}"]')).count():
        audit.found.append(f"{where} — {field}: not marked invalid")
    for element in invalid.all():
        described = (element.get_attribute("aria-describedby") or "").split()
        if not described or not all(page.locator(f'[id="{i}"]').count() for i in described):
            audit.found.append(f"{where} — {element.get_attribute('id')}: error not described")
    audit.check(page, where)


def test_scoring_articulation_consent_wallet_offers_and_profiles_have_no_axe_violation(
    live_server: str, browser: Any, page: Any, world: World, ids: Ids
) -> None:
    audit = Auditor(live_server)
    audit.visit(page, "/people/lee-learner")

    assessor = signed_in(browser, live_server, world.assessor.email)
    audit.visit(assessor, "/review")
    audit.visit(assessor, f"/submissions/{ids.submission}")
    submit(assessor, "Record mark", audit, "/submissions/… (no level chosen)", "level-analysis")
    assessor.context.close()

    staff = signed_in(browser, live_server, world.staff.email)
    audit.visit(staff, f"/manage/articulation/{ids.agreement}")
    staff.get_by_label("Learner (e-mail address)").fill(world.learner.email)
    staff.get_by_role("button", name="Evaluate").click()
    staff.wait_for_selector("#evaluation-summary")
    audit.check(staff, "/manage/articulation/… (evaluation)")
    staff.context.close()

    learner = signed_in(browser, live_server, world.learner.email)
    audit.visit(learner, consent_path(live_server))
    learner.goto(f"{live_server}/credentials/{ids.credential}")
    learner.get_by_role("button", name="Add to a wallet app").click()
    learner.wait_for_url("**/wallet/offers/*")
    audit.check(learner, "/wallet/offers/…")
    pin = learner.locator("#offer-pin").inner_text()  # shown whole, spoken digit by digit
    assert learner.locator("#offer-pin-spoken").text_content() == " ".join(pin)
    # 3.3.8: the PIN is text that can be selected and copied, not an image to transcribe
    assert learner.locator("#offer-pin").evaluate("e => getComputedStyle(e).userSelect") != "none"
    assert "link given below" in (learner.locator("#offer-qr").get_attribute("alt") or "")
    learner.context.close()

    assert not audit.found, "\n".join([f"{len(audit.found)} problems:", *audit.found])


def test_forms_re_rendered_with_errors_announce_them_and_have_no_axe_violation(
    live_server: str, browser: Any, page: Any, world: World, ids: Ids
) -> None:
    audit = Auditor(live_server)
    page.goto(f"{live_server}/sign-in")
    page.get_by_label("E-mail address").fill(world.learner.email)
    page.get_by_label("Password").fill("not the password")
    submit(page, "Sign in", audit, "/sign-in (wrong password)", None)
    page.goto(f"{live_server}/sign-up")
    page.get_by_label("Your name").fill("Nia New")
    page.get_by_label("E-mail address").fill("nia@example.org")
    page.get_by_label("Password (at least 10 characters)").fill("correct horse battery")
    page.get_by_label("Password again").fill("correct horse staple")
    submit(page, "Create account", audit, "/sign-up (passwords differ)", "repeat-password")

    staff = signed_in(browser, live_server, world.staff.email)
    staff.goto(f"{live_server}/manage/definitions/new")
    submit(staff, "Save draft", audit, "/manage/definitions/new (no name)", "name")
    staff.goto(f"{live_server}/manage/credentials/issue")
    staff.get_by_label("Recipient e-mail").fill("b@example.org")
    staff.locator("#result_level").evaluate(
        "s => { s.add(new Option('Platinum', 'Platinum')); s.value = 'Platinum'; }"
    )
    submit(
        staff, "Issue and sign", audit, "/manage/credentials/issue (unknown level)", "result_level"
    )
    staff.goto(f"{live_server}/manage/credentials/bulk")
    staff.set_input_files(
        "#file", files=[{"name": "cohort.csv", "mimeType": "text/csv", "buffer": b"\x00\x01"}]
    )
    submit(staff, "Start the job", audit, "/manage/credentials/bulk (bad file)", "file")
    staff.goto(f"{live_server}/manage/pathways/new")
    staff.get_by_label("Name (required)").fill("Broken")
    staff.locator("#tree_import").evaluate("t => { t.closest('details').open = true; }")
    staff.get_by_label("Requirement tree (JSON)").fill('{"type": "all_of", "children": [')
    submit(staff, "Load this JSON", audit, "/manage/pathways/new (invalid tree)", "tree_import")
    staff.goto(f"{live_server}/manage/articulation/{ids.agreement}")
    staff.get_by_label("Accept credentials").select_option("issuer")
    staff.get_by_label("Micro-credential, issuer or skill").fill("south-academy")
    staff.get_by_label("For course code").fill("DB-1")
    staff.get_by_label("Credits awarded").fill("5")
    submit(staff, "Add rule", audit, "/manage/articulation/… (rule incomplete)", "course_name")
    staff.context.close()

    admin = signed_in(browser, live_server, world.admin.email)
    admin.goto(f"{live_server}/manage/webhooks")
    admin.get_by_label("Endpoint URL").fill("http://example.org/hook")
    submit(admin, "Add endpoint", audit, "/manage/webhooks (http:// URL)", "url")
    admin.goto(f"{live_server}/manage/endorsements/new?issuer=south-academy")
    admin.get_by_label("Comment (Markdown)").fill("Rigorous and well run.")
    admin.get_by_label("Valid until (optional)").fill("2020-01-01")
    submit(
        admin,
        "Sign and send the endorsement",
        audit,
        "/manage/endorsements/new (past date)",
        "valid_until",
    )
    admin.context.close()

    learner = signed_in(browser, live_server, world.learner.email)
    learner.goto(f"{live_server}/wallet/profile")
    learner.get_by_label("Address").fill("no spaces")
    submit(learner, "Save", audit, "/wallet/profile (bad handle)", "handle")
    learner.context.close()

    assert not audit.found, "\n".join([f"{len(audit.found)} problems:", *audit.found])

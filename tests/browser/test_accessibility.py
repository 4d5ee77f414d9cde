"""WCAG 2.2 AA in Chromium: axe-core audits a representative page of every capability, as each
role sees it, each page reflows at 320 CSS px, and the skip link works from the keyboard.

Every violation axe reports under the WCAG 2.0/2.1/2.2 A and AA rules and its best-practice rules
(headings, landmarks) fails the test, whatever its impact: the minor and moderate ones found were
fixed too, so any new one is a regression. The message lists each by page, rule, impact and
element. See docs/accessibility.md.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import service as credentials
from microcred.market.pipeline import IngestReport
from microcred.market.store import MarketStore
from microcred.pathways import service as pathways
from microcred.pathways.service import PathwayInput
from microcred.settings import Settings
from tests.assessment.conftest import make_course
from tests.browser.conftest import sign_in
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World
from tests.market.conftest import corpus_file, ingested
from tests.outcomes.conftest import Cohort, cohort, issue
from tests.pathways.conftest import Catalogue, defs
from tests.wallet.test_plans import occupation

__all__ = ["cohort", "corpus_file", "defs", "ingested", "issue", "occupation", "skills"]

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BEST_PRACTICE = ["best-practice"]
"""axe's own rules beyond WCAG's letter: headings in order, one main landmark, all content in
landmarks, one h1, no empty table header."""
WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 640}
"""WCAG 1.4.10: content reflows at 320 CSS px (1280 px zoomed to 400 %) without sideways scrolling
of the page; a wide table may scroll within itself."""
OUTCOME_COHORT = 5
"""Reports enough for the KPI page to draw its charts (fewer are suppressed for privacy)."""


@dataclass
class Pages:
    """The ids the audited pages need."""

    credential: str
    definition: str
    quiz: str
    project: str
    pathway: str
    occupation: str


@pytest.fixture
def pages_world(
    sessions: sessionmaker[Session], settings: Settings, world: World, defs: Catalogue,
    cohort: Cohort, occupation: str, ingested: tuple[MarketStore, IngestReport],
) -> Pages:  # fmt: skip
    """Credentials, assessments, a pathway, outcome reports and job-market data to show."""
    shutil.copytree(ingested[0].root, settings.data_dir / "market")
    with sessions.begin() as session:
        course = make_course(session)
        pathway = pathways.create_pathway(
            session, None, "north-college",
            PathwayInput(
                "Data Analyst", "certificate",
                {"type": "all_of", "children": [
                    {"type": "credential", "definition_id": defs.python},
                    {"type": "credential", "definition_id": defs.sql},
                ]},
                qualification_definition_id=defs.qualification,
            ),
            publish=True,
        ).id  # fmt: skip
        credential = credentials.issue_credential(
            session, None, definition_id=defs.python, recipient_user_id=world.learner.id,
            settings=settings,
        ).id  # fmt: skip
    cohort(course.definition_id, OUTCOME_COHORT)
    return Pages(
        credential, course.definition_id, course.quiz_id, course.project_id, pathway, occupation
    )


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1/2.2 A and AA and best-practice violations on the page now."""
    from axe_playwright_python.sync_playwright import Axe

    tags = WCAG_22_AA + BEST_PRACTICE
    options = {"runOnly": {"type": "tag", "values": tags}, "resultTypes": ["violations"]}
    return list(Axe().run(page, options=options).response["violations"])


def describe(where: str, violation: dict[str, Any]) -> str:
    nodes = "; ".join(
        f"{' '.join(node['target'])}: {node['html'][:160]}" for node in violation["nodes"][:5]
    )
    return f"{where} — {violation['id']} ({violation['impact']}): {violation['help']} [{nodes}]"


class Auditor:
    """Visits pages and keeps every violation, so one run names all of them."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.found: list[str] = []

    def visit(self, page: Any, path: str) -> None:
        response = page.goto(f"{self.base_url}{path}")
        assert response.ok and page.url == f"{self.base_url}{path}", f"{path}: {response.status}"
        self.check(page, path)

    def check(self, page: Any, where: str) -> None:
        self.found += [describe(where, v) for v in axe_violations(page)]
        page.set_viewport_size(NARROW)
        sideways = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        page.set_viewport_size(WIDE)
        if sideways > 0:
            self.found.append(f"{where} — reflow (1.4.10): {sideways} px sideways at 320 px")


def signed_in(browser: Any, base_url: str, email: str) -> Any:
    page = browser.new_context(viewport=WIDE).new_page()
    page.set_default_timeout(15_000)
    sign_in(page, base_url, email, PASSWORD)
    page.wait_for_url(f"{base_url}/")
    return page


def test_no_page_of_any_role_has_a_wcag_22_aa_violation_axe_can_find(
    live_server: str, browser: Any, page: Any, world: World, pages_world: Pages,
    platform_admin: str,
) -> None:  # fmt: skip
    audit = Auditor(live_server)
    ids = pages_world

    for path in ("/", "/sign-in", "/sign-up", f"/credentials/{ids.credential}", "/verify",
                 "/catalogue", f"/definitions/{ids.definition}", "/issuers/north-college",
                 "/skills?q=python", "/pathways", "/ledger"):  # fmt: skip
        audit.visit(page, path)
    page.goto(f"{live_server}/sign-in")
    page.get_by_label("E-mail address").fill(world.learner.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("[role=alert]")
    audit.check(page, "/sign-in (refused)")
    document = page.request.get(f"{live_server}/credentials/{ids.credential}/credential.json")
    page.goto(f"{live_server}/verify")
    page.get_by_label("Credential (JSON or JWT)").fill(document.text())
    page.get_by_role("button", name="Verify", exact=True).click()
    page.wait_for_selector(".verification-verdict")
    audit.check(page, "/verify (report)")

    learner = signed_in(browser, live_server, world.learner.email)
    for path in ("/wallet", f"/credentials/{ids.credential}", "/wallet/profile",
                 f"/pathways/{ids.pathway}", f"/learning-plan?occupation={ids.occupation}",
                 "/notifications", "/account", f"/wallet/outcomes?credential={ids.credential}",
                 "/assessments", f"/assessments/{ids.quiz}", f"/assessments/{ids.project}",
                 "/wallet/presentations", "/wallet/talent"):  # fmt: skip
        audit.visit(learner, path)
    learner.get_by_label("Let employers find me by my verified skills").check()
    learner.get_by_role("button", name="Save").click()
    learner.wait_for_selector("#saved")
    learner.goto(f"{live_server}/assessments/{ids.quiz}")
    learner.get_by_role("button", name="Start the quiz").click()
    learner.wait_for_selector("#countdown")
    audit.check(learner, "/attempts/… (a quiz under way)")
    learner.context.close()

    staff = signed_in(browser, live_server, world.staff.email)
    for path in ("/manage/definitions", "/manage/definitions/new",
                 f"/manage/definitions/{ids.definition}/edit",
                 f"/manage/definitions/{ids.definition}/assessments",
                 f"/manage/assessments/{ids.quiz}", "/manage/credentials",
                 "/manage/credentials/issue", "/manage/credentials/bulk", "/manage/outcomes",
                 "/manage/pathways/new", f"/manage/pathways/{ids.pathway}/edit",
                 "/manage/articulation", "/market", "/market/gap/north-college"):  # fmt: skip
        audit.visit(staff, path)
    staff.goto(f"{live_server}/market")
    staff.locator("#top-heading ~ table a").first.click()
    staff.wait_for_selector("#region-heading")
    audit.check(staff, "/market/skills/view")
    staff.goto(f"{live_server}/manage/credentials/bulk")
    rows = f"definition_id,recipient_email,result_level\n{ids.definition},b@example.org,Competent\n"
    staff.set_input_files(
        "#file", files=[{"name": "cohort.csv", "mimeType": "text/csv", "buffer": rows.encode()}]
    )
    staff.get_by_role("button", name="Start the job").click()
    staff.wait_for_selector("#job-state:text('completed')", timeout=30_000)
    audit.check(staff, "/manage/credentials/jobs/… (completed)")
    staff.context.close()

    employer = signed_in(browser, live_server, world.employer.email)
    audit.visit(employer, "/talent?q=SQL")
    employer.get_by_label("Job posting text").fill("We need an analyst who knows SQL and Python.")
    employer.get_by_role("button", name="Find the skills and search").click()
    employer.wait_for_selector("#talent-count")
    audit.check(employer, "/talent/posting (results)")
    audit.visit(employer, "/verify/batch")
    employer.get_by_label("Files (several at once, or a ZIP)").set_input_files(
        files=[{"name": "a.json", "mimeType": "application/json", "buffer": document.body()}]
    )
    employer.get_by_role("button", name="Verify all").click()
    employer.wait_for_selector("#batch-results")
    audit.check(employer, "/verify/batch (results)")
    employer.context.close()

    admin = signed_in(browser, live_server, world.admin.email)
    for path in ("/manage/members", "/manage/webhooks", "/manage/endorsements",
                 "/manage/endorsements/new?issuer=south-academy"):  # fmt: skip
        audit.visit(admin, path)
    admin.context.close()
    root = signed_in(browser, live_server, platform_admin)
    audit.visit(root, "/admin/organisations")
    root.context.close()

    assert not audit.found, "\n".join([f"{len(audit.found)} WCAG 2.2 AA violations:", *audit.found])


def test_the_keyboard_reaches_the_skip_link_first_and_it_moves_focus_to_the_content(
    live_server: str, page: Any, world: World
) -> None:
    sign_in(page, live_server, world.staff.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/verify")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Skip to content"
    assert skip.is_visible() and skip.bounding_box()["x"] >= 0  # shown once focused
    assert skip.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"  # focus visible
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is in the content, not back in the menu
    assert page.evaluate("document.activeElement.closest('main') !== null")

    page.locator("#presentation-options summary").focus()
    page.keyboard.press("Enter")  # a disclosure opens from the keyboard
    assert page.locator("#presentation-options").get_attribute("open") is not None
    page.get_by_label("Challenge").focus()
    assert page.get_by_label("Challenge").is_visible()

    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_role("link", name="Catalogue").focus()
    page.keyboard.press("Enter")  # the menu is plain links: Enter follows them
    page.wait_for_url(f"{live_server}/catalogue")
    page.get_by_role("button", name="Sign out").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_role("link", name="Sign in").is_visible()


def test_a_screen_reader_hears_once_that_one_minute_of_a_timed_quiz_is_left(
    live_server: str, page: Any, world: World, sessions: sessionmaker[Session],
    skills: dict[str, str],
) -> None:  # fmt: skip
    with sessions.begin() as session:
        quiz = make_course(session, time_limit=2).quiz_id
    sign_in(page, live_server, world.learner.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.clock.install()
    page.goto(f"{live_server}/assessments/{quiz}")
    page.get_by_role("button", name="Start the quiz").click()
    warning = page.locator("#countdown + [role=alert]")
    assert warning.text_content() == ""  # the ticking timer itself stays silent
    page.clock.run_for("01:05")
    assert warning.text_content().startswith("One minute left")
    assert "alert-error" in (page.locator("#countdown").get_attribute("class") or "")

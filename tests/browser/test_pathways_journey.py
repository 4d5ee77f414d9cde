"""Pathways in Chromium: an author builds a pathway, a learner sees progress, a registrar runs
a transfer evaluation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from tests.browser.conftest import sign_in
from tests.catalogue.factories import PYTHON, skills
from tests.conftest import PASSWORD, World
from tests.pathways.conftest import Catalogue, defs, issue

__all__ = ["defs", "skills"]


def test_author_builds_a_pathway_and_the_learner_sees_progress(
    page: Any, live_server: str, world: World, defs: Catalogue, settings: Settings,
    sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    issue(sessions, settings, defs.python)
    sign_in(page, live_server, world.staff.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/manage/pathways/new")
    page.get_by_label("Name (required)").fill("Data Analyst")
    page.locator('select[name="add_kind:r"]').select_option("credential")
    page.locator('button[value="add:r"]').click()
    page.locator('[name="n:r.0:definition_id"]').fill(defs.python)
    page.locator('select[name="add_kind:r"]').select_option("credential")
    page.locator('button[value="add:r"]').click()
    assert page.locator('[name="n:r.0:definition_id"]').input_value() == defs.python
    page.locator('[name="n:r.1:definition_id"]').fill(defs.sql)
    page.get_by_label("Qualification awarded").select_option(defs.qualification)
    page.get_by_role("button", name="Save and publish").click()
    page.wait_for_selector("h1:has-text('Data Analyst')")
    pathway_url = page.url
    assert "published" in page.locator("main").inner_text()

    page.context.clear_cookies()
    sign_in(page, live_server, world.learner.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(pathway_url)
    assert page.locator("#overall-percent").inner_text() == "50% done"
    done = page.locator(".pw-done .pw-desc").all_inner_texts()
    assert "Python basics" in done
    assert "SQL essentials" in page.locator("#route").inner_text()


def test_registrar_records_a_recommendation_adds_rules_and_evaluates_transfer_credit(
    page: Any, live_server: str, world: World, defs: Catalogue, settings: Settings,
    sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    issue(sessions, settings, defs.sql)
    issue(sessions, settings, defs.python)
    sign_in(page, live_server, world.staff.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/manage/articulation")
    assert page.locator("#no-agreements").is_visible()
    assert page.locator("#no-recommendations").is_visible()
    # The picker offers North College's own micro-credentials, by name.
    page.get_by_label("Micro-credential").select_option(label="Python basics (PY-1)")
    page.get_by_label("Recommending body").fill("Credit council")
    page.get_by_label("Credits", exact=True).fill("3")
    page.get_by_label("Unit").select_option("credit_hours")
    page.get_by_label("Level", exact=True).fill("")
    page.get_by_label("Discipline").fill("Computing")
    page.get_by_label("Valid from").fill("2026-01-01")
    page.get_by_role("button", name="Add recommendation").click()
    assert "level must be 1-200 characters" in page.locator("#level-error").inner_text()
    assert page.get_by_label("Micro-credential").input_value() == defs.python  # input kept
    page.get_by_label("Level", exact=True).fill("undergraduate")
    page.get_by_role("button", name="Add recommendation").click()
    page.wait_for_selector("td a:has-text('Python basics (PY-1)')")

    page.get_by_label("Programme").fill("BSc Computing")
    page.get_by_label("Agreement name").fill("2026 intake")
    page.get_by_label("Most transfer credit accepted (optional)").fill("10")
    page.get_by_role("button", name="Create agreement").click()
    page.wait_for_selector("h1:has-text('BSc Computing')")
    assert page.locator("#no-rules").is_visible()
    page.get_by_label("Accept credentials").select_option("issuer")
    page.get_by_label("Micro-credential, issuer or skill").fill("south-academy")
    page.get_by_label("For course code").fill("DB-1")
    page.get_by_label("Course name").fill("Databases")
    page.get_by_label("Credits awarded").fill("5")
    page.get_by_role("button", name="Add rule").click()
    page.wait_for_selector("#rules td:has-text('DB-1')")
    assert "any credential of issuer 'South Academy'" in page.locator("#rules").inner_text()
    remove = page.get_by_role("button", name="Remove rule 1")
    assert remove.evaluate("e => getComputedStyle(e).color") != "rgb(255, 255, 255)"  # readable
    # Python basics carries 2 ECTS; the recommendation (3 credit hours = 6 ECTS) meets 5.
    page.get_by_label("Accept credentials").select_option("skill")
    page.get_by_label("Micro-credential, issuer or skill").fill(PYTHON)
    page.get_by_label("At least (ECTS, optional)").fill("5")
    page.get_by_label("For course code").fill("PR-1")
    page.get_by_label("Course name").fill("Programming")
    page.get_by_label("Credits awarded").fill("3")
    page.get_by_role("button", name="Add rule").click()
    page.wait_for_selector("#rules td:has-text('PR-1')")

    page.get_by_label("Learner (e-mail address)").fill(world.learner.email)
    page.get_by_role("button", name="Evaluate").click()
    assert page.locator("#total-credits").inner_text() == "8 credits"
    summary = page.locator("#evaluation-summary").inner_text()
    assert "awarded for 2 of 2 credentials" in summary
    assert "cap of 10 credits (2 left)" in summary
    rows = page.locator("#evaluation-items tbody tr")
    python_row = rows.filter(has_text="Python basics").inner_text()
    assert "PR-1 Programming" in python_row and "at least 5 ECTS" in python_row
    assert "Credited for DB-1 Databases" in rows.filter(has_text="SQL essentials").inner_text()

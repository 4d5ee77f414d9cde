"""Pathways in Chromium: an author builds a pathway, a learner sees progress, a registrar runs
a transfer evaluation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from tests.browser.conftest import sign_in
from tests.catalogue.factories import skills
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


def test_registrar_adds_a_rule_and_evaluates_transfer_credit(
    page: Any, live_server: str, world: World, defs: Catalogue, settings: Settings,
    sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    issue(sessions, settings, defs.sql)
    sign_in(page, live_server, world.staff.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/manage/articulation")
    page.get_by_label("Programme").fill("BSc Computing")
    page.get_by_label("Agreement name").fill("2026 intake")
    page.get_by_role("button", name="Create agreement").click()
    page.wait_for_selector("h1:has-text('BSc Computing')")
    page.get_by_label("Accept credentials").select_option("issuer")
    page.get_by_label("Definition, issuer or skill").fill("south-academy")
    page.get_by_label("For course code").fill("DB-1")
    page.get_by_label("Course name").fill("Databases")
    page.get_by_label("Credits awarded").fill("5")
    page.get_by_role("button", name="Add rule").click()
    page.wait_for_selector("#rules td:has-text('DB-1')")
    page.get_by_label("Learner (e-mail address)").fill(world.learner.email)
    page.get_by_role("button", name="Evaluate").click()
    assert page.locator("#total-credits").inner_text() == "5 credits"
    assert "Credited for DB-1 Databases" in page.locator("#evaluation").inner_text()

    page.goto(f"{live_server}/manage/articulation")
    page.get_by_label("Micro-credential").select_option(label="SQL essentials (SQL-1)")
    page.get_by_label("Recommending body").fill("Credit council")
    page.get_by_label("Credits").fill("3")
    page.get_by_label("Level", exact=True).fill("undergraduate")
    page.get_by_label("Discipline").fill("Computing")
    page.get_by_label("Valid from").fill("2026-01-01")
    page.get_by_role("button", name="Add recommendation").click()
    page.wait_for_selector("td a:has-text('SQL essentials (SQL-1)')")

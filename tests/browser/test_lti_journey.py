"""Chromium: a learner opens microcred from a course page of the test LMS. The course page frames
the tool (an iframe, as Moodle and Canvas do); the LMS and the tool are both on 127.0.0.1 (other
ports), so the browser's third-party cookie rules do not stand in the way here: in production
they may (see docs/lti.md). The platform auto-posts the login and the id_token, the tool's page
shows the learner's progress inside the frame."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.assessment.awards import CredentialAwarder
from microcred.assessment.imports import import_results
from microcred.catalogue.models import CredentialDefinition
from microcred.lti.models import LtiResourceLink
from microcred.settings import Settings
from tests.assessment.conftest import Course, make_course
from tests.browser.conftest import serve, sign_in
from tests.browser.test_accessibility import axe_violations
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World
from tests.lti.conftest import lms, registration
from tests.lti.platform import TestPlatform

__all__ = ["lms", "registration", "skills"]


@pytest.fixture
def tool(settings: Settings) -> Iterator[str]:
    """The app on loopback, its base URL set to where it listens (the launch URL it checks)."""
    server = serve(settings)
    url = next(server)
    settings.base_url = url
    yield url
    server.close()


def test_a_learner_opens_microcred_from_the_lms_and_sees_progress(
    page: Any,
    tool: str,
    lms: TestPlatform,
    registration: str,
    world: World,
    sessions: sessionmaker[Session],
    settings: Settings,
    skills: dict[str, str],
) -> None:
    lms.tool_url = tool
    with sessions.begin() as session:
        course: Course = make_course(session)
        session.add(
            LtiResourceLink(
                platform_id=registration,
                organisation_id=world.college.id,
                deployment_id=lms.deployment_id,
                resource_link_id=lms.resource_link_id,
                definition_id=course.definition_id,
                ags_scopes=[],
            )
        )
        import_results(
            session,
            None,
            course.definition_id,
            f"email,assessment,score\n{world.learner.email},QUIZ-1,88\n",
            awarder=CredentialAwarder(settings),
        )
    page.goto(f"{lms.url}/course?hint=learner")
    frame = page.frame_locator("iframe[name=tool]")
    frame.locator("#lti-progress").wait_for()
    rows = frame.locator("#lti-progress tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).inner_text().split("\t")[:2] == ["Final quiz", "Passed"]
    assert rows.nth(1).inner_text().split("\t")[:2] == ["Data project", "Not started"]
    assert "Not yet met: Data project" in frame.locator("#lti-reason").inner_text()
    assert "Lee Learner" in frame.locator("#lti-who").inner_text()
    with sessions() as session:
        name = session.scalar(
            select(CredentialDefinition.name).where(
                CredentialDefinition.definition_id == course.definition_id
            )
        )
    assert frame.locator("h1").inner_text() == name
    assert page.locator("h1").inner_text() == "Data Analysis 101"  # the LMS around it


def test_an_admin_registers_the_lms_and_the_launch_pages_pass_axe(
    page: Any,
    tool: str,
    lms: TestPlatform,
    world: World,
    sessions: sessionmaker[Session],
    skills: dict[str, str],
) -> None:
    """The registration form, the page listing it, and a top-level launch (no frame) by a staff
    instructor who connects the course link: each without axe violations."""
    lms.tool_url = tool
    with sessions.begin() as session:
        course = make_course(session)
        name = session.scalar(
            select(CredentialDefinition.name).where(
                CredentialDefinition.definition_id == course.definition_id
            )
        )
    sign_in(page, tool, world.admin.email, PASSWORD)
    page.wait_for_url(f"{tool}/")
    page.goto(f"{tool}/manage/lti")
    assert page.locator("#url-login").inner_text() == f"{tool}/lti/login"
    assert not axe_violations(page)
    page.get_by_label("Name").fill("Test LMS")
    page.get_by_label("Platform issuer (iss)").fill(lms.issuer)
    page.get_by_label("Client ID").fill(lms.client_id)
    page.get_by_label("Deployment IDs (one per line)").fill(lms.deployment_id)
    page.get_by_label("Platform authentication (OIDC auth) URL").fill(f"{lms.url}/auth")
    page.get_by_label("Platform access token URL").fill(f"{lms.url}/token")
    page.get_by_label("Platform public keyset (JWKS) URL").fill(f"{lms.url}/jwks")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url("**/manage/lti?**done=create")
    assert page.locator(".lti-platform h2").inner_text() == "Test LMS"
    assert not axe_violations(page)
    page.context.clear_cookies()
    page.goto(f"{lms.url}/start?hint=teacher")
    page.get_by_role("button", name="Connect").wait_for()
    assert not axe_violations(page)
    page.get_by_label("Credential", exact=True).select_option(label=name)
    page.get_by_role("button", name="Connect").click()
    page.locator("#notice").wait_for()
    assert page.locator("h1").inner_text() == name
    assert not axe_violations(page)

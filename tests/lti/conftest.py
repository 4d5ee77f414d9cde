"""LTI fixtures: the test platform on loopback, North College's registration of it, launches."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import User
from microcred.lti import registrations
from microcred.lti.jwks import JWKS_CACHE
from microcred.settings import Settings
from tests.assessment.conftest import Course, make_course
from tests.catalogue.factories import skills
from tests.conftest import World
from tests.lti.platform import INSTRUCTOR, LEARNER, TestPlatform, start

BROWSER_COOKIE = "microcred_lti_browser"
__all__ = ["skills"]


@pytest.fixture
def lms() -> Iterator[TestPlatform]:
    JWKS_CACHE.clear()
    platform = TestPlatform()
    platform.users = {
        "learner": {
            "sub": "lms-learner",
            "email": "learner@example.org",
            "name": "Lee Learner",
            "roles": [LEARNER],
        },
        "newbie": {
            "sub": "lms-newbie",
            "email": "Nia.New@Student.example",
            "name": "Nia New",
            "roles": [LEARNER],
        },
        "teacher": {
            "sub": "lms-teacher",
            "email": "staff@north.example",
            "name": "Sam Staff",
            "roles": [INSTRUCTOR],
        },
        "guest-teacher": {
            "sub": "lms-guest",
            "email": "guest@north.example",
            "name": "Gus Guest",
            "roles": [INSTRUCTOR],
        },
        "anonymous": {"sub": "lms-anon", "roles": [LEARNER]},
    }
    yield from start(platform)
    JWKS_CACHE.clear()


def admin_principal(session: Session, world: World) -> accounts.Principal:
    user = session.get(User, world.admin.id)
    assert user is not None
    return accounts.principal_for(session, user)


@pytest.fixture
def registration(
    sessions: sessionmaker[Session], world: World, lms: TestPlatform, settings: Settings
) -> str:
    """North College's registration of the test platform (by JWKS URL); its id."""
    with sessions.begin() as session:
        platform = registrations.create_platform(
            session,
            admin_principal(session, world),
            settings,
            "north-college",
            registrations.PlatformInput(
                "Test LMS",
                lms.issuer,
                lms.client_id,
                [lms.deployment_id],
                f"{lms.url}/auth",
                f"{lms.url}/token",
                f"{lms.url}/jwks",
            ),
        )
        lms.tool_jwks = registrations.organisation_jwks(session, "north-college")
        return platform.id


@dataclass
class Login:
    state: str
    nonce: str
    browser: str
    redirect: str


def login(client: TestClient, lms: TestPlatform, hint: str, target: str = "") -> Login:
    response = client.get(
        "/lti/login",
        params={
            "iss": lms.issuer,
            "login_hint": hint,
            "client_id": lms.client_id,
            "target_link_uri": target or "http://127.0.0.1:8000/lti/launch",
            "lti_deployment_id": lms.deployment_id,
        },
        follow_redirects=False,
    )
    assert response.status_code == 302, response.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}
    cookie = response.cookies.get(BROWSER_COOKIE)
    assert cookie
    return Login(query["state"], query["nonce"], cookie, response.headers["location"])


def post_launch(
    client: TestClient, token: str, state: str, browser: str | None, path: str = "/lti/launch"
) -> Response:
    headers = {"cookie": f"{BROWSER_COOKIE}={browser}"} if browser else {}
    return client.post(path, data={"id_token": token, "state": state}, headers=headers)


def launch(client: TestClient, lms: TestPlatform, hint: str, **overrides: Any) -> Response:
    """A whole launch as the platform and a browser would do it; the launch page."""
    started = login(client, lms, hint)
    return post_launch(
        client, lms.id_token(hint, started.nonce, **overrides), started.state, started.browser
    )


def launch_token(page: str) -> str:
    found = re.search(r'name="launch" value="([^"]+)"', page)
    assert found, "the launch page has no launch token"
    return found.group(1)


@pytest.fixture
def course(sessions: sessionmaker[Session], world: World, skills: dict[str, str]) -> Course:
    """A published North College definition with a quiz (QUIZ-1) and a project (PROJECT-1)."""
    with sessions.begin() as session:
        return make_course(session)

"""Launches through the test LMS: OIDC login, the id_token post, who the user is, what the page
shows; every refusal is a page naming the check, never a 500."""

from __future__ import annotations

import hashlib
import html
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent, Membership, Role, User
from microcred.accounts.passwords import verify_password
from microcred.db.base import utcnow
from microcred.lti import service as lti
from microcred.lti.errors import LtiError, LtiForbidden
from microcred.lti.models import LtiLaunchSession, LtiLoginState, LtiResourceLink, LtiUserLink
from tests.assessment.conftest import Course
from tests.conftest import World, sign_in_client
from tests.lti.conftest import launch, launch_token, login, post_launch
from tests.lti.platform import LTI, TestPlatform, sign_jwt


def page_text(response: Response) -> str:
    return html.unescape(response.text)


def test_login_redirects_to_the_platform_with_state_and_nonce(
    client: TestClient, lms: TestPlatform, registration: str
) -> None:
    started = login(client, lms, "learner")
    parts = urlsplit(started.redirect)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{lms.url}/auth"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["scope"] == "openid"
    assert query["response_type"] == "id_token"
    assert query["response_mode"] == "form_post"
    assert query["prompt"] == "none"
    assert query["client_id"] == lms.client_id
    assert query["login_hint"] == "learner"
    assert query["redirect_uri"] == "http://127.0.0.1:8000/lti/launch"
    assert len(started.state) > 30 and len(started.nonce) > 30 and started.state != started.nonce
    response = client.get(
        "/lti/login",
        params={
            "iss": lms.issuer,
            "login_hint": "learner",
            "target_link_uri": "http://127.0.0.1:8000/lti/launch",
        },
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "samesite=none" in cookie and "secure" in cookie and "httponly" in cookie


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (
            {"iss": "", "login_hint": "x", "target_link_uri": "http://127.0.0.1:8000/lti/launch"},
            "'iss'",
        ),
        (
            {
                "iss": "https://unknown.example",
                "login_hint": "x",
                "target_link_uri": "http://127.0.0.1:8000/lti/launch",
            },
            "No LMS with issuer",
        ),
        ({"login_hint": "x", "target_link_uri": "https://evil.example/steal"}, "target_link_uri"),
        (
            {
                "login_hint": "x",
                "target_link_uri": "http://127.0.0.1:8000/lti/launch",
                "lti_deployment_id": "other",
            },
            "deployment id 'other'",
        ),
        ({"target_link_uri": "http://127.0.0.1:8000/lti/launch"}, "'login_hint'"),
    ],
)
def test_a_bad_login_request_is_a_page_naming_the_problem(
    client: TestClient, lms: TestPlatform, registration: str, params: dict[str, str], words: str
) -> None:
    response = client.get("/lti/login", params={"iss": lms.issuer} | params, follow_redirects=False)
    assert response.status_code == 400
    assert words in page_text(response)
    assert "frame-ancestors *" in response.headers["content-security-policy"]


@pytest.mark.both_databases
def test_a_learner_with_an_account_sees_their_progress(
    client: TestClient,
    lms: TestPlatform,
    registration: str,
    course: Course,
    world: World,
    sessions: sessionmaker[Session],
) -> None:
    staff = launch(client, lms, "teacher")
    assert staff.status_code == 200, staff.text
    assert "Connect this course link to a credential" in page_text(staff)
    linked = client.post(
        "/lti/link",
        data={"launch": launch_token(staff.text), "definition_id": course.definition_id},
    )
    assert "The course link is connected." in page_text(linked)
    page = launch(client, lms, "learner")
    assert page.status_code == 200
    assert "Your progress" in page_text(page)
    assert "Final quiz" in page_text(page) and "Data project" in page_text(page)
    assert "Not yet met: Final quiz, Data project" in page_text(page)
    assert "frame-ancestors *" in page.headers["content-security-policy"]
    assert "microcred_session" not in page.headers.get("set-cookie", "")  # no sign-in
    with sessions() as session:
        link = session.scalar(select(LtiUserLink).where(LtiUserLink.subject == "lms-learner"))
        assert link is not None and link.user_id == world.learner.id
        row = session.scalar(select(LtiResourceLink))
        assert row is not None
        assert (row.definition_id, row.linked_by_user_id) == (course.definition_id, world.staff.id)
        assert row.ags_lineitems_url == f"{lms.url}/courses/7/lineitems"
        assert row.context_title == "Data Analysis 101"


@pytest.mark.both_databases
def test_a_learner_without_an_account_gets_one_without_a_usable_password(
    client: TestClient,
    lms: TestPlatform,
    registration: str,
    world: World,
    sessions: sessionmaker[Session],
) -> None:
    page = launch(client, lms, "newbie")
    assert page.status_code == 200, page.text
    assert "A microcred account was made for nia.new@student.example" in page_text(page)
    assert "Your teacher has not connected this course link" in page_text(page)
    with sessions() as session:
        user = session.scalar(select(User).where(User.email == "nia.new@student.example"))
        assert user is not None
        assert user.name == "Nia New"
        assert user.email_trusted is False
        assert not verify_password(user.password_hash, "")
        roles = session.scalars(select(Membership.role).where(Membership.user_id == user.id)).all()
        assert list(roles) == [Role.learner]
        created = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "lti.account.create")
        ).all()
        assert [a.object_id for a in created] == [user.id]
    again = launch(client, lms, "newbie", email="changed@student.example")
    assert "A microcred account was made" not in page_text(again)  # remembered by (iss, sub)


def test_an_instructor_who_is_not_staff_cannot_connect_the_link(
    client: TestClient,
    lms: TestPlatform,
    registration: str,
    course: Course,
    sessions: sessionmaker[Session],
) -> None:
    page = launch(client, lms, "guest-teacher")
    assert "Only an instructor who is issuer staff" in page_text(page)
    assert 'name="launch"' not in page_text(page)
    with sessions() as session:
        guest = session.scalar(select(User).where(User.email == "guest@north.example"))
        assert guest is not None
        assert session.scalars(select(Membership).where(Membership.user_id == guest.id)).all() == []
    learner = launch(client, lms, "learner")
    refused = client.post(
        "/lti/link", data={"launch": "forged", "definition_id": course.definition_id}
    )
    assert refused.status_code == 400 and "expired or is unknown" in page_text(refused)
    assert "Your teacher has not connected" in page_text(learner)


def test_a_learner_cannot_connect_the_link_with_their_launch_token(
    client: TestClient, lms: TestPlatform, registration: str, course: Course
) -> None:
    staff = launch(client, lms, "teacher")
    token = launch_token(staff.text)
    assert token
    learner_page = launch(client, lms, "learner")
    assert 'name="launch"' not in page_text(learner_page)


@pytest.mark.both_databases
def test_an_id_token_is_accepted_once(
    client: TestClient, lms: TestPlatform, registration: str
) -> None:
    started = login(client, lms, "learner")
    token = lms.id_token("learner", started.nonce)
    assert post_launch(client, token, started.state, started.browser).status_code == 200
    replay = post_launch(client, token, started.state, started.browser)
    assert replay.status_code == 400
    assert "unknown or was already used" in page_text(replay)
    other = login(client, lms, "learner")  # a fresh state cannot carry the old nonce
    replay = post_launch(client, token, other.state, other.browser)
    assert replay.status_code == 400 and "nonce" in page_text(replay)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"aud": "someone-else"}, "audience 'someone-else' is not this tool's client id"),
        ({LTI + "deployment_id": "not-registered"}, "deployment id 'not-registered'"),
        ({LTI + "message_type": "LtiSubmissionReviewRequest"}, "message type"),
        ({LTI + "version": "1.1"}, "LTI version"),
        ({LTI + "resource_link": {}}, "resource_link id"),
        ({"exp": 1000, "iat": 900}, "expired"),
        ({"iss": "https://evil.example"}, "issuer"),
    ],
)
def test_bad_launches_are_pages_naming_the_check(
    client: TestClient,
    lms: TestPlatform,
    registration: str,
    overrides: dict[str, object],
    words: str,
) -> None:
    response = launch(client, lms, "learner", **overrides)
    assert response.status_code == 400
    assert words.replace("&#39;", "'") in page_text(response).replace("&#39;", "'")
    assert "microcred cannot open this launch" in page_text(response)


def test_a_launch_without_the_browser_cookie_or_signed_by_another_key_is_refused(
    client: TestClient, lms: TestPlatform, registration: str
) -> None:
    started = login(client, lms, "learner")
    token = lms.id_token("learner", started.nonce)
    assert "different browser" in page_text(post_launch(client, token, started.state, None))
    assert "different browser" in page_text(post_launch(client, token, started.state, "other"))
    forged = sign_jwt(lms.claims("learner", started.nonce), lms.key, "unknown-kid")
    refused = post_launch(client, forged, started.state, started.browser)
    assert refused.status_code == 400 and "no RSA key with kid" in page_text(refused)
    unsigned = sign_jwt(lms.claims("learner", started.nonce), lms.key, lms.kid, alg="none")
    again = login(client, lms, "learner")
    assert "requires RS256" in page_text(post_launch(client, unsigned, again.state, again.browser))


def test_a_rotated_platform_key_is_fetched_again(
    client: TestClient, lms: TestPlatform, registration: str
) -> None:
    assert launch(client, lms, "learner").status_code == 200
    assert launch(client, lms, "learner").status_code == 200
    assert lms.hits["/jwks"] == 1  # cached
    from cryptography.hazmat.primitives.asymmetric import rsa

    lms.key, lms.kid = rsa.generate_private_key(public_exponent=65537, key_size=2048), "key-2"
    assert launch(client, lms, "learner").status_code == 200
    assert lms.hits["/jwks"] == 2  # fetched again for the new kid, once


def test_an_unreachable_jwks_is_a_clear_refusal(
    client: TestClient, lms: TestPlatform, registration: str
) -> None:
    lms.fail["/jwks"] = 503
    response = launch(client, lms, "learner")
    assert response.status_code == 502
    assert "answered HTTP 503" in page_text(response)


def test_a_user_without_an_email_claim_is_told_what_the_lms_must_share(
    client: TestClient, lms: TestPlatform, registration: str
) -> None:
    response = launch(client, lms, "anonymous")
    assert response.status_code == 400
    assert "share the launcher" in page_text(response)


def test_deleting_a_registration_removes_its_links_but_keeps_the_accounts(
    client: TestClient,
    lms: TestPlatform,
    registration: str,
    world: World,
    sessions: sessionmaker[Session],
) -> None:
    assert launch(client, lms, "newbie").status_code == 200
    csrf = sign_in_client(client, world.admin.email)
    path = f"/api/v1/organisations/north-college/lti/platforms/{registration}"
    assert client.delete(path, headers={"X-CSRF-Token": csrf}).status_code == 204
    with sessions() as session:
        assert session.scalars(select(LtiResourceLink)).all() == []
        assert session.scalars(select(LtiUserLink)).all() == []
        assert session.scalar(select(User).where(User.email == "nia.new@student.example"))
    login_refused = client.get(
        "/lti/login",
        params={
            "iss": lms.issuer,
            "login_hint": "newbie",
            "target_link_uri": "http://127.0.0.1:8000/lti/launch",
        },
        follow_redirects=False,
    )
    assert login_refused.status_code == 400
    assert "No LMS with issuer" in page_text(login_refused)


def test_a_connected_link_shows_staff_the_credential_and_a_learner_token_cannot_connect(
    client: TestClient,
    lms: TestPlatform,
    registration: str,
    course: Course,
    world: World,
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        state = LtiLoginState(
            state="s1",
            platform_id=registration,
            nonce="n1",
            browser_hash=hashlib.sha256(b"b1").hexdigest(),
            target_link_uri="",
            expires_at=utcnow() + timedelta(minutes=5),
        )
        session.add(state)
        session.flush()
        learner = lti.complete_launch(
            session, lms.id_token("learner", "n1"), "s1", "b1", now=time.time()
        )
        opened = lti.open_launch(session, learner.token)
        assert not opened.is_staff
        with pytest.raises(LtiForbidden):
            lti.link_definition(session, opened, course.definition_id)
    staff = launch(client, lms, "teacher")
    client.post(
        "/lti/link",
        data={"launch": launch_token(staff.text), "definition_id": course.definition_id},
    )
    again = launch(client, lms, "teacher")
    assert "This course link shows this credential" in again.text
    assert "Sync grades from the LMS" in again.text
    token = launch_token(again.text)
    with sessions.begin() as session:
        opened = lti.open_launch(session, token)
        assert opened.is_staff
        assert not opened.principal.is_platform_admin
        assert set(opened.principal.roles) == {world.college.id}
        with pytest.raises(LtiError, match="already connected"):
            lti.link_definition(session, opened, course.definition_id)


def test_an_expired_login_state_or_launch_token_is_refused(
    client: TestClient,
    lms: TestPlatform,
    registration: str,
    course: Course,
    sessions: sessionmaker[Session],
) -> None:
    started = login(client, lms, "learner")
    with sessions.begin() as session:
        row = session.get(LtiLoginState, started.state)
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    late = post_launch(
        client, lms.id_token("learner", started.nonce), started.state, started.browser
    )
    assert late.status_code == 400 and "expired (after 10 minutes)" in late.text
    staff = launch(client, lms, "teacher")
    token = launch_token(staff.text)
    with sessions.begin() as session:
        for held in session.scalars(select(LtiLaunchSession)):
            held.expires_at = utcnow() - timedelta(seconds=1)
    stale = client.post("/lti/link", data={"launch": token, "definition_id": course.definition_id})
    assert stale.status_code == 400 and "expired or is unknown" in stale.text
    with sessions() as session:
        link = session.scalar(select(LtiResourceLink))
        assert link is not None and link.definition_id is None

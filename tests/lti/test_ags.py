"""Grade sync (AGS 2.0) from the test LMS: the token endpoint checks our signed client assertion,
line items map to assessments by code, award rules issue the credential as for a CSV; remote
failures and bad rows import nothing."""

from __future__ import annotations

import html
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.assessment.models import AssessmentResult, Award
from microcred.credentials.proofs.jwt import JoseKey
from microcred.lti import ags
from microcred.lti.models import LtiResourceLink
from tests.assessment.conftest import Course
from tests.conftest import World, sign_in_client
from tests.lti.conftest import launch, launch_token
from tests.lti.platform import AGS, TestPlatform, verify_rs256

SCOPES = {
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
}


@pytest.fixture
def linked(
    client: TestClient,
    lms: TestPlatform,
    registration: str,
    course: Course,
    sessions: sessionmaker[Session],
) -> str:
    """The course link connected to the course's credential, the learner launched once; the
    link's id. The LMS holds two graded line items of the link, one ungraded column and one
    item of another link."""
    staff = launch(client, lms, "teacher")
    client.post(
        "/lti/link",
        data={"launch": launch_token(staff.text), "definition_id": course.definition_id},
    )
    launch(client, lms, "learner")
    items = f"{lms.url}/courses/7/lineitems"
    lms.line_items = [
        {
            "id": f"{items}/1",
            "label": "Final quiz",
            "tag": "QUIZ-1",
            "scoreMaximum": 50,
            "resourceLinkId": "rl-1",
        },
        {
            "id": f"{items}/2",
            "label": "Project",
            "resourceId": "project-1",
            "scoreMaximum": 6,
            "resourceLinkId": "rl-1",
        },
        {"id": f"{items}/3", "label": "Attendance", "scoreMaximum": 10, "resourceLinkId": "rl-1"},
        {"id": f"{items}/4", "label": "Elsewhere", "tag": "QUIZ-1", "resourceLinkId": "rl-9"},
    ]
    lms.results = {
        f"{items}/1": [
            {
                "id": "r1",
                "userId": "lms-learner",
                "resultScore": 0.9,  # of 1: AGS's resultMaximum when absent
                "scoreOf": f"{items}/1",
            },
            {"id": "r2", "userId": "lms-stranger", "resultScore": 40, "resultMaximum": 50},
            {"id": "r3", "userId": "lms-learner-2"},  # not graded yet
        ],
        f"{items}/2": [
            {
                "id": "r4",
                "userId": "lms-learner",
                "resultScore": 25,
                "resultMaximum": 30,
                "comment": "Good\nwork",
            }
        ],
        f"{items}/4": [{"id": "r5", "userId": "lms-learner", "resultScore": 0}],
    }
    with sessions() as session:
        link = session.scalar(select(LtiResourceLink))
        assert link is not None
        return link.id


def sync(client: TestClient, email: str, link_id: str, slug: str = "north-college") -> Any:
    csrf = sign_in_client(client, email)
    return client.post(
        f"/api/v1/organisations/{slug}/lti/links/{link_id}/sync", headers={"X-CSRF-Token": csrf}
    )


def results_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AssessmentResult)) or 0)


@pytest.mark.both_databases
def test_staff_sync_grades_and_the_award_rules_issue_the_credential(
    client: TestClient,
    lms: TestPlatform,
    linked: str,
    world: World,
    course: Course,
    sessions: sessionmaker[Session],
) -> None:
    response = sync(client, world.staff.email, linked)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["matched_line_items"] == ["Final quiz", "Project"]
    assert report["unmatched_line_items"] == ["Attendance"]
    assert (report["grades_found"], report["skipped_unknown_learners"]) == (3, 1)
    assert (report["imported"], report["awarded"]) == (2, 1)
    request = lms.token_requests[-1]
    assert request["grant_type"] == ["client_credentials"]
    assert set(request["scope"][0].split()) == SCOPES
    assert request["client_assertion_type"] == [
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    ]
    assertion = verify_rs256(request["client_assertion"][0], lms.tool_jwks)
    assert assertion is not None and assertion["aud"] == f"{lms.url}/token"
    with sessions() as session:
        scores = {
            r.score: r.comment
            for r in session.scalars(
                select(AssessmentResult).where(AssessmentResult.learner_id == world.learner.id)
            )
        }
        assert scores == {90.0: "", 5.0: "Good work"}
        award = session.scalar(select(Award).where(Award.learner_id == world.learner.id))
        assert award is not None and award.credential_id
    page = launch(client, lms, "learner")
    assert "Your credential" in page.text
    assert f"/credentials/{award.credential_id}" in page.text
    assert "linkedin.com/profile/add" in html.unescape(page.text)
    again = sync(client, world.staff.email, linked).json()
    assert (again["imported"], again["unchanged"], again["awarded"]) == (0, 2, 0)


def test_a_bad_grade_imports_nothing_and_names_the_learner(
    client: TestClient,
    lms: TestPlatform,
    linked: str,
    world: World,
    sessions: sessionmaker[Session],
) -> None:
    items = f"{lms.url}/courses/7/lineitems"
    lms.results[f"{items}/2"][0]["resultScore"] = 35  # 35 of 30
    response = sync(client, world.staff.email, linked)
    assert response.status_code == 422
    message = response.json()["message"]
    assert message.startswith("Nothing imported: 1 grade(s) cannot be imported")
    assert "learner@example.org on 'Project'" in message and "more than the maximum" in message
    assert results_count(sessions) == 0


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/token", 500, "access token request"),
        ("/courses/7/lineitems", 403, "line items request"),
        ("/courses/7/lineitems/2/results", 404, "results request"),
    ],
)
def test_a_failing_platform_imports_nothing_and_says_which_call(
    client: TestClient,
    lms: TestPlatform,
    linked: str,
    world: World,
    sessions: sessionmaker[Session],
    path: str,
    status: int,
    words: str,
) -> None:
    lms.fail[path] = status
    response = sync(client, world.staff.email, linked)
    assert response.status_code == 502
    message = response.json()["message"]
    assert words in message and f"HTTP {status}" in message and "nothing was imported" in message
    assert results_count(sessions) == 0


def test_a_slow_platform_times_out_and_imports_nothing(
    client: TestClient,
    lms: TestPlatform,
    linked: str,
    world: World,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ags, "TIMEOUT_SECONDS", 0.3)
    lms.delay["/courses/7/lineitems/2/results"] = 1.5
    response = sync(client, world.staff.email, linked)
    assert response.status_code == 502
    assert "did not answer the results request" in response.json()["message"]
    assert results_count(sessions) == 0


def test_the_platform_refuses_an_assertion_it_cannot_verify(
    client: TestClient, lms: TestPlatform, linked: str, world: World
) -> None:
    lms.tool_jwks = {"keys": [{**JoseKey.generate("RS256").public_jwk, "kid": "x"}]}
    response = sync(client, world.staff.email, linked)
    assert response.status_code == 502
    assert "HTTP 401" in response.json()["message"]


def test_only_the_organisations_staff_sync(
    client: TestClient,
    lms: TestPlatform,
    linked: str,
    world: World,
    sessions: sessionmaker[Session],
) -> None:
    assert sync(client, world.other_staff.email, linked).status_code == 403
    assert sync(client, world.other_staff.email, linked, "south-academy").status_code == 404
    assert sync(client, world.learner.email, linked).status_code == 403
    assert results_count(sessions) == 0
    assert lms.token_requests == []


def test_a_link_without_grade_services_is_explained(
    client: TestClient,
    lms: TestPlatform,
    registration: str,
    course: Course,
    world: World,
    sessions: sessionmaker[Session],
) -> None:
    staff = launch(client, lms, "teacher", **{AGS: None})
    client.post(
        "/lti/link",
        data={"launch": launch_token(staff.text), "definition_id": course.definition_id},
    )
    with sessions() as session:
        link = session.scalar(select(LtiResourceLink))
        assert link is not None and link.definition_id == course.definition_id
    response = sync(client, world.staff.email, link.id)
    assert response.status_code == 422
    assert "did not offer grade services" in response.json()["message"]


def test_the_manage_page_syncs_with_its_button(
    client: TestClient, lms: TestPlatform, linked: str, world: World
) -> None:
    csrf = sign_in_client(client, world.staff.email)
    page = client.get("/manage/lti")
    assert "Sync grades from the LMS" in page.text and "Data Analysis 101" in page.text
    done = client.post(
        f"/manage/lti/links/{linked}/sync",
        data={"organisation": "north-college", "csrf_token": csrf},
    )
    assert done.status_code == 200
    assert "2 result(s) imported" in done.text and "1 credential(s) awarded" in done.text
    lms.fail["/token"] = 500
    failed = client.post(
        f"/manage/lti/links/{linked}/sync",
        data={"organisation": "north-college", "csrf_token": csrf},
    )
    assert failed.status_code == 502 and "access token request" in failed.text


def test_a_staff_instructor_syncs_from_inside_the_lms(
    client: TestClient, lms: TestPlatform, linked: str, sessions: sessionmaker[Session]
) -> None:
    staff = launch(client, lms, "teacher")
    done = client.post("/lti/sync", data={"launch": launch_token(staff.text)})
    assert done.status_code == 200
    assert "2 result(s) imported" in done.text and "1 credential(s) awarded" in done.text
    assert "frame-ancestors *" in done.headers["content-security-policy"]
    assert results_count(sessions) == 2
    lms.fail["/token"] = 500
    failed = client.post("/lti/sync", data={"launch": launch_token(staff.text)})
    assert "access token request" in html.unescape(failed.text)
    learner = client.post("/lti/sync", data={"launch": "not-a-token"})
    assert learner.status_code == 400 and "expired or is unknown" in learner.text


def test_the_full_lineitem_scope_will_do_but_results_must_be_readable(
    client: TestClient,
    lms: TestPlatform,
    linked: str,
    world: World,
    sessions: sessionmaker[Session],
) -> None:
    full = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
    results = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
    with sessions.begin() as session:
        link = session.get(LtiResourceLink, linked)
        assert link is not None
        link.ags_scopes = [full, results, "https://purl.imsglobal.org/spec/lti-ags/scope/score"]
    assert sync(client, world.staff.email, linked).status_code == 200
    assert lms.token_requests[-1]["scope"] == [f"{full} {results}"]
    with sessions.begin() as session:
        link = session.get(LtiResourceLink, linked)
        assert link is not None
        link.ags_scopes = [full]
    refused = sync(client, world.staff.email, linked)
    assert refused.status_code == 422
    assert "did not grant the tool the AGS scope(s) result.readonly" in refused.json()["message"]

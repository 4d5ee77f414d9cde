"""Deep Linking 2.0: staff pick a credential, the tool posts a signed LtiDeepLinkingResponse back
to the LMS; the link it creates is connected at its first launch."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.lti.models import LtiResourceLink
from tests.assessment.conftest import Course
from tests.lti.conftest import launch, launch_token, login, post_launch
from tests.lti.platform import LTI, TestPlatform, verify_rs256

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"


def deep_linking_launch(client: TestClient, lms: TestPlatform, hint: str) -> Any:
    started = login(client, lms, hint, target="http://127.0.0.1:8000/lti/deep-linking")
    token = lms.id_token(
        hint,
        started.nonce,
        **{
            LTI + "message_type": "LtiDeepLinkingRequest",
            LTI + "resource_link": None,
            DL + "deep_linking_settings": {
                "deep_link_return_url": f"{lms.url}/deep-link-return",
                "accept_types": ["ltiResourceLink"],
                "data": "opaque-42",
            },
        },
    )
    return post_launch(client, token, started.state, started.browser, "/lti/deep-linking")


@pytest.mark.both_databases
def test_staff_pick_a_credential_and_the_response_is_signed_for_the_platform(
    client: TestClient,
    lms: TestPlatform,
    registration: str,
    course: Course,
    sessions: sessionmaker[Session],
) -> None:
    page = deep_linking_launch(client, lms, "teacher")
    assert page.status_code == 200, page.text
    assert "Add a North College credential to this course" in page.text
    answer = client.post(
        "/lti/deep-linking/respond",
        data={"launch": launch_token(page.text), "definition_id": course.definition_id},
    )
    assert answer.status_code == 200
    assert f"form-action 'self' {lms.url}" in answer.headers["content-security-policy"]
    assert f'action="{lms.url}/deep-link-return"' in answer.text
    found = re.search(r'name="JWT" value="([^"]+)"', answer.text)
    assert found
    claims = verify_rs256(found.group(1), lms.tool_jwks)
    assert claims is not None
    assert (claims["iss"], claims["aud"]) == (lms.client_id, lms.issuer)
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[LTI + "version"] == "1.3.0"
    assert claims[LTI + "deployment_id"] == lms.deployment_id
    assert claims[DL + "data"] == "opaque-42"
    [item] = claims[DL + "content_items"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == "http://127.0.0.1:8000/lti/launch"
    assert item["custom"] == {"microcred_definition_id": course.definition_id}
    learner = launch(client, lms, "learner", **{LTI + "custom": item["custom"]})
    assert "Your progress" in learner.text
    with sessions() as session:
        link = session.scalar(select(LtiResourceLink))
        assert link is not None and link.definition_id == course.definition_id


def test_a_learner_cannot_deep_link(
    client: TestClient, lms: TestPlatform, registration: str, course: Course
) -> None:
    page = deep_linking_launch(client, lms, "guest-teacher")
    assert page.status_code == 200
    assert 'name="launch"' not in page.text
    assert "Only an instructor who is issuer staff" in page.text


def test_a_deep_linking_launch_without_a_return_url_is_refused(
    client: TestClient, lms: TestPlatform, registration: str
) -> None:
    started = login(client, lms, "teacher")
    token = lms.id_token(
        "teacher", started.nonce, **{LTI + "message_type": "LtiDeepLinkingRequest"}
    )
    response = post_launch(client, token, started.state, started.browser)
    assert response.status_code == 400
    assert "no deep_link_return_url" in response.text

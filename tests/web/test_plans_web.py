"""The learning-plan page and API: anonymous from nothing, signed in from verified credentials."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.catalogue import service as catalogue
from microcred.credentials import service as credentials
from microcred.settings import Settings
from tests.catalogue.factories import PYTHON, SQL, definition_input, skills
from tests.conftest import World, sign_in_client
from tests.wallet.test_plans import ANALYST, occupation

__all__ = ["occupation", "skills"]


def _catalogue(sessions: sessionmaker[Session], settings: Settings, world: World) -> None:
    with sessions.begin() as session:
        python = catalogue.create_definition(
            session, None, "north-college",
            definition_input(name="Python 1", human_code="PY", skills=[PYTHON]), publish=True,
        )  # fmt: skip
        catalogue.create_definition(
            session, None, "north-college",
            definition_input(name="SQL 1", human_code="SQL", skills=[SQL], price_amount=90),
            publish=True,
        )  # fmt: skip
        credentials.issue_credential(
            session, None, definition_id=python.definition_id,
            recipient_user_id=world.learner.id, settings=settings,
        )  # fmt: skip


def test_anyone_gets_a_plan_for_a_job_title_with_charts(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    occupation: str,
) -> None:  # fmt: skip
    _catalogue(sessions, settings, world)
    page = client.get("/learning-plan", params={"job": "data analyst"})
    assert page.status_code == 200
    assert "data analyst" in page.text and 'id="plan-steps-list"' in page.text
    assert page.text.count("<svg") >= 2, "coverage and timeline charts"
    assert 'id="coverage-before">0%' in page.text
    assert "Python 1" in page.text and "SQL 1" in page.text
    assert "sign in</a> to count yours" in page.text
    # No postings are loaded here: the basis is a sentence of its own, not "Demand from No …".
    assert "No job postings are loaded: weights come from the taxonomy alone." in page.text
    assert "Demand from No job postings" not in page.text


def test_signed_in_the_plan_skips_what_the_learners_credentials_prove(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    occupation: str,
) -> None:  # fmt: skip
    _catalogue(sessions, settings, world)
    sign_in_client(client, world.learner.email)
    page = client.get("/learning-plan", params={"job": "data analyst", "budget": "100",
                                                "currency": "EUR"})  # fmt: skip
    assert page.status_code == 200
    assert 'id="plan-held"' in page.text and "by Python 1" in page.text
    body = client.post(
        "/api/v1/learning-plans", json={"occupation_uri": ANALYST, "budget": 100,
                                        "currency": "EUR"},
        headers={"x-csrf-token": sign_in_client(client, world.learner.email)},
    ).json()  # fmt: skip
    assert [s["name"] for s in body["steps"]] == ["SQL 1"]
    assert body["evidence"] == {PYTHON: ["Python 1"]}
    assert body["total_price"] == {"EUR": 90.0}
    assert body["coverage_before"] == 0.5 and body["coverage_after"] == 1.0


def test_bad_limits_and_unknown_jobs_are_explained(client: TestClient, occupation: str) -> None:
    bad = client.get("/learning-plan", params={"job": "data analyst", "budget": "lots"})
    assert bad.status_code == 422 and "lots&#39; is not a number" in bad.text
    none = client.get("/learning-plan", params={"job": "zzzz qqqq xxxx"})
    assert none.status_code == 404 and "No occupation matches" in none.text
    api = client.post("/api/v1/learning-plans", json={"job": "zzzz qqqq xxxx"})
    assert api.status_code == 422 and "occupation_uri" in api.json()["message"]
    assert (
        client.post("/api/v1/learning-plans", json={"occupation_uri": ANALYST, "budget": 5}).json()[
            "field"
        ]
        == "budget"
    )


def test_the_language_starts_as_the_browsers_and_can_be_cleared(
    client: TestClient, occupation: str
) -> None:
    headers = {"accept-language": "de-CH,de;q=0.9,en;q=0.8"}
    page = client.get("/learning-plan", headers=headers)
    assert 'id="language" name="language" value="de"' in page.text
    cleared = client.get("/learning-plan", params={"language": ""}, headers=headers)
    assert 'id="language" name="language" value=""' in cleared.text
    assert (
        'name="language" value=""'
        in client.get("/learning-plan", headers={"accept-language": "*"}).text
    )

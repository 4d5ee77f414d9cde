"""The talent pages and API: who may search, what an employer sees, the learner's consent form."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import AuditEvent, User
from microcred.talent import service as talent
from tests.catalogue.factories import PYTHON, SQL, TEAMWORK, skills
from tests.conftest import World, sign_in_client
from tests.talent.conftest import (
    Catalogue,
    Issue,
    Learner,
    definitions,
    issue,
    make_learner,
    taxonomy,
)

__all__ = ["definitions", "issue", "make_learner", "skills", "taxonomy"]


@pytest.fixture
def found(definitions: Catalogue, make_learner: Learner, issue: Issue) -> str:
    """Ana, consenting, holds 'Databases' (SQL, South Academy); its credential id."""
    ana = make_learner("ana@example.org", "Ana Found")
    hidden = make_learner("hidden@example.org", "Hidden Learner", consent=False)
    issue(definitions.sql_only, hidden)
    return issue(definitions.sql_only, ana).id


def token_for(sessions: sessionmaker[Session], user_id: str, scopes: list[str]) -> str:
    with sessions.begin() as session:
        user = session.get(User, user_id)
        assert user is not None
        principal = accounts.principal_for(session, user)
        return accounts.create_api_token(session, principal, name="t", scopes=scopes)[1]


def test_an_employer_finds_a_consenting_learner_with_the_reasons(
    client: TestClient, sessions: sessionmaker[Session], world: World, found: str
) -> None:
    sign_in_client(client, world.employer.email)
    page = client.get("/talent", params={"q": "SQL"})
    assert page.status_code == 200
    assert "1 learner found" in page.text
    assert "Ana Found" in page.text and "mailto:ana@example.org" in page.text
    assert "Hidden Learner" not in page.text and "hidden@example.org" not in page.text
    assert f'href="/credentials/{found}"' in page.text
    assert "Databases</a>, South Academy" in page.text
    assert "1 of 1 skill matched (+10)" in page.text
    assert '<svg class="chart bar-chart"' in page.text
    with sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "talent.searched")
        ).one()
    assert event.organisation_id == world.employer_org.id and event.details["skills"] == [SQL]


def test_anonymous_visitors_are_sent_to_sign_in_and_the_api_refuses_them(
    client: TestClient, world: World
) -> None:
    page = client.get("/talent", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")
    assert client.post("/api/v1/talent/search", json={"skills": [SQL]}).status_code == 401


@pytest.mark.parametrize("who", ["learner", "staff", "assessor", "admin"])
def test_learners_issuer_staff_and_assessors_cannot_search(
    client: TestClient, world: World, found: str, who: str
) -> None:
    csrf = sign_in_client(client, getattr(world, who).email)
    assert client.get("/talent", params={"q": "SQL"}).status_code == 403
    response = client.post(
        "/api/v1/talent/search", json={"skills": [SQL]}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 403


def test_a_token_needs_the_talent_search_scope(
    client: TestClient, sessions: sessionmaker[Session], world: World, found: str
) -> None:
    wrong = token_for(sessions, world.employer.id, ["credentials:read"])
    right = token_for(sessions, world.employer.id, ["talent:search"])
    body = {"skills": ["SQL"]}
    refused = client.post(
        "/api/v1/talent/search", json=body, headers={"Authorization": f"Bearer {wrong}"}
    )
    assert refused.status_code == 403 and "talent:search" in refused.json()["message"]
    answer = client.post(
        "/api/v1/talent/search", json=body, headers={"Authorization": f"Bearer {right}"}
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["total"] == 1 and data["skills"][0]["uri"] == SQL
    [result] = data["results"]
    assert result["name"] == "Ana Found" and result["email"] == "ana@example.org"
    assert set(result) == {"name", "email", "profile_url", "score", "matches"}
    [credential] = result["matches"][0]["credentials"]
    assert credential["verification_url"].endswith(f"/credentials/{found}")
    assert data["holders"] == [{"skill_uri": SQL, "learners": 1}]


def test_the_api_pages_are_bounded(
    client: TestClient, sessions: sessionmaker[Session], world: World, found: str
) -> None:
    token = token_for(sessions, world.employer.id, ["talent:search"])
    headers = {"Authorization": f"Bearer {token}"}
    too_many = client.post(
        "/api/v1/talent/search", json={"skills": [SQL], "per_page": 51}, headers=headers
    )
    assert too_many.status_code == 422
    too_deep = client.post(
        "/api/v1/talent/search", json={"skills": [SQL], "page": 1000, "per_page": 50},
        headers=headers,
    )  # fmt: skip
    assert too_deep.status_code == 422 and too_deep.json()["field"] == "page"
    nothing = client.post("/api/v1/talent/search", json={}, headers=headers)
    assert nothing.status_code == 422


def test_a_posting_shows_its_skills_ticked_and_searches_them(
    client: TestClient, sessions: sessionmaker[Session], world: World, found: str
) -> None:
    csrf = sign_in_client(client, world.employer.email)
    posting = "Analyst wanted: writes SQL daily, works in teams."
    refused = client.post("/talent/posting", data={"posting": posting})
    assert refused.status_code == 403
    page = client.post("/talent/posting", data={"posting": posting, "csrf_token": csrf})
    assert page.status_code == 200, page.text
    ticked = re.findall(r'name="skill" value="([^"]+)" checked', page.text)
    assert set(ticked) == {SQL, TEAMWORK}
    assert "Ana Found" in page.text
    unticked = client.get("/talent", params={"skill": [TEAMWORK]})
    assert "0 learners found" in unticked.text
    token = token_for(sessions, world.employer.id, ["talent:search"])
    answer = client.post(
        "/api/v1/talent/search", json={"posting": posting, "exclude": [SQL]},
        headers={"Authorization": f"Bearer {token}"},
    ).json()  # fmt: skip
    assert {s["uri"] for s in answer["extracted"]} == {SQL, TEAMWORK}
    assert [s["uri"] for s in answer["skills"]] == [TEAMWORK] and answer["total"] == 0


def test_an_unknown_skill_is_explained_on_the_page(
    client: TestClient, world: World, found: str
) -> None:
    sign_in_client(client, world.employer.email)
    page = client.get("/talent", params={"skill": ["http://example.org/no-such-skill"]})
    assert page.status_code == 422 and "No skill" in page.text


def test_the_learner_switches_consent_with_csrf_and_sees_who_found_them(
    client: TestClient, sessions: sessionmaker[Session], world: World, definitions: Catalogue,
    issue: Issue,
) -> None:  # fmt: skip
    issue(definitions.data_python, world.learner.id)
    csrf = sign_in_client(client, world.learner.email)
    page = client.get("/wallet/talent")
    assert "your e-mail address (<strong>learner@example.org</strong>)" in page.text
    assert 'id="searchable" name="searchable" >' in page.text
    assert client.post("/wallet/talent", data={"searchable": "on"}).status_code == 403
    saved = client.post("/wallet/talent", data={"searchable": "on", "csrf_token": csrf})
    assert saved.status_code == 200 and "Employers can now find you" in saved.text
    with sessions() as session:
        assert talent.is_searchable(session, world.learner.id)
        employer = accounts.principal_for(session, session.get(User, world.employer.id))  # type: ignore[arg-type]
        skills = talent.resolve_skills(session, [PYTHON])
        assert talent.search_talent(session, employer, skills).total == 1
        session.commit()
    page = client.get("/wallet/talent")
    assert re.search(r"<td>Acme Ltd</td><td>1</td>", page.text)
    client.post("/wallet/talent", data={"csrf_token": csrf})
    with sessions() as session:
        assert not talent.is_searchable(session, world.learner.id)
    assert client.get("/api/v1/me/talent").json()["searchable"] is False


def test_find_talent_is_in_the_menu_of_employers_only(client: TestClient, world: World) -> None:
    sign_in_client(client, world.employer.email)
    assert 'href="/talent"' in client.get("/wallet").text
    client.cookies.clear()
    sign_in_client(client, world.admin.email)  # an issuer's admin
    assert 'href="/talent"' not in client.get("/wallet").text
    client.cookies.clear()
    sign_in_client(client, world.learner.email)
    wallet = client.get("/wallet").text
    assert 'href="/talent"' not in wallet and 'href="/wallet/talent"' in wallet

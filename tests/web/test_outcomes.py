"""The outcomes pages and API: the learner's report form, the issuer's KPI page, CSV, roles."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import User
from microcred.outcomes.models import EmploymentReport, EmploymentStatus
from tests.conftest import World, sign_in_client
from tests.outcomes.conftest import (
    Cohort,
    academy_definition_id,
    cohort,
    definition_id,
    issue,
    learner_credential,
    skills,
)

__all__ = [
    "academy_definition_id", "cohort", "definition_id", "issue", "learner_credential", "skills",
]  # fmt: skip


def token_for(sessions: sessionmaker[Session], user_id: str, scopes: list[str]) -> str:
    with sessions.begin() as session:
        user = session.get(User, user_id)
        assert user is not None
        principal = accounts.principal_for(session, user)
        return accounts.create_api_token(session, principal, name="t", scopes=scopes)[1]


def report_form(csrf: str, credential: str, **fields: str) -> dict[str, str]:
    data = {"csrf_token": csrf, "credential": credential, "status": "employed_related",
            "status_since": "2025-01-15", "job_title": "Junior data analyst"}  # fmt: skip
    return {**data, **fields}


def test_a_learner_reports_an_outcome_on_their_credential_and_updates_it(
    client: TestClient, sessions: sessionmaker[Session], world: World, learner_credential: str
) -> None:
    csrf = sign_in_client(client, world.learner.email)
    listing = client.get("/wallet/outcomes")
    assert f'href="/wallet/outcomes?credential={learner_credential}"' in listing.text
    form = client.get("/wallet/outcomes", params={"credential": learner_credential})
    assert form.status_code == 200
    assert "only in aggregate, never with your name" in form.text
    assert "too few responses" in form.text
    saved = client.post("/wallet/outcomes", data=report_form(csrf, learner_credential))
    assert saved.status_code == 200 and 'id="saved"' in saved.text
    assert "Update my report" in saved.text and "Junior data analyst" in saved.text
    client.post(
        "/wallet/outcomes", data=report_form(csrf, learner_credential, status="further_study")
    )
    with sessions() as session:
        [row] = session.scalars(select(EmploymentReport)).all()
        assert row.status is EmploymentStatus.further_study and row.user_id == world.learner.id
    withdrawn = client.post(
        "/wallet/outcomes", data=report_form(csrf, learner_credential, action="withdraw")
    )
    assert "withdrawn" in withdrawn.text
    with sessions() as session:
        assert session.scalars(select(EmploymentReport)).all() == []


def test_the_form_refuses_bad_input_a_missing_csrf_token_and_others_credentials(
    client: TestClient, sessions: sessionmaker[Session], world: World, learner_credential: str
) -> None:
    csrf = sign_in_client(client, world.learner.email)
    bad = client.post(
        "/wallet/outcomes", data=report_form(csrf, learner_credential, status_since="2999-01-01")
    )
    assert bad.status_code == 422 and "cannot be in the future" in bad.text
    forged = client.post("/wallet/outcomes", data=report_form("forged", learner_credential))
    assert forged.status_code == 403
    other = TestClient(client.app)
    other_csrf = sign_in_client(other, world.staff.email)
    assert (
        other.get("/wallet/outcomes", params={"credential": learner_credential}).status_code == 404
    )
    stolen = other.post("/wallet/outcomes", data=report_form(other_csrf, learner_credential))
    assert stolen.status_code == 404
    with sessions() as session:
        assert session.scalars(select(EmploymentReport)).all() == []


def test_the_learner_api_creates_refuses_a_second_and_updates(
    client: TestClient, sessions: sessionmaker[Session], world: World, learner_credential: str
) -> None:
    token = token_for(sessions, world.learner.id, ["outcomes:report"])
    headers = {"Authorization": f"Bearer {token}"}
    body = {"credential_id": learner_credential, "status": "self_employed",
            "status_since": "2025-03-01"}  # fmt: skip
    created = client.post("/api/v1/me/outcomes", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["status_label"] == "Self-employed"
    assert client.post("/api/v1/me/outcomes", json=body, headers=headers).status_code == 409
    updated = client.put(
        "/api/v1/me/outcomes", json={**body, "status": "seeking_work"}, headers=headers
    )
    assert updated.status_code == 200 and updated.json()["status"] == "seeking_work"
    [mine] = client.get("/api/v1/me/outcomes", headers=headers).json()
    assert mine["credential_id"] == learner_credential
    bad = client.put("/api/v1/me/outcomes", json={**body, "status": "astronaut"}, headers=headers)
    assert bad.status_code == 422
    other = {"Authorization": f"Bearer {token_for(sessions, world.staff.id, ['outcomes:report'])}"}
    assert client.put("/api/v1/me/outcomes", json=body, headers=other).status_code == 404
    narrow = {
        "Authorization": f"Bearer {token_for(sessions, world.learner.id, ['wallet:present'])}"
    }
    assert client.put("/api/v1/me/outcomes", json=body, headers=narrow).status_code == 403
    gone = client.delete(f"/api/v1/me/outcomes/{learner_credential}", headers=headers)
    assert gone.status_code == 204


def test_issuer_staff_see_their_kpis_as_charts_and_a_table(
    client: TestClient, world: World, definition_id: str, cohort: Cohort
) -> None:
    cohort(definition_id, 5)
    sign_in_client(client, world.staff.email)
    page = client.get("/manage/outcomes")
    assert page.status_code == 200
    assert "Programme outcomes: North College" in page.text
    for chart in ("bar-chart", "line-chart"):
        assert f'<svg class="chart {chart}"' in page.text
    assert "Employment outcomes reported by learners" in page.text
    # the figures beside the charts whose numbers the table does not show, for screen readers
    assert '<caption class="visually-hidden">Completions per month</caption>' in page.text
    assert '<th scope="row">Employed in a role related to this credential</th><td>5' in page.text
    assert 'id="outcome-table"' in page.text and "Data analysis with Python" in page.text
    assert "How these are computed" in page.text
    assert "No job postings are loaded" in page.text
    assert 'id="employment-suppressed"' not in page.text


def test_fewer_than_five_reports_show_as_too_few_responses(
    client: TestClient, world: World, definition_id: str, cohort: Cohort
) -> None:
    cohort(definition_id, 4)
    sign_in_client(client, world.admin.email)
    page = client.get("/manage/outcomes")
    assert 'id="employment-suppressed"' in page.text
    assert "Too few responses" in page.text
    assert "Employment outcomes reported by learners" not in page.text


def test_staff_of_one_issuer_never_see_anothers_kpis(
    client: TestClient,
    sessions: sessionmaker[Session],
    world: World,
    definition_id: str,
    cohort: Cohort,
) -> None:
    cohort(definition_id, 5)
    sign_in_client(client, world.other_staff.email)
    page = client.get("/manage/outcomes", params={"organisation": "north-college"})
    assert page.status_code == 200
    assert "South Academy" in page.text and "Data analysis with Python" not in page.text
    csv = client.get("/manage/outcomes/export.csv", params={"organisation": "north-college"})
    assert "Data analysis with Python" not in csv.text
    assert client.get("/api/v1/organisations/north-college/outcomes").status_code == 403


def test_learners_assessors_employers_and_strangers_are_refused(
    client: TestClient, world: World, definition_id: str
) -> None:
    anonymous = client.get("/manage/outcomes", follow_redirects=False)
    assert anonymous.status_code in (303, 401)
    assert client.get("/api/v1/organisations/north-college/outcomes").status_code == 401
    for user in (world.learner, world.assessor, world.employer):
        other = TestClient(client.app)
        sign_in_client(other, user.email)
        assert other.get("/manage/outcomes").status_code == 403, user.email
        assert other.get("/manage/outcomes/export.csv").status_code == 403
        api = other.get("/api/v1/organisations/north-college/outcomes")
        assert api.status_code == 403, user.email


def test_the_csv_export_holds_the_table(
    client: TestClient, world: World, definition_id: str, cohort: Cohort
) -> None:
    cohort(definition_id, 5)
    sign_in_client(client, world.staff.email)
    response = client.get("/manage/outcomes/export.csv", params={"since": "2020-01-01"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert re.search(r'filename="outcomes-north-college-2020-01-01-\d{4}-\d\d-\d\d\.csv"',
                     response.headers["content-disposition"])  # fmt: skip
    header, programme, total = response.text.splitlines()
    assert header.startswith("definition_id,programme,started,completed,completion_rate")
    assert programme.startswith(f"{definition_id},Data analysis with Python,5,5,1.0,")
    assert total.startswith(",North College,5,5,1.0,")


def test_the_api_needs_the_outcomes_read_scope(
    client: TestClient, sessions: sessionmaker[Session], world: World, definition_id: str,
    cohort: Cohort,
) -> None:  # fmt: skip
    cohort(definition_id, 6)
    url = "/api/v1/organisations/north-college/outcomes"
    narrow = token_for(sessions, world.staff.id, ["credentials:read"])
    assert client.get(url, headers={"Authorization": f"Bearer {narrow}"}).status_code == 403
    token = token_for(sessions, world.staff.id, ["outcomes:read"])
    found = client.get(url, params={"since": "2020-01-01"},
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["since"] == "2020-01-01" and body["overall"]["completed"] == 6
    [programme] = body["programmes"]
    assert programme["employment"]["related_share_at_6_months"] == 1.0
    assert programme["employment"]["breakdown"]["employed_related"] == 6
    assert body["market"]["available"] is False
    bad = client.get(url, params={"since": "never"}, headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 422

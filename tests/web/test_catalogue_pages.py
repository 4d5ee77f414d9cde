"""Catalogue pages through the real app: browse and filters, definition pages, staff forms."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.catalogue import service
from microcred.catalogue.models import CredentialDefinition
from tests.catalogue.factories import PYTHON, SQL, definition_input, skills
from tests.conftest import World, sign_in_client

__all__ = ["skills"]


@pytest.fixture
def published(
    sessions: sessionmaker[Session], world: World, skills: dict[str, str]
) -> dict[str, str]:
    ids = {}
    with sessions.begin() as session:
        for org, overrides in (
            ("north-college", dict(name="Python basics", eqf_level=4, skills=[PYTHON],
                                   human_code="PY", price_amount=0, price_currency=None)),
            ("south-academy", dict(name="SQL on site", eqf_level=5, skills=[SQL], human_code="SQ",
                                   participation_form="on-site", location="Lyon",
                                   duration_weeks=12)),
        ):  # fmt: skip
            d = service.create_definition(
                session, None, org, definition_input(**overrides), publish=True
            )
            ids[d.name] = d.definition_id
        draft = service.create_definition(
            session, None, "north-college", definition_input(name="North draft", human_code="ND")
        )
        ids["North draft"] = draft.definition_id
    return ids


def card_titles(html: str) -> list[str]:
    return re.findall(r'class="definition-card-title"><a href="[^"]+">([^<]+)</a>', html)


def test_home_page_shows_stats_and_featured(client: TestClient, published: dict[str, str]) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "<strong>2</strong> published credentials" in page.text
    assert sorted(card_titles(page.text)) == ["Python basics", "SQL on site"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Python basics", "SQL on site"]),
        ("?q=basics", ["Python basics"]),
        (f"?skill={SQL}", ["SQL on site"]),
        ("?issuer=north-college", ["Python basics"]),
        ("?eqf_level=5", ["SQL on site"]),
        ("?participation_form=on-site", ["SQL on site"]),
        ("?max_price=10", ["Python basics"]),
        ("?max_duration_weeks=8", ["Python basics"]),
        ("?language=fr", []),
    ],
)
def test_browse_filters_return_the_right_cards(
    client: TestClient, published: dict[str, str], query: str, expected: list[str]
) -> None:
    page = client.get(f"/catalogue{query}")
    assert page.status_code == 200
    assert card_titles(page.text) == expected
    assert "North draft" not in page.text


def test_browse_refuses_a_bad_filter_naming_it(
    client: TestClient, published: dict[str, str]
) -> None:
    page = client.get("/catalogue?max_price=-3")
    assert page.status_code == 400 and "max_price" in page.text


def test_definition_pages_show_all_fields_and_old_versions(
    client: TestClient, sessions: sessionmaker[Session], published: dict[str, str],
    skills: dict[str, str],
) -> None:  # fmt: skip
    definition_id = published["Python basics"]
    with sessions.begin() as session:
        service.update_definition(session, None, definition_id, {"name": "Python basics II"})
        service.publish_definition(session, None, definition_id)
    page = client.get(f"/definitions/{definition_id}")
    assert "Python basics II" in page.text
    for text in ("Load and clean CSV data", "Competent", skills[PYTHON], "EQF level",
                 "Internal QA board", "Counts towards the Data Analyst pathway"):  # fmt: skip
        assert text in page.text
    links = re.findall(r'href="/skills/view\?uri=([^"]+)"', page.text)
    assert [unquote(link) for link in links] == [PYTHON]
    old = client.get(f"/definitions/{definition_id}/v/1")
    assert old.status_code == 200 and 'id="version-notice"' in old.text
    assert f'href="/definitions/{definition_id}"' in old.text
    as_json = client.get(
        f"/definitions/{definition_id}/v/1", headers={"Accept": "application/ld+json"}
    )
    assert as_json.json()["type"] == ["Achievement"]
    image = client.get(f"/definitions/{definition_id}/image.svg")
    assert image.headers["content-type"].startswith("image/svg+xml") and "<svg" in image.text


def test_issuer_pages(client: TestClient, published: dict[str, str]) -> None:
    listing = client.get("/issuers")
    assert "North College" in listing.text and "South Academy" in listing.text
    page = client.get("/issuers/north-college")
    assert card_titles(page.text) == ["Python basics"]


def test_drafts_and_manage_pages_are_isolated(
    client: TestClient, published: dict[str, str], world: World
) -> None:
    draft = published["North draft"]
    assert client.get(f"/definitions/{draft}").status_code == 404
    anonymous = client.get("/manage/definitions", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/sign-in")
    sign_in_client(client, world.other_staff.email)
    assert client.get(f"/definitions/{draft}").status_code == 404
    assert client.get(f"/manage/definitions/{draft}/edit").status_code == 404
    published_north = published["Python basics"]
    assert client.get(f"/manage/definitions/{published_north}/edit").status_code == 403
    manage = client.get("/manage/definitions")
    assert "SQL on site" in manage.text and "North draft" not in manage.text


def test_learners_cannot_manage(
    client: TestClient, published: dict[str, str], world: World
) -> None:
    sign_in_client(client, world.learner.email)
    assert client.get("/manage/definitions").status_code == 403


def form_data(csrf: str, **overrides: str) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": csrf, "name": "Spreadsheet modelling",
        "description": "Build models in spreadsheets.", "criteria_narrative": "Pass the project.",
        "learning_outcomes": "Build a model\nTest a model", "workload_hours": "30",
        "eqf_level": "4", "skills": PYTHON, "participation_form": "online", "in_language": "en",
        "achievement_type": "MicroCredential", "price_amount": "0", "human_code": "SHEET-1",
        "assessment_types": ["project"], "stackable": "true", "action": "save",
    }  # fmt: skip
    data.update(overrides)
    return data


def count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count(CredentialDefinition.id))) or 0)


def test_staff_create_and_edit_through_the_forms(
    client: TestClient, sessions: sessionmaker[Session], world: World, skills: dict[str, str]
) -> None:
    csrf = sign_in_client(client, world.staff.email)
    form = client.get("/manage/definitions/new")
    for field in ('id="name"', 'id="description"', 'id="eqf_level"', 'id="workload_hours"',
                  'id="skills"', "Save draft", "Publish"):  # fmt: skip
        assert field in form.text
    bad = client.post("/manage/definitions/new", data=form_data(csrf, eqf_level="9",
                      workload_hours="-1"))  # fmt: skip
    assert bad.status_code == 422
    assert 'id="eqf_level-error"' in bad.text and 'id="workload_hours-error"' in bad.text
    assert 'value="Spreadsheet modelling"' in bad.text  # the input is kept
    assert count(sessions) == 0

    created = client.post("/manage/definitions/new", data=form_data(csrf), follow_redirects=False)
    assert created.status_code == 303
    definition_id = created.headers["location"].rsplit("/", 1)[-1]
    page = client.get(f"/definitions/{definition_id}")
    assert 'id="draft-notice"' in page.text and "Spreadsheet modelling" in page.text

    edit = client.get(f"/manage/definitions/{definition_id}/edit")
    assert "Build a model\nTest a model" in edit.text
    saved = client.post(
        f"/manage/definitions/{definition_id}/edit",
        data=form_data(csrf, name="Spreadsheet modelling 2", action="publish"),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with sessions() as session:
        current = service.get_definition(session, definition_id)
        assert (current.name, current.version, current.status.value) == (
            "Spreadsheet modelling 2", 1, "published",
        )  # fmt: skip
        assert current.assessment_types == ["project"] and current.stackable is True
    retired = client.post(f"/manage/definitions/{definition_id}/retire",
                          data={"csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert retired.status_code == 303
    assert "retired-notice" in client.get(f"/definitions/{definition_id}").text


def test_forms_need_the_csrf_token(
    client: TestClient, sessions: sessionmaker[Session], world: World, skills: dict[str, str]
) -> None:
    sign_in_client(client, world.staff.email)
    response = client.post("/manage/definitions/new", data=form_data("wrong"))
    assert response.status_code == 403
    assert count(sessions) == 0


def test_staff_cannot_post_into_another_organisation(
    client: TestClient, sessions: sessionmaker[Session], published: dict[str, str], world: World
) -> None:
    csrf = sign_in_client(client, world.other_staff.email)
    before = count(sessions)
    response = client.post(
        "/manage/definitions/new", data=form_data(csrf, organisation=world.college.id)
    )
    assert response.status_code == 403
    edit = client.post(
        f"/manage/definitions/{published['Python basics']}/edit", data=form_data(csrf)
    )
    assert edit.status_code == 403
    publish = client.post(
        f"/manage/definitions/{published['North draft']}/publish", data={"csrf_token": csrf}
    )
    assert publish.status_code == 404
    assert count(sessions) == before

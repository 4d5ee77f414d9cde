"""Pathway, wallet and articulation API and pages through the real app."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials.resolvers import verify
from microcred.settings import Settings
from tests.catalogue.factories import PYTHON
from tests.conftest import World, sign_in_client
from tests.pathways.conftest import Catalogue, issue


def cred(definition_id: str) -> dict[str, str]:
    return {"type": "credential", "definition_id": definition_id}


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_api_authoring_refuses_bad_trees_and_reports_progress(
    client: TestClient, world: World, defs: Catalogue, settings: Settings,
    sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    token = sign_in_client(client, "staff@north.example")
    headers = {"X-CSRF-Token": token}
    bad = client.post(
        "/api/v1/pathways",
        headers=headers,
        json={
            "name": "Data",
            "kind": "certificate",
            "organisation": "north-college",
            "requirements": {"type": "n_of", "n": 3, "children": [cred(defs.python)]},
        },
    )
    assert bad.status_code == 400
    assert bad.json()["field"] == "requirements.n"
    created = client.post(
        "/api/v1/pathways",
        headers=headers,
        json={
            "name": "Data",
            "kind": "certificate",
            "organisation": "north-college",
            "publish": True,
            "qualification_definition_id": defs.qualification,
            "requirements": {"type": "all_of", "children": [cred(defs.python), cred(defs.sql)]},
        },
    )
    assert created.status_code == 201, created.text
    pathway_id = created.json()["id"]
    issue(sessions, settings, defs.python)
    client.post("/sign-out", data={"csrf_token": token})
    sign_in_client(client, "learner@example.org")
    progress = client.get(f"/api/v1/pathways/{pathway_id}/progress").json()
    assert progress["percent"] == 50 and not progress["complete"]
    assert [step["name"] for step in progress["route"]] == ["SQL essentials"]
    assert progress["tree"]["children"][0]["satisfied"] is True
    page = client.get(f"/pathways/{pathway_id}")
    assert page.status_code == 200
    assert 'class="pw-node pw-done"' in page.text and "Shortest remaining route" in page.text
    assert 'style="' not in page.text


def test_tree_editor_adds_removes_and_saves_without_javascript(
    client: TestClient, world: World, defs: Catalogue
) -> None:
    sign_in_client(client, "staff@north.example")
    form_page = client.get("/manage/pathways/new")
    csrf = _csrf(form_page.text)
    base = {
        "csrf_token": csrf,
        "name": "Stack",
        "kind": "certificate",
        "revocation_policy": "review",
        "organisation": world.college.id,
        "n:r:type": "all_of",
    }
    added = client.post(
        "/manage/pathways/new", data={**base, "add_kind:r": "credential", "op": "add:r"}
    )
    assert added.status_code == 200 and 'name="n:r.0:definition_id"' in added.text
    empty = client.post(
        "/manage/pathways/new", data={**base, "n:r.0:type": "credential", "op": "save"}
    )
    assert empty.status_code == 422
    assert "definition_id is required" in empty.text and "pw-error" in empty.text
    removed = client.post(
        "/manage/pathways/new", data={**base, "n:r.0:type": "credential", "op": "remove:r.0"}
    )
    assert 'name="n:r.0:definition_id"' not in removed.text
    saved = client.post(
        "/manage/pathways/new",
        follow_redirects=False,
        data={
            **base,
            "n:r.0:type": "credential",
            "n:r.0:definition_id": defs.python,
            "n:r.1:type": "skill",
            "n:r.1:skill_uri": PYTHON,
            "n:r.1:count": "1",
            "op": "publish",
        },
    )
    assert saved.status_code == 303, saved.text
    shown = client.get(saved.headers["location"])
    assert "Python basics" in shown.text and "published" in shown.text


def test_wallet_page_imports_and_refuses(
    client: TestClient, world: World, defs: Catalogue, settings: Settings,
    sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    with sessions.begin() as session:
        from microcred.credentials import service as credentials

        row = credentials.issue_credential(
            session,
            None,
            definition_id=defs.sql,
            recipient_email="learner@example.org",
            settings=settings,
        )
        document = row.document
    sign_in_client(client, "learner@example.org")
    empty = client.get("/wallet").text
    assert "Nothing imported yet." in empty and 'id="wallet-items"' not in empty
    csrf = _csrf(empty)
    tampered = json.loads(json.dumps(document))
    tampered["name"] = "Something else"
    refused = client.post("/wallet/import", data={"csrf_token": csrf, "text": json.dumps(tampered)})
    assert refused.status_code == 422 and "does not verify" in refused.text
    uploaded = client.post(
        "/wallet/import",
        data={"csrf_token": csrf},
        files={"file": ("badge.json", json.dumps(document).encode())},
    )
    assert uploaded.status_code == 200 and "Imported and verified" in uploaded.text
    assert "SQL essentials" in uploaded.text and 'id="wallet-items"' in uploaded.text
    listed = client.get("/api/v1/wallet/credentials").json()
    assert listed[0]["verified"] and listed[0]["definition_id"] == defs.sql


def test_registrar_pages_refuse_conflicts_and_export_a_transcript(
    client: TestClient, world: World, defs: Catalogue, settings: Settings,
    sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    issue(sessions, settings, defs.sql)
    sign_in_client(client, "staff@north.example")
    csrf = _csrf(client.get("/manage/articulation").text)
    created = client.post(
        "/manage/articulation",
        follow_redirects=False,
        data={
            "csrf_token": csrf,
            "organisation": world.college.id,
            "programme": "BSc Computing",
            "name": "2026 intake",
        },
    )
    assert created.status_code == 303
    url = created.headers["location"]
    rule = {
        "csrf_token": csrf,
        "match_kind": "issuer",
        "match_value": "south-academy",
        "course_code": "DB-1",
        "course_name": "Databases",
        "credits": "5",
    }
    assert client.post(f"{url}/rules", data=rule, follow_redirects=False).status_code == 303
    conflict = client.post(
        f"{url}/rules",
        data={**rule, "credits": "4", "match_value": defs.sql, "match_kind": "definition"},
    )
    assert conflict.status_code == 409
    assert re.search(
        r'id="course_code-error">Conflicts with rule 1: course DB-1 is already', conflict.text
    )
    assert 'id="rule-credits" name="credits" inputmode="decimal" value="4"' in conflict.text
    evaluated = client.get(url, params={"learner": "learner@example.org"})
    assert (
        '<strong id="total-credits">5 credits</strong> awarded for 1 of 1 credential'
        in evaluated.text
    )
    assert "any credential of issuer &#39;South Academy&#39;" in evaluated.text  # the rule, by name
    assert "Credited for DB-1 Databases" in evaluated.text
    transcript = client.get(f"{url}/transcript", params={"learner": "learner@example.org"})
    assert transcript.status_code == 200
    with sessions() as session:
        assert verify(session, transcript.json(), settings, allow_remote=False).valid


def _options(page: str, select_id: str) -> list[str]:
    """The option values of one ``<select>`` of a page."""
    picker = page[page.index(f'<select id="{select_id}"') :]
    return re.findall(r'<option value="([^"]*)"', picker[: picker.index("</select>")])


def test_credit_recommendations_pick_from_the_organisations_own_definitions(
    client: TestClient, world: World, defs: Catalogue
) -> None:
    sign_in_client(client, "staff@north.example")
    page = client.get("/manage/articulation").text
    assert "No credit recommendation is recorded yet" in page
    assert "No articulation agreement yet. Create one below" in page
    assert set(_options(page, "definition_id")) == {"", defs.python, defs.qualification}
    recommendation = {
        "csrf_token": _csrf(page),
        "organisation": world.college.id,
        "definition_id": defs.python,
        "recommending_body": "Credit council",
        "credits": "3",
        "unit": "credit_hours",
        "level": "undergraduate",
        "discipline": "Computing",
        "valid_from": "2026-01-01",
    }

    saved = client.post(
        "/manage/credit-recommendations", data=recommendation, follow_redirects=False
    )

    assert saved.status_code == 303
    listed = client.get("/manage/articulation").text
    assert f'<a href="/definitions/{defs.python}">Python basics (PY-1)</a>' in listed
    assert "No credit recommendation is recorded yet" not in listed


def test_a_recommendation_for_another_organisations_definition_is_refused_on_the_form(
    client: TestClient, world: World, defs: Catalogue
) -> None:
    token = sign_in_client(client, "staff@north.example")
    page = client.get("/manage/articulation").text
    posted = {
        "csrf_token": _csrf(page),
        "organisation": world.college.id,
        "definition_id": defs.sql,  # South Academy's, not in the list: posted by hand
        "recommending_body": "Credit council",
        "credits": "3",
        "unit": "credit_hours",
        "level": "undergraduate",
        "discipline": "Computing",
        "valid_from": "2026-01-01",
    }

    refused = client.post("/manage/credit-recommendations", data=posted)

    assert refused.status_code == 422
    assert re.search(
        r'id="definition_id-error">&#39;SQL essentials&#39; is South Academy&#39;s '
        r"micro-credential: North College records credit recommendations for its own",
        refused.text,
    )
    assert '<a href="#definition_id">Micro-credential</a>' in refused.text  # the summary
    assert 'id="recommending_body" name="recommending_body" value="Credit council"' in refused.text
    assert '<option value="credit_hours" selected>' in refused.text
    assert "No credit recommendation is recorded yet" in refused.text  # nothing saved
    by_api = client.post(
        "/api/v1/credit-recommendations",
        headers={"X-CSRF-Token": token},
        json={**{k: v for k, v in posted.items() if k != "csrf_token"}, "credits": 3},
    )
    assert by_api.status_code == 422 and by_api.json()["field"] == "definition_id"
    empty = client.post("/manage/credit-recommendations", data={**posted, "definition_id": ""})
    assert empty.status_code == 422
    assert 'id="definition_id-error">Choose the micro-credential.' in empty.text


def test_the_agreement_form_keeps_its_input_and_names_the_field_in_error(
    client: TestClient, world: World
) -> None:
    sign_in_client(client, "staff@north.example")
    csrf = _csrf(client.get("/manage/articulation").text)

    refused = client.post(
        "/manage/articulation",
        data={"csrf_token": csrf, "organisation": world.college.id, "programme": " ",
              "name": "2026 intake", "max_credits": "twelve"},
    )  # fmt: skip

    assert refused.status_code == 422
    assert 'id="max_credits-error">max_credits must be a number.' in refused.text
    assert 'id="agreement-name" name="name" value="2026 intake"' in refused.text
    assert 'aria-describedby="max_credits-error"' in refused.text
    assert refused.text.count('class="field-error"') == 1
    assert "North College publishes no micro-credential, so there is nothing" in refused.text


def test_platform_admin_authors_for_any_organisation_and_others_are_refused_cleanly(
    client: TestClient, world: World, defs: Catalogue, platform_admin: str
) -> None:
    # a learner posting the editor by hand: refused (403), not a server error
    csrf = sign_in_client(client, "learner@example.org")
    refused = client.post(
        "/manage/pathways/new", data={"csrf_token": csrf, "name": "X", "op": "save"}
    )
    assert refused.status_code == 403
    client.post("/sign-out", data={"csrf_token": csrf})
    sign_in_client(client, platform_admin)
    assert 'href="/manage/pathways/new"' in client.get("/pathways").text
    for page in ("/manage/pathways/new", "/manage/pathways/reviews", "/manage/articulation"):
        assert client.get(page).status_code == 200, page
    editor = client.get("/manage/pathways/new").text
    assert "North College" in editor and "South Academy" in editor and "Acme" not in editor
    saved = client.post(
        "/manage/pathways/new",
        follow_redirects=False,
        data={
            "csrf_token": _csrf(editor), "name": "Stack", "kind": "certificate",
            "revocation_policy": "review", "organisation": world.academy.id,
            "n:r:type": "all_of", "n:r.0:type": "skill", "n:r.0:skill_uri": PYTHON,
            "n:r.0:count": "1", "op": "save",
        },
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    # the draft's own page opens for whoever authors it (it said "No pathway" before)
    assert "offered by South Academy" in client.get(saved.headers["location"]).text
    pathway_id = saved.headers["location"].rsplit("/", 1)[-1]
    assert client.get(f"/manage/pathways/{pathway_id}/edit").status_code == 200


def test_a_draft_pathway_opens_for_its_authors_only(
    client: TestClient, world: World, defs: Catalogue
) -> None:
    csrf = sign_in_client(client, "staff@north.example")
    created = client.post(
        "/api/v1/pathways",
        headers={"X-CSRF-Token": csrf},
        json={"name": "Draft stack", "kind": "certificate", "organisation": "north-college",
              "requirements": {"type": "all_of", "children": [cred(defs.python)]}},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    pathway_id = created.json()["id"]
    page = client.get(f"/pathways/{pathway_id}")
    assert page.status_code == 200 and "Draft stack" in page.text
    assert client.get(f"/api/v1/pathways/{pathway_id}/progress").status_code == 200
    client.post("/sign-out", data={"csrf_token": csrf})
    sign_in_client(client, "learner@example.org")
    assert client.get(f"/pathways/{pathway_id}").status_code == 404
    assert client.get(f"/api/v1/pathways/{pathway_id}/progress").status_code == 404

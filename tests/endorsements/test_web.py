"""The endorsement pages (endorse, answer, withdraw) and the public pages that show them."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.catalogue import service as catalogue
from microcred.credentials import service as credentials
from microcred.endorsements import service as endorsements
from microcred.endorsements.models import Endorsement, EndorsementState
from microcred.settings import Settings
from tests.conftest import World, sign_in_client
from tests.credentials.service.conftest import issue_input
from tests.endorsements.conftest import ENDORSER_EMAIL, endorse_definition, principal

COMMENT = "Meets the **industry** standard. <script>alert(1)</script>"


def _endorsement(sessions: sessionmaker[Session]) -> Endorsement:
    with sessions() as session:
        return session.scalars(select(Endorsement).order_by(Endorsement.created_at.desc())).first()  # type: ignore[return-value]


def _endorse(client: TestClient, csrf: str, definition_id: str, **form: str) -> object:
    data = {"endorser": "south-academy", "definition": definition_id, "comment": COMMENT}
    return client.post("/manage/endorsements/new", data={**data, **form, "csrf_token": csrf})


def test_an_admin_endorses_a_definition_the_college_accepts_and_new_badges_show_it(
    client: TestClient, sessions: sessionmaker[Session], world: World, settings: Settings,
    endorser_admin: str, definition_id: str,
) -> None:  # fmt: skip
    csrf = sign_in_client(client, ENDORSER_EMAIL)
    page = client.get(f"/definitions/{definition_id}")
    assert 'id="endorse"' in page.text
    form = client.get(f"/manage/endorsements/new?definition={definition_id}")
    assert form.status_code == 200 and "Endorse Data analysis with Python" in form.text
    wrong = _endorse(client, "wrong", definition_id)
    assert wrong.status_code == 403, wrong.text[:3000]
    empty = _endorse(client, csrf, definition_id, comment=" ")
    assert empty.status_code == 422 and "comment" in empty.text and 'id="form-errors"' in empty.text
    bad_date = _endorse(client, csrf, definition_id, valid_until="31/12/2030")
    assert bad_date.status_code == 422 and "is not a date" in bad_date.text
    created = _endorse(client, csrf, definition_id, valid_until="2099-12-31")
    assert created.status_code == 200 and 'id="notice"' in created.text
    endorsement = _endorsement(sessions)
    assert endorsement.state is EndorsementState.pending
    assert endorsement.document["validUntil"] == "2099-12-31T23:59:59Z"
    assert client.get(f"/endorsements/{endorsement.id}").status_code == 404  # not accepted yet
    assert "Endorsed by" not in client.get(f"/definitions/{definition_id}").text

    pending = client.get(f"/api/v1/definitions/{definition_id}/achievement").json()
    assert "endorsement" not in pending
    csrf = sign_in_client(client, world.admin.email)
    listing = client.get("/manage/endorsements")
    assert f'id="endorsement-{endorsement.id}"' in listing.text
    assert "<strong>industry</strong>" in listing.text and "<script>alert" not in listing.text
    action = {"organisation": "north-college", "csrf_token": csrf, "action": "accept"}
    accepted = client.post(f"/manage/endorsements/{endorsement.id}", data=action)
    assert accepted.status_code == 200 and "Accepted" in accepted.text
    again = client.post(f"/manage/endorsements/{endorsement.id}", data=action)
    assert again.status_code == 200 and "cannot be accepted" in again.text

    public = client.get(f"/endorsements/{endorsement.id}")
    assert public.status_code == 200 and public.json() == _endorsement(sessions).document
    achievement = client.get(f"/api/v1/definitions/{definition_id}/versions/1/achievement")
    assert achievement.json()["endorsement"] == [public.json()]
    assert public.headers["content-type"].startswith("application/ld+json")
    with sessions.begin() as session:
        badge = credentials.issue_credential(
            session, None, **issue_input(definition_id), settings=settings
        )
    client.get("/sign-out")
    anonymous = TestClient(client.app)
    definition_page = anonymous.get(f"/definitions/{definition_id}").text
    assert "Endorsed by" in definition_page and "South Academy" in definition_page
    assert f'href="/endorsements/{endorsement.id}"' in definition_page
    assert "<strong>industry</strong>" in definition_page and "<script>alert" not in definition_page
    assert 'id="endorse"' not in definition_page
    credential_page = anonymous.get(f"/credentials/{badge.id}").text
    assert 'id="carried-endorsements"' in credential_page
    assert "<strong>industry</strong>" in credential_page
    assert re.search(r"endorsements.*1 endorsement verified", credential_page, re.S)


def test_the_endorser_withdraws_and_the_issuer_page_lists_only_live_ones(
    client: TestClient, sessions: sessionmaker[Session], world: World, endorser_admin: str,
    definition_id: str,
) -> None:  # fmt: skip
    csrf = sign_in_client(client, ENDORSER_EMAIL)
    issuer_page = client.get("/issuers/north-college")
    assert 'id="endorse"' in issuer_page.text
    assert 'id="endorse"' not in client.get("/issuers/south-academy").text  # not itself
    form = {"endorser": "south-academy", "issuer": "north-college", "comment": "In good standing"}
    assert (
        client.post("/manage/endorsements/new", data={**form, "csrf_token": csrf}).status_code
        == 200
    )
    endorsement = _endorsement(sessions)

    admin_csrf = sign_in_client(client, world.admin.email)
    decide = {"organisation": "north-college", "csrf_token": admin_csrf, "action": "accept"}
    forged = client.post(
        f"/manage/endorsements/{endorsement.id}", data={**decide, "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    client.post(f"/manage/endorsements/{endorsement.id}", data=decide)
    assert "In good standing" in client.get("/issuers/north-college").text

    csrf = sign_in_client(client, ENDORSER_EMAIL)
    withdraw = {"organisation": "south-academy", "csrf_token": csrf, "action": "withdraw"}
    no_reason = client.post(f"/manage/endorsements/{endorsement.id}", data=withdraw)
    assert no_reason.status_code == 200 and "Give a reason" in no_reason.text
    done = client.post(
        f"/manage/endorsements/{endorsement.id}", data={**withdraw, "reason": "Lapsed membership"}
    )
    assert done.status_code == 200 and "Withdrawn" in done.text and "Lapsed membership" in done.text
    assert "In good standing" not in client.get("/issuers/north-college").text
    assert client.get(f"/endorsements/{endorsement.id}").status_code == 200  # still readable


def test_who_may_open_the_endorsement_pages(
    client: TestClient, world: World, endorser_admin: str, definition_id: str
) -> None:
    anonymous = client.get("/manage/endorsements", follow_redirects=False)
    assert anonymous.status_code in (303, 401)
    for email in (world.staff.email, world.learner.email, world.employer.email):
        sign_in_client(client, email)
        assert client.get("/manage/endorsements").status_code == 403
        assert 'id="endorse"' not in client.get(f"/definitions/{definition_id}").text
        refused = client.get(f"/manage/endorsements/new?definition={definition_id}")
        assert refused.status_code == 403
    sign_in_client(client, world.admin.email)  # North College's admin, on its own definition
    own = client.get(f"/manage/endorsements/new?definition={definition_id}")
    assert own.status_code == 200 and "You administer no other organisation" in own.text
    assert client.get("/manage/endorsements/new?definition=nope").status_code == 404
    assert "Call us" not in client.get("/manage/endorsements?error=Call+us").text  # no injection


def test_an_endorsement_of_a_superseded_version_says_so_and_new_badges_leave_it_out(
    client: TestClient, sessions: sessionmaker[Session], world: World, settings: Settings,
    endorser_admin: str, definition_id: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        endorsement = endorse_definition(
            session, settings, principal(session, endorser_admin), definition_id
        )
        endorsements.decide(session, None, endorsement.id, accept=True)
        catalogue.update_definition(session, None, definition_id, {"description": "Revised."})
        catalogue.publish_definition(session, None, definition_id)
        badge = credentials.issue_credential(
            session, None, **issue_input(definition_id), settings=settings
        )
        assert "endorsement" not in badge.document["credentialSubject"]["achievement"]
    sign_in_client(client, ENDORSER_EMAIL)
    given = client.get("/manage/endorsements").text
    assert "Version 2 is issued now" in given
    assert f'href="/manage/endorsements/new?definition={definition_id}">Endorse version 2' in given
    sign_in_client(client, world.admin.email)
    received = client.get("/manage/endorsements").text
    assert "Version 2 is issued now" in received and "Endorse version 2" not in received
    public = client.get(f"/definitions/{definition_id}").text
    assert "Endorsed by" in public and "version 1" in public

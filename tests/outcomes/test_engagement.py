"""Engagement counts: what counts as a view, a verification, a PDF and a LinkedIn share, who
sees the counts, and the issuer's summary."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials.models import IssuedCredential
from microcred.credentials.service import issue_credential
from microcred.outcomes import engagement
from microcred.settings import Settings
from tests.catalogue.factories import skills
from tests.conftest import World, sign_in_client
from tests.credentials.service.conftest import definition_id

__all__ = ["definition_id", "skills"]
BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"}


@pytest.fixture
def issued(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> str:
    with sessions.begin() as session:
        return issue_credential(
            session, None, definition_id=definition_id, recipient_user_id=world.learner.id,
            results=[{"level": "Competent"}], settings=settings,
        ).id  # fmt: skip


def counts(sessions: sessionmaker[Session], credential_id: str) -> dict[str, int]:
    with sessions() as session:
        return engagement.counts_of(session, credential_id)


@pytest.mark.both_databases
def test_increments_add_up_per_day_and_kind(
    db_backend: str, sessions: sessionmaker[Session], issued: str, world: World
) -> None:
    today = date(2026, 11, 24)
    with sessions.begin() as session:
        credential = session.get(IssuedCredential, issued)
        assert credential is not None
        for day, kind in [(today, "view"), (today, "view"), (today - timedelta(days=40), "view"),
                          (today, "verify")]:  # fmt: skip
            assert engagement.record(session, credential, kind, today=day)
        with pytest.raises(ValueError):
            engagement.record(session, credential, "like")
    assert counts(sessions, issued) == {"view": 3, "verify": 1, "pdf": 0, "linkedin": 0}
    with sessions() as session:
        seen = engagement.organisation_engagement(
            session, world.college.id, today - timedelta(days=10), today
        )
    assert seen.totals["view"] == 2 and seen.totals["verify"] == 1
    assert seen.monthly == [("2026-11", {"view": 2, "verify": 1, "pdf": 0, "linkedin": 0})]


def test_views_by_others_count_and_the_holder_staff_and_crawlers_do_not(
    app: object, sessions: sessionmaker[Session], issued: str, settings: Settings
) -> None:
    page = f"/credentials/{issued}"
    stranger = TestClient(app)  # type: ignore[arg-type]
    assert stranger.get(page, headers=BROWSER).status_code == 200
    stranger.get(page, headers={"user-agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"})
    stranger.get(page, headers={"user-agent": "LinkedInBot/1.0 (compatible; Mozilla/5.0)"})
    holder = TestClient(app)  # type: ignore[arg-type]
    csrf = sign_in_client(holder, "learner@example.org")
    holder_page = holder.get(page, headers=BROWSER).text
    staff = TestClient(app)  # type: ignore[arg-type]
    sign_in_client(staff, "staff@north.example")
    staff.get(page, headers=BROWSER)
    assert counts(sessions, issued)["view"] == 1

    # the holder sees the counts (as of their page load), strangers do not
    assert 'id="engagement-view">1<' in holder_page
    assert 'id="engagement"' not in stranger.get(page, headers=BROWSER).text

    stranger.get(f"{page}/certificate.pdf", headers=BROWSER)
    document = stranger.get(f"{page}/credential.json").json()
    form = stranger.get("/verify").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    stranger.post(
        "/verify", data={"credential": json.dumps(document), "csrf_token": token.group(1)}
    )
    stranger.post("/api/v1/verify", content=json.dumps(document))
    stranger.post("/api/v1/verify", content=json.dumps({**document, "id": "urn:uuid:elsewhere"}))

    ping = f"{page}/engagement/linkedin"
    assert stranger.post(ping).status_code == 204  # not the holder: nothing counted
    assert holder.post(ping, headers={"x-csrf-token": csrf}).status_code == 204
    assert counts(sessions, issued) == {"view": 2, "verify": 2, "pdf": 1, "linkedin": 1}


def test_the_issuer_sees_engagement_with_its_credentials_on_the_outcomes_page(
    app: object, sessions: sessionmaker[Session], issued: str
) -> None:
    stranger = TestClient(app)  # type: ignore[arg-type]
    stranger.get(f"/credentials/{issued}", headers=BROWSER)
    stranger.get(f"/credentials/{issued}/certificate.pdf", headers=BROWSER)
    staff = TestClient(app)  # type: ignore[arg-type]
    sign_in_client(staff, "staff@north.example")
    page = staff.get("/manage/outcomes").text
    assert 'id="engagement-view">1<' in page and 'id="engagement-pdf">1<' in page
    assert 'id="engagement-viewed-share">100%<' in page
    assert "Engagement with your credentials" in page and "<svg" in page
    other = TestClient(app)  # type: ignore[arg-type]
    sign_in_client(other, "staff@south.example")
    assert 'id="engagement-view">0<' in other.get("/manage/outcomes").text

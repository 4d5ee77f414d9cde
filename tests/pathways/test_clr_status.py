"""A stacked award's CLR carries its own status entry: a verifier holding only the CLR sees the
award revoked, whichever way it was revoked; revoking the CLR (the award) revokes the
qualification credential; staff re-award from the award page and the command line."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.accounts.models import AuditEvent
from microcred.cli.main import app
from microcred.credentials import service as credentials
from microcred.credentials.models import CredentialState
from microcred.credentials.resolvers import verify
from microcred.credentials.schemas import validate_schema
from microcred.credentials.verify import VerificationReport
from microcred.errors import PermissionDenied
from microcred.pathways import service
from microcred.pathways.errors import PathwayError
from microcred.pathways.models import AwardState, PathwayAward
from microcred.settings import Settings
from tests.conftest import World, sign_in_client
from tests.pathways.conftest import Catalogue, issue, principal_of
from tests.pathways.test_service import make_pathway
from tests.pathways.test_status_changes import (
    award_state,
    awarded,
    both,
    credential_state,
    reinstate,
    revoke,
    stacked,
)
from tests.web.test_catalogue_api import token


def clr_report(sessions: sessionmaker[Session], settings: Settings, award_id: str) -> Any:
    with sessions() as session:
        document = service.get_award(session, None, award_id).clr
        return verify(session, document, settings, allow_remote=False)


def awarded_with(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings,
    policy: str = "review",
) -> PathwayAward:  # fmt: skip
    with sessions.begin() as session:
        make_pathway(session, defs, both(defs), revocation_policy=policy)
    issue(sessions, settings, defs.python)
    issue(sessions, settings, defs.sql)
    return awarded(sessions, world, settings)


def status_reason(report: VerificationReport) -> str:
    return " ".join(check.reason for check in report.check("status"))


@pytest.mark.both_databases
def test_an_awarded_clr_carries_a_status_entry_and_verifies_on_every_check(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award = awarded_with(sessions, world, defs, settings)

    report = clr_report(sessions, settings, award.id)

    assert report.valid, report.checks
    assert report.check("status") and all(c.status == "pass" for c in report.check("status"))
    assert "cannot be revoked" not in status_reason(report)
    assert [c for c in report.checks if c.reason.startswith("issued:")], report.checks
    entry = award.clr["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    assert entry["statusListIndex"] == str(award.clr_status_index)
    assert entry["statusListCredential"].endswith(f"/status/{award.clr_status_list_id}")
    assert validate_schema(award.clr).valid


def revoke_component(
    sessions: sessionmaker[Session], settings: Settings, world: World, award: PathwayAward
) -> None:
    python_key = next(key for key in award.components if key.startswith("issued:"))
    revoke(sessions, settings, python_key.removeprefix("issued:"), "revocation")


def revoke_qualification(
    sessions: sessionmaker[Session], settings: Settings, world: World, award: PathwayAward
) -> None:
    revoke(sessions, settings, award.credential_id or "", "revocation")


def decide_review(
    sessions: sessionmaker[Session], settings: Settings, world: World, award: PathwayAward
) -> None:
    revoke_component(sessions, settings, world, award)
    assert award_state(sessions, award.id)[0] is AwardState.review
    with sessions.begin() as session:
        staff = principal_of(session, world.staff)
        service.resolve_review(session, staff, award.id, keep=False, settings=settings)


def revoke_the_award(
    sessions: sessionmaker[Session], settings: Settings, world: World, award: PathwayAward
) -> None:
    with sessions.begin() as session:
        staff = principal_of(session, world.staff)
        service.revoke_award(session, staff, award.id, reason="Fraud", settings=settings)


@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("policy", "route"),
    [
        ("revoke", revoke_component),
        ("keep", revoke_qualification),
        ("review", decide_review),
        ("keep", revoke_the_award),
    ],
    ids=["component-under-revoke-policy", "qualification", "review-decision", "award-itself"],
)
def test_the_clr_is_revoked_with_its_award_by_every_route(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings,
    policy: str, route: Callable[..., None],
) -> None:  # fmt: skip
    award = awarded_with(sessions, world, defs, settings, policy)
    assert clr_report(sessions, settings, award.id).valid

    route(sessions, settings, world, award)

    assert award_state(sessions, award.id)[0] is AwardState.revoked
    report = clr_report(sessions, settings, award.id)
    assert report.failed("status") and not report.valid
    assert [c for c in report.checks if c.reason.startswith("revoked:")], report.checks
    assert credential_state(sessions, award.credential_id or "") is CredentialState.revoked


@pytest.mark.both_databases
def test_revoking_the_clr_revokes_the_award_and_its_qualification_for_good(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award = awarded_with(sessions, world, defs, settings, "keep")
    with sessions.begin() as session, pytest.raises(PathwayError, match="reason"):
        service.revoke_award(session, None, award.id, reason=" ", settings=settings)
    with sessions.begin() as session, pytest.raises(PermissionDenied):
        other = principal_of(session, world.other_staff)
        service.revoke_award(session, other, award.id, reason="Fraud", settings=settings)
    assert clr_report(sessions, settings, award.id).valid

    revoke_the_award(sessions, settings, world, award)

    assert award_state(sessions, award.id) == (AwardState.revoked, f"{service.AWARD_REVOKED}Fraud")
    with sessions() as session:
        row = service.get_award(session, None, award.id)
        assert row.final
        qualification = credentials.get_credential(session, award.credential_id or "")
        assert qualification.state is CredentialState.revoked
        assert verify(session, qualification.document, settings, allow_remote=False).failed(
            "status"
        )
        actions = session.scalars(
            AuditEvent.__table__.select()
            .with_only_columns(AuditEvent.action)
            .where(AuditEvent.object_id == award.id)
        ).all()
        assert "pathways.award.revoked" in actions
    with sessions.begin() as session, pytest.raises(PathwayError, match="already revoked"):
        service.revoke_award(session, None, award.id, reason="Again", settings=settings)


@pytest.mark.both_databases
def test_a_suspendable_clr_is_suspended_and_reinstated_with_its_qualification(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award = stacked(sessions, world, defs, settings, suspendable=True).award
    assert award.clr["credentialStatus"]["statusPurpose"] == "suspension"
    qualification_id = award.credential_id or ""

    revoke(sessions, settings, qualification_id, "suspension")
    assert award_state(sessions, award.id)[0] is AwardState.suspended
    assert clr_report(sessions, settings, award.id).failed("status")

    reinstate(sessions, settings, qualification_id)
    assert award_state(sessions, award.id) == (AwardState.active, None)
    assert clr_report(sessions, settings, award.id).valid

    revoke(sessions, settings, qualification_id, "revocation")
    assert clr_report(sessions, settings, award.id).failed("status")


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no form"
    return found.group(1)


def test_staff_reaward_from_the_award_page(
    client: TestClient, sessions: sessionmaker[Session], world: World, defs: Catalogue,
    settings: Settings,
) -> None:  # fmt: skip
    award = awarded_with(sessions, world, defs, settings, "keep")
    revoke_qualification(sessions, settings, world, award)
    url = f"/manage/pathways/awards/{award.id}/reaward"

    sign_in_client(client, world.learner.email)
    learner_page = client.get(f"/pathways/awards/{award.id}").text
    assert url not in learner_page
    refused = client.post(url, data={"csrf_token": _csrf(learner_page)}, follow_redirects=False)
    assert refused.status_code == 403
    client.cookies.clear()

    token = sign_in_client(client, world.other_staff.email)
    refused = client.post(url, data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 403
    client.cookies.clear()

    sign_in_client(client, world.staff.email)
    page = client.get(f"/pathways/awards/{award.id}").text
    assert url in page
    assert client.post(url, data={"csrf_token": "forged"}, follow_redirects=False).status_code in (
        400,
        403,
    )
    with sessions() as session:
        assert service.get_award(session, None, award.id).final

    done = client.post(url, data={"csrf_token": _csrf(page)}, follow_redirects=False)

    assert done.status_code == 303
    new_id = done.headers["location"].rsplit("/", 1)[1]
    assert new_id != award.id
    with sessions() as session:
        again = service.get_award(session, None, new_id)
        assert again.state is AwardState.active
        assert verify(session, again.clr, settings, allow_remote=False).valid
        assert not service.get_award(session, None, award.id).final
        audited = session.scalars(
            AuditEvent.__table__.select()
            .with_only_columns(AuditEvent.action)
            .where(AuditEvent.object_id == award.id)
        ).all()
        assert "pathways.award.reopened" in audited


def test_staff_revoke_an_award_from_its_page(
    client: TestClient, sessions: sessionmaker[Session], world: World, defs: Catalogue,
    settings: Settings,
) -> None:  # fmt: skip
    award = awarded_with(sessions, world, defs, settings, "keep")
    sign_in_client(client, world.staff.email)
    page = client.get(f"/pathways/awards/{award.id}").text

    done = client.post(
        f"/manage/pathways/awards/{award.id}/revoke",
        data={"csrf_token": _csrf(page), "reason": "Fraud"},
        follow_redirects=False,
    )

    assert done.status_code == 303
    assert award_state(sessions, award.id)[0] is AwardState.revoked
    assert clr_report(sessions, settings, award.id).failed("status")


def test_revoke_and_reaward_from_the_command_line(
    runner: CliRunner, sessions: sessionmaker[Session], world: World, defs: Catalogue,
    settings: Settings,
) -> None:  # fmt: skip
    award = awarded_with(sessions, world, defs, settings, "keep")
    early = runner.invoke(app, ["pathways", "reaward", award.id])
    assert early.exit_code == 2 and "re-awarded" in early.output

    revoked = runner.invoke(app, ["pathways", "revoke-award", award.id, "--reason", "Fraud"])
    assert revoked.exit_code == 0, revoked.output
    assert f"{award.id} is now revoked" in revoked.output
    assert clr_report(sessions, settings, award.id).failed("status")

    again = runner.invoke(app, ["pathways", "reaward", award.id])

    assert again.exit_code == 0, again.output
    new_id = re.search(r"Awarded again: ([0-9a-f]{32})", again.output)
    assert new_id and new_id.group(1) != award.id
    assert clr_report(sessions, settings, new_id.group(1)).valid


def test_revoke_and_reaward_through_the_json_api(
    client: TestClient, sessions: sessionmaker[Session], world: World, defs: Catalogue,
    settings: Settings,
) -> None:  # fmt: skip
    award = awarded_with(sessions, world, defs, settings, "keep")
    base = f"/api/v1/pathways/awards/{award.id}"
    learner = token(sessions, world.learner, "credentials:read")
    staff = token(sessions, world.staff, "catalogue:write")
    other = token(sessions, world.other_staff, "catalogue:write")

    seen = client.get(base, headers=learner).json()
    assert (seen["state"], seen["final"]) == ("active", False)
    assert client.get(base, headers=other).status_code == 403
    for headers in (learner, other):
        refused = client.post(f"{base}/revoke", json={"reason": "Fraud"}, headers=headers)
        assert refused.status_code == 403
    assert client.post(f"{base}/revoke", json={"reason": ""}, headers=staff).status_code == 422
    assert award_state(sessions, award.id)[0] is AwardState.active

    revoked = client.post(f"{base}/revoke", json={"reason": "Fraud"}, headers=staff)

    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["state"], revoked.json()["final"]) == ("revoked", True)
    assert clr_report(sessions, settings, award.id).failed("status")
    again = client.post(f"{base}/revoke", json={"reason": "Fraud"}, headers=staff)
    assert again.status_code == 400 and again.json()["field"] == "state"
    assert client.post(f"{base}/reaward", headers=other).status_code == 403

    reopened = client.post(f"{base}/reaward", headers=staff)

    assert reopened.status_code == 200, reopened.text
    body = reopened.json()
    assert body["reopened"]["id"] == award.id and not body["reopened"]["final"]
    # The qualification credential was revoked with the award, so it no longer counts: the
    # learner's components still meet the pathway and it is awarded again at once.
    assert body["awarded"]["state"] == "active" and body["awarded"]["id"] != award.id
    assert (
        client.get(f"/api/v1/pathways/awards/{body['awarded']['id']}", headers=learner).json()[
            "state"
        ]
        == "active"
    )


def test_the_reviews_page_lists_awards_revoked_for_good_with_their_learner(
    client: TestClient, sessions: sessionmaker[Session], world: World, defs: Catalogue,
    settings: Settings,
) -> None:  # fmt: skip
    award = awarded_with(sessions, world, defs, settings, "keep")
    sign_in_client(client, world.staff.email)
    before = client.get("/manage/pathways/reviews").text
    assert 'id="nothing-revoked"' in before and award.id not in before
    page = client.get(f"/pathways/awards/{award.id}").text
    assert "Lee Learner" in page and world.learner.email in page  # staff see who it concerns
    client.post(
        f"/manage/pathways/awards/{award.id}/revoke",
        data={"csrf_token": _csrf(page), "reason": "Plagiarised project"},
    )
    listed = client.get("/manage/pathways/reviews").text
    row = re.search(r'<table class="table" id="awards-revoked">.*?</table>', listed, re.S)
    assert row is not None
    assert f"/pathways/awards/{award.id}" in row.group(0)
    assert "Lee Learner" in row.group(0) and "Plagiarised project" in row.group(0)
    reaward = f"/manage/pathways/awards/{award.id}/reaward"
    assert reaward in row.group(0)
    # staff of another issuer do not see it; the learner's own award page has no staff panel
    client.cookies.clear()
    sign_in_client(client, world.other_staff.email)
    elsewhere = client.get("/manage/pathways/reviews").text
    assert award.id not in elsewhere and 'id="nothing-revoked"' in elsewhere
    client.cookies.clear()
    sign_in_client(client, world.learner.email)
    assert 'id="award-learner"' not in client.get(f"/pathways/awards/{award.id}").text
    client.cookies.clear()
    token = sign_in_client(client, world.staff.email)
    done = client.post(reaward, data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert award.id not in client.get("/manage/pathways/reviews").text


def test_staff_keep_an_award_flagged_for_review_from_the_reviews_page(
    client: TestClient, sessions: sessionmaker[Session], world: World, defs: Catalogue,
    settings: Settings,
) -> None:  # fmt: skip
    award, python_id, _ = stacked(sessions, world, defs, settings, "review")
    revoke(sessions, settings, python_id, "revocation")
    assert award_state(sessions, award.id)[0] is AwardState.review
    sign_in_client(client, world.staff.email)
    page = client.get("/manage/pathways/reviews").text
    table = re.search(r'<table class="table" id="awards-to-review">.*?</table>', page, re.S)
    assert table is not None and "Lee Learner" in table.group(0)
    action = f"/manage/pathways/reviews/{award.id}"
    assert f'action="{action}"' in table.group(0)
    kept = client.post(
        action, data={"csrf_token": _csrf(page), "decision": "keep"}, follow_redirects=False
    )
    assert kept.status_code == 303
    assert award_state(sessions, award.id)[0] is AwardState.active
    assert 'id="nothing-to-review"' in client.get("/manage/pathways/reviews").text

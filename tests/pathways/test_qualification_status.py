"""An award follows its own qualification credential: revoked with it for good, suspended with it
and restored when it is reinstated, in the status change's own transaction."""

from __future__ import annotations

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent
from microcred.credentials import service as credentials
from microcred.credentials.models import CredentialState, IssuedCredential
from microcred.credentials.resolvers import verify
from microcred.db.migrate import alembic_config, downgrade, upgrade
from microcred.errors import PermissionDenied
from microcred.pathways import service
from microcred.pathways.errors import PathwayError
from microcred.pathways.models import AwardState, PathwayAward, PathwayAwardComponent
from microcred.pathways.schemas import ProgressOut
from microcred.settings import Settings
from tests.conftest import World, sign_in_client
from tests.pathways.conftest import Catalogue, issue, principal_of, sqlite_plan
from tests.pathways.test_service import make_pathway
from tests.pathways.test_status_changes import (
    assert_revocation_rolls_back,
    award_state,
    awarded,
    both,
    chained,
    credential_state,
    issue_suspendable,
    reinstate,
    revoke,
    stacked,
    statements,
)


def qualification_of(award: PathwayAward) -> str:
    assert award.credential_id is not None
    return award.credential_id


def qualifications_issued(sessions: sessionmaker[Session], defs: Catalogue) -> int:
    with sessions() as session:
        query = select(func.count()).select_from(IssuedCredential)
        return int(
            session.scalar(query.where(IssuedCredential.definition_id == defs.qualification)) or 0
        )


def audited(sessions: sessionmaker[Session], award_id: str) -> list[str]:
    with sessions() as session:
        query = select(AuditEvent.action).where(AuditEvent.object_id == award_id)
        return list(session.scalars(query.order_by(AuditEvent.at)))


def progress_out(sessions: sessionmaker[Session], world: World, settings: Settings) -> ProgressOut:
    with sessions.begin() as session:
        (result,) = service.learner_progress(session, world.learner.id, settings)
        return ProgressOut.of(result)


@pytest.mark.both_databases
def test_revoking_the_qualification_revokes_the_award_for_good(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award = stacked(sessions, world, defs, settings, "keep").award
    qualification_id = qualification_of(award)

    revoke(sessions, settings, qualification_id, "revocation")

    assert award_state(sessions, award.id) == (
        AwardState.revoked,
        f"{service.QUALIFICATION_REVOKED}Misconduct",
    )
    assert audited(sessions, award.id)[-1] == "pathways.award.revoked"
    with sessions() as session:
        row = service.get_award(session, None, award.id)
        assert row.final
        report = verify(
            session,
            credentials.get_credential(session, qualification_id).document,
            settings,
            allow_remote=False,
        )
        assert report.failed("status") and not report.valid
        # The copy the CLR holds is the same credential: a verifier checking it sees the same.
        (embedded, *_) = row.clr["credentialSubject"]["verifiableCredential"]
        assert embedded["id"].endswith(qualification_id)
        assert verify(session, embedded, settings, allow_remote=False).failed("status")


@pytest.mark.both_databases
def test_progress_does_not_award_the_pathway_again_until_staff_reaward(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award = stacked(sessions, world, defs, settings).award
    revoke(sessions, settings, qualification_of(award), "revocation")

    out = progress_out(sessions, world, settings)  # the components still meet the pathway

    assert out.complete and (out.award_id, out.award_state) == (award.id, "revoked")
    assert qualifications_issued(sessions, defs) == 1
    with sessions.begin() as session, pytest.raises(PermissionDenied):
        service.reaward(session, principal_of(session, world.other_staff), award.id, settings)

    with sessions.begin() as session:
        again = service.reaward(session, principal_of(session, world.staff), award.id, settings)
        assert again is not None and again.id != award.id and again.state is AwardState.active
        with pytest.raises(PathwayError, match="re-awarded"):
            service.reaward(session, None, again.id, settings)
    assert qualifications_issued(sessions, defs) == 2
    assert progress_out(sessions, world, settings).award_id == again.id


def test_a_component_revoked_award_is_still_awarded_again_when_met_anew(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    """Only a revocation of the award's own credential is final; the policy's is not."""
    award, python_id, _ = stacked(sessions, world, defs, settings, "revoke")
    revoke(sessions, settings, python_id, "revocation")
    with sessions() as session:
        assert not service.get_award(session, None, award.id).final

    issue(sessions, settings, defs.python)

    out = progress_out(sessions, world, settings)
    assert out.award_id not in (None, award.id) and out.award_state == "active"


@pytest.mark.both_databases
def test_suspending_the_qualification_suspends_the_award_until_reinstated(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award = stacked(sessions, world, defs, settings, suspendable=True).award
    qualification_id = qualification_of(award)

    revoke(sessions, settings, qualification_id, "suspension")

    assert award_state(sessions, award.id) == (
        AwardState.suspended,
        f"{service.QUALIFICATION_SUSPENDED}Misconduct",
    )
    out = progress_out(sessions, world, settings)
    assert (out.award_id, out.award_state) == (award.id, "suspended")
    assert qualifications_issued(sessions, defs) == 1

    reinstate(sessions, settings, qualification_id)

    assert award_state(sessions, award.id) == (AwardState.active, None)
    assert audited(sessions, award.id)[-2:] == [
        "pathways.award.suspended",
        "pathways.award.restored",
    ]
    with sessions() as session:
        document = credentials.get_credential(session, qualification_id).document
        assert verify(session, document, settings, allow_remote=False).valid


def test_reinstatement_applies_the_policy_to_what_was_lost_while_suspended(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award, _, sql_id = stacked(sessions, world, defs, settings, suspendable=True)
    qualification_id = qualification_of(award)
    revoke(sessions, settings, qualification_id, "suspension")

    revoke(sessions, settings, sql_id, "revocation")  # the award is suspended: left as it is
    assert award_state(sessions, award.id)[0] is AwardState.suspended

    reinstate(sessions, settings, qualification_id)
    assert award_state(sessions, award.id) == (
        AwardState.review,
        f"{service.LOST_PREFIX}issued:{sql_id}",
    )


def test_revoking_a_suspended_qualification_revokes_the_award(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award = stacked(sessions, world, defs, settings, suspendable=True).award
    revoke(sessions, settings, qualification_of(award), "suspension")

    revoke(sessions, settings, qualification_of(award), "revocation")

    assert award_state(sessions, award.id)[0] is AwardState.revoked


@pytest.mark.both_databases
@pytest.mark.parametrize(("policy", "expected"), [("revoke", "revoked"), ("review", "review")])
def test_an_award_stacked_on_the_qualification_reacts_per_its_policy(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings,
    policy: str, expected: str,
) -> None:  # fmt: skip
    first, second, python_id = chained(sessions, world, defs, settings, "keep", policy)
    first_id, second_id = first.id, second.id
    qualification_id = qualification_of(first)

    revoke(sessions, settings, qualification_id, "revocation")

    assert award_state(sessions, first_id)[0] is AwardState.revoked  # despite "keep"
    state, reason = award_state(sessions, second_id)
    assert state.value == expected and reason == f"{service.LOST_PREFIX}issued:{qualification_id}"
    assert credential_state(sessions, python_id) is CredentialState.active


@pytest.mark.both_databases
def test_a_credential_in_no_award_is_unaffected_and_costs_one_indexed_lookup(
    sessions: sessionmaker[Session], engine: Engine, world: World, defs: Catalogue,
    settings: Settings, db_backend: str,
) -> None:  # fmt: skip
    award = stacked(sessions, world, defs, settings, "revoke").award
    loose_id = issue_suspendable(sessions, settings, defs.teamwork)

    with statements(engine) as seen:
        revoke(sessions, settings, loose_id, "suspension")
        reinstate(sessions, settings, loose_id)
        revoke(sessions, settings, loose_id, "revocation")

    touching = [sql for sql in seen if "pathway" in sql]
    assert len(touching) == 3
    assert all(
        "FROM pathway_awards" in sql and "pathway_award_components" in sql for sql in touching
    )
    assert award_state(sessions, award.id) == (AwardState.active, None)
    assert credential_state(sessions, qualification_of(award)) is CredentialState.active
    indexes = inspect(engine).get_indexes("pathway_awards")
    assert any(index["column_names"] == ["credential_id"] for index in indexes)
    if db_backend == "sqlite":
        details = sqlite_plan(engine, "SELECT id FROM pathway_awards WHERE credential_id IN ('x')")
        assert "ix_pathway_awards_credential_id" in details and "SCAN" not in details


def test_a_failing_handler_rolls_the_qualification_revocation_back(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    award = stacked(sessions, world, defs, settings).award
    qualification_id = qualification_of(award)

    # The award's audit comes after its change: failing there still rolls everything back.
    assert_revocation_rolls_back(
        sessions, settings, monkeypatch, "record_audit", award.id, qualification_id
    )

    with sessions() as session:
        assert not service.get_award(session, None, award.id).final
        document = credentials.get_credential(session, qualification_id).document
        assert verify(session, document, settings, allow_remote=False).valid


def test_the_migration_keeps_the_component_index_and_a_suspended_award(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    """0004 recreates ``pathway_awards`` on SQLite, which would cascade to its components."""
    award = stacked(sessions, world, defs, settings, suspendable=True).award
    revoke(sessions, settings, qualification_of(award), "suspension")

    def components_and_state() -> tuple[int, str]:
        with sessions() as session:  # plain SQL: the model's columns differ at 0003
            count = session.scalar(select(func.count()).select_from(PathwayAwardComponent))
            state = session.scalar(
                text("SELECT state FROM pathway_awards WHERE id = :id"), {"id": award.id}
            )
            return int(count or 0), str(state)

    command.stamp(alembic_config(settings.database_url), "head")
    downgrade(settings.database_url, "0003")
    assert components_and_state() == (2, "review")  # no suspended state before 0004
    upgrade(settings.database_url)
    assert components_and_state() == (2, "review")


def test_the_learner_sees_the_award_revoked_on_the_pages_and_the_api(
    client: TestClient, sessions: sessionmaker[Session], world: World, defs: Catalogue,
    settings: Settings,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        pathway_id = make_pathway(session, defs, both(defs))
    issue(sessions, settings, defs.python)
    issue(sessions, settings, defs.sql)
    award = awarded(sessions, world, settings)
    revoke(sessions, settings, qualification_of(award), "revocation")

    sign_in_client(client, world.learner.email)
    page = client.get(f"/pathways/{pathway_id}").text
    assert f"(revoked: {service.QUALIFICATION_REVOKED}Misconduct)" in page
    assert "Award revoked" in client.get("/pathways").text
    progress = client.get(f"/api/v1/pathways/{pathway_id}/progress").json()
    assert (progress["award_id"], progress["award_state"]) == (award.id, "revoked")
    (listed,) = client.get("/api/v1/pathways/awards").json()
    assert listed["state"] == "revoked"

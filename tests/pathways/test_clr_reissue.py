"""Awards made before migration 0005 hold a CLR without a status entry: the backfill
(``reissue_clrs_without_status``, ``microcred pathways reissue-clrs``) gives each one, as a new
award gets it, so that a verifier holding only the new CLR sees the award revoked."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.accounts import service as accounts
from microcred.accounts.models import AuditEvent, Organisation, User
from microcred.cli.main import app
from microcred.credentials import service as credentials
from microcred.credentials.keystore import signing_key
from microcred.credentials.models import KeyAlgorithm, StatusList
from microcred.credentials.proofs.dataintegrity import add_proof
from microcred.credentials.schemas import validate_schema
from microcred.errors import PermissionDenied
from microcred.ledger import service as ledger
from microcred.ledger.models import LedgerLeaf
from microcred.pathways import service
from microcred.pathways.models import AwardState, PathwayAward
from microcred.settings import Settings
from tests.conftest import World
from tests.pathways.conftest import Catalogue, principal_of
from tests.pathways.test_clr_status import awarded_with, clr_report, revoke_the_award
from tests.pathways.test_status_changes import (
    award_state,
    chained,
    reinstate,
    revoke,
    stacked,
)


def made_before_0005(sessions: sessionmaker[Session], settings: Settings, award_id: str) -> None:
    """Make the award what one made before migration 0005 is: its CLR built and signed without
    a status entry (and so never recorded in the ledger), no entry on the award."""
    with sessions.begin() as session:
        award = service.get_award(session, None, award_id)
        organisation = session.get(Organisation, award.pathway.organisation_id)
        assert organisation is not None
        unsigned = {k: v for k, v in award.clr.items() if k not in ("proof", "credentialStatus")}
        key = signing_key(session, organisation, KeyAlgorithm.ed25519, settings)
        assert key.ed25519 is not None
        award.clr = add_proof(
            unsigned, key.ed25519, key.verification_method, suite="eddsa-rdfc-2022"
        )
        award.clr_status_list_id = award.clr_status_index = None


def stored(sessions: sessionmaker[Session], award_id: str) -> tuple[str, str | None, int | None]:
    """The award's CLR as stored (its JSON text, key order included) and its status entry."""
    with sessions() as session:
        award = service.get_award(session, None, award_id)
        return json.dumps(award.clr), award.clr_status_list_id, award.clr_status_index


def reissue(
    sessions: sessionmaker[Session], settings: Settings, *, dry_run: bool = False
) -> service.ClrReissue:
    with sessions.begin() as session:
        return service.reissue_clrs_without_status(session, settings, dry_run=dry_run)


def everything_written(sessions: sessionmaker[Session]) -> tuple[Any, ...]:
    """What a backfill writes: awards' CLRs and entries, status lists, ledger, audit log."""
    with sessions() as session:
        awards = session.execute(
            select(PathwayAward.id, PathwayAward.clr, PathwayAward.clr_status_list_id,
                   PathwayAward.clr_status_index).order_by(PathwayAward.id)
        ).all()  # fmt: skip
        lists = session.execute(
            select(StatusList.id, StatusList.allocated, StatusList.bits, StatusList.revision)
            .order_by(StatusList.id)
        ).all()  # fmt: skip
        leaves = session.scalar(select(func.count()).select_from(LedgerLeaf))
        audited = session.scalar(select(func.count()).select_from(AuditEvent))
        return [tuple(row) for row in awards], [tuple(row) for row in lists], leaves, audited


def audited(sessions: sessionmaker[Session], award_id: str) -> list[dict[str, Any]]:
    with sessions() as session:
        rows = session.scalars(
            select(AuditEvent).where(
                AuditEvent.object_id == award_id, AuditEvent.action == service.CLR_REISSUED
            )
        )
        return [row.details for row in rows]


@pytest.mark.both_databases
def test_a_pre_0005_award_gets_a_clr_with_status_that_verifies_and_is_revoked_with_it(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award = awarded_with(sessions, world, defs, settings, "keep")
    made_before_0005(sessions, settings, award.id)
    with sessions() as session:
        old = service.get_award(session, None, award.id).clr
        assert "credentialStatus" not in old
    old_report = clr_report(sessions, settings, award.id)
    assert not [c for c in old_report.checks if c.reason.startswith("issued:")]

    result = reissue(sessions, settings)

    assert result.award_ids == [award.id] and not result.dry_run
    (item,) = result.awards
    assert (item.state, item.purpose, item.marked) == (AwardState.active, "revocation", None)
    with sessions() as session:
        row = service.get_award(session, None, award.id)
        status = service.clr_status_of(row)
        assert status is not None and status == item.status
        entry = row.clr["credentialStatus"]
        assert entry["statusPurpose"] == "revocation"
        assert entry["statusListIndex"] == str(row.clr_status_index)
        assert entry["statusListCredential"].endswith(f"/status/{row.clr_status_list_id}")
        # the content is the award's as it was made; only the entry and the proof are new
        assert row.clr["credentialSubject"] == old["credentialSubject"]
        assert (row.clr["id"], row.clr["validFrom"], row.clr["awardedDate"]) == (
            old["id"], old["validFrom"], old["awardedDate"],
        )  # fmt: skip
        assert row.clr["proof"] != old["proof"]
        assert validate_schema(row.clr).valid
    with sessions.begin() as session:
        ledger.create_checkpoint(session, settings)  # the ledger covers the new issuance
    report = clr_report(sessions, settings, award.id)
    assert report.valid, report.checks
    assert [c for c in report.checks if c.status != "pass"] == [], report.checks
    assert report.check("status") and "cannot be revoked" not in str(report.check("status"))
    assert [c for c in report.checks if c.reason.startswith("issued:")], report.checks
    (details,) = audited(sessions, award.id)
    assert details["previous_clr_hash"] == credentials.credential_hash(old).hex()
    assert (details["status_list_id"], details["status_index"]) == stored(sessions, award.id)[1:]

    before = stored(sessions, award.id)
    assert reissue(sessions, settings).awards == []
    assert stored(sessions, award.id) == before and len(audited(sessions, award.id)) == 1

    revoke_the_award(sessions, settings, world, award)

    revoked = clr_report(sessions, settings, award.id)
    assert revoked.failed("status") and not revoked.valid
    assert [c for c in revoked.checks if c.reason.startswith("revoked:")], revoked.checks


@pytest.mark.both_databases
def test_an_award_revoked_before_the_backfill_gets_a_clr_that_verifies_as_revoked(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award = awarded_with(sessions, world, defs, settings, "keep")
    made_before_0005(sessions, settings, award.id)
    revoke_the_award(sessions, settings, world, award)
    assert clr_report(sessions, settings, award.id).valid  # what the old CLR cannot say

    (item,) = reissue(sessions, settings).awards

    assert (item.award_id, item.state, item.marked) == (award.id, AwardState.revoked, "revoked")
    report = clr_report(sessions, settings, award.id)
    assert report.failed("status") and not report.valid
    assert [c for c in report.checks if c.reason.startswith("issued:")], report.checks
    assert [c for c in report.checks if c.reason.startswith("revoked:")], report.checks
    assert reissue(sessions, settings).awards == []


def test_a_suspended_award_gets_a_suspension_entry_that_follows_it(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award = stacked(sessions, world, defs, settings, suspendable=True).award
    made_before_0005(sessions, settings, award.id)
    qualification_id = award.credential_id or ""
    revoke(sessions, settings, qualification_id, "suspension")
    assert award_state(sessions, award.id)[0] is AwardState.suspended

    (item,) = reissue(sessions, settings).awards

    assert (item.purpose, item.marked) == ("suspension", "suspended")
    assert clr_report(sessions, settings, award.id).failed("status")
    reinstate(sessions, settings, qualification_id)
    assert clr_report(sessions, settings, award.id).valid


def test_a_dry_run_lists_the_awards_and_writes_nothing(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award = awarded_with(sessions, world, defs, settings, "keep")
    made_before_0005(sessions, settings, award.id)
    revoke_the_award(sessions, settings, world, award)
    before = everything_written(sessions)

    result = reissue(sessions, settings, dry_run=True)

    assert result.dry_run and result.award_ids == [award.id]
    (item,) = result.awards
    assert (item.marked, item.status) == ("revoked", None)
    assert everything_written(sessions) == before
    assert reissue(sessions, settings).award_ids == [award.id]


def test_awards_with_a_status_entry_are_left_untouched(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    first, second, _ = chained(sessions, world, defs, settings, "keep", "keep")
    made_before_0005(sessions, settings, first.id)
    untouched = stored(sessions, second.id)
    assert untouched[1] is not None

    assert reissue(sessions, settings).award_ids == [first.id]

    assert stored(sessions, second.id) == untouched
    assert audited(sessions, second.id) == []


def test_a_run_that_fails_part_way_changes_nothing(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    first, second, _ = chained(sessions, world, defs, settings, "keep", "keep")
    for award in (first, second):
        made_before_0005(sessions, settings, award.id)
    before = everything_written(sessions)
    recorded = credentials.record_document_event
    calls: list[str] = []

    def fails_the_second(*args: Any, **kwargs: Any) -> None:
        calls.append(args[3])
        if len(calls) == 2:
            raise RuntimeError("ledger unavailable")
        recorded(*args, **kwargs)

    with (
        patch.object(credentials, "record_document_event", fails_the_second),
        pytest.raises(RuntimeError),
    ):
        reissue(sessions, settings)

    assert everything_written(sessions) == before
    assert reissue(sessions, settings).award_ids == [first.id, second.id]


def test_only_a_platform_administrator_reissues(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings,
    platform_admin: str,
) -> None:  # fmt: skip
    award = awarded_with(sessions, world, defs, settings)
    made_before_0005(sessions, settings, award.id)
    for refused in (world.staff, world.admin):  # an organisation's administrator is not enough
        with sessions.begin() as session, pytest.raises(PermissionDenied):
            principal = principal_of(session, refused)
            service.reissue_clrs_without_status(session, settings, principal=principal)
    with sessions.begin() as session:
        admin = session.scalar(select(User).where(User.email == platform_admin))
        assert admin is not None
        principal = accounts.principal_for(session, admin)
        result = service.reissue_clrs_without_status(session, settings, principal=principal)
        assert result.award_ids == [award.id]
        admin_id = admin.id
    with sessions() as session:
        actor = session.scalar(
            select(AuditEvent.actor_user_id).where(AuditEvent.action == service.CLR_REISSUED)
        )
        assert actor == admin_id


def test_reissue_clrs_from_the_command_line(
    runner: CliRunner, sessions: sessionmaker[Session], world: World, defs: Catalogue,
    settings: Settings,
) -> None:  # fmt: skip
    award = awarded_with(sessions, world, defs, settings, "keep")
    made_before_0005(sessions, settings, award.id)
    revoke_the_award(sessions, settings, world, award)
    before = stored(sessions, award.id)

    dry = runner.invoke(app, ["pathways", "reissue-clrs", "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert f"{award.id} (Data Analyst, revoked): would get a CLR" in dry.output
    assert "1 award(s) would get a new CLR; nothing was changed." in dry.output
    assert stored(sessions, award.id) == before

    done = runner.invoke(app, ["pathways", "reissue-clrs"])

    assert done.exit_code == 0, done.output
    assert f"{award.id} (Data Analyst, revoked): now has a CLR with a revocation status " in (
        done.output
    )
    assert "1 award(s) got a new CLR with a status entry." in done.output
    assert clr_report(sessions, settings, award.id).failed("status")
    again = runner.invoke(app, ["pathways", "reissue-clrs"])
    assert again.exit_code == 0 and "0 award(s) got a new CLR" in again.output

"""Pathway service: authoring checks against the catalogue, progress, awards with CLR, policy."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.catalogue import service as catalogue
from microcred.credentials import service as credentials
from microcred.credentials.resolvers import verify
from microcred.credentials.schemas import validate_schema
from microcred.pathways import service
from microcred.pathways.errors import PathwayError
from microcred.pathways.models import AwardState
from microcred.pathways.service import PathwayInput
from microcred.settings import Settings
from tests.catalogue.factories import SQL
from tests.conftest import World
from tests.pathways.conftest import Catalogue, issue, principal_of


def cred(definition_id: str) -> dict[str, Any]:
    return {"type": "credential", "definition_id": definition_id}


def make_pathway(
    session: Session, defs: Catalogue, requirements: dict[str, Any], **overrides: Any
) -> str:
    data = PathwayInput(
        name=overrides.pop("name", "Data Analyst"),
        kind="certificate",
        requirements=requirements,
        qualification_definition_id=overrides.pop("qualification", defs.qualification),
        **overrides,
    )
    return service.create_pathway(session, None, "north-college", data, publish=True).id


@pytest.mark.both_databases
def test_staff_author_a_pathway_naming_another_issuers_credential(
    sessions: sessionmaker[Session], world: World, defs: Catalogue
) -> None:
    with sessions.begin() as session:
        staff = principal_of(session, world.staff)
        data = PathwayInput(
            "Data Analyst",
            "certificate",
            {"type": "all_of", "children": [cred(defs.python), cred(defs.sql)]},
            qualification_definition_id=defs.qualification,
        )
        pathway = service.create_pathway(session, staff, "north-college", data)
        assert pathway.status.value == "draft"
        with pytest.raises(Exception, match="permission"):
            service.create_pathway(
                session, principal_of(session, world.other_staff), "north-college", data
            )


def test_a_retired_definition_is_refused_at_authoring(
    sessions: sessionmaker[Session], world: World, defs: Catalogue
) -> None:
    with sessions.begin() as session:
        catalogue.retire_definition(session, None, defs.sql)
    with sessions.begin() as session, pytest.raises(PathwayError) as caught:
        make_pathway(
            session, defs, {"type": "all_of", "children": [cred(defs.python), cred(defs.sql)]}
        )
    assert caught.value.field == "requirements.children[1].definition_id"
    assert "retired" in caught.value.message


def test_pathways_that_require_each_other_are_refused(
    sessions: sessionmaker[Session], world: World, defs: Catalogue
) -> None:
    with sessions.begin() as session:
        first = make_pathway(session, defs, cred(defs.python), name="First", qualification=None)
        second = make_pathway(
            session,
            defs,
            {"type": "pathway", "pathway_id": first},
            name="Second",
            qualification=None,
        )
        with pytest.raises(PathwayError, match="Cyclic") as caught:
            service.update_pathway(
                session,
                None,
                first,
                PathwayInput(
                    "First",
                    "certificate",
                    {
                        "type": "all_of",
                        "children": [cred(defs.python), {"type": "pathway", "pathway_id": second}],
                    },
                ),
            )
        assert "First → Second → First" in caught.value.message


def test_a_skill_requirement_beyond_the_catalogue_is_unsatisfiable(
    sessions: sessionmaker[Session], world: World, defs: Catalogue
) -> None:
    with sessions.begin() as session, pytest.raises(PathwayError, match="Unsatisfiable"):
        make_pathway(session, defs, {"type": "skill", "skill_uri": SQL, "count": 5})


@pytest.mark.both_databases
def test_progress_award_clr_and_revocation_policy(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    tree = {
        "type": "all_of",
        "children": [
            cred(defs.python),
            {"type": "skill", "skill_uri": SQL, "count": 1, "within_years": 5},
        ],
    }
    with sessions.begin() as session:
        pathway_id = make_pathway(session, defs, tree)
    python_id = issue(sessions, settings, defs.python)
    with sessions.begin() as session:
        (result,) = service.learner_progress(session, world.learner.id, settings)
        assert not result.progress.complete and result.award is None
        assert result.progress.root.percent == 50
        assert result.progress.route.definition_ids in ((defs.teamwork,), (defs.sql,))
        assert result.progress.route.definition_ids == (defs.teamwork,)  # 20 h beats 75 h
    sql_id = issue(sessions, settings, defs.sql)
    with sessions.begin() as session:
        (result,) = service.learner_progress(session, world.learner.id, settings)
        assert result.progress.complete
        award = result.award
        assert award is not None and award.state is AwardState.active
        assert set(award.components) == {f"issued:{python_id}", f"issued:{sql_id}"}
        clr_document = award.clr
        qualification = credentials.get_credential(session, award.credential_id or "")
        assert qualification.definition_id == defs.qualification
        report = verify(session, clr_document, settings, allow_remote=False)
        assert report.valid, report.checks
        assert validate_schema(clr_document).valid
        subject = clr_document["credentialSubject"]
        assert len(subject["verifiableCredential"]) == 3
        assert {a["associationType"] for a in subject["association"]} == {"isChildOf"}
        # evaluating again awards nothing new
        (again,) = service.learner_progress(session, world.learner.id, settings)
        assert again.award is not None and again.award.id == award.id
    with sessions.begin() as session:
        credentials.revoke_credential(
            session, None, sql_id, reason="Exam misconduct", settings=settings
        )
    with sessions.begin() as session:
        flagged = service.get_award(session, None, award.id)  # flagged by the revocation itself
        assert flagged.state is AwardState.review
        assert f"issued:{sql_id}" in (flagged.state_reason or "")
        assert service.review_awards(session, settings) == []  # nothing left for the sweep
        staff = principal_of(session, world.staff)
        assert [a.id for a in service.awards_for_review(session, staff)] == [award.id]
        decided = service.resolve_review(session, staff, award.id, keep=False, settings=settings)
        assert decided.state is AwardState.revoked
        assert credentials.get_credential(session, award.credential_id or "").state.value == (
            "revoked"
        )
    assert pathway_id


def test_revoke_policy_revokes_the_qualification_at_once(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    with sessions.begin() as session:
        make_pathway(session, defs, cred(defs.python), revocation_policy="revoke")
    python_id = issue(sessions, settings, defs.python)
    with sessions.begin() as session:
        (result,) = service.learner_progress(session, world.learner.id, settings)
        assert result.award is not None
        award_id, qualification_id = result.award.id, result.award.credential_id
        credentials.revoke_credential(session, None, python_id, reason="Error", settings=settings)
    with sessions.begin() as session:
        (result,) = service.learner_progress(session, world.learner.id, settings)
        assert result.award is None and not result.progress.complete
        assert credentials.get_credential(session, qualification_id or "").state.value == "revoked"
        assert award_id


def test_an_external_credential_counts_only_while_it_verifies(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    import json
    from datetime import UTC, datetime, timedelta

    from microcred.wallet import service as wallet
    from tests.wallet.ob2 import BADGE, Ob2Issuer

    issuer = Ob2Issuer()
    assertion = issuer.assertion(1)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        make_pathway(session, defs, cred(BADGE), qualification=None)
        wallet.import_credential(
            session,
            principal_of(session, world.learner),
            json.dumps(assertion),
            settings,
            fetch=issuer.fetch,
            now=now,
        )
    with sessions.begin() as session:
        (result,) = service.learner_progress(
            session, world.learner.id, settings, award=False, fetch=issuer.fetch, now=now
        )
        assert result.progress.complete
    issuer.revoke(assertion)
    with sessions.begin() as session:
        (result,) = service.learner_progress(
            session,
            world.learner.id,
            settings,
            award=False,
            fetch=issuer.fetch,
            now=now + timedelta(minutes=15),
        )
        assert not result.progress.complete
        assert result.progress.route.definition_ids == (BADGE,)

"""A pathway is awarded in the transaction that issues its last component — by hand, in a bulk
job, or through another pathway's qualification — without the learner opening their progress."""

from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.catalogue import service as catalogue
from microcred.credentials import bulk
from microcred.credentials import service as credentials
from microcred.credentials.models import IssuedCredential, JobState
from microcred.notifications.models import Notification
from microcred.pathways import service
from microcred.pathways.models import AwardState, PathwayAward
from microcred.settings import Settings
from microcred.webhooks.models import WebhookDelivery
from tests.catalogue.factories import PYTHON, SQL, definition_input
from tests.conftest import PASSWORD, World
from tests.pathways.conftest import Catalogue, issue
from tests.pathways.test_service import cred, make_pathway
from tests.pathways.test_status_changes import revoke, stacked, statements
from tests.webhooks.conftest import subscribe


def awards(sessions: sessionmaker[Session], pathway_id: str | None = None) -> list[PathwayAward]:
    with sessions() as session:
        query = select(PathwayAward).order_by(PathwayAward.awarded_at)
        if pathway_id is not None:
            query = query.where(PathwayAward.pathway_id == pathway_id)
        return list(session.scalars(query))


def issued_count(sessions: sessionmaker[Session], definition_id: str) -> int:
    with sessions() as session:
        query = select(func.count()).select_from(IssuedCredential)
        return int(session.scalar(query.where(IssuedCredential.definition_id == definition_id)))


def all_of(*definition_ids: str) -> dict[str, object]:
    return {"type": "all_of", "children": [cred(d) for d in definition_ids]}


@pytest.mark.both_databases
def test_issuing_the_last_component_awards_the_pathway_at_once(
    db_backend: str, sessions: sessionmaker[Session], world: World, defs: Catalogue,
    settings: Settings,
) -> None:  # fmt: skip
    local = settings.model_copy(update={"webhooks_allow_private": True})
    subscribe(sessions, world, local, "https://127.0.0.1:9/hook", ["pathway.awarded"])
    with sessions.begin() as session:
        pathway_id = make_pathway(session, defs, all_of(defs.python, defs.sql))

    python_id = issue(sessions, settings, defs.python)
    assert awards(sessions) == [] and issued_count(sessions, defs.qualification) == 0

    sql_id = issue(sessions, settings, defs.sql)  # nobody looked at any progress page
    (award,) = awards(sessions)
    assert award.pathway_id == pathway_id and award.user_id == world.learner.id
    assert award.state is AwardState.active
    assert set(award.components) == {f"issued:{python_id}", f"issued:{sql_id}"}
    assert issued_count(sessions, defs.qualification) == 1
    with sessions() as session:
        events = session.scalars(select(WebhookDelivery.event_type)).all()
        assert events == ["pathway.awarded"]

    # Opening the progress page afterwards finds the award and makes no second one.
    with sessions.begin() as session:
        (result,) = service.learner_progress(session, world.learner.id, settings)
        assert result.award is not None and result.award.id == award.id
    assert len(awards(sessions)) == 1 and issued_count(sessions, defs.qualification) == 1


def test_a_credential_for_an_email_without_an_account_awards_nothing(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    with sessions.begin() as session:
        make_pathway(session, defs, cred(defs.python))
        credentials.issue_credential(
            session, None, definition_id=defs.python, recipient_email="nobody@example.org",
            settings=settings,
        )  # fmt: skip
    assert awards(sessions) == []


@pytest.mark.both_databases
def test_a_bulk_job_awards_the_pathways_its_rows_complete(
    db_backend: str, sessions: sessionmaker[Session], world: World, defs: Catalogue,
    settings: Settings,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        make_pathway(session, defs, all_of(defs.python, defs.sql))
    issue(sessions, settings, defs.sql)
    rows = io.StringIO()
    rows.write("definition_id,recipient_email,result_level\n")
    rows.write(f"{defs.python},learner@example.org,Competent\n")
    rows.write(f"{defs.python},stranger@example.org,Competent\n")
    with sessions.begin() as session:
        job_id = bulk.create_job(session, None, "north-college", rows.getvalue().encode()).id
    assert bulk.run_job(sessions, job_id, settings).state is JobState.completed

    (award,) = awards(sessions)
    assert award.user_id == world.learner.id
    assert issued_count(sessions, defs.qualification) == 1


@pytest.mark.both_databases
def test_a_qualification_issued_by_one_award_completes_the_pathway_stacked_on_it(
    db_backend: str, sessions: sessionmaker[Session], world: World, defs: Catalogue,
    settings: Settings,
) -> None:  # fmt: skip
    """And two pathways each needing the other's qualification are awarded once each: the
    award in progress is not started again by the qualification it issues."""
    with sessions.begin() as session:
        lead = catalogue.create_definition(
            session, None, "north-college",
            definition_input(
                name="Data Lead", human_code="DL-1", skills=[PYTHON],
                achievement_type="Certificate", rubric_levels=[], required_level=None,
            ),
            publish=True,
        ).definition_id  # fmt: skip
        first = make_pathway(session, defs, all_of(defs.python, lead), name="First")
        second = make_pathway(
            session, defs, cred(defs.qualification), name="Second", qualification=lead
        )
    issue(sessions, settings, lead)  # the learner already holds the second's outcome

    issue(sessions, settings, defs.python)

    assert [a.pathway_id for a in awards(sessions)] == [first, second]
    assert issued_count(sessions, defs.qualification) == 1
    assert issued_count(sessions, lead) == 2  # by hand, then by the second pathway
    assert len(awards(sessions, first)) == 1


@pytest.mark.both_databases
def test_an_award_that_cannot_be_made_leaves_the_issuance_standing(
    db_backend: str, sessions: sessionmaker[Session], world: World, defs: Catalogue,
    settings: Settings, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        make_pathway(session, defs, cred(defs.python))
        catalogue.retire_definition(session, None, defs.qualification)

    with caplog.at_level(logging.WARNING, logger="microcred.pathways.service"):
        python_id = issue(sessions, settings, defs.python)

    assert "not awarded" in caplog.text
    assert awards(sessions) == [] and issued_count(sessions, defs.qualification) == 0
    with sessions() as session:
        assert credentials.get_credential(session, python_id).state.value == "active"

    with sessions.begin() as session:  # published again: the learner's progress awards it
        catalogue.update_definition(session, None, defs.qualification, {"name": "Data Analyst II"})
        catalogue.publish_definition(session, None, defs.qualification)
    with sessions.begin() as session:
        (result,) = service.learner_progress(session, world.learner.id, settings)
        assert result.award is not None
    assert issued_count(sessions, defs.qualification) == 1


def test_skill_and_open_credit_requirements_are_awarded_on_issue(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    with sessions.begin() as session:
        by_skill = make_pathway(
            session, defs, {"type": "skill", "skill_uri": SQL, "count": 1}, name="By skill"
        )
        by_credit = make_pathway(
            session, defs, {"type": "credits", "amount": 3, "measure": "ects"}, name="By credit"
        )
        unrelated = make_pathway(session, defs, cred(defs.python), name="Python only")

    issue(sessions, settings, defs.sql)  # aligned to SQL, 3 ECTS

    awarded = {a.pathway_id for a in awards(sessions)}
    assert awarded == {by_skill, by_credit} and unrelated not in awarded


def test_the_pathways_staff_hear_of_an_award_flagged_for_review(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    award, python_id, _ = stacked(sessions, world, defs, settings, "review")
    revoke(sessions, settings, python_id, "revocation")

    with sessions() as session:
        query = select(Notification.user_id, Notification.link).where(
            Notification.kind == "pathway_award.review"
        )
        told = sorted(session.execute(query).all())
    expected = sorted({world.staff.id, world.admin.id})  # North College's staff and admin
    assert [user for user, _ in told] == expected
    assert {link for _, link in told} == {"/manage/pathways/reviews"}
    assert award.state is AwardState.active  # as awarded; the revocation flagged it since


def _learners(sessions: sessionmaker[Session], count: int, start: int) -> list[str]:
    with sessions.begin() as session:
        return [
            accounts.create_user(
                session, email=f"batch{n}@example.org", name=f"Batch Learner {n}",
                password=PASSWORD, fast_hash=True,
            ).id
            for n in range(start, start + count)
        ]  # fmt: skip


def _bulk_batch(
    sessions: sessionmaker[Session], settings: Settings, definition_id: str, users: list[str]
) -> None:
    with sessions.begin() as session:
        issuance = credentials.Issuance(session, settings)
        for user_id in users:
            issuance.queue(None, definition_id=definition_id, recipient_user_id=user_id)
        issuance.finish()


@pytest.mark.both_databases
def test_a_bulk_batch_reads_its_learners_holdings_in_a_fixed_number_of_queries(
    db_backend: str, sessions: sessionmaker[Session], engine: Engine, world: World,
    defs: Catalogue, settings: Settings,
) -> None:  # fmt: skip
    """Each learner of the batch who completes the pathway is awarded, and what they hold is
    read in one query per table for the whole batch, not one per learner."""
    with sessions.begin() as session:
        pathway_id = make_pathway(session, defs, all_of(defs.python, defs.sql))
    small, large = _learners(sessions, 2, 0), _learners(sessions, 7, 2)
    _bulk_batch(sessions, settings, defs.sql, small + large)
    assert awards(sessions) == []

    def holdings_reads(users: list[str]) -> int:
        with statements(engine) as seen:
            _bulk_batch(sessions, settings, defs.python, users)
        return sum(
            ("FROM issued_credentials" in sql and "recipient_user_id IN" in sql)
            or "FROM wallet_imported_credentials" in sql
            for sql in seen
        )

    assert holdings_reads(small) == holdings_reads(large) == 2
    awarded = awards(sessions, pathway_id)
    assert sorted(a.user_id for a in awarded) == sorted(small + large)
    assert issued_count(sessions, defs.qualification) == 9
    with sessions() as session:
        components = [len(a.components) for a in session.scalars(select(PathwayAward))]
    assert components == [2] * 9

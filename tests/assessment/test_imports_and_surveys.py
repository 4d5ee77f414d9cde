"""Gradebook imports (all or nothing, --partial, no duplicates on re-import) and surveys."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microcred.assessment import awards, imports, surveys
from microcred.assessment.awards import CredentialAwarder
from microcred.assessment.errors import AssessmentError, AttemptRefused
from microcred.assessment.models import AssessmentResult, AwardStatus
from microcred.catalogue import service as catalogue
from microcred.notifications import mailing
from microcred.notifications.models import Notification
from tests.assessment.conftest import Course, principal_of
from tests.conftest import World

GOOD = (
    "Email,Assessment code,Score,Date\n"
    "learner@example.org,QUIZ-1,90,2025-03-01\n"
    "learner@example.org,project-1,5,2025-03-02\n"
)


def results(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AssessmentResult)) or 0)


def test_an_import_awards_and_a_reimport_adds_nothing(
    session: Session, world: World, course: Course, awarder: CredentialAwarder
) -> None:
    staff = principal_of(session, world.staff)
    report = imports.import_results(session, staff, course.definition_id, GOOD, awarder=awarder)
    assert report.imported == [2, 3] and report.awarded == [world.learner.id]
    award = awards.existing_award(session, course.definition_id, world.learner.id)
    assert award is not None and award.status is AwardStatus.issued
    again = imports.import_results(session, staff, course.definition_id, GOOD, awarder=awarder)
    assert again.imported == [] and again.unchanged == [2, 3] and again.awarded == []
    assert results(session) == 2


def test_one_bad_row_imports_nothing_unless_partial(
    session: Session, world: World, course: Course, awarder: CredentialAwarder
) -> None:
    text = GOOD + "nobody@example.org,QUIZ-1,50,\nlearner@example.org,PROJECT-1,99,2025-04-01\n"
    staff = principal_of(session, world.staff)
    with pytest.raises(imports.ImportRejected) as rejected:
        imports.import_results(session, staff, course.definition_id, text, awarder=awarder)
    assert [(p.line, p.field) for p in rejected.value.report.problems] == [
        (4, "email"), (5, "score"),
    ]  # fmt: skip
    assert "more than the maximum 6" in rejected.value.report.problems[1].message
    assert results(session) == 0
    report = imports.import_results(
        session, staff, course.definition_id, text, partial=True, awarder=awarder
    )
    assert report.imported == [2, 3] and len(report.problems) == 2 and results(session) == 2


def test_an_assessor_cannot_import(session: Session, world: World, course: Course,
                                   awarder: CredentialAwarder) -> None:  # fmt: skip
    from microcred.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        imports.import_results(
            session, principal_of(session, world.assessor), course.definition_id, GOOD,
            awarder=awarder,
        )  # fmt: skip


def test_the_survey_opens_on_completion_once_per_learner_and_feeds_the_summary(
    session: Session, world: World, course: Course, awarder: CredentialAwarder
) -> None:
    learner = principal_of(session, world.learner)
    with pytest.raises(AttemptRefused, match="completed every assessment"):
        surveys.submit_survey(
            session, learner, course.definition_id, rating=5, would_recommend=True
        )
    staff = principal_of(session, world.staff)
    imports.import_results(session, staff, course.definition_id, GOOD, awarder=awarder)
    with pytest.raises(AssessmentError) as refused:
        surveys.submit_survey(
            session, learner, course.definition_id, rating=6, would_recommend=True
        )
    assert refused.value.field == "rating"
    surveys.submit_survey(
        session, learner, course.definition_id, rating=4, would_recommend=True, comment="Useful"
    )
    with pytest.raises(AttemptRefused, match="already answered"):
        surveys.submit_survey(
            session, learner, course.definition_id, rating=1, would_recommend=False
        )
    summary = surveys.survey_summary(session, course.definition_id)
    assert (summary.responses, summary.average_rating, summary.recommend_percent) == (1, 4.0, 100.0)
    assert summary.ratings == {1: 0, 2: 0, 3: 0, 4: 1, 5: 0} and summary.comments == ["Useful"]


def test_completing_asks_once_for_the_survey(
    session: Session, world: World, course: Course, awarder: CredentialAwarder
) -> None:
    """The award that completes a programme asks its learner for the survey (a notification to
    the survey's form, in the surveys group for e-mail); once answered, nothing asks again."""
    staff = principal_of(session, world.staff)
    imports.import_results(session, staff, course.definition_id, GOOD, awarder=awarder)
    asked = session.scalars(
        select(Notification).where(
            Notification.user_id == world.learner.id, Notification.kind == awards.SURVEY_DUE
        )
    ).all()
    assert [(n.link, n.title.startswith("How was ")) for n in asked] == [
        (awards.survey_link(course.definition_id), True)
    ]
    assert mailing.group_of(awards.SURVEY_DUE) == "surveys"

    learner = principal_of(session, world.learner)
    surveys.submit_survey(session, learner, course.definition_id, rating=5, would_recommend=True)
    definition = catalogue.current_published(session, course.definition_id)
    assert definition is not None
    awards._ask_for_survey(session, definition, world.learner.id, None)  # answered: no ask
    count = select(func.count()).select_from(Notification)
    assert session.scalar(count.where(Notification.kind == awards.SURVEY_DUE)) == 1

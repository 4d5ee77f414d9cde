"""Every refusal the issue lists: a clear message naming the field, and nothing recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microcred.assessment import attempts, reviews, service
from microcred.assessment.awards import CredentialAwarder
from microcred.assessment.errors import (
    AttemptRefused,
    EvidenceRejected,
    EvidenceTooLarge,
    InvalidAssessment,
    ScoreOutOfRubric,
    TimeLimitExceeded,
)
from microcred.assessment.models import (
    AssessmentResult,
    AttemptStatus,
    Mark,
    QuizAttempt,
    Submission,
)
from microcred.assessment.reviews import EvidenceStore, UploadedFile
from microcred.db.base import utcnow
from microcred.errors import PermissionDenied
from tests.assessment.conftest import Course, principal_of, right_answers
from tests.conftest import World

PDF = b"%PDF-1.4\n%%EOF\n"


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_answers_after_the_time_limit_are_refused_and_the_attempt_closes(
    session: Session, world: World, course: Course, awarder: CredentialAwarder
) -> None:
    learner = principal_of(session, world.learner)
    start = utcnow()
    attempt = attempts.start_attempt(session, learner, course.quiz_id, awarder=awarder, now=start)
    assert attempt.deadline is not None
    answers = right_answers(session, attempt.id)
    first = next(iter(answers))
    attempts.save_answers(
        session, learner, attempt.id, {first: answers[first]}, finish=False, awarder=awarder,
        now=start + timedelta(minutes=5),
    )  # fmt: skip
    saved = dict(attempt.answers)  # as stored: numeric answers are normalised to numbers
    assert set(saved) == {first}
    late = start + timedelta(minutes=21)
    with pytest.raises(TimeLimitExceeded, match="time limit ended") as refused:
        attempts.save_answers(
            session, learner, attempt.id, answers, finish=True, awarder=awarder, now=late
        )
    assert refused.value.status_code == 409
    assert attempt.answers == saved
    assert count(session, AssessmentResult) == 0
    assert attempts.close_overdue_attempts(session, world.learner.id, awarder=awarder, now=late)
    assert attempt.status is AttemptStatus.expired
    assert attempt.percent == 25.0 and attempt.passed is False


def test_a_quiz_attempt_beyond_the_attempts_allowed_is_refused(
    session: Session, world: World, course: Course, awarder: CredentialAwarder
) -> None:
    learner = principal_of(session, world.learner)
    for _ in range(2):
        attempt = attempts.start_attempt(session, learner, course.quiz_id, awarder=awarder)
        assert attempts.start_attempt(session, learner, course.quiz_id, awarder=awarder) is attempt
        attempts.save_answers(session, learner, attempt.id, {}, finish=True, awarder=awarder)
    with pytest.raises(AttemptRefused, match="all 2 attempt"):
        attempts.start_attempt(session, learner, course.quiz_id, awarder=awarder)
    assert count(session, QuizAttempt) == 2


def test_each_attempt_draws_its_own_questions_and_answers_must_belong_to_it(
    session: Session, world: World, course: Course, awarder: CredentialAwarder
) -> None:
    learner = principal_of(session, world.learner)
    attempt = attempts.start_attempt(session, learner, course.quiz_id, awarder=awarder)
    assert len(set(attempt.question_ids)) == 4
    with pytest.raises(Exception, match="not part of this attempt") as refused:
        attempts.save_answers(
            session, learner, attempt.id, {"nope": 1}, finish=False, awarder=awarder
        )
    assert getattr(refused.value, "field", None) == "answers.nope"
    single = next(q for q in attempts.attempt_questions(session, attempt) if q.kind == "single")
    with pytest.raises(Exception, match="Option 9 does not exist"):
        attempts.save_answers(
            session, learner, attempt.id, {single.id: 9}, finish=False, awarder=awarder
        )


def test_a_submission_beyond_the_attempts_allowed_is_refused(
    session: Session, world: World, course: Course, awarder: CredentialAwarder,
    store: EvidenceStore,
) -> None:  # fmt: skip
    learner = principal_of(session, world.learner)
    assessor = principal_of(session, world.assessor)
    weak = {"analysis": "weak", "presentation": "unclear"}
    for _ in range(2):
        sent = reviews.submit_evidence(session, learner, course.project_id, text="x", store=store)
        with pytest.raises(AttemptRefused, match="still being reviewed"):
            reviews.submit_evidence(session, learner, course.project_id, text="y", store=store)
        reviews.score_submission(session, assessor, sent.id, levels=weak, awarder=awarder)
        assert sent.passed is False and "below its minimum" in (sent.decision_note or "")
    with pytest.raises(AttemptRefused, match="all 2 submission"):
        reviews.submit_evidence(session, learner, course.project_id, text="z", store=store)
    assert count(session, Submission) == 2


def test_a_score_outside_the_rubric_is_refused(
    session: Session, world: World, course: Course, awarder: CredentialAwarder,
    store: EvidenceStore,
) -> None:  # fmt: skip
    learner = principal_of(session, world.learner)
    sent = reviews.submit_evidence(session, learner, course.project_id, text="x", store=store)
    assessor = principal_of(session, world.assessor)
    bad = [
        ({"analysis": "legendary", "presentation": "clear"}, "levels.analysis"),
        ({"analysis": "good"}, "levels.presentation"),
        ({"analysis": "good", "presentation": "clear", "style": "good"}, "levels.style"),
    ]
    for levels, field in bad:
        with pytest.raises(ScoreOutOfRubric) as refused:
            reviews.score_submission(session, assessor, sent.id, levels=levels, awarder=awarder)
        assert refused.value.field == field and refused.value.status_code == 422
    assert count(session, Mark) == 0 and sent.status.value == "submitted"


def test_assessors_cannot_score_their_own_work_or_another_organisations(
    session: Session, world: World, course: Course, awarder: CredentialAwarder,
    store: EvidenceStore,
) -> None:  # fmt: skip
    from microcred.accounts import service as accounts
    from microcred.accounts.models import Role, User

    assessor_user = session.get(User, world.assessor.id)
    college = accounts.get_organisation(session, "north-college")
    assert assessor_user is not None
    accounts.add_membership(session, assessor_user, college, Role.learner)
    assessor = principal_of(session, world.assessor)
    own = reviews.submit_evidence(session, assessor, course.project_id, text="mine", store=store)
    levels = {"analysis": "good", "presentation": "clear"}
    with pytest.raises(PermissionDenied, match="your own submission"):
        reviews.score_submission(session, assessor, own.id, levels=levels, awarder=awarder)
    outsider = principal_of(session, world.other_staff)
    with pytest.raises(PermissionDenied, match="another organisation"):
        reviews.score_submission(session, outsider, own.id, levels=levels, awarder=awarder)
    assert count(session, Mark) == 0


@pytest.mark.parametrize(
    ("name", "data", "error", "message"),
    [
        ("big.pdf", b"%PDF-" + b"0" * 2_000, EvidenceTooLarge, "at most 1,000 bytes"),
        ("tool.exe", b"MZ\x90\x00", EvidenceRejected, ".exe files are not accepted"),
        ("fake.pdf", b"<html><script>alert(1)</script>", EvidenceRejected, "does not contain"),
        ("page.txt", b"<!DOCTYPE html><p>hi", EvidenceRejected, "does not contain"),
    ],
)
def test_oversized_or_disallowed_files_are_refused_and_nothing_is_stored(
    session: Session, world: World, course: Course, store: EvidenceStore,
    name: str, data: bytes, error: type[Exception], message: str,
) -> None:  # fmt: skip
    learner = principal_of(session, world.learner)
    with pytest.raises(error, match=message):
        reviews.submit_evidence(
            session, learner, course.project_id, text="see files", store=store,
            files=[UploadedFile("ok.pdf", PDF), UploadedFile(name, data)], max_file_bytes=1000,
        )  # fmt: skip
    assert count(session, Submission) == 0
    assert not store.root.exists() or not any(store.root.iterdir())


def test_only_enrolled_learners_take_assessments(
    session: Session, world: World, course: Course, awarder: CredentialAwarder
) -> None:
    outsider = principal_of(session, world.employer)
    with pytest.raises(PermissionDenied, match="enrolled"):
        attempts.start_attempt(session, outsider, course.quiz_id, awarder=awarder)


def test_staff_of_another_organisation_cannot_define_assessments(
    session: Session, world: World, course: Course
) -> None:
    other = principal_of(session, world.other_staff)
    with pytest.raises(PermissionDenied):
        service.create_assessment(
            session, other, course.definition_id,
            {"title": "T", "code": "T-1", "kind": "quiz"},
        )  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "project", "rubric": []}, "rubric"),
        ({"kind": "quiz", "rubric_text": "A\n- B | 1"}, "rubric"),
        ({"kind": "project", "rubric_text": "A\n- B | 1", "min_total": 5}, "min_total"),
        ({"kind": "exam"}, "kind"),
        ({"kind": "quiz", "attempts_allowed": 0}, "attempts_allowed"),
        ({"kind": "project", "rubric_text": "A\n- B | 1", "time_limit_minutes": 5},
         "time_limit_minutes"),
        ({"kind": "quiz", "code": "QUIZ-1"}, "code"),
        ({"kind": "quiz", "colour": "red"}, "colour"),
    ],
)  # fmt: skip
def test_an_assessment_that_makes_no_sense_is_refused_naming_the_field(
    session: Session, world: World, course: Course, changes: dict[str, object], field: str
) -> None:
    raw = {"title": "Another", "code": "OTHER-1", **changes}
    with pytest.raises(InvalidAssessment) as refused:
        service.create_assessment(session, None, course.definition_id, raw)
    assert refused.value.field == field

"""Quiz attempts: a random draw per attempt, a deadline kept by the server, automatic scoring.

The deadline is stored when the attempt starts. Answers that arrive after it (plus a few seconds
of grace for the network) are refused and nothing is written; the attempt is then closed with the
answers saved before the deadline, by :func:`close_overdue_attempts`, which every read runs first.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.accounts.service import Principal
from microcred.assessment.awards import Awarder, award_if_met, record_result
from microcred.assessment.errors import AssessmentError, AttemptRefused, TimeLimitExceeded
from microcred.assessment.models import (
    Assessment,
    AssessmentKind,
    AssessmentResult,
    AttemptStatus,
    Question,
    QuizAttempt,
    ResultSource,
)
from microcred.assessment.quizzes import Answer, coerce_answer, draw_questions, score_quiz
from microcred.assessment.quizzes import Question as QuizQuestion
from microcred.assessment.service import (
    active_questions,
    as_quiz_question,
    aware,
    get_assessment,
    is_published,
    require_enrolled,
)
from microcred.db.base import utcnow
from microcred.errors import NotFound, PermissionDenied

GRACE = timedelta(seconds=10)


def _stored(answer: Answer) -> Any:
    return sorted(answer) if isinstance(answer, frozenset) else answer


def _loaded(question: QuizQuestion, stored: Any) -> Answer:
    if stored is None:
        return None
    if isinstance(stored, list):
        return frozenset(int(i) for i in stored)
    return coerce_answer(question, stored)


def get_attempt(session: Session, principal: Principal, attempt_id: str) -> QuizAttempt:
    """The learner's own attempt (anyone else: not found)."""
    attempt = session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.learner_id != principal.user_id:
        raise NotFound("No such attempt.")
    return attempt


def attempt_questions(session: Session, attempt: QuizAttempt) -> list[QuizQuestion]:
    """The drawn questions in the attempt's order (including any removed from the bank since)."""
    rows = {
        q.id: q
        for q in session.scalars(select(Question).where(Question.id.in_(attempt.question_ids)))
    }
    return [as_quiz_question(rows[qid]) for qid in attempt.question_ids if qid in rows]


def attempts_of(session: Session, learner_id: str, assessment_id: str) -> list[QuizAttempt]:
    return list(
        session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.learner_id == learner_id, QuizAttempt.assessment_id == assessment_id)
            .order_by(QuizAttempt.number)
        )
    )


def _has_passed(session: Session, learner_id: str, assessment_id: str) -> bool:
    return (
        session.scalar(
            select(AssessmentResult.id).where(
                AssessmentResult.learner_id == learner_id,
                AssessmentResult.assessment_id == assessment_id,
                AssessmentResult.passed.is_(True),
                AssessmentResult.withdrawn_at.is_(None),
            )
        )
        is not None
    )


def start_attempt(
    session: Session,
    principal: Principal,
    assessment_id: str,
    *,
    awarder: Awarder,
    now: datetime | None = None,
) -> QuizAttempt:
    """A new attempt with its own draw and deadline, or the one already in progress."""
    now = now or utcnow()
    assessment = get_assessment(session, assessment_id)
    if assessment.kind is not AssessmentKind.quiz:
        raise AssessmentError("This assessment is not a quiz; submit evidence instead.")
    if assessment.archived_at is not None or not is_published(session, assessment):
        raise AttemptRefused("This assessment is not offered at the moment.")
    require_enrolled(principal, assessment)
    close_overdue_attempts(session, principal.user_id, awarder=awarder, now=now)
    previous = attempts_of(session, principal.user_id, assessment.id)
    for attempt in previous:
        if attempt.status is AttemptStatus.open:
            return attempt
    if _has_passed(session, principal.user_id, assessment.id):
        raise AttemptRefused("You have already passed this quiz.")
    if len(previous) >= assessment.attempts_allowed:
        raise AttemptRefused(
            f"You have used all {assessment.attempts_allowed} attempt(s) allowed for this quiz."
        )
    bank = [q.id for q in active_questions(assessment)]
    count = assessment.questions_per_attempt or len(bank)
    if not bank or count > len(bank):
        raise AttemptRefused("This quiz has no questions yet; ask the issuer.")
    seed = secrets.randbits(62)
    attempt = QuizAttempt(
        assessment_id=assessment.id,
        learner_id=principal.user_id,
        number=len(previous) + 1,
        seed=seed,
        question_ids=draw_questions(bank, count, seed),
        answers={},
        status=AttemptStatus.open,
        started_at=now,
        deadline=(
            now + timedelta(minutes=assessment.time_limit_minutes)
            if assessment.time_limit_minutes
            else None
        ),
    )
    session.add(attempt)
    session.flush()
    return attempt


def save_answers(
    session: Session,
    principal: Principal,
    attempt_id: str,
    answers: Mapping[str, Any],
    *,
    finish: bool,
    awarder: Awarder,
    now: datetime | None = None,
) -> QuizAttempt:
    """Save answers (merged over earlier ones); ``finish`` scores the attempt and closes it."""
    now = now or utcnow()
    attempt = get_attempt(session, principal, attempt_id)
    if attempt.status is not AttemptStatus.open:
        raise AttemptRefused("This attempt is closed; its answers can no longer change.")
    if attempt.deadline is not None and now > aware(attempt.deadline) + GRACE:
        raise TimeLimitExceeded(
            f"The time limit ended at {aware(attempt.deadline):%H:%M:%S} UTC; answers sent after "
            "it are not accepted. The attempt has been closed with the answers saved before then.",
            field="answers",
        )
    questions = {q.id: q for q in attempt_questions(session, attempt)}
    merged = dict(attempt.answers)
    for question_id, raw in answers.items():
        question = questions.get(question_id)
        if question is None:
            raise AssessmentError(
                "That question is not part of this attempt.", field=f"answers.{question_id}"
            )
        merged[question_id] = _stored(coerce_answer(question, raw))
    attempt.answers = merged
    if finish:
        _close(session, attempt, AttemptStatus.submitted, now, awarder)
    session.flush()
    return attempt


def _close(
    session: Session, attempt: QuizAttempt, status: AttemptStatus, now: datetime, awarder: Awarder
) -> None:
    assessment: Assessment = get_assessment(session, attempt.assessment_id)
    questions = attempt_questions(session, attempt)
    answers = {q.id: _loaded(q, attempt.answers.get(q.id)) for q in questions}
    score = score_quiz(questions, answers)
    attempt.status = status
    attempt.closed_at = now
    attempt.points, attempt.max_points = score.points, score.max_points
    attempt.percent = score.percent
    attempt.per_question = score.per_question
    attempt.passed = score.percent >= (assessment.min_total or 0.0)
    result = record_result(
        session,
        assessment,
        attempt.learner_id,
        source=ResultSource.quiz,
        source_id=attempt.id,
        score=score.percent,
        max_score=100.0,
        passed=attempt.passed,
        comment=f"{score.points:g} of {score.max_points:g} points, attempt {attempt.number}",
        achieved_at=now,
    )
    attempt.result_id = result.id
    if attempt.passed:
        award_if_met(
            session, attempt.learner_id, assessment.definition_id, awarder=awarder,
            trigger=f"quiz attempt {attempt.id}", now=now,
        )  # fmt: skip


def close_overdue_attempts(
    session: Session, learner_id: str | None, *, awarder: Awarder, now: datetime | None = None
) -> int:
    """Close (and score) every open attempt whose deadline has passed; returns how many."""
    now = now or utcnow()
    query = select(QuizAttempt).where(
        QuizAttempt.status == AttemptStatus.open, QuizAttempt.deadline.is_not(None)
    )
    if learner_id is not None:
        query = query.where(QuizAttempt.learner_id == learner_id)
    closed = 0
    for attempt in session.scalars(query).all():
        assert attempt.deadline is not None
        if now > aware(attempt.deadline) + GRACE:
            _close(session, attempt, AttemptStatus.expired, aware(attempt.deadline), awarder)
            closed += 1
    if closed:
        session.flush()
    return closed


def seconds_left(attempt: QuizAttempt, now: datetime | None = None) -> int | None:
    if attempt.deadline is None:
        return None
    return max(0, int((aware(attempt.deadline) - (now or utcnow())).total_seconds()))


def require_owner(principal: Principal, attempt: QuizAttempt) -> None:
    if attempt.learner_id != principal.user_id:
        raise PermissionDenied("This is not your attempt.")

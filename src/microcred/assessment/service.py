"""Assessment definitions: create and edit assessments, rubrics and question banks; read them.

Writers are issuer staff (or admins) of the definition's issuer with the ``assessment:write``
scope; ``principal=None`` is a trusted system caller (CLI, demo builder). The published rubric of
every assessment of a published definition is public.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microcred.accounts.models import Membership, Role, User
from microcred.accounts.service import Principal, record_audit
from microcred.assessment.errors import AssessmentError, InvalidAssessment
from microcred.assessment.models import (
    ASSESSMENT_KINDS,
    Assessment,
    AssessmentKind,
    AssessmentResult,
    Question,
    QuizAttempt,
    Submission,
)
from microcred.assessment.quizzes import Question as QuizQuestion
from microcred.assessment.quizzes import QuestionKind, check_question, split_lines
from microcred.assessment.rubrics import (
    Rubric,
    build_rubric,
    check_pass_mark,
    parse_rubric_text,
    rubric_to_data,
)
from microcred.catalogue import service as catalogue
from microcred.catalogue.models import CredentialDefinition, DefinitionStatus
from microcred.db.base import utcnow
from microcred.errors import NotFound, PermissionDenied

WRITE_SCOPE = "assessment:write"
MAX_ATTEMPTS = 20
MAX_TIME_LIMIT_MINUTES = 600
MAX_QUESTIONS = 200
CODE_MAX = 60

#: The rubric an attendance assessment gets when none is given.
ATTENDANCE_RUBRIC = [
    {
        "name": "Attendance",
        "minimum": 1,
        "levels": [
            {"name": "Attended", "points": 1, "descriptor": "Took part in the whole workshop"},
            {"name": "Absent", "points": 0, "descriptor": "Did not attend"},
        ],
    }
]


def aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Permissions


def require_staff(principal: Principal | None, issuer_id: str) -> None:
    if principal is not None and not principal.can(issuer_id, Role.issuer_staff, scope=WRITE_SCOPE):
        raise PermissionDenied("Only issuer staff of this organisation may manage its assessments.")


def is_staff(principal: Principal | None, issuer_id: str) -> bool:
    return principal is not None and principal.can(issuer_id, Role.issuer_staff)


def can_review(principal: Principal, assessment: Assessment) -> bool:
    """Staff may always mark; an assessor only when assigned (or when nobody is assigned)."""
    if principal.can(assessment.issuer_id, Role.issuer_staff, scope=WRITE_SCOPE):
        return True
    if not principal.can(assessment.issuer_id, Role.assessor, scope=WRITE_SCOPE):
        return False
    return not assessment.assessor_ids or principal.user_id in assessment.assessor_ids


def require_enrolled(principal: Principal, assessment: Assessment) -> None:
    if not principal.can(assessment.issuer_id, Role.learner):
        raise PermissionDenied(
            "Only learners enrolled with the issuing organisation may take its assessments."
        )


# ---------------------------------------------------------------------------------------------
# Reading


def get_assessment(session: Session, assessment_id: str) -> Assessment:
    assessment = session.get(Assessment, assessment_id)
    if assessment is None:
        raise NotFound(f"No assessment '{assessment_id}'.")
    return assessment


def assessments_for_definition(
    session: Session, definition_id: str, *, include_archived: bool = False
) -> list[Assessment]:
    query = select(Assessment).where(Assessment.definition_id == definition_id)
    if not include_archived:
        query = query.where(Assessment.archived_at.is_(None))
    return list(session.scalars(query.order_by(Assessment.position, Assessment.created_at)))


def published_assessments(session: Session, definition_id: str) -> list[Assessment]:
    """The assessments shown on a published definition's page (its published rubric)."""
    if catalogue.current_published(session, definition_id) is None:
        return []
    return assessments_for_definition(session, definition_id)


def is_published(session: Session, assessment: Assessment) -> bool:
    return catalogue.current_published(session, assessment.definition_id) is not None


def rubric_of(assessment: Assessment) -> Rubric | None:
    return build_rubric(assessment.rubric) if assessment.rubric else None


def max_score(assessment: Assessment) -> float:
    """The best possible score: 100 (per cent) for a quiz, the rubric's best total otherwise."""
    rubric = rubric_of(assessment)
    return 100.0 if assessment.kind is AssessmentKind.quiz or rubric is None else rubric.max_total


def active_questions(assessment: Assessment) -> list[Question]:
    return [q for q in assessment.questions if q.archived_at is None]


def as_quiz_question(question: Question) -> QuizQuestion:
    return QuizQuestion(
        id=question.id,
        kind=QuestionKind(question.kind),
        prompt=question.prompt,
        points=question.points,
        options=tuple(question.options),
        correct=tuple(question.correct),
        answer=question.answer,
        tolerance=question.tolerance,
        accepted=tuple(question.accepted),
    )


def definition_for(
    session: Session, definition_id: str, principal: Principal | None
) -> CredentialDefinition:
    """The newest version the caller may see (drafts for the issuer's staff)."""
    return catalogue.get_definition(session, definition_id, principal=principal)


# ---------------------------------------------------------------------------------------------
# Input


@dataclass
class AssessmentInput:
    """A checked assessment, ready to store."""

    title: str
    code: str
    kind: AssessmentKind
    description: str
    rubric: list[dict[str, Any]]
    min_total: float | None
    attempts_allowed: int
    time_limit_minutes: int | None
    questions_per_attempt: int | None
    second_marking: bool
    moderation_threshold: float
    assessor_ids: list[str]


def _text(raw: Mapping[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    value = (
        " ".join(str(raw.get(name) or "").split())
        if name != "description"
        else str(raw.get(name) or "").strip()
    )
    if required and not value:
        raise InvalidAssessment(f"{name} is required.", field=name)
    if len(value) > limit:
        raise InvalidAssessment(f"{name} has at most {limit} characters.", field=name)
    return value


def _int(raw: Mapping[str, Any], name: str, low: int, high: int, default: int | None) -> int | None:
    value = raw.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidAssessment(f"{name} must be a whole number.", field=name) from None
    if not low <= number <= high:
        raise InvalidAssessment(f"{name} must be from {low} to {high}.", field=name)
    return number


def _float(raw: Mapping[str, Any], name: str) -> float | None:
    value = raw.get(name)
    if value in (None, ""):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        raise InvalidAssessment(f"{name} must be a number.", field=name) from None
    if not math.isfinite(number) or number < 0:
        raise InvalidAssessment(f"{name} must be 0 or more.", field=name)
    return number


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "on", "y"}


def parse_assessment(raw: Mapping[str, Any]) -> AssessmentInput:
    """Loose input (form or JSON) into a checked assessment; the first problem names its field."""
    unknown = sorted(set(raw) - set(AssessmentInput.__dataclass_fields__) - {"rubric_text"})
    if unknown:
        raise InvalidAssessment(f"Unknown field '{unknown[0]}'.", field=unknown[0])
    title = _text(raw, "title", 200, required=True)
    code = _text(raw, "code", CODE_MAX, required=True)
    if " " in code:
        raise InvalidAssessment("code has no spaces (e.g. PROJECT-1).", field="code")
    try:
        kind = AssessmentKind(str(raw.get("kind") or ""))
    except ValueError:
        raise InvalidAssessment(
            f"kind must be one of {', '.join(k.value for k in AssessmentKind)}.", field="kind"
        ) from None
    rubric: Rubric | None = None
    if raw.get("rubric_text"):
        rubric = parse_rubric_text(str(raw["rubric_text"]))
    elif raw.get("rubric"):
        if not isinstance(raw["rubric"], list):
            raise InvalidAssessment("rubric must be a list of criteria.", field="rubric")
        rubric = build_rubric(raw["rubric"])
    if kind is AssessmentKind.attendance and rubric is None:
        rubric = build_rubric(ATTENDANCE_RUBRIC)
    if kind is AssessmentKind.quiz:
        if rubric is not None:
            raise InvalidAssessment(
                "A quiz is scored from its questions; leave the rubric empty.", field="rubric"
            )
    elif rubric is None:
        raise InvalidAssessment(
            f"A {ASSESSMENT_KINDS[kind].lower()} is scored with a rubric; add its criteria.",
            field="rubric",
        )
    min_total = _float(raw, "min_total")
    check_pass_mark(rubric, min_total, 100.0)
    time_limit = _int(raw, "time_limit_minutes", 1, MAX_TIME_LIMIT_MINUTES, None)
    per_attempt = _int(raw, "questions_per_attempt", 1, MAX_QUESTIONS, None)
    if kind is not AssessmentKind.quiz and (time_limit or per_attempt):
        raise InvalidAssessment(
            "Only a quiz has a time limit and a number of questions per attempt.",
            field="time_limit_minutes" if time_limit else "questions_per_attempt",
        )
    second_marking = _bool(raw.get("second_marking"))
    if second_marking and kind is AssessmentKind.quiz:
        raise InvalidAssessment("A quiz is marked automatically.", field="second_marking")
    assessor_ids = raw.get("assessor_ids") or []
    if isinstance(assessor_ids, str):
        assessor_ids = split_lines(assessor_ids.replace(",", "\n"))
    if not isinstance(assessor_ids, list):
        raise InvalidAssessment("assessor_ids must be a list.", field="assessor_ids")
    return AssessmentInput(
        title=title,
        code=code,
        kind=kind,
        description=_text(raw, "description", 10_000),
        rubric=rubric_to_data(rubric) if rubric is not None else [],
        min_total=min_total,
        attempts_allowed=_int(raw, "attempts_allowed", 1, MAX_ATTEMPTS, 1) or 1,
        time_limit_minutes=time_limit,
        questions_per_attempt=per_attempt,
        second_marking=second_marking,
        moderation_threshold=_float(raw, "moderation_threshold") or 0.0,
        assessor_ids=[str(a).strip() for a in assessor_ids if str(a).strip()],
    )


def assessment_input_of(assessment: Assessment) -> dict[str, Any]:
    """A stored assessment back as input, to merge a partial change over it."""
    return {name: getattr(assessment, name) for name in AssessmentInput.__dataclass_fields__} | {
        "kind": assessment.kind.value
    }


def _resolve_assessors(session: Session, issuer_id: str, names: Sequence[str]) -> list[str]:
    """User ids for e-mail addresses or ids; each must be an assessor or staff of the issuer."""
    resolved: list[str] = []
    for name in names:
        user = session.scalar(select(User).where((User.email == name.lower()) | (User.id == name)))
        roles = set()
        if user is not None:
            roles = set(
                session.scalars(
                    select(Membership.role).where(
                        Membership.user_id == user.id, Membership.organisation_id == issuer_id
                    )
                )
            )
        if user is None or not roles & {Role.assessor, Role.issuer_staff, Role.admin}:
            raise InvalidAssessment(
                f"'{name}' is not an assessor of this organisation.", field="assessor_ids"
            )
        if user.id not in resolved:
            resolved.append(user.id)
    return resolved


# ---------------------------------------------------------------------------------------------
# Writing


def _check_code_free(
    session: Session, definition_id: str, code: str, assessment_id: str | None
) -> None:
    clash = session.scalar(
        select(Assessment.id).where(
            Assessment.definition_id == definition_id,
            func.lower(Assessment.code) == code.lower(),
            Assessment.id != (assessment_id or ""),
        )
    )
    if clash is not None:
        raise InvalidAssessment(
            f"The code '{code}' is already used by another assessment of this definition.",
            field="code",
        )


def _check_quiz_bank(assessment: Assessment) -> None:
    count = len(active_questions(assessment))
    if assessment.questions_per_attempt and count and assessment.questions_per_attempt > count:
        raise InvalidAssessment(
            f"questions_per_attempt is {assessment.questions_per_attempt} but the bank has "
            f"{count} question(s).",
            field="questions_per_attempt",
        )


def _apply(session: Session, assessment: Assessment, data: AssessmentInput) -> None:
    assessor_ids = _resolve_assessors(session, assessment.issuer_id, data.assessor_ids)
    for name in AssessmentInput.__dataclass_fields__:
        setattr(assessment, name, getattr(data, name))
    assessment.assessor_ids = assessor_ids


def create_assessment(
    session: Session,
    principal: Principal | None,
    definition_id: str,
    raw: Mapping[str, Any],
) -> Assessment:
    definition = definition_for(session, definition_id, principal)
    require_staff(principal, definition.issuer_id)
    data = parse_assessment(raw)
    _check_code_free(session, definition_id, data.code, None)
    position = len(assessments_for_definition(session, definition_id, include_archived=True))
    assessment = Assessment(
        definition_id=definition_id, issuer_id=definition.issuer_id, position=position
    )
    _apply(session, assessment, data)
    session.add(assessment)
    session.flush()
    _audit(session, principal, "assessment.create", assessment)
    return assessment


def update_assessment(
    session: Session, principal: Principal | None, assessment_id: str, changes: Mapping[str, Any]
) -> Assessment:
    assessment = get_assessment(session, assessment_id)
    require_staff(principal, assessment.issuer_id)
    merged = assessment_input_of(assessment)
    if "rubric_text" in changes:
        merged.pop("rubric")
    data = parse_assessment({**merged, **changes})
    if data.kind is not assessment.kind and _has_activity(session, assessment):
        raise InvalidAssessment(
            "Learners have already taken this assessment; its kind cannot change.", field="kind"
        )
    _check_code_free(session, assessment.definition_id, data.code, assessment.id)
    _apply(session, assessment, data)
    _check_quiz_bank(assessment)
    session.flush()
    _audit(session, principal, "assessment.update", assessment, fields=sorted(changes))
    return assessment


def _has_activity(session: Session, assessment: Assessment) -> bool:
    return any(
        session.scalar(select(func.count()).where(model.assessment_id == assessment.id))
        for model in (QuizAttempt, Submission, AssessmentResult)
    )


@dataclass(frozen=True)
class AssessmentActivity:
    """Which lineages have assessments, and when each learner first worked on each one's."""

    assessed: set[str]
    first: dict[tuple[str, str], datetime]
    """(definition_id, learner_id) → the first quiz attempt, submission or recorded result."""


def assessment_activity(session: Session, definition_ids: Sequence[str]) -> AssessmentActivity:
    """When learners started on these lineages (read for the outcome KPIs)."""
    if not definition_ids:
        return AssessmentActivity(set(), {})
    lineage = dict(
        session.execute(
            select(Assessment.id, Assessment.definition_id).where(
                Assessment.definition_id.in_(list(definition_ids))
            )
        ).all()
    )
    first: dict[tuple[str, str], datetime] = {}
    for model, moment in (
        (QuizAttempt, QuizAttempt.started_at),
        (Submission, Submission.submitted_at),
        (AssessmentResult, AssessmentResult.achieved_at),
    ):
        rows = session.execute(
            select(model.assessment_id, model.learner_id, func.min(moment))
            .where(model.assessment_id.in_(list(lineage)))
            .group_by(model.assessment_id, model.learner_id)
        ).all()
        for assessment_id, learner_id, at in rows:
            key = (lineage[assessment_id], learner_id)
            started = aware(at)
            first[key] = min(first.get(key, started), started)
    return AssessmentActivity(set(lineage.values()), first)


def archive_assessment(
    session: Session, principal: Principal | None, assessment_id: str
) -> Assessment:
    """Stop offering the assessment; results already recorded stay."""
    assessment = get_assessment(session, assessment_id)
    require_staff(principal, assessment.issuer_id)
    if assessment.archived_at is None:
        assessment.archived_at = utcnow()
        _audit(session, principal, "assessment.archive", assessment)
    return assessment


def parse_question(raw: Mapping[str, Any], question_id: str = "new") -> QuizQuestion:
    """A checked quiz question from a form or JSON (options and answers one per line or a list)."""

    def items(name: str) -> list[str]:
        value = raw.get(name)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return split_lines(value)
        if isinstance(value, list):
            return [str(item).strip() for item in value if str(item).strip()]
        raise InvalidAssessment(f"{name} must be a list or one item per line.", field=name)

    try:
        kind = QuestionKind(str(raw.get("kind") or ""))
    except ValueError:
        raise InvalidAssessment(
            f"kind must be one of {', '.join(k.value for k in QuestionKind)}.", field="kind"
        ) from None
    correct: list[int] = []
    for item in items("correct"):
        try:
            correct.append(int(item) - (1 if isinstance(raw.get("correct"), str) else 0))
        except ValueError:
            raise InvalidAssessment(f"'{item}' is not an option number.", field="correct") from None
    answer = _float_any(raw, "answer")
    return check_question(
        QuizQuestion(
            id=question_id,
            kind=kind,
            prompt=str(raw.get("prompt") or "").strip(),
            points=_float_any(raw, "points", 1.0) or 0.0,
            options=tuple(items("options")),
            correct=tuple(sorted(set(correct))),
            answer=answer,
            tolerance=_float_any(raw, "tolerance", 0.0) or 0.0,
            accepted=tuple(items("accepted")),
        )
    )


def _float_any(raw: Mapping[str, Any], name: str, default: float | None = None) -> float | None:
    value = raw.get(name)
    if value in (None, ""):
        return default
    try:
        return float(str(value).strip())
    except ValueError:
        raise InvalidAssessment(f"{name} must be a number.", field=name) from None


def add_question(
    session: Session, principal: Principal | None, assessment_id: str, raw: Mapping[str, Any]
) -> Question:
    """Correct options are 1-based when typed in a form (a string), 0-based in a JSON list."""
    assessment = get_assessment(session, assessment_id)
    require_staff(principal, assessment.issuer_id)
    if assessment.kind is not AssessmentKind.quiz:
        raise AssessmentError("Only a quiz has a question bank.", field="kind")
    if len(active_questions(assessment)) >= MAX_QUESTIONS:
        raise InvalidAssessment(f"A bank holds at most {MAX_QUESTIONS} questions.", field="prompt")
    checked = parse_question(raw)
    question = Question(
        kind=checked.kind.value,
        prompt=checked.prompt,
        points=checked.points,
        options=list(checked.options),
        correct=list(checked.correct),
        answer=checked.answer,
        tolerance=checked.tolerance,
        accepted=list(checked.accepted),
        position=len(assessment.questions),
    )
    assessment.questions.append(question)
    session.flush()
    _audit(session, principal, "assessment.question.add", assessment, question_id=question.id)
    return question


def remove_question(session: Session, principal: Principal | None, question_id: str) -> Question:
    """Take a question out of the bank; attempts that drew it keep it."""
    question = session.get(Question, question_id)
    if question is None:
        raise NotFound(f"No question '{question_id}'.")
    assessment = question.assessment
    require_staff(principal, assessment.issuer_id)
    remaining = len(active_questions(assessment)) - (question.archived_at is None)
    if assessment.questions_per_attempt and remaining < assessment.questions_per_attempt:
        raise InvalidAssessment(
            f"Each attempt draws {assessment.questions_per_attempt} questions; keep at least "
            "that many in the bank.",
            field="questions_per_attempt",
        )
    question.archived_at = question.archived_at or utcnow()
    _audit(session, principal, "assessment.question.remove", assessment, question_id=question.id)
    return question


def _audit(
    session: Session,
    principal: Principal | None,
    action: str,
    assessment: Assessment,
    **details: Any,
) -> None:
    record_audit(
        session,
        principal,
        action,
        organisation_id=assessment.issuer_id,
        object_type="assessment",
        object_id=assessment.id,
        details={"definition_id": assessment.definition_id, "code": assessment.code, **details},
    )


def user_of(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def managed_definition_ids(session: Session, principal: Principal) -> list[CredentialDefinition]:
    """Definitions whose assessments the principal may manage (for the staff pages)."""
    return catalogue.managed_definitions(session, principal)


def published_status(definition: CredentialDefinition) -> bool:
    return definition.status is DefinitionStatus.published

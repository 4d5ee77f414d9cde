"""Pydantic models of the assessment JSON API (the OpenAPI document is built from them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from microcred.assessment.models import Assessment, QuizAttempt, Submission
from microcred.assessment.quizzes import Question as QuizQuestion


class LevelIn(BaseModel):
    name: str = Field(max_length=200)
    points: float = Field(ge=0, le=1000)
    descriptor: str = Field(default="", max_length=2000)


class CriterionIn(BaseModel):
    name: str = Field(max_length=200)
    minimum: float | None = Field(default=None, ge=0, description="Fewest points that pass")
    levels: list[LevelIn] = Field(min_length=1, max_length=10)


class AssessmentIn(BaseModel):
    """Fields left out keep their value on PATCH."""

    title: str | None = Field(default=None, max_length=200)
    code: str | None = Field(default=None, max_length=60, description="Unique per definition")
    kind: str | None = Field(
        default=None, description="quiz, project, practical, portfolio, attendance, experiential"
    )
    description: str | None = None
    rubric: list[CriterionIn] | None = Field(default=None, description="Criteria × levels")
    rubric_text: str | None = Field(
        default=None, description="The rubric as text: 'Criterion | min N' then '- Level | pts'"
    )
    min_total: float | None = Field(
        default=None, ge=0, description="Pass mark: rubric points, or per cent for a quiz"
    )
    attempts_allowed: int | None = Field(default=None, ge=1, le=20)
    time_limit_minutes: int | None = Field(default=None, ge=1, le=600)
    questions_per_attempt: int | None = Field(default=None, ge=1, le=200)
    second_marking: bool | None = None
    moderation_threshold: float | None = Field(default=None, ge=0)
    assessor_ids: list[str] | None = Field(default=None, description="User ids or e-mails")

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class QuestionIn(BaseModel):
    kind: str = Field(description="single, multiple, numeric, text")
    prompt: str = Field(max_length=4000)
    points: float = Field(default=1.0, gt=0, le=100)
    options: list[str] = Field(default_factory=list)
    correct: list[int] = Field(default_factory=list, description="0-based option indexes")
    answer: float | None = None
    tolerance: float = Field(default=0.0, ge=0)
    accepted: list[str] = Field(default_factory=list, description="Accepted short answers")


class QuestionOut(QuestionIn):
    id: str


class AssessmentOut(BaseModel):
    id: str
    definition_id: str
    code: str
    title: str
    kind: str
    description: str
    rubric: list[dict[str, Any]]
    min_total: float | None
    attempts_allowed: int
    time_limit_minutes: int | None
    questions_per_attempt: int | None
    second_marking: bool
    moderation_threshold: float
    question_count: int
    url: str

    @classmethod
    def of(cls, assessment: Assessment, base_url: str) -> AssessmentOut:
        return cls(
            id=assessment.id, definition_id=assessment.definition_id, code=assessment.code,
            title=assessment.title, kind=assessment.kind.value,
            description=assessment.description, rubric=assessment.rubric,
            min_total=assessment.min_total, attempts_allowed=assessment.attempts_allowed,
            time_limit_minutes=assessment.time_limit_minutes,
            questions_per_attempt=assessment.questions_per_attempt,
            second_marking=assessment.second_marking,
            moderation_threshold=assessment.moderation_threshold,
            question_count=len([q for q in assessment.questions if q.archived_at is None]),
            url=f"{base_url.rstrip('/')}/assessments/{assessment.id}",
        )  # fmt: skip


class AttemptQuestionOut(BaseModel):
    id: str
    kind: str
    prompt: str
    points: float
    options: list[str]


class AttemptOut(BaseModel):
    id: str
    assessment_id: str
    number: int
    status: str
    started_at: datetime
    deadline: datetime | None
    seconds_left: int | None
    questions: list[AttemptQuestionOut]
    answers: dict[str, Any]
    percent: float | None
    passed: bool | None

    @classmethod
    def of(
        cls, attempt: QuizAttempt, questions: list[QuizQuestion], seconds_left: int | None
    ) -> AttemptOut:
        return cls(
            id=attempt.id, assessment_id=attempt.assessment_id, number=attempt.number,
            status=attempt.status.value, started_at=attempt.started_at,
            deadline=attempt.deadline, seconds_left=seconds_left,
            questions=[
                AttemptQuestionOut(
                    id=q.id, kind=q.kind.value, prompt=q.prompt, points=q.points,
                    options=list(q.options),
                )
                for q in questions
            ],
            answers=attempt.answers, percent=attempt.percent, passed=attempt.passed,
        )  # fmt: skip


class AnswersIn(BaseModel):
    answers: dict[str, Any] = Field(
        default_factory=dict,
        description="Question id → option index, list of indexes, number or text",
    )
    finish: bool = Field(default=False, description="Submit the attempt for scoring")


class EvidenceItemOut(BaseModel):
    id: str
    kind: str
    name: str
    url: str | None
    size: int | None


class CriterionFeedbackOut(BaseModel):
    criterion: str
    level: str
    points: float
    feedback: str


class SubmissionOut(BaseModel):
    id: str
    assessment_id: str
    learner_id: str
    number: int
    status: str
    submitted_at: datetime
    text: str
    items: list[EvidenceItemOut]
    total: float | None
    passed: bool | None
    decision_note: str | None
    feedback: list[CriterionFeedbackOut] = Field(
        default_factory=list, description="Per criterion, once decided"
    )

    @classmethod
    def of(cls, submission: Submission, feedback: list[CriterionFeedbackOut]) -> SubmissionOut:
        return cls(
            id=submission.id, assessment_id=submission.assessment_id,
            learner_id=submission.learner_id, number=submission.number,
            status=submission.status.value, submitted_at=submission.submitted_at,
            text=submission.text,
            items=[
                EvidenceItemOut(id=i.id, kind=i.kind, name=i.name, url=i.url, size=i.size)
                for i in submission.items
            ],
            total=submission.total, passed=submission.passed,
            decision_note=submission.decision_note, feedback=feedback,
        )  # fmt: skip


class MarkIn(BaseModel):
    levels: dict[str, str] = Field(description="Criterion id → level id")
    feedback: dict[str, str] = Field(default_factory=dict, description="Criterion id → feedback")
    comment: str = Field(default="", description="Overall comment; a moderator's reason")


class QueueItemOut(BaseModel):
    submission_id: str
    assessment_id: str
    assessment_title: str
    definition_id: str
    learner_name: str
    submitted_at: datetime
    status: str
    stage: str | None
    can_mark: bool


class RequirementOut(BaseModel):
    assessment_id: str
    title: str
    state: str
    attempts_left: int


class DryRunRowOut(BaseModel):
    learner_id: str
    learner_name: str
    learner_email: str
    met: bool
    reason: str
    would_award: bool
    award_status: str | None
    requirements: list[RequirementOut]


class AwardOut(BaseModel):
    learner_id: str
    met: bool
    award_status: str | None
    credential_id: str | None


class WithdrawIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class ResultOut(BaseModel):
    id: str
    assessment_id: str
    learner_id: str
    source: str
    score: float
    max_score: float
    passed: bool
    withdrawn: bool


class RowProblemOut(BaseModel):
    line: int
    field: str
    message: str


class ImportOut(BaseModel):
    written: bool
    imported: list[int]
    unchanged: list[int]
    problems: list[RowProblemOut]
    awarded: list[str]
    summary: str


class SurveyIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    would_recommend: bool
    comment: str = Field(default="", max_length=2000)


class SurveySummaryOut(BaseModel):
    definition_id: str
    responses: int
    average_rating: float | None
    recommend_percent: float | None
    ratings: dict[int, int]
    comments: list[str]


class MyDefinitionOut(BaseModel):
    definition_id: str
    name: str
    met: bool
    award_status: str | None
    credential_id: str | None
    requirements: list[RequirementOut]

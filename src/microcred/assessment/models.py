"""Assessment tables: assessments with rubrics, questions, quiz attempts, evidence submissions,
marks, results (the single source that award rules read), awards and satisfaction surveys.

Assessments belong to a definition *lineage* (``definition_id``), so they carry over to new
versions; an award records the version it was issued against.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from microcred.db.base import Base, TimestampMixin, id_column, utcnow
from microcred.i18n import N_


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20)


class AssessmentKind(enum.StrEnum):
    quiz = "quiz"
    project = "project"
    practical = "practical"
    portfolio = "portfolio"
    attendance = "attendance"
    experiential = "experiential"


ASSESSMENT_KINDS = {
    AssessmentKind.quiz: N_("Quiz / exam"),
    AssessmentKind.project: N_("Project"),
    AssessmentKind.practical: N_("Practical demonstration"),
    AssessmentKind.portfolio: N_("Portfolio"),
    AssessmentKind.attendance: N_("Workshop attendance"),
    AssessmentKind.experiential: N_("Experiential learning (signed off by a supervisor)"),
}


class AttemptStatus(enum.StrEnum):
    open = "open"
    submitted = "submitted"
    expired = "expired"  # closed by the server at the deadline


class SubmissionStatus(enum.StrEnum):
    submitted = "submitted"  # waiting for the first mark
    awaiting_second = "awaiting_second"
    in_moderation = "in_moderation"
    decided = "decided"


class MarkStage(enum.StrEnum):
    first = "first"
    second = "second"
    moderation = "moderation"


class ResultSource(enum.StrEnum):
    quiz = "quiz"
    review = "review"
    gradebook = "gradebook"


class AwardStatus(enum.StrEnum):
    issued = "issued"
    failed = "failed"  # issuance refused (e.g. no signing key); retried on the next evaluation
    revoked = "revoked"


class Assessment(TimestampMixin, Base):
    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("definition_id", "code"),)

    id: Mapped[str] = id_column()
    definition_id: Mapped[str] = mapped_column(String(32), index=True)
    issuer_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(60), doc="Natural key, e.g. in gradebook imports")
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AssessmentKind] = mapped_column(_enum(AssessmentKind))
    description: Mapped[str] = mapped_column(Text, default="")
    rubric: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    min_total: Mapped[float | None] = mapped_column(
        Float, default=None, doc="Pass mark: rubric points, or per cent for a quiz"
    )
    attempts_allowed: Mapped[int] = mapped_column(Integer, default=1)
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    questions_per_attempt: Mapped[int | None] = mapped_column(Integer, default=None)
    second_marking: Mapped[bool] = mapped_column(Boolean, default=False)
    moderation_threshold: Mapped[float] = mapped_column(Float, default=0.0)
    assessor_ids: Mapped[list[str]] = mapped_column(
        JSON, default=list, doc="Assigned assessors; empty means every assessor of the issuer"
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    questions: Mapped[list[Question]] = relationship(
        back_populates="assessment",
        cascade="all, delete-orphan",
        order_by="Question.position",
        lazy="selectin",
    )


class Question(TimestampMixin, Base):
    __tablename__ = "assessment_questions"

    id: Mapped[str] = id_column()
    assessment_id: Mapped[str] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(Text)
    points: Mapped[float] = mapped_column(Float, default=1.0)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    correct: Mapped[list[int]] = mapped_column(JSON, default=list)
    answer: Mapped[float | None] = mapped_column(Float, default=None)
    tolerance: Mapped[float] = mapped_column(Float, default=0.0)
    accepted: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    archived_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None, doc="Removed from the bank; past attempts keep it"
    )

    assessment: Mapped[Assessment] = relationship(back_populates="questions")


class QuizAttempt(Base):
    __tablename__ = "quiz_attempts"
    __table_args__ = (UniqueConstraint("assessment_id", "learner_id", "number"),)

    id: Mapped[str] = id_column()
    assessment_id: Mapped[str] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    learner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    question_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[AttemptStatus] = mapped_column(_enum(AttemptStatus), default=AttemptStatus.open)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    points: Mapped[float | None] = mapped_column(Float, default=None)
    max_points: Mapped[float | None] = mapped_column(Float, default=None)
    percent: Mapped[float | None] = mapped_column(Float, default=None)
    passed: Mapped[bool | None] = mapped_column(Boolean, default=None)
    per_question: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    result_id: Mapped[str | None] = mapped_column(String(32), default=None)


class Submission(Base):
    __tablename__ = "assessment_submissions"
    __table_args__ = (UniqueConstraint("assessment_id", "learner_id", "number"),)

    id: Mapped[str] = id_column()
    assessment_id: Mapped[str] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    learner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SubmissionStatus] = mapped_column(
        _enum(SubmissionStatus), default=SubmissionStatus.submitted, index=True
    )
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    evidence_token: Mapped[str] = mapped_column(String(64), unique=True)
    total: Mapped[float | None] = mapped_column(Float, default=None)
    passed: Mapped[bool | None] = mapped_column(Boolean, default=None)
    final_mark_id: Mapped[str | None] = mapped_column(String(32), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    decided_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    decision_note: Mapped[str | None] = mapped_column(Text, default=None)
    result_id: Mapped[str | None] = mapped_column(String(32), default=None)

    items: Mapped[list[EvidenceItem]] = relationship(
        cascade="all, delete-orphan", order_by="EvidenceItem.position", lazy="selectin"
    )
    marks: Mapped[list[Mark]] = relationship(
        cascade="all, delete-orphan", order_by="Mark.created_at", lazy="selectin"
    )


class EvidenceItem(Base):
    """A file or a link of a submission (its free text lives on the submission)."""

    __tablename__ = "evidence_items"

    id: Mapped[str] = id_column()
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("assessment_submissions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # file | link
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(1000), default=None)
    stored_name: Mapped[str | None] = mapped_column(String(64), default=None)
    content_type: Mapped[str | None] = mapped_column(String(120), default=None)
    size: Mapped[int | None] = mapped_column(Integer, default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Mark(Base):
    """One assessor's scoring of a submission: a level and feedback per criterion."""

    __tablename__ = "assessment_marks"
    __table_args__ = (UniqueConstraint("submission_id", "stage"),)

    id: Mapped[str] = id_column()
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("assessment_submissions.id", ondelete="CASCADE"), index=True
    )
    assessor_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    stage: Mapped[MarkStage] = mapped_column(_enum(MarkStage))
    levels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    feedback: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    total: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AssessmentResult(Base):
    """A final outcome of one assessment for one learner, whatever produced it."""

    __tablename__ = "assessment_results"

    id: Mapped[str] = id_column()
    assessment_id: Mapped[str] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    learner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    source: Mapped[ResultSource] = mapped_column(_enum(ResultSource))
    source_id: Mapped[str | None] = mapped_column(String(32), default=None)
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    levels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    achieved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    import_key: Mapped[str | None] = mapped_column(
        String(200), unique=True, default=None, doc="Natural key of a gradebook row"
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, default=None)
    withdrawn_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class Award(Base):
    """A credential issued because every requirement was met; at most one per learner and
    definition version (the idempotency key)."""

    __tablename__ = "assessment_awards"

    id: Mapped[str] = id_column()
    definition_id: Mapped[str] = mapped_column(String(32), index=True)
    definition_version: Mapped[int] = mapped_column(Integer)
    learner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[AwardStatus] = mapped_column(_enum(AwardStatus))
    credential_id: Mapped[str | None] = mapped_column(String(200), default=None)
    result_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    awarded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class SurveyResponse(Base):
    __tablename__ = "assessment_survey_responses"
    __table_args__ = (UniqueConstraint("definition_id", "learner_id"),)

    id: Mapped[str] = id_column()
    definition_id: Mapped[str] = mapped_column(String(32), index=True)
    learner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    would_recommend: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

"""The satisfaction survey offered on completion, and its summary for the programme KPIs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microcred.accounts.service import Principal
from microcred.assessment.awards import evaluate_learner
from microcred.assessment.errors import AssessmentError, AttemptRefused
from microcred.assessment.models import SurveyResponse
from microcred.catalogue import service as catalogue

MAX_COMMENT = 2000


def survey_response(session: Session, learner_id: str, definition_id: str) -> SurveyResponse | None:
    return session.scalar(
        select(SurveyResponse).where(
            SurveyResponse.learner_id == learner_id, SurveyResponse.definition_id == definition_id
        )
    )


def submit_survey(
    session: Session,
    principal: Principal,
    definition_id: str,
    *,
    rating: int,
    would_recommend: bool,
    comment: str = "",
) -> SurveyResponse:
    """One response per learner and definition, once every requirement is met."""
    catalogue.get_published(session, definition_id)
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise AssessmentError("Rate from 1 (poor) to 5 (excellent).", field="rating")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise AssessmentError(f"At most {MAX_COMMENT} characters.", field="comment")
    if not evaluate_learner(session, principal.user_id, definition_id).met:
        raise AttemptRefused("The survey opens when you have completed every assessment.")
    if survey_response(session, principal.user_id, definition_id) is not None:
        raise AttemptRefused("You have already answered this survey. Thank you!")
    response = SurveyResponse(
        definition_id=definition_id,
        learner_id=principal.user_id,
        rating=rating,
        would_recommend=would_recommend,
        comment=comment,
    )
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:
        raise AttemptRefused("You have already answered this survey. Thank you!") from None
    return response


@dataclass(frozen=True)
class SurveySummary:
    definition_id: str
    responses: int
    average_rating: float | None
    recommend_percent: float | None
    ratings: dict[int, int] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)  # newest first


def survey_summary(session: Session, definition_id: str, comments: int = 20) -> SurveySummary:
    """Satisfaction KPIs of a definition (all versions)."""
    rows = list(
        session.scalars(
            select(SurveyResponse)
            .where(SurveyResponse.definition_id == definition_id)
            .order_by(SurveyResponse.created_at.desc())
        )
    )
    counts = Counter(row.rating for row in rows)
    return SurveySummary(
        definition_id=definition_id,
        responses=len(rows),
        average_rating=round(sum(r.rating for r in rows) / len(rows), 2) if rows else None,
        recommend_percent=(
            round(100 * sum(r.would_recommend for r in rows) / len(rows), 1) if rows else None
        ),
        ratings={score: counts.get(score, 0) for score in range(1, 6)},
        comments=[row.comment for row in rows if row.comment][:comments],
    )


@dataclass(frozen=True)
class SurveyAnswer:
    definition_id: str
    learner_id: str
    rating: int
    would_recommend: bool


def survey_answers(session: Session, definition_ids: Sequence[str]) -> list[SurveyAnswer]:
    """Every learner's answer for these lineages, without comments (read for outcome KPIs)."""
    if not definition_ids:
        return []
    rows = session.execute(
        select(
            SurveyResponse.definition_id,
            SurveyResponse.learner_id,
            SurveyResponse.rating,
            SurveyResponse.would_recommend,
        ).where(SurveyResponse.definition_id.in_(list(definition_ids)))
    ).all()
    return [SurveyAnswer(*row) for row in rows]

"""The learner's view: every definition they can work towards, with what is left to do."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.accounts.models import Role
from microcred.accounts.service import Principal
from microcred.assessment.attempts import close_overdue_attempts
from microcred.assessment.awards import Awarder, awards_of_learner, evaluate_learner
from microcred.assessment.models import (
    Assessment,
    AssessmentResult,
    Award,
    QuizAttempt,
    Submission,
    SurveyResponse,
)
from microcred.assessment.requirements import Evaluation
from microcred.assessment.surveys import survey_response
from microcred.catalogue import service as catalogue
from microcred.catalogue.models import CredentialDefinition


@dataclass(frozen=True)
class DefinitionProgress:
    definition: CredentialDefinition
    assessments: list[Assessment]
    evaluation: Evaluation
    award: Award | None
    survey: SurveyResponse | None


def my_definitions(
    session: Session, principal: Principal, *, awarder: Awarder
) -> list[DefinitionProgress]:
    """Published definitions with assessments that the learner is enrolled for or has worked on."""
    close_overdue_attempts(session, principal.user_id, awarder=awarder)
    enrolled = principal.organisations_with(Role.learner)
    worked = {
        *session.scalars(
            select(QuizAttempt.assessment_id).where(QuizAttempt.learner_id == principal.user_id)
        ),
        *session.scalars(
            select(Submission.assessment_id).where(Submission.learner_id == principal.user_id)
        ),
        *session.scalars(
            select(AssessmentResult.assessment_id).where(
                AssessmentResult.learner_id == principal.user_id
            )
        ),
    }
    lineages = set(
        session.scalars(
            select(Assessment.definition_id).where(
                Assessment.archived_at.is_(None),
                Assessment.issuer_id.in_(enrolled) | Assessment.id.in_(worked),
            )
        )
    )
    awards = awards_of_learner(session, principal.user_id)
    rows = []
    for definition in catalogue.definitions_by_ids(session, sorted(lineages)).values():
        assessments = [
            a
            for a in session.scalars(
                select(Assessment)
                .where(
                    Assessment.definition_id == definition.definition_id,
                    Assessment.archived_at.is_(None),
                )
                .order_by(Assessment.position)
            )
        ]
        rows.append(
            DefinitionProgress(
                definition,
                assessments,
                evaluate_learner(session, principal.user_id, definition.definition_id),
                awards.get(definition.definition_id),
                survey_response(session, principal.user_id, definition.definition_id),
            )
        )
    return sorted(rows, key=lambda row: row.definition.name.lower())

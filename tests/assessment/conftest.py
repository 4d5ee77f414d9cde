"""Assessment fixtures: a published definition of North College with a quiz and a project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import User
from microcred.accounts.service import Principal
from microcred.assessment import service
from microcred.assessment.awards import CredentialAwarder
from microcred.assessment.reviews import EvidenceStore
from microcred.catalogue import service as catalogue
from microcred.settings import Settings
from tests.catalogue.factories import definition_input, skills
from tests.conftest import World

__all__ = ["skills"]

PROJECT_RUBRIC = """\
Analysis | min 2
- Excellent | 4 | Sound method, clearly explained
- Good | 3 | Sound method
- Weak | 1 | Method has gaps
Presentation
- Clear | 2 | Easy to follow
- Unclear | 0 | Hard to follow
"""

QUESTIONS: list[dict[str, Any]] = [
    {"kind": "single", "prompt": "Which library reads CSV files into data frames?",
     "options": ["pandas", "requests", "flask"], "correct": [0]},
    {"kind": "multiple", "prompt": "Which are aggregation functions?",
     "options": ["sum", "mean", "print", "max"], "correct": [0, 1, 3]},
    {"kind": "numeric", "prompt": "What is 7 / 2?", "answer": 3.5, "tolerance": 0.01},
    {"kind": "text", "prompt": "Name the method that groups rows.",
     "accepted": ["groupby", "group by"]},
]  # fmt: skip
RIGHT_ANSWERS = {"single": 0, "multiple": [0, 1, 3], "numeric": "3.5", "text": "GroupBy"}


def principal_of(session: Session, user: User, scopes: list[str] | None = None) -> Principal:
    return accounts.principal_for(session, session.get(User, user.id) or user, scopes=scopes)


@dataclass
class Course:
    definition_id: str
    quiz_id: str
    project_id: str


@pytest.fixture
def awarder(settings: Settings) -> CredentialAwarder:
    return CredentialAwarder(settings)


@pytest.fixture
def store(settings: Settings) -> EvidenceStore:
    return EvidenceStore(settings.data_dir)


def make_course(
    session: Session, *, second_marking: bool = False, attempts: int = 2, time_limit: int = 20
) -> Course:
    definition = catalogue.create_definition(
        session, None, "north-college", definition_input(), publish=True
    )
    quiz = service.create_assessment(
        session, None, definition.definition_id,
        {"title": "Final quiz", "code": "QUIZ-1", "kind": "quiz", "min_total": 75,
         "attempts_allowed": attempts, "time_limit_minutes": time_limit,
         "questions_per_attempt": 4},
    )  # fmt: skip
    for question in QUESTIONS:
        service.add_question(session, None, quiz.id, question)
    project = service.create_assessment(
        session, None, definition.definition_id,
        {"title": "Data project", "code": "PROJECT-1", "kind": "project", "min_total": 4,
         "rubric_text": PROJECT_RUBRIC, "attempts_allowed": attempts,
         "second_marking": second_marking, "moderation_threshold": 1},
    )  # fmt: skip
    return Course(definition.definition_id, quiz.id, project.id)


@pytest.fixture
def course(sessions: sessionmaker[Session], world: World, skills: dict[str, str]) -> Course:
    with sessions.begin() as session:
        return make_course(session)


def right_answers(session: Session, attempt_id: str) -> dict[str, Any]:
    from microcred.assessment.attempts import attempt_questions
    from microcred.assessment.models import QuizAttempt

    attempt = session.get(QuizAttempt, attempt_id)
    assert attempt is not None
    return {q.id: RIGHT_ANSWERS[q.kind.value] for q in attempt_questions(session, attempt)}

"""Quiz questions, automatic scoring and the random draw of questions per attempt.

Pure functions. Answers arrive loosely typed (form fields are strings, JSON may carry numbers);
:func:`coerce_answer` refuses answers that cannot belong to the question (an option that does
not exist), while a well-formed wrong answer simply scores nothing.
"""

from __future__ import annotations

import enum
import math
import random
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from microcred.assessment.errors import AssessmentError, InvalidAssessment

MAX_OPTIONS = 12
MAX_PROMPT = 4000
MAX_ANSWER_TEXT = 500


class QuestionKind(enum.StrEnum):
    single = "single"
    multiple = "multiple"
    numeric = "numeric"
    text = "text"


QUESTION_KINDS = {
    QuestionKind.single: "Single choice",
    QuestionKind.multiple: "Multiple choice",
    QuestionKind.numeric: "Number (with tolerance)",
    QuestionKind.text: "Short text",
}


@dataclass(frozen=True)
class Question:
    id: str
    kind: QuestionKind
    prompt: str
    points: float = 1.0
    options: tuple[str, ...] = ()
    correct: tuple[int, ...] = ()  # indexes into options (choice questions)
    answer: float | None = None  # numeric questions
    tolerance: float = 0.0
    accepted: tuple[str, ...] = ()  # short-text questions


Answer = int | frozenset[int] | float | str | None


@dataclass(frozen=True)
class QuizScore:
    points: float
    max_points: float
    per_question: dict[str, float]

    @property
    def percent(self) -> float:
        return 0.0 if self.max_points == 0 else round(100.0 * self.points / self.max_points, 2)


def normalise_text(text: str) -> str:
    """Case, accents of compatibility forms, spacing and surrounding punctuation do not count."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split()).strip(" .,;:!?\"'")


def check_question(question: Question) -> Question:
    """Refuse a question nobody could answer correctly, naming the field."""
    if not question.prompt.strip() or len(question.prompt) > MAX_PROMPT:
        raise InvalidAssessment(
            f"A question needs a prompt of 1 to {MAX_PROMPT} characters.", field="prompt"
        )
    if not math.isfinite(question.points) or not 0 < question.points <= 100:
        raise InvalidAssessment("Points must be more than 0 and at most 100.", field="points")
    if question.kind in (QuestionKind.single, QuestionKind.multiple):
        options = [o.strip() for o in question.options]
        if not 2 <= len(options) <= MAX_OPTIONS or not all(options):
            raise InvalidAssessment(
                f"A choice question needs 2 to {MAX_OPTIONS} non-empty options.", field="options"
            )
        if len({normalise_text(o) for o in options}) != len(options):
            raise InvalidAssessment("The options must differ from each other.", field="options")
        if not question.correct or any(not 0 <= i < len(options) for i in question.correct):
            raise InvalidAssessment("Mark which option(s) are correct.", field="correct")
        if question.kind is QuestionKind.single and len(question.correct) != 1:
            raise InvalidAssessment(
                "A single-choice question has exactly one correct option.", field="correct"
            )
    elif question.kind is QuestionKind.numeric:
        if question.answer is None or not math.isfinite(question.answer):
            raise InvalidAssessment("A number question needs its answer.", field="answer")
        if not math.isfinite(question.tolerance) or question.tolerance < 0:
            raise InvalidAssessment("The tolerance must be 0 or more.", field="tolerance")
    elif not [a for a in question.accepted if normalise_text(a)]:
        raise InvalidAssessment(
            "A short-text question needs at least one accepted answer.", field="accepted"
        )
    return question


def _option_index(question: Question, raw: Any, field: str) -> int:
    try:
        index = int(raw)
    except (TypeError, ValueError):
        raise AssessmentError(f"'{raw}' is not an option number.", field=field) from None
    if not 0 <= index < len(question.options):
        raise AssessmentError(
            f"Option {index} does not exist; choose 0 to {len(question.options) - 1}.",
            field=field,
        )
    return index


def coerce_answer(question: Question, raw: Any) -> Answer:
    """The answer in the question's terms; ``None`` when left blank."""
    field = f"answers.{question.id}"
    if raw is None or raw == "" or raw == []:
        return None
    if question.kind is QuestionKind.single:
        if isinstance(raw, list):
            if len(raw) != 1:
                raise AssessmentError("Choose one option only.", field=field)
            raw = raw[0]
        return _option_index(question, raw, field)
    if question.kind is QuestionKind.multiple:
        values = raw if isinstance(raw, list) else [raw]
        return frozenset(_option_index(question, value, field) for value in values)
    if question.kind is QuestionKind.numeric:
        text = str(raw).strip().replace(" ", "")
        try:
            value = float(text)
        except ValueError:
            raise AssessmentError(f"'{raw}' is not a number.", field=field) from None
        if not math.isfinite(value):
            raise AssessmentError(f"'{raw}' is not a finite number.", field=field)
        return value
    text = str(raw)
    if len(text) > MAX_ANSWER_TEXT:
        raise AssessmentError(f"An answer has at most {MAX_ANSWER_TEXT} characters.", field=field)
    return text


def score_answer(question: Question, answer: Answer) -> float:
    """Points earned, from 0 to the question's points."""
    if answer is None:
        return 0.0
    if question.kind is QuestionKind.single:
        return question.points if answer == question.correct[0] else 0.0
    if question.kind is QuestionKind.multiple:
        assert isinstance(answer, frozenset)
        correct = set(question.correct)
        right = len(answer & correct)
        wrong = len(answer - correct)
        # each wrong tick cancels a right one, so ticking everything earns nothing
        return question.points * max(0, right - wrong) / len(correct)
    if question.kind is QuestionKind.numeric:
        assert isinstance(answer, float) and question.answer is not None
        # a relative epsilon so a tolerance of 0.1 accepts 0.3 for 0.2 despite binary floats
        slack = question.tolerance + 1e-9 * max(1.0, abs(question.answer))
        return question.points if abs(answer - question.answer) <= slack else 0.0
    accepted = {normalise_text(a) for a in question.accepted}
    return question.points if normalise_text(str(answer)) in accepted else 0.0


def score_quiz(questions: Sequence[Question], answers: Mapping[str, Answer]) -> QuizScore:
    per_question = {q.id: score_answer(q, answers.get(q.id)) for q in questions}
    return QuizScore(
        points=round(sum(per_question.values()), 6),
        max_points=round(sum(q.points for q in questions), 6),
        per_question=per_question,
    )


def draw_questions(question_ids: Sequence[str], count: int, seed: int) -> list[str]:
    """``count`` distinct questions in a random order reproducible from the attempt's seed."""
    pool = sorted(set(question_ids))
    if not 1 <= count <= len(pool):
        raise InvalidAssessment(
            f"Cannot draw {count} questions from a bank of {len(pool)}.",
            field="questions_per_attempt",
        )
    return random.Random(seed).sample(pool, count)


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in re.split(r"\r?\n", text) if line.strip()]

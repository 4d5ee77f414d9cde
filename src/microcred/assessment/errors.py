"""The assessment capability's exception family."""

from __future__ import annotations

from microcred.errors import MicrocredError


class AssessmentError(MicrocredError):
    """Bad assessment input or a refused assessment operation."""


class InvalidAssessment(AssessmentError):
    """A definition, rubric, question or pass rule that does not make sense."""

    status_code = 422


class AttemptRefused(AssessmentError):
    """An attempt or submission the rules do not allow now (no attempts left, one pending …)."""

    status_code = 409


class TimeLimitExceeded(AssessmentError):
    """Answers that arrive after the attempt's deadline."""

    status_code = 409


class ScoreOutOfRubric(AssessmentError):
    """A mark naming a criterion or level the rubric does not have."""

    status_code = 422


class EvidenceRejected(AssessmentError):
    """An evidence file that is too large or of a type that is not allowed."""

    status_code = 422


class EvidenceTooLarge(EvidenceRejected):
    status_code = 413

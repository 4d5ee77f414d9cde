""" "Has the learner met every requirement of the definition?" as a pure function.

Each assessment of a definition is one requirement, met by a passing result that has not been
withdrawn. The evaluation also says, per requirement, what is left to do, for the learner's page.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from microcred.i18n import N_


class RequirementState(enum.StrEnum):
    met = "met"
    pending = "pending"  # an attempt in progress or a submission awaiting review
    retry = "retry"  # failed so far, attempts left
    failed = "failed"  # failed and no attempts left
    not_started = "not_started"


STATE_LABELS = {
    RequirementState.met: N_("Passed"),
    RequirementState.pending: N_("In progress / awaiting review"),
    RequirementState.retry: N_("Not passed yet — you may try again"),
    RequirementState.failed: N_("Not passed — no attempts left"),
    RequirementState.not_started: N_("Not started"),
}


@dataclass(frozen=True)
class Requirement:
    assessment_id: str
    title: str
    attempts_allowed: int


@dataclass(frozen=True)
class Progress:
    """What a learner has done on one assessment."""

    passing_result_ids: tuple[str, ...] = ()
    attempts_used: int = 0
    in_progress: bool = False
    has_failed: bool = False


@dataclass(frozen=True)
class RequirementStatus:
    assessment_id: str
    title: str
    state: RequirementState
    attempts_left: int

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class Evaluation:
    met: bool
    statuses: tuple[RequirementStatus, ...]
    result_ids: tuple[str, ...] = field(default=())  # the passing results that meet them

    @property
    def reason(self) -> str:
        if not self.statuses:
            return "The definition has no assessments, so it cannot be awarded automatically."
        missing = [s.title for s in self.statuses if s.state is not RequirementState.met]
        return "Every requirement is met." if not missing else "Not yet met: " + ", ".join(missing)

    def as_dict(self) -> dict[str, Any]:
        """For the audit log: the inputs' outcome per requirement and the decision."""
        return {
            "met": self.met,
            "reason": self.reason,
            "requirements": {s.assessment_id: s.state.value for s in self.statuses},
            "result_ids": list(self.result_ids),
        }


def requirement_state(requirement: Requirement, progress: Progress) -> RequirementState:
    if progress.passing_result_ids:
        return RequirementState.met
    if progress.in_progress:
        return RequirementState.pending
    if progress.attempts_used >= requirement.attempts_allowed:
        return RequirementState.failed
    if progress.has_failed or progress.attempts_used:
        return RequirementState.retry
    return RequirementState.not_started


def evaluate(requirements: Sequence[Requirement], progress: Mapping[str, Progress]) -> Evaluation:
    statuses = []
    result_ids: list[str] = []
    for requirement in requirements:
        facts = progress.get(requirement.assessment_id, Progress())
        state = requirement_state(requirement, facts)
        statuses.append(
            RequirementStatus(
                requirement.assessment_id,
                requirement.title,
                state,
                max(0, requirement.attempts_allowed - facts.attempts_used),
            )
        )
        if state is RequirementState.met:
            result_ids.append(facts.passing_result_ids[0])
    met = bool(statuses) and all(s.state is RequirementState.met for s in statuses)
    return Evaluation(met, tuple(statuses), tuple(result_ids) if met else ())

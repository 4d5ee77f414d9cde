"""Scoring rubrics (criteria × levels), pass rules and second-marking agreement.

Pure functions over plain data. A rubric is stored as JSON (:func:`rubric_to_data`), typed by staff
in a small text format (:func:`parse_rubric_text`), and scored by choosing one level per criterion.
Criterion and level ids are slugs of their names, so they stay stable in issued credentials.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from microcred.assessment.errors import InvalidAssessment, ScoreOutOfRubric

MAX_CRITERIA = 30
MAX_LEVELS = 10
MAX_POINTS = 1000.0
MAX_NAME = 200
MAX_DESCRIPTOR = 2000


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "item"


def _unique(slug: str, taken: set[str]) -> str:
    candidate, counter = slug, 2
    while candidate in taken:
        candidate, counter = f"{slug}-{counter}", counter + 1
    taken.add(candidate)
    return candidate


def format_points(points: float) -> str:
    return str(int(points)) if float(points).is_integer() else repr(float(points))


@dataclass(frozen=True)
class Level:
    """One performance level of a criterion (an OB 3.0 ``RubricCriterionLevel``)."""

    id: str
    name: str
    points: float
    descriptor: str = ""


@dataclass(frozen=True)
class Criterion:
    id: str
    name: str
    levels: tuple[Level, ...]
    minimum: float | None = None  # fewest points on this criterion that still pass

    @property
    def max_points(self) -> float:
        return max(level.points for level in self.levels)

    def level(self, level_id: str) -> Level | None:
        return next((level for level in self.levels if level.id == level_id), None)


@dataclass(frozen=True)
class Rubric:
    criteria: tuple[Criterion, ...]

    @property
    def max_total(self) -> float:
        return sum(criterion.max_points for criterion in self.criteria)

    def criterion(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)


@dataclass(frozen=True)
class CriterionScore:
    criterion_id: str
    level_id: str
    points: float


@dataclass(frozen=True)
class RubricScore:
    total: float
    max_total: float
    criteria: tuple[CriterionScore, ...]

    def levels(self) -> dict[str, str]:
        return {score.criterion_id: score.level_id for score in self.criteria}


@dataclass(frozen=True)
class PassOutcome:
    passed: bool
    reasons: tuple[str, ...]  # why it failed; empty when passed


# ---------------------------------------------------------------------------------------------
# Building and checking


def _points(value: Any, where: str) -> float:
    try:
        points = float(value)
    except (TypeError, ValueError):
        raise InvalidAssessment(f"{where}: points must be a number.", field="rubric") from None
    if not math.isfinite(points) or not 0 <= points <= MAX_POINTS:
        raise InvalidAssessment(
            f"{where}: points must be from 0 to {MAX_POINTS:g}.", field="rubric"
        )
    return points


def _name(value: Any, where: str) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise InvalidAssessment(f"{where}: a name is required.", field="rubric")
    if len(name) > MAX_NAME or "|" in name:
        raise InvalidAssessment(
            f"{where}: a name has at most {MAX_NAME} characters and no '|'.", field="rubric"
        )
    return name


def build_rubric(criteria: Sequence[Mapping[str, Any]]) -> Rubric:
    """A checked rubric from loose data (``name``, ``minimum``, ``levels``: name/points/descriptor).

    Ids are kept when given (so stored rubrics keep theirs) and derived from names otherwise.
    """
    if not criteria:
        raise InvalidAssessment("A rubric needs at least one criterion.", field="rubric")
    if len(criteria) > MAX_CRITERIA:
        raise InvalidAssessment(f"A rubric has at most {MAX_CRITERIA} criteria.", field="rubric")
    built: list[Criterion] = []
    criterion_ids: set[str] = set()
    for c_index, raw in enumerate(criteria, start=1):
        where = f"criterion {c_index}"
        name = _name(raw.get("name"), where)
        raw_levels = raw.get("levels") or []
        if not raw_levels:
            raise InvalidAssessment(f"{where} ({name}): add at least one level.", field="rubric")
        if len(raw_levels) > MAX_LEVELS:
            raise InvalidAssessment(f"{where}: at most {MAX_LEVELS} levels.", field="rubric")
        level_ids: set[str] = set()
        levels = []
        for l_index, raw_level in enumerate(raw_levels, start=1):
            level_where = f"{where} ({name}), level {l_index}"
            level_name = _name(raw_level.get("name"), level_where)
            descriptor = " ".join(str(raw_level.get("descriptor") or "").split())
            if len(descriptor) > MAX_DESCRIPTOR:
                raise InvalidAssessment(f"{level_where}: descriptor too long.", field="rubric")
            levels.append(
                Level(
                    id=_unique(str(raw_level.get("id") or slugify(level_name)), level_ids),
                    name=level_name,
                    points=_points(raw_level.get("points"), level_where),
                    descriptor=descriptor,
                )
            )
        minimum = raw.get("minimum")
        criterion = Criterion(
            id=_unique(str(raw.get("id") or slugify(name)), criterion_ids),
            name=name,
            levels=tuple(levels),
            minimum=None if minimum in (None, "") else _points(minimum, f"{where} minimum"),
        )
        if criterion.minimum is not None and criterion.minimum > criterion.max_points:
            raise InvalidAssessment(
                f"{where} ({name}): the minimum {format_points(criterion.minimum)} is more than "
                f"its best level ({format_points(criterion.max_points)} points).",
                field="rubric",
            )
        built.append(criterion)
    return Rubric(tuple(built))


def rubric_to_data(rubric: Rubric) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "name": c.name,
            "minimum": c.minimum,
            "levels": [
                {"id": lv.id, "name": lv.name, "points": lv.points, "descriptor": lv.descriptor}
                for lv in c.levels
            ],
        }
        for c in rubric.criteria
    ]


def check_pass_mark(rubric: Rubric | None, min_total: float | None, max_total: float) -> None:
    """The pass mark must be reachable; otherwise nobody could ever pass."""
    if min_total is None:
        return
    if not math.isfinite(min_total) or min_total < 0:
        raise InvalidAssessment("The pass mark must be 0 or more.", field="min_total")
    best = rubric.max_total if rubric is not None else max_total
    if min_total > best:
        raise InvalidAssessment(
            f"The pass mark {format_points(min_total)} is more than the best possible score "
            f"({format_points(best)}).",
            field="min_total",
        )


# ---------------------------------------------------------------------------------------------
# Text format for forms:  "Criterion | min 2"  then  "- Level | points | descriptor" lines


def parse_rubric_text(text: str) -> Rubric:
    criteria: list[dict[str, Any]] = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            continue
        if line.startswith("-"):
            if not criteria:
                raise InvalidAssessment(
                    f"line {number}: a level ('- name | points | descriptor') must follow a "
                    "criterion line.",
                    field="rubric",
                )
            parts = [part.strip() for part in line[1:].split("|", 2)]
            if len(parts) < 2:
                raise InvalidAssessment(
                    f"line {number}: write a level as '- name | points | descriptor'.",
                    field="rubric",
                )
            criteria[-1]["levels"].append(
                {
                    "name": parts[0],
                    "points": parts[1],
                    "descriptor": parts[2] if len(parts) > 2 else "",
                }
            )
            continue
        name, _, rest = line.partition("|")
        minimum: str | None = None
        if rest.strip():
            match = re.fullmatch(r"min(?:imum)?\s*:?\s*(\S+)", rest.strip(), re.IGNORECASE)
            if match is None:
                raise InvalidAssessment(
                    f"line {number}: after '|' a criterion line may only say 'min N'.",
                    field="rubric",
                )
            minimum = match.group(1)
        criteria.append({"name": name, "minimum": minimum, "levels": []})
    return build_rubric(criteria)


def format_rubric_text(rubric: Rubric) -> str:
    lines: list[str] = []
    for criterion in rubric.criteria:
        head = criterion.name
        if criterion.minimum is not None:
            head += f" | min {format_points(criterion.minimum)}"
        lines.append(head)
        for level in criterion.levels:
            tail = f" | {level.descriptor}" if level.descriptor else ""
            lines.append(f"- {level.name} | {format_points(level.points)}{tail}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Scoring


def score_rubric(rubric: Rubric, chosen: Mapping[str, str]) -> RubricScore:
    """The score for one level per criterion; anything outside the rubric is refused."""
    unknown = sorted(set(chosen) - {c.id for c in rubric.criteria})
    if unknown:
        raise ScoreOutOfRubric(
            f"The rubric has no criterion '{unknown[0]}'.", field=f"levels.{unknown[0]}"
        )
    scores = []
    for criterion in rubric.criteria:
        level_id = chosen.get(criterion.id)
        if not level_id:
            raise ScoreOutOfRubric(
                f"Choose a level for '{criterion.name}'.", field=f"levels.{criterion.id}"
            )
        level = criterion.level(level_id)
        if level is None:
            raise ScoreOutOfRubric(
                f"'{level_id}' is not a level of '{criterion.name}'; choose one of "
                f"{', '.join(lv.id for lv in criterion.levels)}.",
                field=f"levels.{criterion.id}",
            )
        scores.append(CriterionScore(criterion.id, level.id, level.points))
    return RubricScore(sum(s.points for s in scores), rubric.max_total, tuple(scores))


def passes(rubric: Rubric, score: RubricScore, min_total: float | None) -> PassOutcome:
    """Pass rules: at least ``min_total`` overall and each criterion's own minimum."""
    reasons = []
    if min_total is not None and score.total < min_total:
        reasons.append(
            f"total {format_points(score.total)} is below the pass mark {format_points(min_total)}"
        )
    for criterion_score in score.criteria:
        criterion = rubric.criterion(criterion_score.criterion_id)
        if (
            criterion
            and criterion.minimum is not None
            and criterion_score.points < criterion.minimum
        ):
            reasons.append(
                f"'{criterion.name}' scored {format_points(criterion_score.points)}, below its "
                f"minimum {format_points(criterion.minimum)}"
            )
    return PassOutcome(not reasons, tuple(reasons))


def markers_disagree(first_total: float, second_total: float, threshold: float) -> bool:
    """Two marks further apart than the threshold go to a moderator."""
    return abs(first_total - second_total) > threshold

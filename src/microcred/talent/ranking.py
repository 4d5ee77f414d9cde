"""How a learner's match is scored and explained: plain functions over plain data, and the same
formula as a SQL expression.

A learner earns points for each query skill their verified credentials attest (a credential for a
narrower skill counts a little less than one for the skill itself), for how recent the newest
matching credential is, and for the highest EQF level among the matching credentials. The
search ranks every matching learner in the database with :func:`total_sql` (so only one page
of learners leaves it), then scores the page's learners with :func:`score` to explain each part,
so an employer can see why a learner ranks where it does. Both are built from the constants
below, and a test holds them equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Float, case, func, literal

from microcred.i18n import L_, L_plural

SKILL_POINTS = 10.0
"""Points for one query skill matched by a credential for that very skill."""
NARROWER_WEIGHT = 0.75
"""A credential for a narrower skill (e.g. 'Python' for 'programming') counts this share."""
RECENCY_STEPS: tuple[tuple[int, float], ...] = ((12, 3.0), (36, 1.5))
"""(months, points): the newest matching credential issued within that many months earns the
points of the first step it falls in; older ones earn none."""
EQF_POINTS = 0.5
"""Points per EQF level of the highest-level matching credential (level 8: 4 points)."""


@dataclass(frozen=True)
class Score:
    """A learner's score and its parts."""

    skill_points: float
    recency_points: float
    eqf_points: float
    matched: int
    asked: int
    latest: datetime | None
    top_eqf: int | None

    @property
    def total(self) -> float:
        return round(self.skill_points + self.recency_points + self.eqf_points, 2)

    def explanation(self) -> list[str]:
        """One line per part of the score, as shown beside each result."""
        lines: list[str] = [
            L_plural(
                "%(matched)s of %(count)s skill matched (+%(points)s)",
                "%(matched)s of %(count)s skills matched (+%(points)s)",
                self.asked,
                matched=self.matched,
                points=f"{self.skill_points:g}",
            )
        ]
        if self.latest is not None:
            lines.append(
                L_(
                    "newest matching credential %(day)s (+%(points)s)",
                    day=f"{self.latest:%Y-%m-%d}",
                    points=f"{self.recency_points:g}",
                )
            )
        if self.top_eqf is not None:
            lines.append(
                L_(
                    "EQF level %(level)s (+%(points)s)",
                    level=self.top_eqf,
                    points=f"{self.eqf_points:g}",
                )
            )
        return lines


def months_before(moment: datetime, months: int) -> datetime:
    """The same day ``months`` calendar months earlier (the month's last day when it is short)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError("unreachable")  # pragma: no cover


@lru_cache(maxsize=16)
def recency_cutoffs(now: datetime) -> tuple[tuple[datetime, float], ...]:
    """The recency steps as (issued on or after, points), most recent first (computed once per
    search: every learner's score asks for them)."""
    return tuple((months_before(now, months), points) for months, points in RECENCY_STEPS)


def recency_points(latest: datetime | None, now: datetime) -> float:
    if latest is None:
        return 0.0
    for cutoff, points in recency_cutoffs(now):
        if latest >= cutoff:
            return points
    return 0.0


def skill_weight(via_narrower: bool) -> float:
    return NARROWER_WEIGHT if via_narrower else 1.0


def score(
    weights: Sequence[float],
    asked: int,
    latest: datetime | None,
    top_eqf: int | None,
    now: datetime,
) -> Score:
    """The score of a learner whose credentials match query skills with ``weights`` (one per
    matched query skill: 1 for the skill itself, :data:`NARROWER_WEIGHT` through a narrower)."""
    return Score(
        skill_points=round(sum(weights) * SKILL_POINTS, 2),
        recency_points=recency_points(latest, now),
        eqf_points=(top_eqf or 0) * EQF_POINTS,
        matched=len(weights),
        asked=asked,
        latest=latest,
        top_eqf=top_eqf,
    )


def total_sql(weights: Any, latest: Any, top_eqf: Any, now: datetime) -> Any:
    """:attr:`Score.total` as a SQL expression over a learner's summed skill ``weights``, newest
    matching credential ``latest`` and highest EQF level ``top_eqf`` (each a column). Weights are
    sums of 1 and :data:`NARROWER_WEIGHT` and every part a multiple of a quarter point, so the
    database's floating-point sum equals the Python one exactly."""
    recency = case(
        *[(latest >= cutoff, literal(points, Float)) for cutoff, points in recency_cutoffs(now)],
        else_=literal(0.0, Float),
    )
    return weights * SKILL_POINTS + recency + func.coalesce(top_eqf, 0) * literal(EQF_POINTS, Float)

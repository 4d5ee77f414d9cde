"""Outcome KPIs of a programme over a period: plain functions over plain facts.

The definitions (docs/outcomes.md says the same in words):

* **started** — learners whose start falls in the period. A learner's start is their first quiz
  attempt, submission or recorded result on the programme's assessments; without any (or when
  the programme has no assessments), the date of their first credential for it.
* **completed** — learners with a credential for the programme, not revoked, whose completion
  date (the credential's ``validFrom``) falls in the period. Suspended credentials count.
* **revoked** — credentials completed in the period and revoked since.
* **completion rate** — of the learners who started in the period, the share holding an
  unrevoked credential today.
* **median days to complete** — over the learners completed in the period with a start from
  assessment activity on or before their completion.
* **satisfaction** — the survey answers of the learners completed in the period: mean rating
  (1–5), share who would recommend, and response rate (answers / completed).
* **employment at 6 months** — employment reports on unrevoked credentials completed in the
  period at least 182 days ago, 'prefer not to say' left out: the share whose status is
  'employed in a related role' and began no later than 182 days after completion. Fewer than
  ``MIN_RESPONSES`` such reports: suppressed ("too few responses"); the breakdown by status
  likewise, over every report on credentials completed in the period.
* **market alignment** — the share of the programme's skills named by at least 0.5 % of the
  postings of the issuer's region (given by the caller).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from statistics import median

from microcred.outcomes.models import EmploymentStatus

MIN_RESPONSES = 5
"""Aggregates of fewer employment reports than this are not shown (too easy to re-identify)."""
SIX_MONTHS = timedelta(days=182)


@dataclass(frozen=True)
class Period:
    """From ``since`` to ``until``, both days included (UTC)."""

    since: date
    until: date

    def contains(self, moment: datetime) -> bool:
        return self.since <= moment.astimezone(UTC).date() <= self.until

    @property
    def start(self) -> datetime:
        return datetime(self.since.year, self.since.month, self.since.day, tzinfo=UTC)

    def months(self) -> list[date]:
        """The first day of every month the period touches."""
        months, month = [], self.since.replace(day=1)
        while month <= self.until:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months


def default_period(today: date) -> Period:
    """The last 12 months: from the first day of the month 11 months ago to today."""
    month = today.month - 11
    year = today.year + (month - 1) // 12
    return Period(date(year, (month - 1) % 12 + 1, 1), today)


@dataclass(frozen=True)
class CompletionFact:
    learner: str
    completed_at: datetime
    revoked: bool


@dataclass(frozen=True)
class SurveyFact:
    learner: str
    rating: int
    would_recommend: bool


@dataclass(frozen=True)
class EmploymentFact:
    """A report on an unrevoked credential, with that credential's completion date."""

    completed_at: datetime
    status: EmploymentStatus
    status_since: date


@dataclass(frozen=True)
class ProgrammeFacts:
    definition_id: str
    name: str
    assessed: bool
    starts: Mapping[str, datetime] = field(default_factory=dict)
    """Learner → first assessment activity."""
    completions: Sequence[CompletionFact] = ()
    surveys: Sequence[SurveyFact] = ()
    employment: Sequence[EmploymentFact] = ()
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Employment:
    responses: int
    """Reports on credentials completed in the period (every status)."""
    eligible: int
    """Of those, on credentials completed ≥ 182 days ago and not 'prefer not to say'."""
    related_share: float | None
    """None when ``eligible`` < MIN_RESPONSES (suppressed) or 0."""
    breakdown: dict[EmploymentStatus, int]
    """Reports by status; empty when ``responses`` < MIN_RESPONSES (suppressed)."""

    @property
    def suppressed(self) -> bool:
        return self.eligible < MIN_RESPONSES

    @property
    def breakdown_suppressed(self) -> bool:
        return self.responses < MIN_RESPONSES


@dataclass(frozen=True)
class Kpis:
    definition_id: str
    name: str
    assessed: bool
    started: int
    completed: int
    completion_rate: float | None
    median_days: float | None
    revoked: int
    survey_responses: int
    mean_rating: float | None
    recommend_share: float | None
    survey_response_rate: float | None
    employment: Employment
    employment_response_rate: float | None
    skills: int
    skills_in_demand: int | None
    """None when no market data is loaded."""
    monthly_completions: list[tuple[date, int]]

    @property
    def market_alignment(self) -> float | None:
        if self.skills_in_demand is None or not self.skills:
            return None
        return self.skills_in_demand / self.skills


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _first_completions(facts: Sequence[CompletionFact]) -> dict[str, datetime]:
    """Learner → their earliest unrevoked completion."""
    first: dict[str, datetime] = {}
    for fact in facts:
        if not fact.revoked:
            first[fact.learner] = min(first.get(fact.learner, fact.completed_at), fact.completed_at)
    return first


def _starts(facts: ProgrammeFacts) -> dict[str, datetime]:
    """Every learner's start: first assessment activity, else their first credential."""
    starts = dict(facts.starts)
    for fact in facts.completions:
        if fact.learner not in facts.starts:
            starts[fact.learner] = min(
                starts.get(fact.learner, fact.completed_at), fact.completed_at
            )
    return starts


def employment_outcome(
    reports: Sequence[EmploymentFact], period: Period, today: date
) -> Employment:
    in_period = [r for r in reports if period.contains(r.completed_at)]
    eligible = [
        r
        for r in in_period
        if r.status is not EmploymentStatus.prefer_not_to_say
        and r.completed_at.astimezone(UTC).date() + SIX_MONTHS <= today
    ]
    related = sum(
        r.status is EmploymentStatus.employed_related
        and r.status_since <= r.completed_at.astimezone(UTC).date() + SIX_MONTHS
        for r in eligible
    )
    counts = Counter(r.status for r in in_period)
    return Employment(
        responses=len(in_period),
        eligible=len(eligible),
        related_share=_share(related, len(eligible)) if len(eligible) >= MIN_RESPONSES else None,
        breakdown=(
            {status: counts.get(status, 0) for status in EmploymentStatus}
            if len(in_period) >= MIN_RESPONSES
            else {}
        ),
    )


def programme_kpis(
    facts: ProgrammeFacts,
    period: Period,
    today: date,
    in_demand: frozenset[str] | None = None,
) -> Kpis:
    """The KPIs of one programme (or of merged facts: see :func:`merge`)."""
    starts = _starts(facts)
    completions = _first_completions(facts.completions)
    cohort = {learner for learner, at in starts.items() if period.contains(at)}
    completed = {learner for learner, at in completions.items() if period.contains(at)}
    days = [
        (completions[learner] - facts.starts[learner]).total_seconds() / 86400
        for learner in completed
        if learner in facts.starts and facts.starts[learner] <= completions[learner]
    ]
    # One answer per learner (the survey allows one; the last one counts should there be more).
    answers = list({a.learner: a for a in facts.surveys if a.learner in completed}.values())
    employment = employment_outcome(facts.employment, period, today)
    months = Counter(
        at.astimezone(UTC).date().replace(day=1)
        for learner, at in completions.items()
        if learner in completed
    )
    return Kpis(
        definition_id=facts.definition_id,
        name=facts.name,
        assessed=facts.assessed,
        started=len(cohort),
        completed=len(completed),
        completion_rate=_share(len(cohort & completions.keys()), len(cohort)),
        median_days=round(median(days), 1) if days else None,
        revoked=sum(f.revoked and period.contains(f.completed_at) for f in facts.completions),
        survey_responses=len(answers),
        mean_rating=sum(a.rating for a in answers) / len(answers) if answers else None,
        recommend_share=_share(sum(a.would_recommend for a in answers), len(answers)),
        survey_response_rate=_share(len(answers), len(completed)),
        employment=employment,
        employment_response_rate=_share(
            employment.responses,
            sum(not f.revoked and period.contains(f.completed_at) for f in facts.completions),
        ),
        skills=len(facts.skills),
        skills_in_demand=None if in_demand is None else len(facts.skills & in_demand),
        monthly_completions=[(month, months.get(month, 0)) for month in period.months()],
    )


def merge(definition_id: str, name: str, programmes: Sequence[ProgrammeFacts]) -> ProgrammeFacts:
    """The facts of several programmes as one: each learner counted once per programme."""

    def key(programme: ProgrammeFacts, learner: str) -> str:
        return f"{programme.definition_id}/{learner}"

    return ProgrammeFacts(
        definition_id=definition_id,
        name=name,
        assessed=any(p.assessed for p in programmes),
        starts={key(p, learner): at for p in programmes for learner, at in p.starts.items()},
        completions=[
            CompletionFact(key(p, f.learner), f.completed_at, f.revoked)
            for p in programmes
            for f in p.completions
        ],
        surveys=[
            SurveyFact(key(p, s.learner), s.rating, s.would_recommend)
            for p in programmes
            for s in p.surveys
        ],
        employment=[report for p in programmes for report in p.employment],
        skills=frozenset().union(*(p.skills for p in programmes)),
    )

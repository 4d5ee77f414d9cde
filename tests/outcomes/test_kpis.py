"""The KPI maths on hand-made facts: definitions, suppression, bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from microcred.outcomes.kpis import (
    MIN_RESPONSES,
    CompletionFact,
    EmploymentFact,
    Period,
    ProgrammeFacts,
    SurveyFact,
    default_period,
    employment_outcome,
    merge,
    programme_kpis,
)
from microcred.outcomes.models import EmploymentStatus

TODAY = date(2026, 6, 30)
YEAR = Period(date(2025, 7, 1), TODAY)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_the_default_period_is_twelve_calendar_months_to_today() -> None:
    period = default_period(date(2026, 3, 15))
    assert period == Period(date(2025, 4, 1), date(2026, 3, 15))
    assert len(period.months()) == 12
    assert default_period(date(2026, 12, 1)).since == date(2026, 1, 1)


def test_starts_completions_rate_and_median_days() -> None:
    facts = ProgrammeFacts(
        "d1", "Data", assessed=True,
        starts={"ana": at(date(2025, 8, 1)), "ben": at(date(2025, 9, 1)),
                "cy": at(date(2025, 10, 1)), "old": at(date(2024, 1, 1))},
        completions=[
            CompletionFact("ana", at(date(2025, 8, 11)), revoked=False),
            CompletionFact("ben", at(date(2025, 9, 21)), revoked=True),
            CompletionFact("old", at(date(2025, 8, 1)), revoked=False),
            CompletionFact("dee", at(date(2026, 1, 5)), revoked=False),  # no assessment activity
        ],
    )  # fmt: skip
    kpis = programme_kpis(facts, YEAR, TODAY)
    # Started in the period: ana, ben, cy by activity; dee by her credential ('old' before).
    assert kpis.started == 4
    assert kpis.completed == 3  # ana, old, dee — ben's credential was revoked
    assert kpis.revoked == 1
    assert kpis.completion_rate == 2 / 4  # ana and dee of the four who started
    # Days from an assessment start: ana 10, old 578 (started long before); dee has no start.
    assert kpis.median_days == round((10 + 578) / 2, 1)
    months = dict(kpis.monthly_completions)
    assert months[date(2025, 8, 1)] == 2 and months[date(2026, 1, 1)] == 1
    assert sum(months.values()) == kpis.completed and len(months) == 12


def test_satisfaction_counts_the_answers_of_learners_completed_in_the_period() -> None:
    facts = ProgrammeFacts(
        "d1", "Data", assessed=False,
        completions=[CompletionFact(name, at(date(2026, 2, 1)), False) for name in "abcd"],
        surveys=[SurveyFact("a", 5, True), SurveyFact("b", 2, False),
                 SurveyFact("stranger", 1, False)],
    )  # fmt: skip
    kpis = programme_kpis(facts, YEAR, TODAY)
    assert kpis.survey_responses == 2
    assert kpis.mean_rating == 3.5
    assert kpis.recommend_share == 0.5
    assert kpis.survey_response_rate == 0.5


def report(completed: date, status: EmploymentStatus, since: date) -> EmploymentFact:
    return EmploymentFact(at(completed), status, since)


def test_employment_at_six_months_counts_related_jobs_begun_within_182_days() -> None:
    done = date(2025, 8, 1)
    reports = [
        report(done, EmploymentStatus.employed_related, date(2025, 9, 1)),
        report(done, EmploymentStatus.employed_related, date(2024, 1, 1)),  # already in the job
        report(done, EmploymentStatus.employed_related, date(2026, 5, 1)),  # too late
        report(done, EmploymentStatus.seeking_work, date(2025, 8, 1)),
        report(done, EmploymentStatus.employed_other, date(2025, 9, 1)),
        report(done, EmploymentStatus.prefer_not_to_say, date(2025, 9, 1)),  # not a responder
        report(date(2026, 5, 1), EmploymentStatus.employed_related, date(2026, 5, 2)),  # too new
    ]
    outcome = employment_outcome(reports, YEAR, TODAY)
    assert outcome.responses == 7
    assert outcome.eligible == 5
    assert outcome.related_share == 2 / 5
    assert outcome.breakdown[EmploymentStatus.employed_related] == 4
    assert outcome.breakdown[EmploymentStatus.prefer_not_to_say] == 1


def test_fewer_than_five_responses_are_suppressed() -> None:
    done = date(2025, 8, 1)
    reports = [report(done, EmploymentStatus.employed_related, done)] * (MIN_RESPONSES - 1)
    outcome = employment_outcome(reports, YEAR, TODAY)
    assert outcome.suppressed and outcome.breakdown_suppressed
    assert outcome.related_share is None and outcome.breakdown == {}
    more = employment_outcome([*reports, reports[0]], YEAR, TODAY)
    assert not more.suppressed and more.related_share == 1.0


def test_merged_programmes_count_a_learner_once_per_programme() -> None:
    one = ProgrammeFacts(
        "d1", "A", False, completions=[CompletionFact("ana", at(date(2026, 1, 1)), False)],
        skills=frozenset({"s1", "s2"}),
    )  # fmt: skip
    two = ProgrammeFacts(
        "d2", "B", False, completions=[CompletionFact("ana", at(date(2026, 2, 1)), False)],
        skills=frozenset({"s2", "s3"}),
    )  # fmt: skip
    total = programme_kpis(merge("", "North", [one, two]), YEAR, TODAY, frozenset({"s2"}))
    assert total.completed == 2 and total.started == 2
    assert total.skills == 3 and total.skills_in_demand == 1
    assert total.market_alignment == 1 / 3
    assert programme_kpis(one, YEAR, TODAY).market_alignment is None  # no market data


days = st.integers(min_value=-800, max_value=0).map(lambda n: TODAY + timedelta(days=n))
learners = st.sampled_from(["a", "b", "c", "d", "e", "f", "g"])
facts_strategy = st.builds(
    ProgrammeFacts,
    st.just("d"), st.just("P"), st.booleans(),
    st.dictionaries(learners, days.map(at), max_size=7),
    st.lists(st.builds(CompletionFact, learners, days.map(at), st.booleans()), max_size=12),
    st.lists(st.builds(SurveyFact, learners, st.integers(1, 5), st.booleans()), max_size=7),
    st.lists(
        st.builds(EmploymentFact, days.map(at), st.sampled_from(list(EmploymentStatus)), days),
        max_size=12,
    ),
)  # fmt: skip


@given(facts_strategy)
def test_rates_stay_between_zero_and_one_and_small_samples_stay_hidden(
    facts: ProgrammeFacts,
) -> None:
    kpis = programme_kpis(facts, YEAR, TODAY)
    for rate in (
        kpis.completion_rate, kpis.recommend_share, kpis.survey_response_rate,
        kpis.employment.related_share,
    ):  # fmt: skip
        assert rate is None or 0 <= rate <= 1
    assert kpis.mean_rating is None or 1 <= kpis.mean_rating <= 5
    assert kpis.median_days is None or kpis.median_days >= 0
    assert kpis.completed <= len({f.learner for f in facts.completions})
    assert sum(count for _, count in kpis.monthly_completions) == kpis.completed
    employment = kpis.employment
    assert employment.eligible <= employment.responses
    if employment.eligible < MIN_RESPONSES:
        assert employment.related_share is None
    if employment.responses < MIN_RESPONSES:
        assert employment.breakdown == {}
    else:
        assert sum(employment.breakdown.values()) == employment.responses

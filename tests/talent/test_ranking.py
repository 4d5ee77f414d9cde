"""The score formula and its explanation, and the same formula in the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import DateTime, Engine, Float, Integer, literal, select

from microcred.talent import ranking

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)


def test_a_direct_match_outweighs_a_narrower_one() -> None:
    direct = ranking.score([1.0], asked=1, latest=None, top_eqf=None, now=NOW)
    narrower = ranking.score([ranking.NARROWER_WEIGHT], asked=1, latest=None, top_eqf=None, now=NOW)
    assert direct.total == 10.0 and narrower.total == 7.5


def test_more_matched_skills_beat_recency_and_level() -> None:
    two_old = ranking.score([1.0, 1.0], 2, datetime(2010, 1, 1, tzinfo=UTC), 3, NOW)
    one_fresh_high = ranking.score([1.0], 2, datetime(2026, 6, 1, tzinfo=UTC), 8, NOW)
    assert two_old.total > one_fresh_high.total


def test_recency_steps_by_months() -> None:
    assert ranking.recency_points(datetime(2025, 7, 1, tzinfo=UTC), NOW) == 3.0
    assert ranking.recency_points(datetime(2024, 1, 1, tzinfo=UTC), NOW) == 1.5
    assert ranking.recency_points(datetime(2023, 6, 14, tzinfo=UTC), NOW) == 0.0
    assert ranking.recency_points(None, NOW) == 0.0


def test_the_explanation_names_every_part_of_the_score() -> None:
    explained = ranking.score([1.0, 0.75], 3, datetime(2026, 1, 2, tzinfo=UTC), 5, NOW)
    assert explained.explanation() == [
        "2 of 3 skills matched (+17.5)",
        "newest matching credential 2026-01-02 (+3)",
        "EQF level 5 (+2.5)",
    ]
    assert explained.total == 23.0


def test_months_before_keeps_the_day_or_the_month_end() -> None:
    assert ranking.months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert ranking.months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(
        2024, 12, 15, tzinfo=UTC
    )


@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=0, max_value=600),
)
def test_months_before_is_never_later_and_lands_that_many_months_back(
    moment: datetime, months: int
) -> None:
    earlier = ranking.months_before(moment, months)
    assert earlier <= moment
    assert (moment.year * 12 + moment.month) - (earlier.year * 12 + earlier.month) == months


@pytest.mark.both_databases
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    weights=st.lists(st.sampled_from([1.0, ranking.NARROWER_WEIGHT]), min_size=1, max_size=20),
    latest=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
    top_eqf=st.one_of(st.none(), st.integers(1, 8)),
)
def test_the_database_scores_exactly_as_python_does(
    db_backend: str, engine: Engine, weights: list[float], latest: datetime, top_eqf: int | None
) -> None:
    """The search ranks with total_sql and explains with score: the two agree to the point."""
    total = ranking.total_sql(
        literal(sum(weights), Float),
        literal(latest, DateTime(timezone=True)),
        literal(top_eqf, Integer),
        NOW,
    )
    with engine.connect() as connection:
        in_database = connection.execute(select(total)).scalar_one()
    assert in_database == ranking.score(weights, len(weights), latest, top_eqf, NOW).total

from __future__ import annotations

from collections import Counter
from datetime import date

import pyarrow.parquet as pq
import pytest

from microcred.market.analytics import Analytics, Filters
from microcred.market.errors import MarketError
from microcred.market.pipeline import IngestReport
from microcred.market.store import MarketStore


@pytest.fixture(scope="module")
def analytics(ingested: tuple[MarketStore, IngestReport]) -> Analytics:
    return Analytics(ingested[0])


@pytest.fixture(scope="module")
def rows(ingested: tuple[MarketStore, IngestReport]) -> list[dict[str, object]]:
    return pq.read_table(ingested[0].skills_dir).to_pylist()  # type: ignore[no-any-return]


def test_overview_counts_what_was_stored(
    analytics: Analytics, ingested: tuple[MarketStore, IngestReport]
) -> None:
    overview = analytics.overview()
    assert overview.postings == ingested[1].inserted
    assert overview.first_month is not None and overview.last_month == date(2025, 12, 1)
    assert "Bayern" in overview.regions and "DE" in overview.countries


def test_top_skills_match_an_independent_count(
    analytics: Analytics, rows: list[dict[str, object]]
) -> None:
    expected = Counter(row["skill_uri"] for row in rows)
    top = analytics.top_skills(Filters(), 10)
    assert [(s.skill_uri, s.postings) for s in top] == [
        (uri, count) for uri, count in sorted(expected.items(), key=lambda i: (-i[1], i[0]))[:10]
    ]
    total = analytics.total(Filters())
    assert all(s.share == pytest.approx(s.postings / total) for s in top)
    assert top[0].label != top[0].skill_uri


def test_demand_by_region_and_month_adds_up(
    analytics: Analytics, rows: list[dict[str, object]]
) -> None:
    skill = analytics.top_skills(Filters(), 1)[0]
    cells = analytics.demand(Filters(), [skill.skill_uri])
    assert sum(cell.postings for cell in cells) == skill.postings
    assert all(0 < cell.share <= 1 for cell in cells)
    bavaria = analytics.demand(Filters(region="Bayern"), [skill.skill_uri])
    assert {cell.region for cell in bavaria} <= {"Bayern"}
    assert sum(c.postings for c in bavaria) == sum(
        1 for r in rows if r["skill_uri"] == skill.skill_uri and r["region"] == "Bayern"
    )


def test_top_skills_for_an_occupation_in_a_region(
    analytics: Analytics, rows: list[dict[str, object]]
) -> None:
    occupation = Counter(r["occupation_uri"] for r in rows if r["occupation_uri"]).most_common(1)
    uri = str(occupation[0][0])
    top = analytics.top_skills(Filters(occupation_uri=uri, country="US"), 5)
    expected = Counter(
        r["skill_uri"] for r in rows if r["occupation_uri"] == uri and r["country"] == "US"
    )
    assert top and top[0].postings == max(expected.values())


def test_rising_and_falling_skills_are_significant_after_correction(analytics: Analytics) -> None:
    tests = analytics.rising_and_falling(Filters(), months=12, min_mentions=10)
    changed = [t for t in tests if t.direction != "stable"]
    assert any(t.direction == "rising" for t in changed)
    assert all(t.q_value < 0.05 and t.p_value <= t.q_value for t in changed)
    for test in changed:
        share_before = test.before / test.before_total
        share_after = test.after / test.after_total
        assert (share_after > share_before) == (test.direction == "rising")
    with pytest.raises(MarketError):
        analytics.rising_and_falling(Filters(), months=0)


def test_trend_points_cover_every_month(analytics: Analytics) -> None:
    skill = analytics.top_skills(Filters(), 1)[0]
    points = analytics.skill_trend(skill.skill_uri, Filters())
    assert len(points) == 24 and sum(p.postings for p in points) == skill.postings
    assert [p.month for p in points] == sorted(p.month for p in points)


def test_cooccurrence_and_salaries(analytics: Analytics) -> None:
    skill = analytics.top_skills(Filters(), 1)[0]
    together = analytics.cooccurrence(skill.skill_uri, Filters(), 5)
    assert together and all(s.skill_uri != skill.skill_uri and lift > 0 for s, lift in together)
    assert all(0 < s.share <= 1 for s, _ in together)
    salaries = analytics.salary_by_skill(Filters(), min_postings=3)
    assert salaries and all(s.p25 <= s.median <= s.p75 for s in salaries)
    assert {s.currency for s in salaries} <= {"USD", "EUR", "GBP", "CAD"}


def test_region_heat_table(analytics: Analytics) -> None:
    heat = analytics.region_heat(Filters(), skills=5, regions=4)
    assert len(heat.skills) == 5 and len(heat.regions) == 4
    assert all(0 <= share <= 1 for share in heat.shares.values())


def test_an_empty_store_says_how_to_fill_it(tmp_path: object) -> None:
    from pathlib import Path

    with pytest.raises(MarketError) as error:
        Analytics(MarketStore(Path(str(tmp_path))))
    assert error.value.status_code == 404 and "ingest" in error.value.message


def test_the_cube_answers_exactly_as_the_rows_do(
    ingested: tuple[MarketStore, IngestReport],
) -> None:
    store = ingested[0]
    assert store.cube_is_current()
    with Analytics(store) as cube, Analytics(store) as rows:
        rows.has_cube = False
        for filters in (
            Filters(),
            Filters(region="Bayern"),
            Filters(country="US", start=date(2025, 1, 1)),
        ):
            assert cube.top_skills(filters, 30) == rows.top_skills(filters, 30)
            assert cube.total(filters) == rows.total(filters)
            assert cube.demand(filters, limit=300) == rows.demand(filters, limit=300)
            assert cube.rising_and_falling(filters) == rows.rising_and_falling(filters)
            assert cube.region_heat(filters) == rows.region_heat(filters)
        skill = cube.top_skills(Filters(), 1)[0].skill_uri
        assert cube.skill_trend(skill, Filters()) == rows.skill_trend(skill, Filters())


def test_the_cube_is_ignored_once_parts_change(
    tmp_path: object, ingested: tuple[MarketStore, IngestReport]
) -> None:
    import shutil
    from pathlib import Path

    copy = MarketStore(Path(str(tmp_path)) / "copy")
    shutil.copytree(ingested[0].root, copy.root)
    assert copy.cube_is_current()
    part = next(copy.postings_dir.glob("*.parquet"))
    shutil.copy(part, copy.postings_dir / "extra.parquet")
    assert not copy.cube_is_current()
    with Analytics(copy) as analytics:
        assert not analytics.has_cube

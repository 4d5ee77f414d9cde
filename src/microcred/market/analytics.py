"""Demand analytics over the stored postings: DuckDB SQL over the Parquet parts.

Every query counts *postings* (a posting that names a skill three times counts once) and
reports shares against all postings matching the same filters, so regions and months of
different sizes compare fairly. Counting queries read a small pre-aggregated cube (postings per
skill × region × country × month, rebuilt after each ingestion) unless they filter by
occupation; then, like co-occurrence and salaries, they scan one row per posting.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from microcred.market.errors import MarketError
from microcred.market.stats import benjamini_hochberg, binomial_two_sided
from microcred.market.store import MarketStore

TREND_ALPHA = 0.05
"""False-discovery rate for rising/falling skills (Benjamini–Hochberg q-value threshold)."""


@dataclass(frozen=True)
class Filters:
    region: str | None = None
    country: str | None = None
    occupation_uri: str | None = None
    start: date | None = None
    end: date | None = None

    def where(self, table: str = "") -> tuple[str, list[Any]]:
        prefix = f"{table}." if table else ""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("region", self.region),
            ("country", self.country),
            ("occupation_uri", self.occupation_uri),
        ):
            if value:
                clauses.append(f"{prefix}{column} = ?")
                params.append(value)
        if self.start:
            clauses.append(f"{prefix}month >= ?")
            params.append(self.start.replace(day=1))
        if self.end:
            clauses.append(f"{prefix}month <= ?")
            params.append(self.end)
        return (" AND ".join(clauses) or "TRUE"), params


@dataclass(frozen=True)
class Overview:
    postings: int
    skills: int
    regions: list[str]
    countries: list[str]
    first_month: date | None
    last_month: date | None


@dataclass(frozen=True)
class SkillCount:
    skill_uri: str
    label: str
    postings: int
    share: float


@dataclass(frozen=True)
class DemandCell:
    skill_uri: str
    label: str
    region: str
    month: date
    postings: int
    share: float


@dataclass(frozen=True)
class TrendPoint:
    month: date
    postings: int
    total: int
    share: float


@dataclass(frozen=True)
class TrendTest:
    skill_uri: str
    label: str
    before: int
    after: int
    before_total: int
    after_total: int
    change: float
    p_value: float
    q_value: float
    direction: str


@dataclass(frozen=True)
class SalaryRow:
    skill_uri: str
    label: str
    currency: str
    postings: int
    median: float
    p25: float
    p75: float


@dataclass(frozen=True)
class HeatTable:
    regions: list[str]
    skills: list[SkillCount]
    shares: dict[tuple[str, str], float]
    totals: dict[str, int]


class Analytics:
    """One in-memory DuckDB connection with views over a store's Parquet parts."""

    def __init__(self, store: MarketStore) -> None:
        if not store.has_data():
            raise MarketError(
                "No postings are stored yet: run `microcred market ingest FILE`.",
                field="market",
                status_code=404,
            )
        self.connection = duckdb.connect(":memory:")
        self.connection.execute(f"SET threads TO {max(os.cpu_count() or 1, 1)}")
        postings = (store.postings_dir / "*.parquet").as_posix()
        skills = (store.skills_dir / "*.parquet").as_posix()
        self.connection.execute(
            f"CREATE VIEW postings AS SELECT * EXCLUDE (signature) FROM read_parquet('{postings}')"
        )
        self.connection.execute(
            f"CREATE VIEW posting_skills AS SELECT * FROM read_parquet('{skills}')"
        )
        self.connection.execute(
            "CREATE VIEW posting_rows AS "
            "SELECT region, country, month, occupation_uri, 1 AS n FROM postings"
        )
        self.connection.execute(
            "CREATE VIEW skill_rows AS "
            "SELECT skill_uri, region, country, month, occupation_uri, 1 AS n FROM posting_skills"
        )
        self.has_cube = store.cube_is_current()
        if self.has_cube:
            for name, path in (
                ("posting_cube", store.cube_postings_path),
                ("skill_cube", store.cube_skills_path),
            ):
                self.connection.execute(
                    f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path.as_posix()}')"
                )
        self.labels = store.labels()

    def _tables(self, filters: Filters) -> tuple[str, str]:
        """The pre-aggregated cube when it answers the filters, else one row per posting."""
        if self.has_cube and not filters.occupation_uri:
            return "posting_cube", "skill_cube"
        return "posting_rows", "skill_rows"

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Analytics:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, list(params)).fetchall()

    def label(self, uri: str) -> str:
        return self.labels.get(uri, uri)

    def total(self, filters: Filters) -> int:
        postings, _ = self._tables(filters)
        where, params = filters.where()
        return int(
            self._rows(f"SELECT coalesce(sum(n), 0) FROM {postings} WHERE {where}", params)[0][0]
        )

    def overview(self) -> Overview:
        count, first, last = self._rows("SELECT count(*), min(month), max(month) FROM postings")[0]
        skills = self._rows("SELECT count(DISTINCT skill_uri) FROM posting_skills")[0][0]
        regions = [
            r[0]
            for r in self._rows(
                "SELECT region FROM postings GROUP BY region ORDER BY count(*) DESC, region"
            )
        ]
        countries = [
            r[0]
            for r in self._rows(
                "SELECT country FROM postings WHERE country IS NOT NULL GROUP BY country "
                "ORDER BY count(*) DESC, country"
            )
        ]
        return Overview(int(count), int(skills), regions, countries, first, last)

    def top_skills(self, filters: Filters, limit: int = 20) -> list[SkillCount]:
        """The skills named by most postings (e.g. for an occupation in a region)."""
        _, skills = self._tables(filters)
        where, params = filters.where()
        total = max(self.total(filters), 1)
        rows = self._rows(
            f"SELECT skill_uri, sum(n) AS n FROM {skills} WHERE {where} "
            "GROUP BY skill_uri ORDER BY n DESC, skill_uri LIMIT ?",
            [*params, limit],
        )
        return [SkillCount(uri, self.label(uri), int(n), n / total) for uri, n in rows]

    def demand(
        self, filters: Filters, skill_uris: Sequence[str] = (), limit: int = 5000
    ) -> list[DemandCell]:
        """Postings per skill × region × month, with the share of that region-month's postings."""
        postings, skills = self._tables(filters)
        where, params = filters.where("s")
        skill_clause = ""
        if skill_uris:
            skill_clause = f" AND s.skill_uri IN ({', '.join('?' for _ in skill_uris)})"
            params = [*params, *skill_uris]
        base_where, base_params = filters.where()
        rows = self._rows(
            f"WITH totals AS (SELECT region, month, sum(n) AS total FROM {postings} "
            f"WHERE {base_where} GROUP BY region, month) "
            "SELECT s.skill_uri, s.region, s.month, sum(s.n) AS n, any_value(t.total) "
            f"FROM {skills} s JOIN totals t USING (region, month) "
            f"WHERE {where}{skill_clause} "
            "GROUP BY s.skill_uri, s.region, s.month ORDER BY n DESC, s.skill_uri, s.region, "
            "s.month LIMIT ?",
            [*base_params, *params, limit],
        )
        return [
            DemandCell(uri, self.label(uri), region, month, int(n), n / total)
            for uri, region, month, n, total in rows
        ]

    def skill_trend(self, skill_uri: str, filters: Filters) -> list[TrendPoint]:
        postings, skills = self._tables(filters)
        where, params = filters.where()
        rows = self._rows(
            f"WITH totals AS (SELECT month, sum(n) AS total FROM {postings} WHERE {where} "
            f"GROUP BY month), hits AS (SELECT month, sum(n) AS n FROM {skills} "
            f"WHERE {where} AND skill_uri = ? GROUP BY month) "
            "SELECT t.month, coalesce(h.n, 0), t.total "
            "FROM totals t LEFT JOIN hits h USING (month) "
            "ORDER BY t.month",
            [*params, *params, skill_uri],
        )
        return [
            TrendPoint(month, int(n), int(total), n / total if total else 0.0)
            for month, n, total in rows
        ]

    def region_heat(self, filters: Filters, skills: int = 10, regions: int = 12) -> HeatTable:
        """Share of each region's postings naming each of the top skills."""
        posting_table, skill_table = self._tables(filters)
        top = self.top_skills(filters, skills)
        where, params = filters.where()
        region_rows = self._rows(
            f"SELECT region, sum(n) AS n FROM {posting_table} WHERE {where} GROUP BY region "
            "ORDER BY n DESC, region LIMIT ?",
            [*params, regions],
        )
        totals = {region: int(n) for region, n in region_rows}
        shares: dict[tuple[str, str], float] = {}
        if top and totals:
            uris = [skill.skill_uri for skill in top]
            rows = self._rows(
                f"SELECT region, skill_uri, sum(n) FROM {skill_table} WHERE {where} "
                f"AND skill_uri IN ({', '.join('?' for _ in uris)}) "
                f"AND region IN ({', '.join('?' for _ in totals)}) GROUP BY region, skill_uri",
                [*params, *uris, *totals],
            )
            shares = {(region, uri): n / totals[region] for region, uri, n in rows}
        return HeatTable(list(totals), top, shares, totals)

    def rising_and_falling(
        self, filters: Filters, months: int = 12, min_mentions: int = 10, alpha: float = TREND_ALPHA
    ) -> list[TrendTest]:
        """Skills whose share changed between the last ``months`` and the ``months`` before."""
        postings, skills = self._tables(filters)
        if months < 1:
            raise MarketError("months must be at least 1.", field="months")
        where, params = filters.where()
        last = self._rows(f"SELECT max(month) FROM {postings} WHERE {where}", params)[0][0]
        if last is None:
            return []
        split = _add_months(last, -(months - 1))
        start = _add_months(split, -months)
        totals = dict(
            self._rows(
                f"SELECT month >= ? AS recent, sum(n) FROM {postings} WHERE {where} AND month >= ? "
                "GROUP BY recent",
                [split, *params, start],
            )
        )
        before_total, after_total = int(totals.get(False, 0)), int(totals.get(True, 0))
        if not before_total or not after_total:
            return []
        rows = self._rows(
            "SELECT skill_uri, coalesce(sum(n) FILTER (WHERE month < ?), 0), "
            "coalesce(sum(n) FILTER (WHERE month >= ?), 0) "
            f"FROM {skills} WHERE {where} AND month >= ? GROUP BY skill_uri "
            "HAVING sum(n) >= ?",
            [split, split, *params, start, min_mentions],
        )
        expected = before_total / (before_total + after_total)
        p_values = [binomial_two_sided(int(b), int(b) + int(a), expected) for _, b, a in rows]
        q_values = benjamini_hochberg(p_values)
        tests: list[TrendTest] = []
        for (uri, before, after), p_value, q_value in zip(rows, p_values, q_values, strict=True):
            share_before, share_after = before / before_total, after / after_total
            change = (share_after - share_before) / share_before if share_before else float("inf")
            direction = "rising" if share_after > share_before else "falling"
            tests.append(
                TrendTest(
                    uri,
                    self.label(uri),
                    int(before),
                    int(after),
                    before_total,
                    after_total,
                    change,
                    p_value,
                    q_value,
                    direction if q_value < alpha else "stable",
                )
            )
        tests.sort(
            key=lambda t: (
                t.direction == "stable",
                t.q_value,
                -abs(t.after - t.before),
                t.skill_uri,
            )
        )
        return tests

    def cooccurrence(
        self, skill_uri: str, filters: Filters, limit: int = 20
    ) -> list[tuple[SkillCount, float]]:
        """Skills named with ``skill_uri``: count, share of its postings, and lift."""
        where, params = filters.where()
        rows = self._rows(
            "SELECT skill_uri, count(*) AS together FROM posting_skills "
            "WHERE posting_id IN (SELECT posting_id FROM posting_skills "
            f"WHERE {where} AND skill_uri = ?) AND skill_uri <> ? "
            "GROUP BY skill_uri ORDER BY together DESC, skill_uri LIMIT ?",
            [*params, skill_uri, skill_uri, limit],
        )
        total = max(self.total(filters), 1)
        counts = self.skill_shares([skill_uri, *(uri for uri, _ in rows)], filters)
        anchor = counts[skill_uri]
        result: list[tuple[SkillCount, float]] = []
        for uri, together in rows:
            overall = counts[uri]
            lift = (together / anchor) / (overall / total) if anchor and overall else 0.0
            share = together / anchor if anchor else 0.0
            result.append((SkillCount(uri, self.label(uri), int(together), share), lift))
        return result

    def salary_by_skill(
        self, filters: Filters, min_postings: int = 5, limit: int = 50
    ) -> list[SalaryRow]:
        """Median and quartiles of annual salary per skill and currency (postings with one)."""
        where, params = filters.where()
        rows = self._rows(
            "WITH stats AS (SELECT skill_uri, currency, count(*) AS n, "
            "quantile_cont(salary_annual, [0.25, 0.5, 0.75]) AS q "
            f"FROM posting_skills WHERE {where} AND salary_annual IS NOT NULL "
            "AND currency IS NOT NULL GROUP BY skill_uri, currency HAVING count(*) >= ?) "
            "SELECT skill_uri, currency, n, q[2], q[1], q[3] FROM stats "
            "ORDER BY q[2] DESC, skill_uri, currency LIMIT ?",
            [*params, min_postings, limit],
        )
        return [
            SalaryRow(uri, self.label(uri), currency, int(n), float(median), float(p25), float(p75))
            for uri, currency, n, median, p25, p75 in rows
        ]

    def skill_shares(self, uris: Sequence[str], filters: Filters) -> dict[str, int]:
        """Postings naming each of ``uris`` (0 for those never named)."""
        _, skills = self._tables(filters)
        if not uris:
            return {}
        where, params = filters.where()
        rows = self._rows(
            f"SELECT skill_uri, sum(n) FROM {skills} WHERE {where} "
            f"AND skill_uri IN ({', '.join('?' for _ in uris)}) GROUP BY skill_uri",
            [*params, *uris],
        )
        found = {uri: int(n) for uri, n in rows}
        return {uri: found.get(uri, 0) for uri in uris}


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)

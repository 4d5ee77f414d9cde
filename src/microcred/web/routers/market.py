"""Market analytics pages and API, and the skill-extraction API.

Everything here is public: postings analytics are aggregates, and the gap report compares
aggregates with *published* credentials, both of which anyone may see.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from microcred.market import charts
from microcred.market.analytics import Analytics, Filters
from microcred.market.errors import MarketError
from microcred.market.schemas import (
    CoSkillOut,
    DemandCellOut,
    GapReportOut,
    OverviewOut,
    SalaryOut,
    SkillCountOut,
    TrendPointOut,
    TrendTestOut,
)
from microcred.market.service import gap_report, open_analytics
from microcred.settings import Settings
from microcred.skills.extraction.schemas import ExtractRequest, ExtractResponse
from microcred.skills.extraction.service import embeddings_cache_dir, extract_skills
from microcred.web.deps import DbSession, OptionalPrincipal
from microcred.web.rendering import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["market"])
extraction_api = APIRouter(prefix="/api/v1", tags=["skills"])

Region = Annotated[str | None, Query(max_length=120, description="Region (e.g. Bayern, Ohio)")]
Country = Annotated[str | None, Query(min_length=2, max_length=2, description="ISO alpha-2")]
OccupationUri = Annotated[str | None, Query(max_length=300, description="Occupation URI")]
Since = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="First month YYYY-MM")]
Until = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="Last month YYYY-MM")]
SkillUri = Annotated[str, Query(min_length=1, max_length=300, description="Skill URI")]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.context.settings
    return settings


def _month(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise MarketError(f"{value!r} is not a month (use YYYY-MM).", field=field) from None


def _filters(
    region: str | None,
    country: str | None,
    occupation: str | None,
    since: str | None,
    until: str | None = None,
) -> Filters:
    return Filters(
        region=region or None,
        country=country.upper() if country else None,
        occupation_uri=occupation or None,
        start=_month(since, "since"),
        end=_month(until, "until"),
    )


def _analytics(request: Request) -> Analytics:
    return open_analytics(_settings(request))


# ---------------------------------------------------------------------------------------------
# Extraction API


@extraction_api.post(
    "/skills/extract", response_model=ExtractResponse, summary="Extract skills from free text"
)
def api_extract(request: Request, session: DbSession, body: ExtractRequest) -> ExtractResponse:
    """Skills named in a posting, course description or CV: URI, span, label, confidence."""
    result = extract_skills(
        session, body.text, body.mode, embeddings_cache_dir(_settings(request).data_dir)
    )
    return ExtractResponse.of(result, body.min_confidence)


# ---------------------------------------------------------------------------------------------
# Market API


@api.get("/market/overview", response_model=OverviewOut, summary="What is stored")
def api_overview(request: Request) -> OverviewOut:
    with _analytics(request) as analytics:
        return OverviewOut(**asdict(analytics.overview()))


@api.get(
    "/market/demand", response_model=list[DemandCellOut], summary="Demand by skill × region × month"
)
def api_demand(
    request: Request,
    skill: Annotated[list[str] | None, Query(description="Skill URIs (repeat)")] = None,
    region: Region = None,
    country: Country = None,
    occupation: OccupationUri = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 5000,
) -> list[DemandCellOut]:
    with _analytics(request) as analytics:
        cells = analytics.demand(
            _filters(region, country, occupation, since, until), skill or [], limit
        )
    return [DemandCellOut(**asdict(cell)) for cell in cells]


@api.get(
    "/market/top-skills",
    response_model=list[SkillCountOut],
    summary="Top skills (for an occupation in a region)",
)
def api_top_skills(
    request: Request,
    region: Region = None,
    country: Country = None,
    occupation: OccupationUri = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[SkillCountOut]:
    with _analytics(request) as analytics:
        skills = analytics.top_skills(_filters(region, country, occupation, since, until), limit)
    return [SkillCountOut(**asdict(skill)) for skill in skills]


@api.get(
    "/market/skills/trend",
    response_model=list[TrendPointOut],
    summary="Monthly share of postings naming one skill",
)
def api_skill_trend(
    request: Request,
    uri: SkillUri,
    region: Region = None,
    country: Country = None,
    occupation: OccupationUri = None,
) -> list[TrendPointOut]:
    with _analytics(request) as analytics:
        points = analytics.skill_trend(uri, _filters(region, country, occupation, None))
    return [TrendPointOut(**asdict(point)) for point in points]


@api.get(
    "/market/trends",
    response_model=list[TrendTestOut],
    summary="Rising and falling skills (binomial test, Benjamini–Hochberg q < 0.05)",
)
def api_trends(
    request: Request,
    region: Region = None,
    country: Country = None,
    occupation: OccupationUri = None,
    months: Annotated[int, Query(ge=1, le=24, description="Window length")] = 12,
    min_mentions: Annotated[int, Query(ge=1)] = 10,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[TrendTestOut]:
    with _analytics(request) as analytics:
        tests = analytics.rising_and_falling(
            _filters(region, country, occupation, None), months, min_mentions
        )
    return [TrendTestOut(**asdict(test)) for test in tests[:limit]]


@api.get(
    "/market/cooccurrence",
    response_model=list[CoSkillOut],
    summary="Skills named together with one skill",
)
def api_cooccurrence(
    request: Request,
    uri: SkillUri,
    region: Region = None,
    country: Country = None,
    since: Since = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[CoSkillOut]:
    with _analytics(request) as analytics:
        rows = analytics.cooccurrence(uri, _filters(region, country, None, since), limit)
    return [CoSkillOut(**asdict(skill), lift=lift) for skill, lift in rows]


@api.get(
    "/market/salaries",
    response_model=list[SalaryOut],
    summary="Annual salary by skill (postings that state one)",
)
def api_salaries(
    request: Request,
    region: Region = None,
    country: Country = None,
    occupation: OccupationUri = None,
    since: Since = None,
    min_postings: Annotated[int, Query(ge=1)] = 5,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[SalaryOut]:
    with _analytics(request) as analytics:
        rows = analytics.salary_by_skill(
            _filters(region, country, occupation, since), min_postings, limit
        )
    return [SalaryOut(**asdict(row)) for row in rows]


@api.get(
    "/market/gap/{issuer_slug}",
    response_model=GapReportOut,
    summary="Curriculum gap report for an issuer",
)
def api_gap(
    request: Request, session: DbSession, issuer_slug: str, since: Since = None
) -> GapReportOut:
    with _analytics(request) as analytics:
        report = gap_report(session, analytics, issuer_slug, since=_month(since, "since"))
    return GapReportOut.model_validate(asdict(report))


# ---------------------------------------------------------------------------------------------
# Pages


def _percent_bars(title: str, skills: list[Any]) -> Markup:
    return Markup(charts.bar_chart(title, [(skill.label, skill.share) for skill in skills]))


@pages.get("/market", response_class=HTMLResponse)
def market_page(
    request: Request,
    principal: OptionalPrincipal,
    region: Region = None,
    country: Country = None,
    occupation: OccupationUri = None,
    since: Since = None,
    until: Until = None,
) -> HTMLResponse:
    filters = _filters(region, country, occupation, since, until)
    try:
        analytics = _analytics(request)
    except MarketError as error:
        return render(request, "market/index.html", principal, empty=error.message, filters=filters)
    with analytics:
        overview = analytics.overview()
        top = analytics.top_skills(filters, 15)
        heat = analytics.region_heat(filters)
        tests = [t for t in analytics.rising_and_falling(filters) if t.direction != "stable"]
        salaries = analytics.salary_by_skill(filters, limit=10)
    highest = max(heat.shares.values(), default=0.0)
    levels = {key: charts.heat_level(share, highest) for key, share in heat.shares.items()}
    return render(
        request,
        "market/index.html",
        principal,
        overview=overview,
        filters=filters,
        top=top,
        top_chart=_percent_bars("Top skills by share of postings", top),
        heat=heat,
        levels=levels,
        rising=[t for t in tests if t.direction == "rising"][:10],
        falling=[t for t in tests if t.direction == "falling"][:10],
        salaries=salaries,
        since=since or "",
        until=until or "",
    )


@pages.get("/market/skills/view", response_class=HTMLResponse)
def skill_page(
    request: Request,
    principal: OptionalPrincipal,
    uri: SkillUri,
    region: Region = None,
    country: Country = None,
) -> HTMLResponse:
    filters = _filters(region, country, None, None)
    with _analytics(request) as analytics:
        label = analytics.label(uri)
        points = analytics.skill_trend(uri, filters)
        together = analytics.cooccurrence(uri, filters, 15)
        heat = analytics.region_heat(filters, skills=0)
        by_region = analytics.demand(filters, [uri])
    if not any(point.postings for point in points):
        raise MarketError(f"No stored posting names {uri}.", field="uri", status_code=404)
    regional: dict[str, int] = {}
    for cell in by_region:
        regional[cell.region] = regional.get(cell.region, 0) + cell.postings
    region_shares = sorted(
        (
            (name, count / heat.totals[name])
            for name, count in regional.items()
            if name in heat.totals
        ),
        key=lambda item: -item[1],
    )
    return render(
        request,
        "market/skill.html",
        principal,
        uri=uri,
        label=label,
        points=points,
        trend_chart=Markup(
            charts.line_chart(
                f"Share of postings naming {label}",
                [(p.month, p.share) for p in points],
            )
        ),
        region_chart=Markup(
            charts.bar_chart(f"{label}: share of postings by region", region_shares[:12])
            + charts.figures(
                f"{label}: share of postings by region",
                ("Region", "Share of postings"),
                region_shares[:12],
            )
        ),
        together=together,
        filters=filters,
    )


@pages.get("/market/gap/{issuer_slug}", response_class=HTMLResponse)
def gap_page(
    request: Request,
    principal: OptionalPrincipal,
    session: DbSession,
    issuer_slug: str,
    since: Since = None,
) -> HTMLResponse:
    with _analytics(request) as analytics:
        report = gap_report(session, analytics, issuer_slug, since=_month(since, "since"))
    return render(
        request,
        "market/gap.html",
        principal,
        report=report,
        gap_chart=_percent_bars("In-demand skills not covered", report.gaps[:15]),
    )


routers: list[APIRouter] = [extraction_api, api, pages]

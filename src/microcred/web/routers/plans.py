"""Learning plans: the page and the JSON API of ``wallet.plans``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from microcred.errors import MicrocredError
from microcred.market.analytics import Analytics
from microcred.market.charts import bar_chart, timeline_chart
from microcred.market.service import market_store, open_analytics
from microcred.settings import Settings
from microcred.skills.service import search_occupations
from microcred.wallet import plans
from microcred.wallet.planning import DEFAULT_HOURS_PER_WEEK, Need
from microcred.web.deps import DbSession, OptionalPrincipal, app_context
from microcred.web.rendering import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["wallet"])
routers = [pages, api]
OPEN_SHOWN = 15


@contextmanager
def _analytics(settings: Settings) -> Iterator[Analytics | None]:
    """The market store's analytics, or None when no postings are loaded."""
    if not market_store(settings).has_data():
        yield None
        return
    with open_analytics(settings) as analytics:
        yield analytics


def _make(
    session: DbSession, settings: Settings, user_id: str | None, request: plans.PlanRequest
) -> tuple[plans.LearningPlan, list[str]]:
    with _analytics(settings) as analytics:
        plan = plans.learning_plan(session, user_id, request, analytics)
        regions = analytics.overview().regions if analytics is not None else []
    return plan, regions


@pages.get("/learning-plan", response_class=HTMLResponse)
def plan_page(
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    job: Annotated[str, Query(max_length=200)] = "",
    occupation: Annotated[str, Query(max_length=500)] = "",
    region: Annotated[str, Query(max_length=100)] = "",
    budget: Annotated[str, Query(max_length=20)] = "",
    currency: Annotated[str, Query(max_length=3)] = "",
    hours_per_week: Annotated[str, Query(max_length=10)] = "",
    max_weeks: Annotated[str, Query(max_length=10)] = "",
    form: Annotated[list[str] | None, Query(max_length=3)] = None,
    language: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    settings = app_context(request).settings
    if language is None:  # not chosen yet: the browser's language, which the learner may clear
        language = _browser_language(request.headers.get("accept-language", ""))
    fields = {
        "job": job, "occupation": occupation, "region": region, "budget": budget,
        "currency": currency.upper(), "hours_per_week": hours_per_week, "max_weeks": max_weeks,
        "forms": form or [], "language": language,
    }  # fmt: skip
    context: dict[str, object] = {"fields": fields, "result": None, "error": None}
    hits = search_occupations(session, job, limit=8) if job.strip() and not occupation else []
    chosen = occupation or (hits[0].uri if hits else "")
    context["alternatives"] = hits[1:]
    status = 200
    regions: list[str] = []
    if job.strip() and not chosen:
        context["error"] = f"No occupation matches {job!r}. Try another title."
        status = 404
    elif chosen:
        try:
            plan_request = plans.PlanRequest(
                occupation_uri=chosen,
                region=region or None,
                budget=_number(budget, "budget"),
                currency=currency.upper() or None,
                hours_per_week=_number(hours_per_week, "hours_per_week") or DEFAULT_HOURS_PER_WEEK,
                max_weeks=_number(max_weeks, "max_weeks"),
                forms=tuple(form or ()),
                languages=tuple(language.replace(",", " ").split()),
            )
            result, regions = _make(
                session, settings, principal.user_id if principal else None, plan_request
            )
        except MicrocredError as error:
            context["error"], status = error.message, error.status_code
        else:
            context["result"] = result
            context["charts"] = _charts(result)
            context["open_shown"] = OPEN_SHOWN
    if not regions:
        with _analytics(settings) as analytics:
            regions = analytics.overview().regions if analytics is not None else []
    return render(
        request, "wallet/plan.html", principal, status_code=status, regions=regions,
        forms=plans.PARTICIPATION_FORMS, signed_in=principal is not None, **context,
    )  # fmt: skip


def _browser_language(header: str) -> str:
    """The primary language of an ``Accept-Language`` header (``de-CH,de;q=0.9`` → ``de``)."""
    first = header.split(",")[0].split(";")[0].strip().lower()
    primary = first.split("-")[0]
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else ""


def _number(text: str, field: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise plans.PlanError(f"{text!r} is not a number.", field=field) from None


def _charts(result: plans.LearningPlan) -> dict[str, str]:
    plan = result.plan
    coverage = bar_chart(
        f"How much of what {result.occupation_label} needs you would hold",
        [("Held now", plan.coverage_before), ("After this plan", plan.coverage_after)],
        value_format="{:.0%}",
    )
    timeline = timeline_chart(
        "When each step runs, at your pace",
        [(step.offer.name, step.start_week, step.end_week) for step in plan.steps],
    )
    return {"coverage": coverage, "timeline": timeline}


# --- JSON API ----------------------------------------------------------------------------------


class PlanIn(BaseModel):
    occupation_uri: str | None = Field(default=None, max_length=500)
    job: str | None = Field(
        default=None, max_length=200, description="A job title, when no occupation_uri is given"
    )
    region: str | None = Field(default=None, max_length=100)
    budget: float | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    hours_per_week: float = Field(default=DEFAULT_HOURS_PER_WEEK, gt=0, le=80)
    max_weeks: float | None = Field(default=None, gt=0)
    forms: list[str] = Field(default_factory=list, max_length=3)
    languages: list[str] = Field(default_factory=list, max_length=10)


class NeedOut(BaseModel):
    skill_uri: str
    label: str
    weight: float
    reasons: list[str]


class StepOut(BaseModel):
    definition_id: str
    name: str
    issuer: str
    price: float
    currency: str | None
    hours: float
    start_week: float
    end_week: float
    covers: list[NeedOut]
    reason: str
    prerequisite_of: list[str]
    pathways: list[str] = Field(description="Pathways (larger qualifications) it counts towards")
    through: dict[str, str] = Field(
        default_factory=dict,
        description="Needs it covers through a narrower skill it teaches: need URI → that "
        "skill's label",
    )


class OpenOut(BaseModel):
    need: NeedOut
    reason: str


class PlanOut(BaseModel):
    occupation_uri: str
    occupation: str
    region: str | None
    demand_basis: str
    coverage_before: float
    coverage_after: float
    total_price: dict[str, float]
    total_hours: float
    total_weeks: float
    steps: list[StepOut]
    held: list[NeedOut]
    evidence: dict[str, list[str]]
    open: list[OpenOut]
    notes: list[str]


def _need_out(need: Need) -> NeedOut:
    return NeedOut(
        skill_uri=need.uri, label=need.label, weight=need.weight, reasons=list(need.reasons)
    )


@api.post("/learning-plans", response_model=PlanOut, summary="A learning plan for a target job")
def api_plan(
    body: PlanIn, request: Request, session: DbSession, principal: OptionalPrincipal
) -> PlanOut:
    """Signed in, the plan counts the credentials you hold; anonymous, it starts from nothing."""
    occupation = body.occupation_uri
    if not occupation and body.job:
        hits = search_occupations(session, body.job, limit=1)
        occupation = hits[0].uri if hits else None
    if not occupation:
        raise plans.PlanError("Name an occupation_uri, or a job title that matches one.")
    plan_request = plans.PlanRequest(
        occupation_uri=occupation, region=body.region, budget=body.budget,
        currency=body.currency, hours_per_week=body.hours_per_week, max_weeks=body.max_weeks,
        forms=tuple(body.forms), languages=tuple(body.languages),
    )  # fmt: skip
    settings = app_context(request).settings
    result, _ = _make(session, settings, principal.user_id if principal else None, plan_request)
    plan = result.plan
    return PlanOut(
        occupation_uri=result.occupation_uri,
        occupation=result.occupation_label,
        region=result.region,
        demand_basis=result.demand_basis,
        coverage_before=plan.coverage_before,
        coverage_after=plan.coverage_after,
        total_price=plan.total_price,
        total_hours=plan.total_hours,
        total_weeks=plan.total_weeks,
        steps=[
            StepOut(
                definition_id=s.offer.definition_id,
                name=s.offer.name,
                issuer=s.offer.issuer_name,
                price=s.offer.price,
                currency=s.offer.currency,
                hours=s.offer.hours,
                start_week=s.start_week,
                end_week=s.end_week,
                covers=[_need_out(n) for n in s.covers],
                reason=s.reason,
                prerequisite_of=list(s.prerequisite_of),
                pathways=result.pathways.get(s.offer.definition_id, []),
                through=result.through.get(s.offer.definition_id, {}),
            )
            for s in plan.steps
        ],
        held=[_need_out(n) for n in plan.held],
        evidence=result.evidence,
        open=[OpenOut(need=_need_out(o.need), reason=o.reason) for o in plan.open],
        notes=plan.notes,
    )

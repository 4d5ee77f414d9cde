"""Talent search pages and API (employers), and the learner's talent-search consent page."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from pydantic import BaseModel, Field

from microcred.accounts.service import Principal
from microcred.i18n import gettext as _
from microcred.market import charts
from microcred.settings import Settings
from microcred.skills.extraction.service import embeddings_cache_dir
from microcred.talent import service as talent
from microcred.talent.errors import TalentError, TalentForbidden
from microcred.talent.schemas import TalentSearchIn, TalentSearchOut
from microcred.web.deps import CurrentPrincipal, DbSession, app_context
from microcred.web.rendering import render
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["talent"])
routers = [pages, api]

LABEL_SEPARATORS = re.compile(r"[,;\n]+")
Skills = Annotated[list[str] | None, Query(max_length=talent.MAX_QUERY_SKILLS)]


def _settings(request: Request) -> Settings:
    return app_context(request).settings


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _labels(text: str) -> list[str]:
    return [part.strip() for part in LABEL_SEPARATORS.split(text) if part.strip()]


def _number(value: str, field: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise TalentError(f"{field.replace('_', ' ').capitalize()} must be a number.", field=field)
    return int(value)


def _filters(narrower: str, min_matched: str, min_eqf: str, months: str) -> talent.Filters:
    filters = talent.Filters(
        include_narrower=narrower in ("1", "on", "true"),
        min_matched=_number(min_matched, "min_matched") or 1,
        min_eqf=_number(min_eqf, "min_eqf"),
        within_months=_number(months, "within_months"),
    )
    talent.check_filters(filters)
    return filters


def _chart(results: talent.TalentResults) -> Markup:
    return Markup(
        charts.bar_chart(
            _("Consenting learners with a verified credential for each skill"),
            [(h.skill.label, float(h.learners)) for h in results.holders],
            value_format="{:.0f}",
        )
    )


def _search_page(
    request: Request,
    session: DbSession,
    principal: Principal,
    *,
    form: dict[str, str],
    asked: list[str],
    extracted: list[talent.ExtractedSkill] | None = None,
    page: int = 1,
) -> HTMLResponse:
    """The search form, and the results when skills were asked for (a search is audited)."""
    organisations = talent.employer_organisations(session, principal)
    searcher = talent.searching_organisation(session, principal, form.get("organisation") or None)
    context: dict[str, object] = {
        "form": form, "organisations": organisations, "extracted": extracted or [],
        "searcher": searcher, "results": None, "error": None, "chart": None,
        "ticked": [(uri, uri) for uri in asked if talent.is_uri(uri)],
    }  # fmt: skip
    status = 200
    if asked:
        try:
            filters = _filters(
                form["narrower"], form["min_matched"], form["min_eqf"], form["months"]
            )
            skills = talent.resolve_skills(
                session, asked, include_narrower=filters.include_narrower
            )
            results = talent.search_talent(
                session, principal, skills, filters, page=page, ip=_ip(request),
                organisation=searcher.slug if searcher else None,
            )  # fmt: skip
        except TalentForbidden:
            raise
        except TalentError as error:
            context["error"], status = error.message, error.status_code
        else:
            context["results"], context["chart"] = results, _chart(results)
            context["ticked"] = [(s.uri, s.label) for s in skills]
            context["page_link"] = _page_link(form, [s.uri for s in skills])
    return render(request, "talent/search.html", principal, status_code=status, **context)


def _page_link(form: dict[str, str], uris: list[str]) -> str:
    """The address of the same search with ``page=`` to be appended."""
    params = [("skill", uri) for uri in uris]
    params += [(key, form[key]) for key in ("narrower", "min_matched", "min_eqf", "months")]
    params += [("organisation", form["organisation"])] if form.get("organisation") else []
    return f"/talent?{urlencode(params)}&page="


def _form(
    q: str, narrower: str, min_matched: str, min_eqf: str, months: str, organisation: str
) -> dict[str, str]:
    return {
        "q": q, "narrower": narrower, "min_matched": min_matched, "min_eqf": min_eqf,
        "months": months, "organisation": organisation,
    }  # fmt: skip


@pages.get("/talent", response_class=HTMLResponse)
def talent_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    q: Annotated[str, Query(max_length=2000)] = "",
    skill: Skills = None,
    narrower: Annotated[str, Query(max_length=5)] = "",
    min_matched: Annotated[str, Query(max_length=3)] = "",
    min_eqf: Annotated[str, Query(max_length=3)] = "",
    months: Annotated[str, Query(max_length=4)] = "",
    organisation: Annotated[str, Query(max_length=80)] = "",
    page: Annotated[int, Query(ge=1, le=talent.MAX_RESULTS)] = 1,
) -> HTMLResponse:
    form = _form(q, narrower, min_matched, min_eqf, months, organisation)
    asked = list(skill or []) + _labels(q)
    return _search_page(request, session, principal, form=form, asked=asked, page=page)


@pages.post("/talent/posting", response_class=HTMLResponse)
def talent_posting(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    posting: Annotated[str, Form(max_length=talent.MAX_POSTING)] = "",
    narrower: Annotated[str, Form(max_length=5)] = "",
    min_matched: Annotated[str, Form(max_length=3)] = "",
    min_eqf: Annotated[str, Form(max_length=3)] = "",
    months: Annotated[str, Form(max_length=4)] = "",
    organisation: Annotated[str, Form(max_length=80)] = "",
) -> HTMLResponse:
    """Extract a posting's skills, show them ticked (untick and search again), and search."""
    check_csrf(request, csrf_token)
    form = _form("", narrower, min_matched, min_eqf, months, organisation)
    talent.searching_organisation(session, principal, organisation or None)
    try:
        cache = embeddings_cache_dir(_settings(request).data_dir)
        extracted = talent.skills_in_posting(session, posting, cache)
    except TalentError as error:
        organisations = talent.employer_organisations(session, principal)
        return render(
            request, "talent/search.html", principal, status_code=error.status_code,
            form={**form, "posting": posting}, organisations=organisations, extracted=[],
            results=None, chart=None, error=error.message, searcher=None, ticked=[],
        )  # fmt: skip
    return _search_page(
        request, session, principal, form={**form, "posting": posting},
        asked=[s.uri for s in extracted], extracted=extracted,
    )  # fmt: skip


@pages.get("/wallet/talent", response_class=HTMLResponse)
def consent_page(request: Request, session: DbSession, principal: CurrentPrincipal) -> HTMLResponse:
    return render(
        request, "talent/consent.html", principal,
        searchable=talent.is_searchable(session, principal.user_id),
        sightings=talent.who_found_me(session, principal.user_id),
    )  # fmt: skip


@pages.post("/wallet/talent")
def consent_save(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    searchable: Annotated[str, Form(max_length=5)] = "",
) -> RedirectResponse:
    check_csrf(request, csrf_token)
    talent.set_searchable(session, principal, searchable == "on")
    return RedirectResponse("/wallet/talent?saved=1", status_code=303)


# --- JSON API ----------------------------------------------------------------------------------


@api.post(
    "/talent/search",
    response_model=TalentSearchOut,
    summary="Search consenting learners by verified skills (employers, scope talent:search)",
)
def api_search(
    body: TalentSearchIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> TalentSearchOut:
    """Skills by URI or label, or a job posting whose skills are extracted; one page of learners,
    best first, each with the credentials that verify each matched skill and the score's parts."""
    talent.searching_organisation(session, principal, body.organisation)
    extracted: list[talent.ExtractedSkill] = []
    asked = list(body.skills)
    if body.posting:
        cache = embeddings_cache_dir(_settings(request).data_dir)
        extracted = talent.skills_in_posting(session, body.posting, cache)
        excluded = set(body.exclude)
        asked += [s.uri for s in extracted if s.uri not in excluded]
    filters = talent.Filters(
        include_narrower=body.include_narrower, min_matched=body.min_matched,
        min_eqf=body.min_eqf, within_months=body.within_months,
    )  # fmt: skip
    skills = talent.resolve_skills(session, asked, include_narrower=body.include_narrower)
    results = talent.search_talent(
        session, principal, skills, filters, organisation=body.organisation, page=body.page,
        per_page=body.per_page, ip=_ip(request),
    )  # fmt: skip
    base_url = _settings(request).base_url.rstrip("/")
    return TalentSearchOut.of(results, extracted, base_url)


class FoundByOut(BaseModel):
    organisation: str
    times: int
    last_seen: datetime


class TalentConsentOut(BaseModel):
    searchable: bool = Field(description="Employers may find you by your verified skills")
    found_by: list[FoundByOut]


class TalentConsentIn(BaseModel):
    searchable: bool


def _consent_out(session: DbSession, principal: Principal) -> TalentConsentOut:
    return TalentConsentOut(
        searchable=talent.is_searchable(session, principal.user_id),
        found_by=[
            FoundByOut(organisation=s.organisation_name, times=s.times, last_seen=s.last_seen)
            for s in talent.who_found_me(session, principal.user_id)
        ],
    )


@api.get("/me/talent", response_model=TalentConsentOut, summary="Your talent-search consent")
def api_consent(session: DbSession, principal: CurrentPrincipal) -> TalentConsentOut:
    return _consent_out(session, principal)


@api.put("/me/talent", response_model=TalentConsentOut, summary="Be found by employers, or not")
def api_set_consent(
    body: TalentConsentIn, session: DbSession, principal: CurrentPrincipal
) -> TalentConsentOut:
    talent.set_searchable(session, principal, body.searchable)
    return _consent_out(session, principal)

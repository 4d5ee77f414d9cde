"""Skills taxonomy pages (/skills, /skills/view, /about) and API (/api/v1/skills …)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from microcred.skills import service
from microcred.skills.schemas import (
    OccupationOut,
    OccupationSkillOut,
    RelatedSkillOut,
    SkillHitOut,
    SkillOccupationOut,
    SkillOut,
    SourceFileOut,
    TaxonomyVersionOut,
)
from microcred.web.deps import DbSession, OptionalPrincipal
from microcred.web.rendering import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["skills"])

Limit = Annotated[int, Query(ge=1, le=service.MAX_LIMIT, description="Most results to return")]
SearchText = Annotated[str, Query(min_length=1, max_length=service.MAX_QUERY_LENGTH)]


def _hits(hits: list[service.SkillHit]) -> list[SkillHitOut]:
    return [
        SkillHitOut(
            uri=h.uri, label=h.label, matched_label=h.matched_label, score=h.score, match=h.match
        )
        for h in hits
    ]


def _skill_out(session: Session, uri: str) -> SkillOut:
    skill = service.get_skill(session, uri)
    return SkillOut(
        uri=skill.uri,
        preferred_label=skill.preferred_label,
        alt_labels=skill.alt_labels,
        description=skill.description,
        skill_type=skill.skill_type,
        reuse_level=skill.reuse_level,
        code=skill.code,
        is_group=skill.is_group,
        hot_technology=skill.hot_technology,
        in_demand=skill.in_demand,
        labels_recovered=skill.labels_recovered,
        source=skill.source,
        broader=[RelatedSkillOut(**vars(r)) for r in service.skill_broader(session, skill.uri)],
        narrower=[RelatedSkillOut(**vars(r)) for r in service.skill_narrower(session, skill.uri)],
        occupations=[
            SkillOccupationOut(
                uri=o.occupation_uri,
                label=o.occupation_label,
                code=o.code,
                relation_type=o.relation_type,
                source=o.source,
            )
            for o in service.skill_occupations(session, skill.uri)
        ],
    )


def _occupation_out(session: Session, uri: str) -> OccupationOut:
    occupation = service.get_occupation(session, uri)
    return OccupationOut(
        uri=occupation.uri,
        preferred_label=occupation.preferred_label,
        alt_labels=occupation.alt_labels,
        description=occupation.description,
        code=occupation.code,
        broader_uri=occupation.broader_uri,
        is_group=occupation.is_group,
        job_zone=occupation.job_zone,
        labels_recovered=occupation.labels_recovered,
        source=occupation.source,
        skills=[
            OccupationSkillOut(
                uri=n.skill_uri,
                label=n.skill_label,
                skill_type=n.skill_type,
                relation_type=n.relation_type,
                source=n.source,
                hot_technology=n.hot_technology,
                in_demand=n.in_demand,
            )
            for n in service.occupation_skills(session, occupation.uri)
        ],
    )


@api.get("/skills", response_model=list[SkillHitOut], summary="Search skills by label")
def search_skills_api(
    session: DbSession,
    q: SearchText,
    limit: Limit = 20,
    type: Annotated[
        str | None,
        Query(description="skill/competence, knowledge, technology, skill group …"),
    ] = None,
) -> list[SkillHitOut]:
    return _hits(service.search_skills(session, q, limit=limit, skill_type=type))


@api.get("/skills/resolve", response_model=SkillOut, summary="A skill by URI (query parameter)")
def resolve_skill_api(
    session: DbSession, uri: Annotated[str, Query(min_length=1, max_length=300)]
) -> SkillOut:
    return _skill_out(session, uri)


@api.get("/skills/{uri:path}", response_model=SkillOut, summary="A skill by URI (in the path)")
def skill_api(session: DbSession, uri: str) -> SkillOut:
    return _skill_out(session, uri)


@api.get("/occupations", response_model=list[SkillHitOut], summary="Search occupations by title")
def search_occupations_api(
    session: DbSession,
    q: SearchText,
    limit: Limit = 20,
    source: Annotated[str | None, Query(description="esco or onet")] = None,
) -> list[SkillHitOut]:
    return _hits(service.search_occupations(session, q, limit=limit, source=source))


@api.get(
    "/occupations/resolve",
    response_model=OccupationOut,
    summary="An occupation and its skills by URI (query parameter)",
)
def resolve_occupation_api(
    session: DbSession, uri: Annotated[str, Query(min_length=1, max_length=300)]
) -> OccupationOut:
    return _occupation_out(session, uri)


@api.get(
    "/occupations/{uri:path}",
    response_model=OccupationOut,
    summary="An occupation and its skills by URI (in the path)",
)
def occupation_api(session: DbSession, uri: str) -> OccupationOut:
    return _occupation_out(session, uri)


@api.get(
    "/taxonomy",
    response_model=list[TaxonomyVersionOut],
    summary="Taxonomy versions loaded, newest first, with sources and counts",
)
def taxonomy_api(session: DbSession) -> list[TaxonomyVersionOut]:
    return [
        TaxonomyVersionOut(
            id=v.id,
            name=v.name,
            fingerprint=v.fingerprint,
            is_current=v.is_current,
            loaded_at=v.loaded_at,
            counts=v.counts,
            notes=v.notes,
            sources=[SourceFileOut(**s) for s in v.sources],
        )
        for v in service.taxonomy_versions(session)
    ]


@pages.get("/skills", response_class=HTMLResponse)
def skills_page(
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    q: Annotated[str, Query(max_length=service.MAX_QUERY_LENGTH)] = "",
    type: str = "",
) -> HTMLResponse:
    query = q.strip()
    hits = service.search_skills(session, query, limit=50, skill_type=type or None) if query else []
    occupations = service.search_occupations(session, query, limit=10) if query else []
    versions = service.taxonomy_versions(session)
    return render(
        request,
        "skills/search.html",
        principal,
        q=query,
        type=type,
        hits=hits,
        occupations=occupations,
        taxonomy=next((v for v in versions if v.is_current), None),
        skill_types=["skill/competence", "knowledge", "technology"],
    )


@pages.get("/skills/view", response_class=HTMLResponse)
def skill_page(
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    uri: Annotated[str, Query(min_length=1, max_length=300)],
) -> HTMLResponse:
    from microcred.catalogue import service as catalogue

    skill = _skill_out(session, uri)
    return render(
        request,
        "skills/skill.html",
        principal,
        skill=skill,
        definitions=catalogue.definitions_aligned_to(session, skill.uri),
    )


@pages.get("/occupations/view", response_class=HTMLResponse)
def occupation_page(
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    uri: Annotated[str, Query(min_length=1, max_length=300)],
) -> HTMLResponse:
    return render(
        request, "skills/occupation.html", principal, occupation=_occupation_out(session, uri)
    )


@pages.get("/about", response_class=HTMLResponse)
def about_page(request: Request, session: DbSession, principal: OptionalPrincipal) -> HTMLResponse:
    versions = service.taxonomy_versions(session)
    return render(
        request,
        "skills/about.html",
        principal,
        taxonomy=next((v for v in versions if v.is_current), None),
    )


routers = [pages, api]

"""Market operations for the web and CLI edges: where the store lives, ingestion, gap reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from microcred.catalogue.service import SearchFilters, get_issuer, search_definitions
from microcred.market.analytics import Analytics, Filters, SkillCount
from microcred.market.occupations import OccupationClassifier, occupations_from_session
from microcred.market.pipeline import Engine, IngestReport, Resources, ingest_file
from microcred.market.store import MarketStore
from microcred.settings import Settings
from microcred.skills.extraction import Mode
from microcred.skills.extraction.service import current_extractor, embeddings_cache_dir

GAP_TOP_SKILLS = 50
OVERSUPPLY_SHARE = 0.005
"""A credential is 'rarely demanded' when none of its skills reaches 0.5 % of regional postings."""


def market_store(settings: Settings) -> MarketStore:
    """The market data lives beside the main database, under ``data_dir/market``."""
    return MarketStore(settings.data_dir / "market")


def open_analytics(settings: Settings) -> Analytics:
    return Analytics(market_store(settings))


def prepare_resources(session: Session, settings: Settings, mode: Mode) -> Resources:
    return Resources(
        extractor=current_extractor(session, embeddings_cache_dir(settings.data_dir)),
        classifier=OccupationClassifier.build(occupations_from_session(session)),
        mode=mode,
    )


def ingest(
    session: Session,
    settings: Settings,
    path: Path,
    *,
    mode: Mode = "gazetteer",
    engine: Engine = "local",
    chunk_size: int = 2000,
    workers: int = 2,
    restart: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    return ingest_file(
        path,
        market_store(settings),
        prepare_resources(session, settings, mode),
        engine=engine,
        chunk_size=chunk_size,
        workers=workers,
        restart=restart,
        on_progress=on_progress,
    )


@dataclass
class CredentialSupply:
    definition_id: str
    name: str
    skills: list[SkillCount]


@dataclass
class GapReport:
    issuer_slug: str
    issuer_name: str
    region: str | None
    country: str | None
    postings: int
    gaps: list[SkillCount]
    covered: list[SkillCount]
    oversupplied: list[CredentialSupply]
    credentials: int
    notes: list[str] = field(default_factory=list)


def gap_report(
    session: Session,
    analytics: Analytics,
    issuer_slug: str,
    *,
    since: date | None = None,
    top: int = GAP_TOP_SKILLS,
) -> GapReport:
    """In-demand skills of the issuer's region no credential covers, and rarely demanded ones.

    The region is the issuer organisation's ``region`` (else its ``country``); with neither,
    all postings are used and the report says so.
    """
    issuer = get_issuer(session, issuer_slug)
    organisation = issuer.organisation
    notes: list[str] = []
    filters = Filters(region=organisation.region or None, start=since)
    if not organisation.region:
        filters = Filters(country=organisation.country or None, start=since)
        notes.append(
            "The issuer has no region set; using its country."
            if organisation.country
            else "The issuer has no region or country set; using all postings."
        )
    postings = analytics.total(filters)
    if postings == 0 and (filters.region or filters.country):
        notes.append("No postings for the issuer's region yet; using all postings.")
        filters = Filters(start=since)
        postings = analytics.total(filters)
    definitions = []
    page = 1
    while True:
        result = search_definitions(
            session, SearchFilters(issuer=organisation.slug), page=page, per_page=100
        )
        definitions.extend(result.items)
        if page >= result.pages:
            break
        page += 1
    # The catalogue's labels: a skill no posting names is not in the market store's label list.
    covered_labels = {
        skill.skill_uri: skill.label for definition in definitions for skill in definition.skills
    }
    demanded = analytics.top_skills(filters, top)
    gaps = [skill for skill in demanded if skill.skill_uri not in covered_labels]
    counts = analytics.skill_shares(sorted(covered_labels), filters)
    total = max(postings, 1)
    covered = sorted(
        (
            SkillCount(
                uri, analytics.labels.get(uri) or covered_labels[uri] or uri, count, count / total
            )
            for uri, count in counts.items()
        ),
        key=lambda skill: (-skill.postings, skill.label),
    )
    by_uri = {skill.skill_uri: skill for skill in covered}
    oversupplied: list[CredentialSupply] = []
    for definition in definitions:
        skills = [by_uri[s.skill_uri] for s in definition.skills if s.skill_uri in by_uri]
        if skills and max(skill.share for skill in skills) < OVERSUPPLY_SHARE:
            oversupplied.append(CredentialSupply(definition.definition_id, definition.name, skills))
    return GapReport(
        issuer_slug=organisation.slug,
        issuer_name=organisation.name,
        region=filters.region,
        country=filters.country,
        postings=postings,
        gaps=gaps,
        covered=covered,
        oversupplied=oversupplied,
        credentials=len(definitions),
        notes=notes,
    )

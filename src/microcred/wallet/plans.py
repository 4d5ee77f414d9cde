"""Learning plans: what to take, in what order, to close a learner's gap for a target job.

What the job needs comes from the skills taxonomy (ESCO / O*NET: essential and optional skills of
the occupation) weighted by the job market (the share of job postings for that occupation in the
learner's region naming each skill, from the market store). What the learner holds comes only
from credentials that verify now: issued here, active and unexpired, or imported and verified.
The catalogue's published micro-credentials are the offers; :mod:`microcred.wallet.planning`
chooses among them within the learner's budget, pace, deadline, formats and languages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.catalogue.service import definitions_teaching
from microcred.i18n import L_, Number
from microcred.market.analytics import Analytics, Filters
from microcred.pathways.requirements import referenced_definitions
from microcred.pathways.service import (
    imported_achievements,
    issued_achievements,
    list_pathways,
    tree_of,
)
from microcred.skills.service import get_occupation, occupation_skills, skills_below, skills_by_uri
from microcred.wallet.models import ImportedCredential
from microcred.wallet.planning import DEFAULT_HOURS_PER_WEEK, Limits, Need, Offer, Plan, make_plan
from microcred.wallet.service import WalletError

ESSENTIAL_WEIGHT = 1.0
OPTIONAL_WEIGHT = 0.3
DEMAND_WEIGHT = 2.0
"""A skill named by every posting for the job adds this much to its weight (linear in share)."""
MIN_POSTINGS = 20
"""Fewer postings than this for a scope and the planner widens it (all regions, then all jobs)."""
POSTING_SKILLS = 25
MIN_POSTING_SHARE = 0.05
"""A skill the taxonomy does not list joins the needs when at least this share of the job's
postings name it."""
PARTICIPATION_FORMS = ("online", "on-site", "blended")
NARROWER_DEPTH = 2
"""A credential or course for a skill up to this many levels below a need covers the need."""
MAX_NARROWER = 100


class PlanError(WalletError):
    status_code = 422


@dataclass(frozen=True)
class PlanRequest:
    occupation_uri: str
    region: str | None = None
    budget: float | None = None
    currency: str | None = None
    hours_per_week: float = DEFAULT_HOURS_PER_WEEK
    max_weeks: float | None = None
    forms: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


NO_POSTINGS = L_("No job postings are loaded: weights come from the taxonomy alone.")
"""The demand basis when no postings weighted the needs (a sentence of its own)."""


@dataclass
class LearningPlan:
    occupation_uri: str
    occupation_label: str
    region: str | None
    plan: Plan
    demand_basis: str
    """Which postings weighted the needs, in words ("63 postings for this job in Ohio"), or
    :data:`NO_POSTINGS`."""
    evidence: dict[str, list[str]] = field(default_factory=dict)
    """For each held skill, the credentials that attest it."""
    pathways: dict[str, list[str]] = field(default_factory=dict)
    """For each step's definition, the pathways it counts towards."""
    through: dict[str, dict[str, str]] = field(default_factory=dict)
    """For each step's definition, the needs it covers through a narrower skill it teaches:
    need URI → that skill's label ("computer programming" through "Python")."""

    @property
    def weighted_by_postings(self) -> bool:
        return self.demand_basis != NO_POSTINGS


def _percent(share: float) -> str:
    return L_("under %(share)s", share="1%") if share < 0.005 else f"{share:.0%}"


def verified_skills(
    session: Session, user_id: str, *, now: datetime | None = None
) -> tuple[dict[str, list[str]], set[str]]:
    """Skills the learner's valid credentials attest (skill → credential names), and the
    definitions they completed: the holdings pathways count, imports as last verified (a plan
    makes no remote look-ups). Self-declared skills never count."""
    now = now or datetime.now(UTC)
    imported = session.scalars(
        select(ImportedCredential).where(
            ImportedCredential.user_id == user_id, ImportedCredential.verified.is_(True)
        )
    )
    evidence: dict[str, list[str]] = {}
    completed: set[str] = set()
    held = issued_achievements(session, user_id, now) + imported_achievements(list(imported))
    for achievement in held:
        if not achievement.verified:
            continue
        if achievement.definition_id:
            completed.add(achievement.definition_id)
        name = (
            L_("%(name)s (imported)", name=achievement.name)
            if achievement.source == "imported"
            else achievement.name
        )
        for uri in sorted(achievement.skills):
            evidence.setdefault(uri, []).append(name)
    return evidence, completed


def pathways_through(session: Session, definition_ids: Iterable[str]) -> dict[str, list[str]]:
    """For each definition, the published pathways (larger qualifications) it counts towards."""
    wanted = set(definition_ids)
    found: dict[str, list[str]] = {}
    for pathway in list_pathways(session):
        for definition_id in referenced_definitions(tree_of(pathway)) & wanted:
            found.setdefault(definition_id, []).append(pathway.name)
    return found


def _demand_scope(
    analytics: Analytics, occupation_uri: str, region: str | None
) -> tuple[Filters, str, bool]:
    """The narrowest set of postings with enough of them: (filters, description, job-specific)."""
    scopes: list[tuple[Filters, str, bool]] = []
    if region:
        scopes.append(
            (
                Filters(region=region, occupation_uri=occupation_uri),
                L_("for this job in %(region)s", region=region),
                True,
            )
        )
    everywhere = L_("for this job in all regions")
    scopes.append((Filters(occupation_uri=occupation_uri), everywhere, True))
    if region:
        anywhere = L_("for any job in %(region)s", region=region)
        scopes.append((Filters(region=region), anywhere, False))
    scopes.append((Filters(), L_("for any job"), False))
    for filters, words, specific in scopes:
        if analytics.total(filters) >= MIN_POSTINGS:
            return filters, words, specific
    return scopes[-1]


def occupation_needs(
    session: Session, occupation_uri: str, analytics: Analytics | None, region: str | None
) -> tuple[list[Need], str]:
    """The weighted needs of an occupation and, in words, which postings weighted them."""
    needs = occupation_skills(session, occupation_uri)
    shares: dict[str, float] = {}
    basis: str = NO_POSTINGS
    extra: list[Need] = []
    if analytics is not None:
        filters, words, specific = _demand_scope(analytics, occupation_uri, region)
        total = analytics.total(filters)
        if total:
            basis = L_("%(total)s job postings %(scope)s", total=Number(total), scope=words)
            counts = analytics.skill_shares([n.skill_uri for n in needs], filters)
            shares = {uri: count / total for uri, count in counts.items()}
            if specific:
                listed = {n.skill_uri for n in needs}
                for hit in analytics.top_skills(filters, POSTING_SKILLS):
                    if hit.skill_uri not in listed and hit.share >= MIN_POSTING_SHARE:
                        extra.append(
                            Need(
                                hit.skill_uri,
                                hit.label,
                                round(DEMAND_WEIGHT * hit.share, 4),
                                (
                                    L_(
                                        "named in %(share)s of postings %(scope)s",
                                        share=_percent(hit.share),
                                        scope=words,
                                    ),
                                ),
                            )
                        )
    weighted: list[Need] = []
    for need in needs:
        essential = need.relation_type == "essential"
        share = shares.get(need.skill_uri, 0.0)
        if not essential and share <= 0 and not (need.hot_technology or need.in_demand):
            continue
        source = "ESCO" if need.source.startswith("esco") else need.source.replace("onet", "O*NET")
        reasons: list[str] = [
            L_("essential for the job (%(source)s)", source=source)
            if essential
            else L_("optional for the job (%(source)s)", source=source)
        ]
        if need.hot_technology or need.in_demand:
            reasons.append(
                L_("a hot technology (O*NET)") if need.hot_technology else L_("in demand")
            )
        if share > 0:
            reasons.append(L_("named in %(share)s of postings", share=_percent(share)))
        weight = (ESSENTIAL_WEIGHT if essential else OPTIONAL_WEIGHT) + DEMAND_WEIGHT * share
        weighted.append(
            Need(need.skill_uri, need.skill_label, round(weight, 4), tuple(reasons), essential)
        )
    merged = {n.uri: n for n in [*extra, *weighted]}
    return sorted(merged.values(), key=lambda n: (-n.weight, n.label.lower())), basis


def _offers(session: Session, skill_uris: Sequence[str]) -> list[Offer]:
    """Published definitions teaching the skills, but not a pathway's qualification: that is
    earned by completing the pathway, not taken as a course."""
    stacked = {p.qualification_definition_id for p in list_pathways(session)}
    return [
        Offer(
            definition_id=d.definition_id,
            name=d.name,
            issuer_name=d.issuer.name,
            skills=frozenset(link.skill_uri for link in d.skills),
            price=d.price_amount or 0.0,
            currency=d.price_currency,
            hours=d.workload_hours or 0.0,
            weeks=d.duration_weeks,
            eqf_level=d.eqf_level,
            participation_form=d.participation_form.value,
            language=d.in_language,
            prerequisites=tuple(d.prerequisite_definition_ids or ()),
        )
        for d in definitions_teaching(session, skill_uris)
        if d.definition_id not in stacked
    ]


@dataclass(frozen=True)
class Narrower:
    """Skills narrower than the needs (two levels down): what each covers, and its label."""

    covers: dict[str, list[str]]
    """narrower skill URI → the need URIs it falls under"""
    labels: dict[str, str]

    @property
    def skills(self) -> list[str]:
        return list(self.covers)


def _narrower_of(session: Session, need_uris: Sequence[str]) -> Narrower:
    below = skills_below(session, need_uris, depth=NARROWER_DEPTH, limit=MAX_NARROWER)
    covers: dict[str, list[str]] = {}
    for need, found in below.items():
        for uri in found:
            if uri not in need_uris:
                covers.setdefault(uri, []).append(need)
    labels = {
        uri: skill.preferred_label for uri, skill in skills_by_uri(session, list(covers)).items()
    }
    return Narrower(covers, labels)


def _held_through_narrower(
    evidence: dict[str, list[str]], narrower: Narrower
) -> dict[str, list[str]]:
    """A credential for a narrower skill proves the broader need too ("Python" proves
    "computer programming"); its evidence says through which skill."""
    extended = {uri: list(names) for uri, names in evidence.items()}
    for uri, names in evidence.items():
        label = narrower.labels.get(uri, uri)
        for need in narrower.covers.get(uri, ()):
            if need in evidence:
                continue
            extended.setdefault(need, []).extend(
                L_("%(name)s (through %(skill)s)", name=name, skill=label) for name in names
            )
    return extended


def _offers_through_narrower(
    offers: list[Offer], narrower: Narrower
) -> tuple[list[Offer], dict[str, dict[str, str]]]:
    """Each course also covers the needs its skills fall under; which, through what."""
    extended, through = [], {}
    for offer in offers:
        via = {
            need: narrower.labels.get(uri, uri)
            for uri in sorted(offer.skills)
            for need in narrower.covers.get(uri, ())
            if need not in offer.skills
        }
        if via:
            offer = replace(offer, skills=offer.skills | frozenset(via))
            through[offer.definition_id] = via
        extended.append(offer)
    return extended, through


def _check(request: PlanRequest) -> None:
    if request.budget is not None and (request.budget < 0 or not request.currency):
        raise PlanError("A budget needs an amount of 0 or more and its currency.", field="budget")
    if not 0 < request.hours_per_week <= 80:
        raise PlanError("Hours a week must be more than 0 and at most 80.", field="hours_per_week")
    if request.max_weeks is not None and request.max_weeks <= 0:
        raise PlanError("The deadline must be at least one week away.", field="max_weeks")
    unknown = [f for f in request.forms if f not in PARTICIPATION_FORMS]
    if unknown:
        raise PlanError(
            f"Unknown format {unknown[0]!r}: use {', '.join(PARTICIPATION_FORMS)}.", field="forms"
        )


def learning_plan(
    session: Session,
    user_id: str | None,
    request: PlanRequest,
    analytics: Analytics | None,
    *,
    now: datetime | None = None,
) -> LearningPlan:
    """A plan for the learner (or, without ``user_id``, for someone holding nothing yet)."""
    _check(request)
    occupation = get_occupation(session, request.occupation_uri)
    needs, basis = occupation_needs(session, occupation.uri, analytics, request.region)
    evidence, completed = verified_skills(session, user_id, now=now) if user_id else ({}, set())
    limits = Limits(
        budget=request.budget,
        currency=request.currency.upper() if request.currency else None,
        hours_per_week=request.hours_per_week,
        max_weeks=request.max_weeks,
        forms=frozenset(request.forms),
        languages=frozenset(lang.lower().split("-")[0] for lang in request.languages),
    )
    narrower = _narrower_of(session, [n.uri for n in needs])
    evidence = _held_through_narrower(evidence, narrower)
    offers, through = _offers_through_narrower(
        _offers(session, [n.uri for n in needs] + list(narrower.skills)), narrower
    )
    plan = make_plan(needs, evidence.keys(), offers, limits, completed=completed)
    if not needs:
        plan.notes.append(L_("The taxonomy lists no skills for this occupation."))
    return LearningPlan(
        occupation_uri=occupation.uri,
        occupation_label=occupation.preferred_label,
        region=request.region,
        plan=plan,
        demand_basis=basis,
        evidence={n.uri: evidence[n.uri] for n in plan.held},
        pathways=pathways_through(session, [step.offer.definition_id for step in plan.steps]),
        through={
            step.offer.definition_id: through[step.offer.definition_id]
            for step in plan.steps
            if through.get(step.offer.definition_id)
        },
    )

"""Pathway operations: authoring, learner progress, automatic awards, credit and articulation.

Authoring checks the tree against the catalogue (:func:`catalogue_facts`) and refuses cycles
between pathways. Progress gathers the learner's achievements — credentials issued here that are
active, and wallet imports that still verify — and evaluates the tree (pure
:mod:`microcred.pathways.progress`). A complete pathway is awarded at once: the qualification as
an OB 3.0 credential (``issue_credential`` for the pathway's qualification definition) and a
signed CLR 2.0 ``ClrCredential`` holding the components. The pathway's revocation policy is
applied to an award as soon as a credential it was built on is revoked, suspended or reinstated
(:func:`apply_policies_on_status_change`, a credentials status listener registered when this
module is imported), and an award follows its own qualification credential (revoked for good,
suspended, reinstated); :func:`review_awards` catches the rest (expiry, imports that stop
verifying).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, literal, select
from sqlalchemy.orm import Session

from microcred.accounts.models import Membership, Organisation, Role, User
from microcred.accounts.service import Principal, get_organisation, record_audit
from microcred.catalogue import service as catalogue
from microcred.catalogue.models import CredentialDefinition, DefinitionSkill, DefinitionStatus
from microcred.catalogue.ob3 import definition_url
from microcred.credentials import service as credentials
from microcred.credentials.dids import JsonFetcher
from microcred.credentials.documents import hashed_email_identity
from microcred.credentials.keystore import issuer_did, signing_key
from microcred.credentials.models import CredentialState, IssuedCredential, KeyAlgorithm
from microcred.credentials.proofs.dataintegrity import add_proof
from microcred.db.base import new_id, utcnow
from microcred.errors import MicrocredError, NotFound, PermissionDenied
from microcred.i18n import L_
from microcred.notifications import service as notifications
from microcred.pathways import clr
from microcred.pathways.articulation import (
    ECTS_PER_CREDIT_HOUR,
    Holding,
    Rule,
    TransferResult,
    check_recommender,
    evaluate_transfer,
    find_conflict,
)
from microcred.pathways.errors import PathwayError
from microcred.pathways.models import (
    ArticulationAgreement,
    ArticulationRule,
    AwardState,
    CreditRecommendation,
    CreditUnit,
    MatchKind,
    Pathway,
    PathwayAward,
    PathwayAwardComponent,
    PathwayKind,
    PathwayStatus,
    RevocationPolicy,
)
from microcred.pathways.progress import Achievement, Evaluator, Offering, Progress
from microcred.pathways.requirements import (
    CatalogueFacts,
    Requirement,
    check_tree,
    find_cycle,
    is_external_reference,
    parse_requirement,
    referenced_definitions,
    referenced_pathways,
    referenced_skills,
    to_dict,
)
from microcred.settings import Settings
from microcred.skills.models import Skill
from microcred.wallet import service as wallet
from microcred.wallet.models import ImportedCredential
from microcred.webhooks import outbox as webhooks

AUTHOR_ROLES = (Role.issuer_staff,)
MAX_NAME = 200
LOST_PREFIX = "Component(s) no longer valid: "
QUALIFICATION_REVOKED = "Qualification credential revoked: "
QUALIFICATION_SUSPENDED = "Qualification credential suspended: "
AWARD_REVOKED = "Award revoked: "
ISSUED_PREFIX = "issued:"

_log = logging.getLogger(__name__)


# --- authoring --------------------------------------------------------------------------------


@dataclass
class PathwayInput:
    name: str
    kind: str
    requirements: Mapping[str, Any]
    description: str = ""
    qualification_definition_id: str | None = None
    revocation_policy: str = "review"


def _require_author(principal: Principal | None, organisation_id: str) -> None:
    if principal is not None:
        principal.require(organisation_id, *AUTHOR_ROLES, scope="catalogue:write")


def can_author(principal: Principal | None, organisation_id: str) -> bool:
    return principal is not None and principal.can(
        organisation_id, *AUTHOR_ROLES, scope="catalogue:write"
    )


def catalogue_facts(session: Session, tree: Requirement, own_id: str | None) -> CatalogueFacts:
    """What the catalogue and the pathway table say about everything the tree names."""
    ids = referenced_definitions(tree)
    rows = list(
        session.scalars(
            select(CredentialDefinition).where(CredentialDefinition.definition_id.in_(ids))
        )
    )
    published = {r.definition_id: r for r in rows if r.status is DefinitionStatus.published}
    retired = {r.definition_id for r in rows} - set(published)
    skills = referenced_skills(tree)
    aligned: dict[str, int] = {
        str(uri): int(count)
        for uri, count in session.execute(
            select(DefinitionSkill.skill_uri, func.count(func.distinct(CredentialDefinition.id)))
            .join(
                CredentialDefinition, CredentialDefinition.id == DefinitionSkill.definition_row_id
            )
            .where(
                DefinitionSkill.skill_uri.in_(skills),
                CredentialDefinition.status == DefinitionStatus.published,
            )
            .group_by(DefinitionSkill.skill_uri)
        )
    }
    named = referenced_pathways(tree)
    existing = set(session.scalars(select(Pathway.id).where(Pathway.id.in_(named))))
    if own_id is not None and own_id in named:
        existing.add(own_id)
    return CatalogueFacts(
        published={i: r.ects_credits or 0.0 for i, r in published.items()},
        hours={i: r.workload_hours for i, r in published.items()},
        retired=frozenset(retired),
        aligned_count=aligned,
        pathways=frozenset(existing),
    )


def _check_cycles(session: Session, pathway_id: str, tree: Requirement) -> None:
    graph: dict[str, list[str]] = {pathway_id: sorted(referenced_pathways(tree))}
    frontier = list(graph[pathway_id])
    while frontier:
        current = frontier.pop()
        if current in graph:
            continue
        row = session.get(Pathway, current)
        targets = sorted(referenced_pathways(parse_requirement(row.requirements))) if row else []
        graph[current] = targets
        frontier.extend(targets)
    cycle = find_cycle(graph, pathway_id)
    if cycle is not None:
        names = [_pathway_name(session, item) for item in cycle]
        raise PathwayError(
            "Cyclic requirements: " + " → ".join(names) + " require one another.",
            field="requirements",
        )


def _pathway_name(session: Session, pathway_id: str) -> str:
    row = session.get(Pathway, pathway_id)
    return row.name if row is not None else pathway_id


def _checked(
    session: Session, organisation_id: str, data: PathwayInput, pathway_id: str
) -> dict[str, Any]:
    name = data.name.strip()
    if not name or len(name) > MAX_NAME:
        raise PathwayError(f"name must be 1-{MAX_NAME} characters.", field="name")
    try:
        kind = PathwayKind(data.kind)
        policy = RevocationPolicy(data.revocation_policy)
    except ValueError:
        if data.kind not in {k.value for k in PathwayKind}:
            raise PathwayError(
                "kind must be certificate, micro-degree or degree-credit.", field="kind"
            ) from None
        raise PathwayError(
            "revocation_policy must be keep, revoke or review.", field="revocation_policy"
        ) from None
    tree = parse_requirement(data.requirements)
    check_tree(tree, catalogue_facts(session, tree, pathway_id))
    _check_cycles(session, pathway_id, tree)
    qualification = (data.qualification_definition_id or "").strip() or None
    if qualification is not None:
        definition = catalogue.current_published(session, qualification)
        if definition is None:
            raise PathwayError(
                f"Qualification definition {qualification} is not published.",
                field="qualification_definition_id",
            )
        if definition.issuer_id != organisation_id:
            raise PathwayError(
                "The qualification must be a definition of the pathway's own organisation.",
                field="qualification_definition_id",
            )
        if qualification in referenced_definitions(tree):
            raise PathwayError(
                "The qualification cannot also be one of its own requirements.",
                field="qualification_definition_id",
            )
    return {
        "name": name,
        "description": data.description.strip(),
        "kind": kind,
        "revocation_policy": policy,
        "requirements": to_dict(tree),
        "qualification_definition_id": qualification,
    }


def create_pathway(
    session: Session,
    principal: Principal | None,
    organisation: str,
    data: PathwayInput,
    *,
    publish: bool = False,
) -> Pathway:
    org = get_organisation(session, organisation)
    _require_author(principal, org.id)
    pathway_id = new_id()
    fields = _checked(session, org.id, data, pathway_id)
    pathway = Pathway(
        id=pathway_id,
        organisation_id=org.id,
        status=PathwayStatus.published if publish else PathwayStatus.draft,
        created_by_user_id=principal.user_id if principal else None,
        **fields,
    )
    session.add(pathway)
    session.flush()
    _audit(session, principal, "pathways.create", pathway)
    return pathway


def update_pathway(
    session: Session, principal: Principal | None, pathway_id: str, data: PathwayInput
) -> Pathway:
    pathway = get_pathway(session, pathway_id, principal)
    _require_author(principal, pathway.organisation_id)
    for key, value in _checked(session, pathway.organisation_id, data, pathway.id).items():
        setattr(pathway, key, value)
    session.flush()
    _audit(session, principal, "pathways.update", pathway)
    return pathway


def set_status(
    session: Session, principal: Principal | None, pathway_id: str, status: str
) -> Pathway:
    pathway = get_pathway(session, pathway_id, principal)
    _require_author(principal, pathway.organisation_id)
    try:
        pathway.status = PathwayStatus(status)
    except ValueError:
        raise PathwayError("status must be draft, published or archived.", field="status") from None
    if pathway.status is PathwayStatus.published:
        tree = parse_requirement(pathway.requirements)
        check_tree(tree, catalogue_facts(session, tree, pathway.id))
    session.flush()
    _audit(session, principal, f"pathways.{status}", pathway)
    return pathway


def _audit(session: Session, principal: Principal | None, action: str, pathway: Pathway) -> None:
    record_audit(
        session, principal, action, organisation_id=pathway.organisation_id,
        object_type="pathway", object_id=pathway.id, details={"name": pathway.name},
    )  # fmt: skip


def get_pathway(session: Session, pathway_id: str, principal: Principal | None = None) -> Pathway:
    pathway = session.get(Pathway, pathway_id)
    if pathway is None or (
        pathway.status is not PathwayStatus.published
        and not can_author(principal, pathway.organisation_id)
    ):
        raise NotFound(f"No pathway '{pathway_id}'.")
    return pathway


def list_pathways(session: Session, principal: Principal | None = None) -> list[Pathway]:
    """Published pathways, and the drafts of organisations the principal authors for."""
    own = principal.organisations_with(*AUTHOR_ROLES) if principal else []
    condition = Pathway.status == PathwayStatus.published
    if principal is not None and principal.is_platform_admin:
        condition = Pathway.id.is_not(None)
    elif own:
        condition = condition | Pathway.organisation_id.in_(own)
    return list(session.scalars(select(Pathway).where(condition).order_by(Pathway.name)))


def tree_of(pathway: Pathway) -> Requirement:
    return parse_requirement(pathway.requirements)


# --- progress ---------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _definition_rows(
    session: Session, ids: set[str], known: dict[str, CredentialDefinition] | None = None
) -> dict[str, CredentialDefinition]:
    """The published version of each lineage, or its newest version when none is published;
    ``known`` holds rows read before for other learners of the same batch, and gains these."""
    known = {} if known is None else known
    missing = ids - known.keys()
    if missing:
        rows = session.scalars(
            select(CredentialDefinition)
            .where(CredentialDefinition.definition_id.in_(missing))
            .order_by(CredentialDefinition.version)
        )
        found: dict[str, CredentialDefinition] = {}
        for row in rows:
            current = found.get(row.definition_id)
            if current is None or current.status is not DefinitionStatus.published:
                found[row.definition_id] = row
        known.update(found)
    return {i: known[i] for i in ids if i in known}


def _skills_of(definition: CredentialDefinition | None) -> frozenset[str]:
    return frozenset(link.skill_uri for link in definition.skills) if definition else frozenset()


def issued_achievements(
    session: Session,
    user_id: str,
    now: datetime,
    rows: Sequence[IssuedCredential] | None = None,
    definitions_read: dict[str, CredentialDefinition] | None = None,
) -> list[Achievement]:
    """The learner's credentials issued here (``rows`` when already read); revoked, suspended or
    expired ones do not count."""
    if rows is None:
        rows = credentials.credentials_of_learner(session, user_id, documents=False)
    ids = {row.definition_id for row in rows}
    definitions = _definition_rows(session, ids, definitions_read)
    made = []
    for row in rows:
        definition = definitions.get(row.definition_id)
        expired = row.valid_until is not None and _aware(row.valid_until) < now
        made.append(
            Achievement(
                key=f"issued:{row.id}",
                name=row.achievement_name,
                definition_id=row.definition_id,
                earned_at=_aware(row.issued_at),
                issuer_id=row.organisation_id,
                skills=_skills_of(definition),
                ects=(definition.ects_credits or 0.0) if definition else 0.0,
                hours=definition.workload_hours if definition else 0.0,
                verified=row.state is CredentialState.active and not expired,
            )
        )
    return made


def imported_achievements(rows: Sequence[ImportedCredential]) -> list[Achievement]:
    return [
        Achievement(
            key=f"imported:{row.id}",
            name=row.achievement_name,
            definition_id=row.definition_id or row.achievement_id,
            earned_at=_aware(row.earned_at),
            issuer_id=row.issuer_id,
            skills=frozenset(row.skills),
            ects=row.ects,
            hours=row.hours,
            verified=row.verified,
            source="imported",
        )
        for row in rows
    ]


@dataclass
class LearnerHoldings:
    """Everything a learner holds, re-verified where needed, for progress and transfer."""

    achievements: list[Achievement]
    imported: list[ImportedCredential]
    issued: list[IssuedCredential]


def learner_holdings(
    session: Session,
    user_id: str,
    settings: Settings,
    *,
    fetch: JsonFetcher | None = None,
    now: datetime | None = None,
    reverify: bool = True,
    definitions_read: dict[str, CredentialDefinition] | None = None,
) -> LearnerHoldings:
    """``reverify=False`` takes wallet imports as last verified (no remote look-ups);
    ``definitions_read`` shares the catalogue rows read across the learners of one batch."""
    now = now or datetime.now(UTC)
    max_age = wallet.REVERIFY_AFTER if reverify else timedelta.max
    imported = wallet.wallet_of(session, user_id, settings, fetch=fetch, now=now, max_age=max_age)
    issued = credentials.credentials_of_learner(session, user_id, documents=False)
    return LearnerHoldings(
        issued_achievements(session, user_id, now, issued, definitions_read)
        + imported_achievements(imported),
        imported,
        issued,
    )


def holdings_of_learners(
    session: Session, user_ids: Sequence[str], settings: Settings, *, now: datetime
) -> dict[str, LearnerHoldings]:
    """:func:`learner_holdings` (``reverify=False``) for many learners at once: their
    credentials, wallets and the catalogue rows behind them in three reads (per 500 learners),
    not three per learner — what a bulk batch of pathway components needs."""
    imported = wallet.wallets_of(session, user_ids, settings, now=now, max_age=timedelta.max)
    issued = credentials.credentials_of_learners(session, user_ids)
    read: dict[str, CredentialDefinition] = {}
    _definition_rows(session, {row.definition_id for rows in issued.values() for row in rows}, read)
    return {
        user_id: LearnerHoldings(
            issued_achievements(session, user_id, now, issued[user_id], read)
            + imported_achievements(imported[user_id]),
            imported[user_id],
            issued[user_id],
        )
        for user_id in user_ids
    }


def _offering(definition: CredentialDefinition) -> Offering:
    return Offering(
        definition.definition_id,
        definition.name,
        ects=definition.ects_credits or 0.0,
        hours=definition.workload_hours,
        skills=_skills_of(definition),
        issuer_id=definition.issuer_id,
    )


def _subtrees(session: Session, tree: Requirement) -> dict[str, Requirement]:
    found: dict[str, Requirement] = {}
    frontier = list(referenced_pathways(tree))
    while frontier:
        current = frontier.pop()
        row = session.get(Pathway, current)
        if current in found or row is None:
            continue
        found[current] = tree_of(row)
        frontier.extend(referenced_pathways(found[current]))
    return found


@dataclass(frozen=True)
class _Usable:
    """What a route may use, before looking at the catalogue (see :func:`offerings_for`)."""

    definitions: set[str]
    skills: set[str]
    everything: bool

    @classmethod
    def of(cls, trees: Sequence[Requirement]) -> _Usable:
        usable = cls(set(), set(), False)
        for tree in trees:
            usable.definitions.update(referenced_definitions(tree))
            usable.skills.update(referenced_skills(tree))
            if any(n.kind == "credits" and not n.pool and not n.skill_uri for _, n in tree.walk()):
                usable = replace(usable, everything=True)
        return usable


def offerings_for(session: Session, trees: Sequence[Requirement]) -> dict[str, Offering]:
    """Published definitions a route may use: named ones, skill-aligned ones, and — for credit
    requirements open to any credential — every published definition."""
    usable = _Usable.of(trees)
    ids, skills, everything = usable.definitions, usable.skills, usable.everything
    published = CredentialDefinition.status == DefinitionStatus.published
    query = select(CredentialDefinition).where(published)
    if not everything:
        aligned = select(DefinitionSkill.definition_row_id).where(
            DefinitionSkill.skill_uri.in_(skills)
        )
        query = query.where(
            CredentialDefinition.definition_id.in_(ids) | CredentialDefinition.id.in_(aligned)
        )
    return {row.definition_id: _offering(row) for row in session.scalars(query)}


def display_names(session: Session, trees: Sequence[Requirement]) -> dict[str, str]:
    """Names for the ids and URIs a tree mentions (definitions, skills, pathways)."""
    names: dict[str, str] = {}
    ids: set[str] = set()
    skills: set[str] = set()
    for tree in trees:
        ids |= referenced_definitions(tree)
        skills |= referenced_skills(tree)
        for pathway_id in referenced_pathways(tree):
            names[pathway_id] = _pathway_name(session, pathway_id)
    names.update({i: row.name for i, row in _definition_rows(session, ids).items()})
    names.update(catalogue.skill_labels(session, sorted(skills)))
    return names


@dataclass
class PathwayProgress:
    pathway: Pathway
    progress: Progress
    names: dict[str, str]
    offerings: dict[str, Offering]
    award: PathwayAward | None = None
    achievements: dict[str, Achievement] = field(default_factory=dict)


@dataclass(frozen=True)
class _Route:
    """What evaluating a pathway needs besides the learner: read once, used for many learners."""

    pathway: Pathway
    tree: Requirement
    subtrees: dict[str, Requirement]
    offerings: dict[str, Offering]

    def evaluate(self, holdings: LearnerHoldings, now: datetime) -> Progress:
        own = self.pathway.qualification_definition_id
        counted = [a for a in holdings.achievements if own is None or a.definition_id != own]
        return Evaluator(counted, now, self.offerings, self.subtrees).evaluate(self.tree)


def _route(session: Session, pathway: Pathway) -> _Route:
    tree = tree_of(pathway)
    subtrees = _subtrees(session, tree)
    offerings = offerings_for(session, [tree, *subtrees.values()])
    offerings.pop(pathway.qualification_definition_id or "", None)  # not a step towards itself
    return _Route(pathway, tree, subtrees, offerings)


def progress_of(
    session: Session,
    pathway: Pathway,
    holdings: LearnerHoldings,
    *,
    now: datetime | None = None,
) -> PathwayProgress:
    now = now or datetime.now(UTC)
    route = _route(session, pathway)
    return PathwayProgress(
        pathway,
        route.evaluate(holdings, now),
        display_names(session, [route.tree, *route.subtrees.values()]),
        route.offerings,
        achievements={a.key: a for a in holdings.achievements},
    )


def learner_progress(
    session: Session,
    user_id: str,
    settings: Settings,
    *,
    pathway_id: str | None = None,
    award: bool = True,
    fetch: JsonFetcher | None = None,
    now: datetime | None = None,
    viewer: Principal | None = None,
) -> list[PathwayProgress]:
    """Progress on every published pathway (or one: a draft too where ``viewer`` authors it),
    awarding those just completed and applying revocation policies to earlier awards."""
    now = now or datetime.now(UTC)
    holdings = learner_holdings(session, user_id, settings, fetch=fetch, now=now)
    if award:
        review_awards(session, settings, user_id=user_id, holdings=holdings)
    if pathway_id is not None:
        pathways = [get_pathway(session, pathway_id, viewer)]
    else:
        pathways = list(
            session.scalars(
                select(Pathway)
                .where(Pathway.status == PathwayStatus.published)
                .order_by(Pathway.name)
            )
        )
    results = []
    for pathway in pathways:
        result = progress_of(session, pathway, holdings, now=now)
        result.award = standing_award(session, pathway.id, user_id)
        published = pathway.status is PathwayStatus.published
        if award and published and result.progress.complete and result.award is None:
            result.award = award_pathway(session, pathway, user_id, result, holdings, settings)
        results.append(result)
    return results


_AWARDING: ContextVar[frozenset[tuple[str, str]]] = ContextVar("_AWARDING", default=frozenset())
"""(pathway, learner) pairs being awarded further up this call stack: an award issues its
qualification, whose issuance calls :func:`award_on_issue` again before the award row exists."""


@credentials.on_issued
def award_on_issue(session: Session, event: credentials.IssuedEvent) -> None:
    """Award, in the issuance's transaction, the published pathways that learners complete with
    the credentials just issued to their accounts, so the qualification and its CLR exist the
    moment the last component is issued (by hand, in bulk or by an award rule), not when the
    learner next opens their progress. Only pathways that can use one of the issued definitions
    are evaluated, for those learners only; imports are taken as last verified (no remote
    look-ups). An award that cannot be made (say its qualification definition was withdrawn) is
    rolled back alone and logged: the issuance stands, and the learner's progress retries it."""
    learners: dict[str, set[str]] = {}
    for row in event.credentials:
        if row.get("recipient_user_id"):
            learners.setdefault(row["recipient_user_id"], set()).add(row["definition_id"])
    if not learners:
        return
    published = list(
        session.scalars(
            select(Pathway).where(Pathway.status == PathwayStatus.published).order_by(Pathway.name)
        )
    )
    if not published:
        return
    issued = set().union(*learners.values())
    aligned = set(
        session.scalars(
            select(DefinitionSkill.skill_uri)
            .join(
                CredentialDefinition, CredentialDefinition.id == DefinitionSkill.definition_row_id
            )
            .where(CredentialDefinition.definition_id.in_(issued))
        )
    )
    routes = []
    for pathway in published:  # the catalogue is read only for pathways that may use them
        tree = tree_of(pathway)
        usable = _Usable.of([tree, *_subtrees(session, tree).values()])
        if usable.everything or usable.definitions & issued or usable.skills & aligned:
            routes.append(_route(session, pathway))
    awarding = _AWARDING.get()
    now = datetime.now(UTC)
    candidates = {
        user_id: [
            route
            for route in routes
            if definitions & route.offerings.keys() and (route.pathway.id, user_id) not in awarding
        ]
        for user_id, definitions in sorted(learners.items())
    }
    candidates = {user_id: found for user_id, found in candidates.items() if found}
    if not candidates:
        return
    # Read before any award: an award adds credentials to its own learner only.
    everyone = holdings_of_learners(session, list(candidates), event.settings, now=now)
    for user_id, user_routes in candidates.items():
        holdings = everyone[user_id]
        for route in user_routes:
            pathway = route.pathway
            if not route.evaluate(holdings, now).complete:
                continue
            if standing_award(session, pathway.id, user_id) is not None:
                continue
            result = progress_of(session, pathway, holdings, now=now)
            token = _AWARDING.set(awarding | {(pathway.id, user_id)})
            try:
                with session.begin_nested():
                    award_pathway(session, pathway, user_id, result, holdings, event.settings)
            except MicrocredError as error:
                _log.warning(
                    "pathway %s not awarded to %s on issuance: %s", pathway.id, user_id, error
                )
            finally:
                _AWARDING.reset(token)


# --- awards -----------------------------------------------------------------------------------


def standing_award(session: Session, pathway_id: str, user_id: str) -> PathwayAward | None:
    """The learner's award that stands in the way of awarding the pathway again: one not
    revoked (active, flagged, suspended), or one revoked for good on its own qualification
    credential (``final``, until staff :func:`reaward`)."""
    return session.scalar(
        select(PathwayAward)
        .where(
            PathwayAward.pathway_id == pathway_id,
            PathwayAward.user_id == user_id,
            (PathwayAward.state != AwardState.revoked) | PathwayAward.final.is_(True),
        )
        .order_by(PathwayAward.awarded_at.desc())
    )


def awards_of_learner(session: Session, user_id: str) -> list[PathwayAward]:
    return list(
        session.scalars(
            select(PathwayAward)
            .where(PathwayAward.user_id == user_id)
            .order_by(PathwayAward.awarded_at.desc())
        )
    )


def get_award(session: Session, principal: Principal | None, award_id: str) -> PathwayAward:
    award = session.get(PathwayAward, award_id)
    if award is None:
        raise NotFound("No such award.")
    if (
        principal is not None
        and principal.user_id != award.user_id
        and not can_author(principal, award.pathway.organisation_id)
    ):
        raise PermissionDenied("Only the learner and the pathway's staff can see this award.")
    return award


def _issuer_profile(organisation: Organisation, settings: Settings) -> dict[str, Any]:
    base = settings.base_url.rstrip("/")
    return {
        "id": issuer_did(settings.base_url, organisation.slug),
        "type": ["Profile"],
        "name": organisation.name,
        "url": f"{base}/issuers/{organisation.slug}",
    }


def _sign(
    session: Session, document: dict[str, Any], organisation: Organisation, settings: Settings
) -> dict[str, Any]:
    key = signing_key(session, organisation, KeyAlgorithm.ed25519, settings)
    assert key.ed25519 is not None
    return add_proof(document, key.ed25519, key.verification_method, suite="eddsa-rdfc-2022")


def _ordered_steps(progress: Progress, used: Mapping[str, str]) -> list[list[str]]:
    """Achievement ids of consecutive steps of each satisfied ``sequence`` in the tree."""
    chains: list[list[str]] = []

    def visit(node: Any) -> None:
        if node.node.kind == "sequence" and node.satisfied:
            steps = []
            for child in node.children:
                ids = [used[key] for leaf in child.leaves() for key in leaf.used if key in used]
                if ids:
                    steps.append(ids[0])
            chains.append(steps)
        for child in node.children:
            visit(child)

    visit(progress.root)
    return chains


def _component_documents(
    keys: Sequence[str], holdings: LearnerHoldings
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """OB 3.0 documents for the used achievements, and each key's achievement id."""
    issued = {f"issued:{row.id}": row for row in holdings.issued}
    imported = {
        f"imported:{row.id}": row.credential
        for row in holdings.imported
        if clr.is_ob3_credential(row.credential)
    }
    documents, ids = [], {}
    for key in keys:
        row = issued.get(key)
        document = row.document if row is not None else imported.get(key)  # only those used
        if document is None:
            continue
        achievement = clr.achievement_id_of(document)
        if achievement is not None:
            ids[key] = achievement
        documents.append(document)
    return documents, ids


def award_pathway(
    session: Session,
    pathway: Pathway,
    user_id: str,
    result: PathwayProgress,
    holdings: LearnerHoldings,
    settings: Settings,
) -> PathwayAward:
    """Issue the qualification (OB 3.0) and its signed CLR; a trusted system action."""
    user = session.get(User, user_id)
    organisation = session.get(Organisation, pathway.organisation_id)
    assert user is not None and organisation is not None
    now = utcnow()
    keys = result.progress.used_keys()
    documents, achievement_ids = _component_documents(keys, holdings)
    issued: IssuedCredential | None = None
    if pathway.qualification_definition_id:
        names = "; ".join(a.name for key, a in result.achievements.items() if key in keys)
        evidence = {
            "id": f"{settings.base_url.rstrip('/')}/pathways/{pathway.id}",
            "type": ["Evidence"],
            "name": f"Completed the pathway {pathway.name}",
            "narrative": names,
        }
        issued = credentials.issue_credential(
            session,
            None,
            definition_id=pathway.qualification_definition_id,
            recipient_user_id=user.id,
            idempotency_key=f"pathway:{pathway.id}:{user.id}:{now.isoformat()}",
            evidence=[evidence],
            settings=settings,
        )
        documents.insert(0, issued.document)
    base = settings.base_url.rstrip("/")
    award_id = new_id()
    qualification_id = (
        definition_url(base, pathway.qualification_definition_id)
        if pathway.qualification_definition_id
        else f"{base}/pathways/{pathway.id}"
    )
    if issued is not None:
        qualification_id = clr.achievement_id_of(issued.document) or qualification_id
    if not documents:
        raise PathwayError(
            "The pathway was completed with credentials that cannot be embedded in a CLR.",
            field="pathway",
        )
    qualification_achievement = {
        "id": qualification_id,
        "type": ["Achievement"],
        "achievementType": "Certificate"
        if pathway.kind is PathwayKind.certificate
        else "MicroCredential",
        "name": pathway.name,
        "description": pathway.description or pathway.name,
        "criteria": {"narrative": result.progress.root.node.describe(result.names)},
    }
    associations = clr.stack_associations(
        qualification_id,
        [achievement_ids[key] for key in keys if key in achievement_ids],
        _ordered_steps(result.progress, achievement_ids),
    )
    document = clr.build_clr(
        credential_id=_clr_id(settings, award_id),
        name=pathway.name,
        description=f"{pathway.name}, awarded by {organisation.name} for the stacked credentials.",
        issuer=_issuer_profile(organisation, settings),
        subject_identifier=hashed_email_identity(user.email),
        subject_id=None,
        components=documents,
        achievements=[qualification_achievement],
        associations=associations,
        valid_from=now,
        awarded_date=now,
    )
    award = PathwayAward(
        id=award_id,
        pathway_id=pathway.id,
        user_id=user.id,
        state=AwardState.active,
        credential_id=issued.id if issued else None,
        components=keys,
        awarded_at=now,
    )
    _issue_clr(session, award, document, organisation, issued, settings)
    _index_components(session, award.id, keys)
    record_audit(
        session, None, "pathways.award", organisation_id=pathway.organisation_id,
        object_type="pathway_award", object_id=award.id,
        details={"pathway_id": pathway.id, "user_id": user.id, "components": keys},
    )  # fmt: skip
    webhooks.pathway_awarded(session, settings, award, pathway, user.email)
    notifications.pathway_awarded(session, user.id, pathway.id, pathway.name, settings)
    return award


def _index_components(session: Session, award_id: str, keys: Sequence[str]) -> None:
    """Index the credentials issued here that an award rests on, so a status change of any of
    them finds the award (:func:`apply_policies_on_status_change`)."""
    session.add_all(
        PathwayAwardComponent(credential_id=key.removeprefix(ISSUED_PREFIX), award_id=award_id)
        for key in dict.fromkeys(keys)
        if key.startswith(ISSUED_PREFIX)
    )


def _rest_on(session: Session, award: PathwayAward, progress: Progress) -> None:
    """The pathway is still met without a lost component: the award now rests on what meets it
    today, so losing one of those later is noticed too (the CLR keeps what it was granted on)."""
    keys = progress.used_keys()
    if set(keys) == set(award.components):
        return
    award.components = keys
    session.execute(delete(PathwayAwardComponent).where(PathwayAwardComponent.award_id == award.id))
    _index_components(session, award.id, keys)
    session.flush()


def _clr_id(settings: Settings, award_id: str) -> str:
    return f"{settings.base_url.rstrip('/')}/pathways/awards/{award_id}"


def _clr_status_purpose(qualification: IssuedCredential | None) -> str:
    """The purpose of a CLR's status entry: its qualification credential's (suspension where the
    qualification was issued with a suspension entry), revocation without a qualification."""
    return qualification.status_purpose if qualification is not None else "revocation"


def _issue_clr(
    session: Session,
    award: PathwayAward,
    document: Mapping[str, Any],
    organisation: Organisation,
    qualification: IssuedCredential | None,
    settings: Settings,
) -> credentials.DocumentStatus:
    """Give the award its CLR, ``document`` unsigned: a status entry allocated from the issuer's
    lists (:func:`_clr_status_purpose`) embedded, signed with the issuer's current key, stored
    on the award (added to the session), its issuance recorded in the ledger. For a new award
    and for one awarded without an entry (:func:`reissue_clrs_without_status`)."""
    status = credentials.allocate_document_status(
        session, organisation, settings, _clr_status_purpose(qualification)
    )
    unsigned = clr.with_credential_status(document, status.entry(settings))
    award.clr = _sign(session, unsigned, organisation, settings)
    award.clr_status_list_id = status.status_list_id
    award.clr_status_index = status.status_index
    session.add(award)
    session.flush()
    credentials.record_document_event(session, award.clr, organisation, "issued", settings)
    return status


def clr_status_of(award: PathwayAward) -> credentials.DocumentStatus | None:
    """The status entry of the award's CLR (None for a CLR awarded without one)."""
    if award.clr_status_list_id is None or award.clr_status_index is None:
        return None
    entry = award.clr.get("credentialStatus")
    purpose = entry.get("statusPurpose") if isinstance(entry, Mapping) else None
    return credentials.DocumentStatus(
        award.clr_status_list_id, award.clr_status_index, str(purpose or "revocation")
    )


def _clr_entry_expresses(purpose: str, action: str) -> bool:
    """Whether a CLR entry of ``purpose`` changes on ``action``: a revocation entry, which
    cannot express a suspension, only on revocation."""
    return action == "revoked" or purpose == "suspension"


def _clr_follows(session: Session, award: PathwayAward, action: str, settings: Settings) -> None:
    """The CLR's status entry follows its award (``revoked``, ``suspended``, ``reinstated``); a
    revocation entry, which cannot express a suspension, changes only on revocation."""
    status = clr_status_of(award)
    if status is None or not _clr_entry_expresses(status.purpose, action):
        return
    organisation = session.get(Organisation, award.pathway.organisation_id)
    assert organisation is not None
    credentials.change_document_status(
        session, status, award.clr, organisation, action=action, settings=settings
    )


def _lost_components(award: PathwayAward, held: LearnerHoldings) -> list[str]:
    valid = {a.key for a in held.achievements if a.verified}
    return [key for key in award.components if key not in valid]


def _apply_policy(
    session: Session,
    award: PathwayAward,
    held: LearnerHoldings,
    settings: Settings,
    now: datetime,
    details: Mapping[str, Any] | None = None,
) -> bool:
    """Apply the pathway's policy to an active award whose components may no longer hold;
    whether the award changed."""
    lost = _lost_components(award, held)
    if not lost:
        return False
    policy = award.pathway.revocation_policy
    if policy is RevocationPolicy.keep:
        return False
    still = progress_of(session, award.pathway, held, now=now).progress
    if still.complete:
        _rest_on(session, award, still)
        return False
    reason = LOST_PREFIX + ", ".join(lost)
    award.state = AwardState.revoked if policy is RevocationPolicy.revoke else AwardState.review
    award.state_reason = reason
    award.state_changed_at = now
    session.flush()
    if policy is RevocationPolicy.revoke:
        _clr_follows(session, award, "revoked", settings)
    if policy is RevocationPolicy.revoke and award.credential_id:
        credential = session.get(IssuedCredential, award.credential_id)
        if credential is not None and credential.state is not CredentialState.revoked:
            credentials.revoke_credential(
                session, None, credential.id, reason=reason[:900], settings=settings
            )
    record_audit(
        session, None, f"pathways.award.{award.state.value}",
        organisation_id=award.pathway.organisation_id, object_type="pathway_award",
        object_id=award.id, details={"lost": lost, **(details or {})},
    )  # fmt: skip
    if award.state is AwardState.review:
        notifications.notify_members(
            session,
            award.pathway.organisation_id,
            notifications.NewNotification(
                "", notifications.AWARD_REVIEW,
                L_("A %(pathway)s award needs your review", pathway=award.pathway.name),
                L_("%(count)s component credential(s) no longer hold and the pathway is not met "
                   "without them: keep or revoke the award.", count=len(lost)),
                "/manage/pathways/reviews",
            ),
            roles=(*AUTHOR_ROLES, Role.admin), settings=settings,
        )  # fmt: skip
    return True


def _restore_flagged(
    session: Session,
    award: PathwayAward,
    held: LearnerHoldings,
    now: datetime,
    details: Mapping[str, Any],
) -> bool:
    """Un-flag an award awaiting review whose components hold again (or whose pathway is met
    without the ones still lost); otherwise keep the flag, naming what is still lost."""
    lost = _lost_components(award, held)
    if lost:
        still = progress_of(session, award.pathway, held, now=now).progress
        if not still.complete:
            award.state_reason = LOST_PREFIX + ", ".join(lost)
            return False
        _rest_on(session, award, still)
    award.state = AwardState.active
    award.state_reason = None
    award.state_changed_at = now
    record_audit(
        session, None, "pathways.award.restored", organisation_id=award.pathway.organisation_id,
        object_type="pathway_award", object_id=award.id, details=dict(details),
    )  # fmt: skip
    return True


def review_awards(
    session: Session,
    settings: Settings,
    *,
    user_id: str | None = None,
    holdings: LearnerHoldings | None = None,
    now: datetime | None = None,
) -> list[PathwayAward]:
    """Apply each pathway's revocation policy to awards whose components no longer hold.

    ``keep`` leaves the award as it is when the pathway is still met without the lost
    component or the policy says so; ``revoke`` revokes the qualification credential;
    ``review`` flags the award for the pathway's staff. Returns the awards that changed.
    """
    now = now or datetime.now(UTC)
    query = select(PathwayAward).where(PathwayAward.state == AwardState.active)
    if user_id is not None:
        query = query.where(PathwayAward.user_id == user_id)
    changed = []
    cache: dict[str, LearnerHoldings] = {}
    if holdings is not None and user_id is not None:
        cache[user_id] = holdings
    for award in list(session.scalars(query)):
        if award.state is not AwardState.active:
            continue  # changed by a revocation this sweep made
        if award.user_id not in cache:
            cache[award.user_id] = learner_holdings(session, award.user_id, settings, now=now)
        if _apply_policy(session, award, cache[award.user_id], settings, now):
            changed.append(award)
    session.flush()
    return changed


def _follow_qualification(
    session: Session, award: PathwayAward, event: credentials.StatusChangeEvent, now: datetime
) -> None:
    """The award follows its own qualification credential: revoked for good with it (``final``:
    progress does not award the pathway again), suspended with it, and on reinstatement active
    again with the pathway's policy re-applied to what was lost meanwhile."""
    details = {
        "credential": award.credential_id,
        "credential_state": event.state.value,
        "reason": event.reason,
    }
    if event.state is CredentialState.revoked:
        if award.state is AwardState.revoked:
            return  # the policy revoked the award, and with it this credential
        award.state, award.final = AwardState.revoked, True
        award.state_reason = QUALIFICATION_REVOKED + event.reason
    elif event.state is CredentialState.suspended:
        if award.state not in (AwardState.active, AwardState.review):
            return
        award.state = AwardState.suspended
        award.state_reason = QUALIFICATION_SUSPENDED + event.reason
    else:
        if award.state is not AwardState.suspended:
            return
        award.state, award.state_reason = AwardState.active, None
    award.state_changed_at = now
    session.flush()
    clr_action = "reinstated" if award.state is AwardState.active else award.state.value
    _clr_follows(session, award, clr_action, event.settings)
    action = "restored" if award.state is AwardState.active else award.state.value
    record_audit(
        session, None, f"pathways.award.{action}", organisation_id=award.pathway.organisation_id,
        object_type="pathway_award", object_id=award.id, details=details,
    )  # fmt: skip
    if award.state is AwardState.active:
        held = learner_holdings(session, award.user_id, event.settings, now=now, reverify=False)
        _apply_policy(session, award, held, event.settings, now, details)


@credentials.on_status_change
def apply_policies_on_status_change(session: Session, event: credentials.StatusChangeEvent) -> None:
    """React, in the status change's transaction, to the credentials whose status changed.

    An award whose own qualification credential changed follows it (:func:`_follow_qualification`).
    Revocation policies are applied to the awards built on the credentials: on revocation or
    suspension to active awards, on reinstatement to awards flagged for review. Both kinds of
    award are found by one indexed query, so a credential in no award costs that one look-up.
    Imports are taken as last verified (no remote look-ups inside a revocation)."""
    ids = [row.id for row in event.credentials]
    own = select(literal("qualification").label("kind"), PathwayAward.id.label("award_id")).where(
        PathwayAward.credential_id.in_(ids)
    )
    built_on = select(literal("component"), PathwayAwardComponent.award_id).where(
        PathwayAwardComponent.credential_id.in_(ids)
    )
    found = session.execute(own.union_all(built_on)).all()
    if not found:
        return
    now = datetime.now(UTC)
    for award_id in sorted({award_id for kind, award_id in found if kind == "qualification"}):
        award = session.get(PathwayAward, award_id)
        assert award is not None
        _follow_qualification(session, award, event, now)
    award_ids = sorted({award_id for kind, award_id in found if kind == "component"})
    if award_ids:
        _apply_policies(session, award_ids, event, now)
    session.flush()


def _apply_policies(
    session: Session, award_ids: list[str], event: credentials.StatusChangeEvent, now: datetime
) -> None:
    """The revocation policy of each award built on credentials whose status changed."""
    ids = [row.id for row in event.credentials]
    reinstated = event.state is CredentialState.active
    wanted = AwardState.review if reinstated else AwardState.active
    details = {"credentials": ids, "credential_state": event.state.value}
    awards = session.scalars(
        select(PathwayAward).where(PathwayAward.id.in_(award_ids)).order_by(PathwayAward.awarded_at)
    )
    for award in list(awards):
        if award.state is not wanted:
            continue  # already handled, e.g. by a revocation this one caused
        held = learner_holdings(session, award.user_id, event.settings, now=now, reverify=False)
        if reinstated:
            _restore_flagged(session, award, held, now, details)
        else:
            _apply_policy(session, award, held, event.settings, now, details)


def _staff_awards(
    session: Session, principal: Principal, *conditions: Any, limit: int | None = None
) -> list[PathwayAward]:
    """Awards on the pathways of the principal's organisations (of every organisation for a
    platform administrator), most recently changed first."""
    query = select(PathwayAward).join(Pathway, Pathway.id == PathwayAward.pathway_id)
    query = query.where(*conditions)
    if not principal.is_platform_admin:
        query = query.where(
            Pathway.organisation_id.in_(principal.organisations_with(*AUTHOR_ROLES))
        )
    order = func.coalesce(PathwayAward.state_changed_at, PathwayAward.awarded_at).desc()
    return list(session.scalars(query.order_by(order, PathwayAward.id).limit(limit)))


def awards_for_review(session: Session, principal: Principal) -> list[PathwayAward]:
    """Awards flagged for review that staff of the principal's organisations decide."""
    return _staff_awards(session, principal, PathwayAward.state == AwardState.review)


def awards_revoked_for_good(
    session: Session, principal: Principal, limit: int = 100
) -> list[PathwayAward]:
    """The latest awards revoked for good (with their qualification credential or by staff):
    what staff may :func:`reaward`."""
    return _staff_awards(
        session, principal, PathwayAward.state == AwardState.revoked,
        PathwayAward.final.is_(True), limit=limit,
    )  # fmt: skip


def award_learners(session: Session, awards: Sequence[PathwayAward]) -> dict[str, User]:
    """The learner accounts of these awards, by id (for staff pages: who is concerned)."""
    ids = {award.user_id for award in awards}
    if not ids:
        return {}
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(ids)))}


def resolve_review(
    session: Session, principal: Principal, award_id: str, *, keep: bool, settings: Settings
) -> PathwayAward:
    """Staff decide a flagged award: keep it, or revoke it with its qualification credential."""
    award = get_award(session, None, award_id)
    _require_author(principal, award.pathway.organisation_id)
    if award.state is not AwardState.review:
        raise PathwayError("Only an award flagged for review can be decided.", field="state")
    award.state = AwardState.active if keep else AwardState.revoked
    if not keep:
        _clr_follows(session, award, "revoked", settings)
    if not keep and award.credential_id:
        credentials.revoke_credential(
            session, None, award.credential_id, reason=award.state_reason or "Pathway review",
            settings=settings,
        )  # fmt: skip
    award.state_changed_at = utcnow()
    if keep:
        lost = set((award.state_reason or "").removeprefix(LOST_PREFIX).split(", "))
        award.components = [key for key in award.components if key not in lost]
        dropped = [key.removeprefix(ISSUED_PREFIX) for key in lost if key.startswith(ISSUED_PREFIX)]
        session.execute(
            delete(PathwayAwardComponent).where(
                PathwayAwardComponent.award_id == award.id,
                PathwayAwardComponent.credential_id.in_(dropped),
            )
        )
    session.flush()
    record_audit(
        session, principal, "pathways.award.decided", organisation_id=award.pathway.organisation_id,
        object_type="pathway_award", object_id=award.id, details={"keep": keep},
    )  # fmt: skip
    return award


def revoke_award(
    session: Session, principal: Principal | None, award_id: str, *, reason: str, settings: Settings
) -> PathwayAward:
    """Staff revoke an award for good: its CLR and its qualification credential with it (the
    CLR has no credential row: revoking it is revoking the award). Awards stacked on the
    qualification then react per their policy; :func:`reaward` lifts it."""
    award = get_award(session, None, award_id)
    _require_author(principal, award.pathway.organisation_id)
    cleaned = (reason or "").strip()
    if not cleaned or len(cleaned) > credentials.MAX_REASON:
        raise PathwayError(
            f"Give a reason of 1-{credentials.MAX_REASON} characters (it is kept, not published).",
            field="reason",
        )
    if award.state is AwardState.revoked:
        raise PathwayError("The award is already revoked.", field="state")
    award.state, award.final = AwardState.revoked, True
    award.state_reason = AWARD_REVOKED + cleaned
    award.state_changed_at = utcnow()
    session.flush()
    _clr_follows(session, award, "revoked", settings)
    credential = session.get(IssuedCredential, award.credential_id) if award.credential_id else None
    if credential is not None and credential.state is not CredentialState.revoked:
        credentials.revoke_credential(
            session, None, credential.id, reason=cleaned, settings=settings
        )  # the listener finds the award revoked already
    record_audit(
        session, principal, "pathways.award.revoked",
        organisation_id=award.pathway.organisation_id, object_type="pathway_award",
        object_id=award.id, details={"reason": cleaned, "credential": award.credential_id},
    )  # fmt: skip
    return award


def reaward(
    session: Session, principal: Principal | None, award_id: str, settings: Settings
) -> PathwayAward | None:
    """Staff lift a final revocation (an award revoked on its own qualification credential):
    the pathway is awarded again at once if the learner still meets it (the new award, else
    None — later progress evaluations award it when met)."""
    award = get_award(session, None, award_id)
    _require_author(principal, award.pathway.organisation_id)
    if award.state is not AwardState.revoked or not award.final:
        raise PathwayError(
            "Only an award revoked for good (with its qualification credential or by staff) can "
            "be re-awarded.",
            field="state",
        )
    award.final = False
    session.flush()
    record_audit(
        session, principal, "pathways.award.reopened",
        organisation_id=award.pathway.organisation_id, object_type="pathway_award",
        object_id=award.id, details={"pathway_id": award.pathway_id, "user_id": award.user_id},
    )  # fmt: skip
    if award.pathway.status is not PathwayStatus.published:
        return None
    (result,) = learner_progress(session, award.user_id, settings, pathway_id=award.pathway_id)
    return result.award


# --- CLRs awarded without a status entry ------------------------------------------------------

CLR_REISSUED = "pathways.award.clr_reissued"


@dataclass(frozen=True)
class ReissuedClr:
    """An award whose CLR was (in a dry run: would be) issued again with a status entry.
    ``marked``: what the new entry's bit says at once (``revoked``, ``suspended``), else None;
    ``status``: the entry (None in a dry run)."""

    award_id: str
    pathway_name: str
    state: AwardState
    purpose: str
    marked: str | None
    status: credentials.DocumentStatus | None


@dataclass
class ClrReissue:
    dry_run: bool
    awards: list[ReissuedClr]

    @property
    def award_ids(self) -> list[str]:
        return [item.award_id for item in self.awards]


def _clr_mark(state: AwardState, purpose: str) -> str | None:
    """What :func:`_clr_follows` sets a new CLR entry of ``purpose`` to for an award already in
    ``state`` (``revoked``, ``suspended``), or None."""
    if state in (AwardState.revoked, AwardState.suspended):
        return state.value if _clr_entry_expresses(purpose, state.value) else None
    return None


def reissue_clrs_without_status(
    session: Session,
    settings: Settings,
    *,
    dry_run: bool = False,
    principal: Principal | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ClrReissue:
    """Give every award whose CLR has no status entry (awarded before migration 0005) one, as a
    new award gets it (:func:`_issue_clr`): the CLR's content as awarded, its id and issuer as
    today's settings say, signed afresh; a revoked (or, by a suspension entry, suspended) award's
    bit is set at once. All or nothing: everything runs in the caller's transaction. Awards
    with an entry are not touched, so a second run does nothing; ``dry_run`` writes nothing.
    ``principal``: None for the operator's command line, else a platform administrator."""
    if principal is not None and not principal.is_platform_admin:
        raise PermissionDenied("Only a platform administrator reissues CLRs.")
    query = (
        select(PathwayAward.id)
        .where(PathwayAward.clr_status_list_id.is_(None) | PathwayAward.clr_status_index.is_(None))
        .order_by(PathwayAward.awarded_at, PathwayAward.id)
    )
    if not dry_run:
        query = query.with_for_update()  # a concurrent run waits, then skips what this one did
    ids = list(session.scalars(query))
    done = []
    for position, award_id in enumerate(ids, start=1):
        award = session.get(PathwayAward, award_id)
        assert award is not None
        qualification = (
            session.get(IssuedCredential, award.credential_id) if award.credential_id else None
        )
        purpose = _clr_status_purpose(qualification)
        mark = _clr_mark(award.state, purpose)
        status: credentials.DocumentStatus | None = None
        if not dry_run:
            status = _reissue_clr(session, award, qualification, mark, settings, principal)
        done.append(ReissuedClr(award.id, award.pathway.name, award.state, purpose, mark, status))
        if on_progress is not None:
            on_progress(position, len(ids))
    return ClrReissue(dry_run, done)


def _reissue_clr(
    session: Session,
    award: PathwayAward,
    qualification: IssuedCredential | None,
    mark: str | None,
    settings: Settings,
    principal: Principal | None,
) -> credentials.DocumentStatus:
    organisation = session.get(Organisation, award.pathway.organisation_id)
    assert organisation is not None
    previous = credentials.credential_hash(award.clr).hex()
    document = {
        **award.clr,
        "id": _clr_id(settings, award.id),
        "issuer": _issuer_profile(organisation, settings),
    }
    status = _issue_clr(session, award, document, organisation, qualification, settings)
    if mark is not None:
        _clr_follows(session, award, mark, settings)
    record_audit(
        session, principal, CLR_REISSUED, organisation_id=organisation.id,
        object_type="pathway_award", object_id=award.id,
        details={
            "previous_clr_hash": previous, "status_list_id": status.status_list_id,
            "status_index": status.status_index, "purpose": status.purpose, "marked": mark,
        },
    )  # fmt: skip
    return status


# --- credit recommendations -------------------------------------------------------------------


@dataclass
class RecommendationInput:
    definition_id: str
    recommending_body: str
    credits: float
    unit: str
    level: str
    discipline: str
    valid_from: date
    valid_until: date | None = None
    eqf_level: int | None = None


def add_credit_recommendation(
    session: Session, principal: Principal | None, organisation: str, data: RecommendationInput
) -> CreditRecommendation:
    """A credit recommendation recorded by the micro-credential's own issuer: it raises the
    credential's credit in every institution's transfer evaluations, so another organisation's
    is refused (:func:`~microcred.pathways.articulation.check_recommender`, 422)."""
    org = get_organisation(session, organisation)
    _require_author(principal, org.id)
    catalogue.get_definition(session, data.definition_id)
    definition = catalogue.current_published(session, data.definition_id)
    if definition is None:
        raise PathwayError("The definition is not published.", field="definition_id")
    check_recommender(
        org.id, org.name, definition.issuer_id, definition.issuer.name, definition.name
    )
    for name in ("recommending_body", "level", "discipline"):
        value = str(getattr(data, name) or "").strip()
        if not value or len(value) > 200:
            raise PathwayError(f"{name} must be 1-200 characters.", field=name)
    if not 0 < data.credits <= 240:
        raise PathwayError("credits must be more than 0 and at most 240.", field="credits")
    try:
        unit = CreditUnit(data.unit)
    except ValueError:
        raise PathwayError("unit must be ects or credit_hours.", field="unit") from None
    if data.valid_until is not None and data.valid_until <= data.valid_from:
        raise PathwayError("valid_until must be after valid_from.", field="valid_until")
    if data.eqf_level is not None and not 1 <= data.eqf_level <= 8:
        raise PathwayError("eqf_level must be between 1 and 8.", field="eqf_level")
    row = CreditRecommendation(
        definition_id=data.definition_id, organisation_id=org.id,
        recommending_body=data.recommending_body.strip(), credits=data.credits, unit=unit,
        level=data.level.strip(), eqf_level=data.eqf_level, discipline=data.discipline.strip(),
        valid_from=data.valid_from, valid_until=data.valid_until,
    )  # fmt: skip
    session.add(row)
    session.flush()
    record_audit(
        session, principal, "pathways.credit_recommendation", organisation_id=org.id,
        object_type="credit_recommendation", object_id=row.id,
        details={"definition_id": data.definition_id},
    )  # fmt: skip
    return row


def credit_recommendations(
    session: Session, definition_id: str | None = None, *, on: date | None = None
) -> list[CreditRecommendation]:
    """Recommendations valid on a day (today), for one definition or all."""
    on = on or datetime.now(UTC).date()
    query = select(CreditRecommendation).where(
        CreditRecommendation.valid_from <= on,
        (CreditRecommendation.valid_until.is_(None)) | (CreditRecommendation.valid_until > on),
    )
    if definition_id is not None:
        query = query.where(CreditRecommendation.definition_id == definition_id)
    return list(session.scalars(query.order_by(CreditRecommendation.created_at)))


def recommended_ects(recommendation: CreditRecommendation) -> float:
    if recommendation.unit is CreditUnit.credit_hours:
        return recommendation.credits * ECTS_PER_CREDIT_HOUR
    return recommendation.credits


# --- articulation -----------------------------------------------------------------------------


def create_agreement(
    session: Session,
    principal: Principal | None,
    organisation: str,
    *,
    programme: str,
    name: str,
    description: str = "",
    max_credits: float | None = None,
) -> ArticulationAgreement:
    org = get_organisation(session, organisation)
    _require_author(principal, org.id)
    for field_name, value in (("programme", programme), ("name", name)):
        if not value.strip() or len(value.strip()) > 200:
            raise PathwayError(f"{field_name} must be 1-200 characters.", field=field_name)
    if max_credits is not None and max_credits <= 0:
        raise PathwayError("max_credits must be more than 0.", field="max_credits")
    agreement = ArticulationAgreement(
        organisation_id=org.id, programme=programme.strip(), name=name.strip(),
        description=description.strip(), max_credits=max_credits,
    )  # fmt: skip
    session.add(agreement)
    session.flush()
    record_audit(
        session, principal, "pathways.agreement.create", organisation_id=org.id,
        object_type="articulation_agreement", object_id=agreement.id,
    )  # fmt: skip
    return agreement


def get_agreement(session: Session, agreement_id: str) -> ArticulationAgreement:
    agreement = session.get(ArticulationAgreement, agreement_id)
    if agreement is None:
        raise NotFound(f"No articulation agreement '{agreement_id}'.")
    return agreement


def list_agreements(
    session: Session, organisation_id: str | None = None
) -> list[ArticulationAgreement]:
    query = select(ArticulationAgreement).order_by(ArticulationAgreement.programme)
    if organisation_id is not None:
        query = query.where(ArticulationAgreement.organisation_id == organisation_id)
    return list(session.scalars(query))


@dataclass
class RuleInput:
    match_kind: str
    match_value: str
    course_code: str
    course_name: str
    credits: float
    min_credits: float | None = None
    min_eqf_level: int | None = None
    within_years: int | None = None
    notes: str = ""


def as_rule(row: ArticulationRule, labels: Mapping[str, str] | None = None) -> Rule:
    return Rule(
        row.match_kind.value, row.match_value, row.course_code, row.course_name, row.credits,
        row.min_credits, row.min_eqf_level, row.within_years, row.position, row.id,
        (labels or {}).get(row.match_value, ""),
    )  # fmt: skip


def match_labels(session: Session, rows: Sequence[ArticulationRule]) -> dict[str, str]:
    """The names of what rules accept (definitions, issuers, skills) by their match value, for
    the reasons of an evaluation and the rules' table: a definition by its published name, an
    issuer by its organisation's name, a skill by its preferred label; unknown values are left
    out (an external achievement or issuer URL)."""
    labels: dict[str, str] = {}
    for row in rows:
        value = row.match_value
        if row.match_kind is MatchKind.definition:
            definition = catalogue.current_published(session, value)
            name = definition.name if definition is not None else None
        elif row.match_kind is MatchKind.issuer:
            organisation = session.get(Organisation, value)
            name = organisation.name if organisation is not None else None
        else:
            name = session.scalar(select(Skill.preferred_label).where(Skill.uri == value))
        if name:
            labels[value] = name
    return labels


def _match_value(session: Session, kind: MatchKind, value: str) -> str:
    value = value.strip()
    if not value:
        raise PathwayError("Say which credentials the rule accepts.", field="match_value")
    if kind is MatchKind.definition:
        if is_external_reference(value):
            return value  # another server's achievement, matched on imported credentials
        if catalogue.current_published(session, value) is None:
            rows = _definition_rows(session, {value})
            state = "retired" if value in rows else "does not exist"
            raise PathwayError(f"Definition {value} {state}.", field="match_value")
    elif kind is MatchKind.issuer:
        if not value.startswith(("http://", "https://", "did:")):
            return get_organisation(session, value).id
    elif not value.startswith(("http://", "https://")):
        raise PathwayError("A skill rule names the skill by its URI.", field="match_value")
    return value


def add_rule(
    session: Session, principal: Principal | None, agreement_id: str, data: RuleInput
) -> ArticulationRule:
    """Add a rule; one that contradicts an existing rule is refused with the reason."""
    agreement = get_agreement(session, agreement_id)
    _require_author(principal, agreement.organisation_id)
    try:
        kind = MatchKind(data.match_kind)
    except ValueError:
        raise PathwayError(
            "match_kind must be definition, issuer or skill.", field="match_kind"
        ) from None
    code, course = data.course_code.strip(), data.course_name.strip()
    if not code or len(code) > 60:
        raise PathwayError("course_code must be 1-60 characters.", field="course_code")
    if not course or len(course) > 200:
        raise PathwayError("course_name must be 1-200 characters.", field="course_name")
    if not 0 < data.credits <= 240:
        raise PathwayError("credits must be more than 0 and at most 240.", field="credits")
    if data.min_credits is not None and data.min_credits < 0:
        raise PathwayError("min_credits cannot be negative.", field="min_credits")
    if data.min_eqf_level is not None and not 1 <= data.min_eqf_level <= 8:
        raise PathwayError("min_eqf_level must be between 1 and 8.", field="min_eqf_level")
    if data.within_years is not None and not 1 <= data.within_years <= 50:
        raise PathwayError("within_years must be between 1 and 50.", field="within_years")
    value = _match_value(session, kind, data.match_value)
    position = len(agreement.rules)
    candidate = Rule(
        kind.value, value, code, course, data.credits, data.min_credits, data.min_eqf_level,
        data.within_years, position,
    )  # fmt: skip
    find_conflict([as_rule(row) for row in agreement.rules], candidate)
    row = ArticulationRule(
        agreement_id=agreement.id, position=position, match_kind=kind, match_value=value,
        min_credits=data.min_credits, min_eqf_level=data.min_eqf_level,
        within_years=data.within_years, course_code=code, course_name=course,
        credits=data.credits, notes=data.notes.strip(),
    )  # fmt: skip
    agreement.rules.append(row)
    session.flush()
    record_audit(
        session, principal, "pathways.rule.add", organisation_id=agreement.organisation_id,
        object_type="articulation_rule", object_id=row.id, details={"course": code},
    )  # fmt: skip
    return row


def remove_rule(session: Session, principal: Principal | None, rule_id: str) -> None:
    row = session.get(ArticulationRule, rule_id)
    if row is None:
        raise NotFound("No such rule.")
    _require_author(principal, row.agreement.organisation_id)
    row.agreement.rules.remove(row)
    session.flush()


def _issuer_aliases(
    session: Session, settings: Settings, organisation_ids: set[str]
) -> dict[str, frozenset[str]]:
    rows = session.scalars(select(Organisation).where(Organisation.id.in_(organisation_ids)))
    base = settings.base_url.rstrip("/")
    return {
        row.id: frozenset(
            {
                row.id,
                row.slug,
                issuer_did(settings.base_url, row.slug),
                f"{base}/issuers/{row.slug}",
            }
        )
        for row in rows
    }


def _holdings_for_transfer(
    session: Session, held: LearnerHoldings, settings: Settings
) -> list[Holding]:
    """Credit profiles: catalogue credit, raised by a valid credit recommendation."""
    definition_ids = {row.definition_id for row in held.issued} | {
        row.definition_id for row in held.imported if row.definition_id
    }
    definitions = _definition_rows(session, definition_ids)
    recommended: dict[str, float] = {}
    for recommendation in credit_recommendations(session):
        ects = recommended_ects(recommendation)
        recommended[recommendation.definition_id] = max(
            ects, recommended.get(recommendation.definition_id, 0.0)
        )
    aliases = _issuer_aliases(session, settings, {row.organisation_id for row in held.issued})
    verified = {a.key: a.verified for a in held.achievements}
    made = []
    for row in held.issued:
        definition = definitions.get(row.definition_id)
        ects = max((definition.ects_credits or 0.0) if definition else 0.0,
                   recommended.get(row.definition_id, 0.0))  # fmt: skip
        made.append(
            Holding(
                f"issued:{row.id}",
                row.achievement_name,
                row.definition_id,
                aliases.get(row.organisation_id, frozenset({row.organisation_id})),
                definition.issuer.name if definition else "",
                _skills_of(definition),
                ects,
                definition.eqf_level if definition else None,
                _aware(row.issued_at),
                verified.get(f"issued:{row.id}", False),
                row.document,
            )
        )
    for imported in held.imported:
        ects = max(imported.ects, recommended.get(imported.definition_id or "", 0.0))
        made.append(
            Holding(
                f"imported:{imported.id}",
                imported.achievement_name,
                imported.definition_id or imported.achievement_id,
                frozenset({imported.issuer_id}),
                imported.issuer_name,
                frozenset(imported.skills),
                ects,
                imported.eqf_level,
                _aware(imported.earned_at),
                imported.verified,
                imported.credential,
            )
        )
    return made


@dataclass
class TransferEvaluation:
    agreement: ArticulationAgreement
    learner: User
    result: TransferResult
    evaluated_at: datetime


def _learner_for(
    session: Session, principal: Principal, agreement: ArticulationAgreement, learner: str | None
) -> User:
    """The learner evaluated: oneself, or — for the institution's registrars — one of its
    learners (by e-mail address or id)."""
    if learner is None or learner in (principal.user_id, principal.email):
        user = session.get(User, principal.user_id)
        assert user is not None
        return user
    _require_author(principal, agreement.organisation_id)
    user = session.scalar(
        select(User).where((User.email == learner.lower()) | (User.id == learner))
    )
    member = user is not None and session.scalar(
        select(Membership.id).where(
            Membership.user_id == user.id, Membership.organisation_id == agreement.organisation_id
        )
    )
    if user is None or not member:
        raise PathwayError(
            f"{learner} is not a learner of {agreement.programme}'s institution.", field="learner"
        )
    return user


def evaluate_transfer_for(
    session: Session,
    principal: Principal,
    agreement_id: str,
    settings: Settings,
    *,
    learner: str | None = None,
    fetch: JsonFetcher | None = None,
    now: datetime | None = None,
) -> TransferEvaluation:
    """The credit a learner's credentials earn towards the agreement's programme."""
    now = now or datetime.now(UTC)
    agreement = get_agreement(session, agreement_id)
    user = _learner_for(session, principal, agreement, learner)
    held = learner_holdings(session, user.id, settings, fetch=fetch, now=now)
    labels = match_labels(session, agreement.rules)
    result = evaluate_transfer(
        [as_rule(row, labels) for row in agreement.rules],
        _holdings_for_transfer(session, held, settings),
        now=now,
        max_credits=agreement.max_credits,
    )
    return TransferEvaluation(agreement, user, result, now)


def transfer_transcript(
    session: Session, evaluation: TransferEvaluation, settings: Settings
) -> dict[str, Any]:
    """The evaluation as a signed CLR 2.0 transcript from the institution: the credited
    credentials, the institution's courses, and which credential ``exactMatchOf`` which course."""
    organisation = session.get(Organisation, evaluation.agreement.organisation_id)
    assert organisation is not None
    base = settings.base_url.rstrip("/")
    credited = [
        item for item in evaluation.result.credited
        if item.holding.credential and clr.is_ob3_credential(item.holding.credential)
    ]  # fmt: skip
    if not credited:
        raise PathwayError("No credential earns credit, so there is no transcript to export.")
    courses: dict[str, dict[str, Any]] = {}
    associations = []
    for item in credited:
        assert item.rule is not None and item.holding.credential is not None
        course_id = f"{base}/articulation/{evaluation.agreement.id}/courses/{item.rule.course_code}"
        courses[course_id] = {
            "id": course_id, "type": ["Achievement"], "achievementType": "Course",
            "name": f"{item.rule.course_code} {item.rule.course_name}",
            "description": f"{item.rule.course_name} ({evaluation.agreement.programme})",
            "criteria": {"narrative": item.reason}, "creditsAvailable": item.credits,
            "humanCode": item.rule.course_code,
        }  # fmt: skip
        source = clr.achievement_id_of(item.holding.credential)
        if source:
            associations.append(clr.Association("exactMatchOf", source, course_id))
    total = evaluation.result.total
    document = clr.build_clr(
        credential_id=f"urn:uuid:{new_id()}",
        name=f"Transfer credit: {evaluation.agreement.programme}",
        description=f"{total:g} credits awarded by {organisation.name} for "
        f"{len(credited)} external credential(s) under '{evaluation.agreement.name}'.",
        issuer=_issuer_profile(organisation, settings),
        subject_identifier=hashed_email_identity(evaluation.learner.email),
        subject_id=None,
        components=[dict(item.holding.credential or {}) for item in credited],
        achievements=list(courses.values()),
        associations=associations,
        valid_from=evaluation.evaluated_at,
        awarded_date=evaluation.evaluated_at,
    )
    return _sign(session, document, organisation, settings)

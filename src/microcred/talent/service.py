"""Talent search: employers find consenting learners by skills that their credentials verify now.

Who may search: members of an employer organisation with the employer role (or its admins), and
platform administrators; a token needs the ``talent:search`` scope. Who can be found: learners
with an active ``talent_search`` consent, and only through credentials that verify at this
moment — issued here, active, in force and not expired, or imported and verified. Skills a
learner merely declares never count. Every search is audited (it reads personal data), and each
learner shown is told which organisations found them.

One search is a few queries whatever the number of learners: the ranking runs in the database
(:mod:`microcred.talent.ranking` gives the formula) and returns one page; the page's evidence,
names and profiles are then read for those learners only.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from microcred.accounts.models import Consent, Organisation, OrganisationKind, Role, User
from microcred.accounts.service import (
    Principal,
    grant_consent,
    has_consent,
    record_audit,
    withdraw_consent,
)
from microcred.catalogue.models import CredentialDefinition, DefinitionSkill
from microcred.credentials.models import CredentialState, IssuedCredential
from microcred.skills.extraction.service import extract_skills
from microcred.skills.service import search_skills, skills_below, skills_by_uri
from microcred.talent import ranking
from microcred.talent.errors import TalentError, TalentForbidden
from microcred.talent.models import TalentSighting
from microcred.wallet.models import ImportedCredential, ImportedSkill
from microcred.wallet.profiles import published_handles

TALENT_CONSENT = "talent_search"
SEARCH_SCOPE = "talent:search"
MAX_QUERY_SKILLS = 20
MAX_NARROWER = 50
"""Skills below one query skill that also match it (two levels down, nearest first)."""
NARROWER_DEPTH = 2
MAX_PER_PAGE = 50
MAX_RESULTS = 1000
"""The deepest result reachable by paging: a search is for the best matches, not an export."""
MAX_POSTING = 20_000
MAX_LABEL = 200
MAX_SIGHTINGS_SHOWN = 50


@dataclass(frozen=True)
class QuerySkill:
    """One skill searched for, as resolved from what the employer asked."""

    uri: str
    label: str
    asked_as: str
    narrower: tuple[str, ...] = ()
    alternatives: tuple[tuple[str, str], ...] = ()
    """Other taxonomy skills the asked label could mean: (uri, label)."""


@dataclass(frozen=True)
class Filters:
    include_narrower: bool = False
    min_matched: int = 1
    min_eqf: int | None = None
    within_months: int | None = None
    """Only credentials issued (or earned) within this many months count."""


@dataclass(frozen=True)
class ExtractedSkill:
    """A skill found in a job posting: the taxonomy skill and the words that named it."""

    uri: str
    label: str
    text: str
    confidence: float


@dataclass(frozen=True)
class Evidence:
    """A verified credential that attests a query skill."""

    kind: str  # "earned": issued here; "imported": verified on import
    credential_id: str
    name: str
    issuer_name: str
    issued_at: datetime
    eqf_level: int | None
    page_path: str | None
    """The public verification page for credentials issued here."""


@dataclass(frozen=True)
class SkillMatch:
    skill: QuerySkill
    via_narrower: bool
    """True when only credentials for a narrower skill attest it."""
    credentials: list[Evidence]


@dataclass(frozen=True)
class Candidate:
    """A learner in the results: name, contact address, profile, and why they match."""

    user_id: str
    name: str
    email: str
    profile_path: str | None
    score: ranking.Score
    matches: list[SkillMatch]


@dataclass(frozen=True)
class SkillHolders:
    skill: QuerySkill
    learners: int


@dataclass(frozen=True)
class TalentResults:
    skills: list[QuerySkill]
    filters: Filters
    candidates: list[Candidate]
    total: int
    page: int
    per_page: int
    holders: list[SkillHolders] = field(default_factory=list)
    organisation_name: str | None = None

    @property
    def pages(self) -> int:
        reachable = min(self.total, MAX_RESULTS)
        return max(1, -(-reachable // self.per_page))


@dataclass(frozen=True)
class Sighting:
    """An organisation whose search results showed the learner."""

    organisation_name: str
    times: int
    last_seen: datetime


# --- who searches ------------------------------------------------------------------------------


def employer_organisations(session: Session, principal: Principal) -> list[Organisation]:
    """The employer organisations the principal may search for (employer role or admin)."""
    ids = principal.organisations_with(Role.employer)
    if not ids:
        return []
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.id.in_(ids), Organisation.kind == OrganisationKind.employer)
            .order_by(Organisation.name)
        )
    )


def searching_organisation(
    session: Session, principal: Principal, organisation: str | None = None
) -> Organisation | None:
    """The organisation a search is made (and audited) for; None for a platform administrator
    acting for none. Anyone else is refused."""
    if not principal.has_scope(SEARCH_SCOPE):
        raise TalentForbidden(f"This token lacks the {SEARCH_SCOPE} scope.")
    mine = employer_organisations(session, principal)
    if organisation:
        chosen = next((o for o in mine if organisation in (o.slug, o.id)), None)
        if chosen is None and principal.is_platform_admin:
            chosen = session.scalar(
                select(Organisation).where(
                    or_(Organisation.slug == organisation, Organisation.id == organisation),
                    Organisation.kind == OrganisationKind.employer,
                )
            )
        if chosen is None:
            raise TalentForbidden(f"You do not search on behalf of '{organisation}'.")
        return chosen
    if mine:
        return mine[0]
    if principal.is_platform_admin:
        return None
    raise TalentForbidden("Only employers search learners by their verified skills.")


# --- what is searched --------------------------------------------------------------------------


def is_uri(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def resolve_skills(
    session: Session, asked: Iterable[str], *, include_narrower: bool = False
) -> list[QuerySkill]:
    """Query skills from URIs or labels (a label resolves to the taxonomy's best match)."""
    wanted = list(dict.fromkeys(a.strip() for a in asked if a and a.strip()))
    if not wanted:
        raise TalentError("Name at least one skill.", field="skills")
    if len(wanted) > MAX_QUERY_SKILLS:
        raise TalentError(f"Search for at most {MAX_QUERY_SKILLS} skills.", field="skills")
    known = skills_by_uri(session, [a for a in wanted if is_uri(a)])
    resolved: dict[str, QuerySkill] = {}
    for text in wanted:
        if is_uri(text):
            skill = known.get(text)
            if skill is None:
                raise TalentError(f"No skill {text!r} in the taxonomy.", field="skills")
            found = QuerySkill(skill.uri, skill.preferred_label, text)
        else:
            if len(text) > MAX_LABEL:
                raise TalentError(f"A skill is at most {MAX_LABEL} characters.", field="skills")
            hits = search_skills(session, text, limit=5)
            if not hits:
                raise TalentError(f"No skill in the taxonomy matches {text!r}.", field="skills")
            others = tuple((h.uri, h.label) for h in hits[1:])
            found = QuerySkill(hits[0].uri, hits[0].label, text, alternatives=others)
        resolved.setdefault(found.uri, found)
    skills = list(resolved.values())
    if include_narrower:
        below = skills_below(
            session, [s.uri for s in skills], depth=NARROWER_DEPTH, limit=MAX_NARROWER
        )
        skills = [
            QuerySkill(s.uri, s.label, s.asked_as, tuple(below[s.uri]), s.alternatives)
            for s in skills
        ]
    return skills


def skills_in_posting(
    session: Session, text: str, cache_dir: Path | None = None
) -> list[ExtractedSkill]:
    """The skills a job posting names (the taxonomy gazetteer), most confident first."""
    if not text.strip():
        raise TalentError("Paste the text of a job posting.", field="posting")
    if len(text) > MAX_POSTING:
        raise TalentError(f"A posting is at most {MAX_POSTING:,} characters.", field="posting")
    best: dict[str, ExtractedSkill] = {}
    for match in extract_skills(session, text, "gazetteer", cache_dir).skills:
        known = best.get(match.uri)
        if known is None or match.confidence > known.confidence:
            best[match.uri] = ExtractedSkill(match.uri, match.label, match.text, match.confidence)
    ordered = sorted(best.values(), key=lambda s: -s.confidence)
    if not ordered:
        raise TalentError("No skills from the taxonomy were found in this text.", field="posting")
    return ordered[:MAX_QUERY_SKILLS]


def check_filters(filters: Filters) -> None:
    if not 1 <= filters.min_matched <= MAX_QUERY_SKILLS:
        raise TalentError(
            f"The minimum number of matched skills is 1 to {MAX_QUERY_SKILLS}.",
            field="min_matched",
        )
    if filters.min_eqf is not None and not 1 <= filters.min_eqf <= 8:
        raise TalentError("EQF levels run from 1 to 8.", field="min_eqf")
    if filters.within_months is not None and not 1 <= filters.within_months <= 600:
        raise TalentError("Issued within 1 to 600 months.", field="within_months")


def _check_page(page: int, per_page: int) -> None:
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise TalentError(f"A page holds 1 to {MAX_PER_PAGE} results.", field="per_page")
    if page < 1 or (page - 1) * per_page >= MAX_RESULTS:
        raise TalentError(
            f"Pages reach the best {MAX_RESULTS} results; narrow the search instead.",
            field="page",
        )


# --- the queries -------------------------------------------------------------------------------


def _wanted(skills: Sequence[QuerySkill], filters: Filters) -> Any:
    """Rows (skill_uri, q, weight): each URI that attests query skill number q."""
    rows = []
    for q, skill in enumerate(skills):
        pairs = [(skill.uri, False)]
        if filters.include_narrower:
            pairs += [(uri, True) for uri in skill.narrower]
        for uri, via_narrower in pairs:
            rows.append(
                select(
                    cast(literal(uri), String).label("skill_uri"),
                    cast(literal(q), Integer).label("q"),
                    cast(literal(ranking.skill_weight(via_narrower)), Float).label("weight"),
                )
            )
    return (union_all(*rows) if len(rows) > 1 else rows[0]).cte("wanted")


def _attested(
    skills: Sequence[QuerySkill],
    filters: Filters,
    now: datetime,
    user_ids: Sequence[str] | None = None,
    *,
    detailed: bool = True,
) -> Any:
    """Every (learner, query skill) attestation by a credential that verifies now, as a
    subquery: user_id, q, weight, at, eqf, and when ``detailed`` (the evidence shown) kind,
    item_id, name, issuer_name."""
    wanted = _wanted(skills, filters)
    issued, definition, aligned = IssuedCredential, CredentialDefinition, DefinitionSkill
    imported = ImportedCredential
    earned_details: list[Any] = []
    kept_details: list[Any] = []
    if detailed:
        earned_details = [
            cast(literal("earned"), String).label("kind"),
            issued.id.label("item_id"),
            issued.achievement_name.label("name"),
            Organisation.name.label("issuer_name"),
        ]
        kept_details = [
            cast(literal("imported"), String).label("kind"),
            imported.id.label("item_id"),
            imported.achievement_name.label("name"),
            imported.issuer_name.label("issuer_name"),
        ]
    earned = (
        select(
            issued.recipient_user_id.label("user_id"),
            wanted.c.q,
            wanted.c.weight,
            issued.issued_at.label("at"),
            definition.eqf_level.label("eqf"),
            *earned_details,
        )
        .select_from(wanted)
        .join(aligned, aligned.skill_uri == wanted.c.skill_uri)
        .join(definition, definition.id == aligned.definition_row_id)
        .join(
            issued,
            and_(
                issued.definition_id == definition.definition_id,
                issued.definition_version == definition.version,
            ),
        )
        .where(
            issued.recipient_user_id.is_not(None),
            issued.state == CredentialState.active,
            issued.valid_from <= now,
            or_(issued.valid_until.is_(None), issued.valid_until > now),
        )
    )
    if detailed:
        earned = earned.join(Organisation, Organisation.id == issued.organisation_id)
    indexed = ImportedSkill
    kept = (
        select(
            indexed.user_id,
            wanted.c.q,
            wanted.c.weight,
            indexed.earned_at.label("at"),
            indexed.eqf_level.label("eqf"),
            *kept_details,
        )
        .select_from(wanted)
        .join(indexed, indexed.skill_uri == wanted.c.skill_uri)
        .where(indexed.verified.is_(True))
    )
    if detailed:
        kept = kept.join(imported, imported.id == indexed.imported_id)
    if filters.min_eqf is not None:
        earned = earned.where(definition.eqf_level >= filters.min_eqf)
        kept = kept.where(indexed.eqf_level >= filters.min_eqf)
    if filters.within_months is not None:
        since = ranking.months_before(now, filters.within_months)
        earned = earned.where(issued.issued_at >= since)
        kept = kept.where(indexed.earned_at >= since)
    if user_ids is not None:
        earned = earned.where(issued.recipient_user_id.in_(user_ids))
        kept = kept.where(indexed.user_id.in_(user_ids))
    return union_all(earned, kept).subquery("attested")


def _searchable(user_id: Any) -> list[Any]:
    """Conditions on a learner column: an active account with the talent-search consent now."""
    return [
        User.is_active.is_(True),
        exists().where(
            Consent.user_id == user_id,
            Consent.purpose == TALENT_CONSENT,
            Consent.withdrawn_at.is_(None),
        ),
    ]


@dataclass(frozen=True)
class _Ranking:
    """One page of the ranking: the learners shown, best first; how many match in all; how many
    searchable learners hold each query skill."""

    user_ids: list[str]
    total: int
    holders: list[int]


def _weight_column(q: int) -> str:
    return f"w{q}"


def _per_learner(skills: Sequence[QuerySkill], filters: Filters, now: datetime) -> Any:
    """Every learner with at least one query skill attested, one row each (one grouping of the
    attesting credentials): per query skill q its weight ``w<q>`` (NULL when unmatched: 1 for a
    credential for the skill itself, less through a narrower one), the newest matching
    credential, the highest EQF level."""
    attested = _attested(skills, filters, now, detailed=False)
    weights = [
        func.max(case((attested.c.q == q, attested.c.weight))).label(_weight_column(q))
        for q in range(len(skills))
    ]
    return (
        select(
            attested.c.user_id,
            *weights,
            func.max(attested.c.at).label("latest"),
            func.max(attested.c.eqf).label("eqf"),
        )
        .group_by(attested.c.user_id)
        .subquery("per_learner")
    )


def _ranking(
    session: Session,
    skills: Sequence[QuerySkill],
    filters: Filters,
    now: datetime,
    page: int,
    per_page: int,
) -> _Ranking:
    """The ranking in one statement over the attesting credentials: every matching learner is
    scored in the database by :func:`ranking.total_sql` (the same formula as
    :func:`ranking.score`), the learners reaching ``min_matched`` sort first, and window sums
    over all of them give the total and the holders of each skill; only the page comes back."""
    learners = _per_learner(skills, filters, now)
    weights = [learners.c[_weight_column(q)] for q in range(len(skills))]
    searchable = (
        select(
            learners,
            _sum_all(case((w.is_not(None), 1), else_=0) for w in weights).label("matched"),
            _sum_all(func.coalesce(w, 0.0) for w in weights).label("weights"),
        )
        .join(User, User.id == learners.c.user_id)
        .where(*_searchable(learners.c.user_id))
        .subquery("searchable")
    )
    qualifies = case((searchable.c.matched >= filters.min_matched, 1), else_=0)
    total = ranking.total_sql(searchable.c.weights, searchable.c.latest, searchable.c.eqf, now)
    holders = [
        func.sum(_holds(searchable, q)).over().label(f"holders_{q}") for q in range(len(skills))
    ]
    rows = session.execute(
        select(
            searchable.c.user_id,
            qualifies.label("qualifies"),
            func.sum(qualifies).over().label("total"),
            *holders,
        )
        .order_by(
            qualifies.desc(),
            total.desc(),
            searchable.c.latest.desc(),
            searchable.c.user_id,
        )
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    if not rows:
        return _counts(session, searchable, len(skills), filters)
    first = rows[0]._mapping
    return _Ranking(
        user_ids=[row.user_id for row in rows if row.qualifies],
        total=int(first["total"] or 0),
        holders=[int(first[f"holders_{q}"] or 0) for q in range(len(skills))],
    )


def _holds(searchable: Any, q: int) -> Any:
    """1 when query skill ``q`` is matched, else 0."""
    return case((searchable.c[_weight_column(q)].is_not(None), 1), else_=0)


def _sum_all(terms: Iterable[Any]) -> Any:
    """``a + b + …`` over SQL expressions."""
    return functools.reduce(operator.add, terms)


def _counts(session: Session, searchable: Any, asked: int, filters: Filters) -> _Ranking:
    """Past the last page: no learners to show, but still the total and the holders."""
    row = session.execute(
        select(
            func.sum(case((searchable.c.matched >= filters.min_matched, 1), else_=0)),
            *[func.sum(_holds(searchable, q)) for q in range(asked)],
        )
    ).one()
    return _Ranking(user_ids=[], total=int(row[0] or 0), holders=[int(n or 0) for n in row[1:]])


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _candidates(
    session: Session,
    skills: Sequence[QuerySkill],
    filters: Filters,
    now: datetime,
    user_ids: Sequence[str],
) -> list[Candidate]:
    """The page's learners in rank order, each with the evidence for every skill matched."""
    if not user_ids:
        return []
    attested = _attested(skills, filters, now, user_ids)
    evidence: dict[str, dict[int, tuple[float, dict[str, Evidence]]]] = {}
    for row in session.execute(select(attested).order_by(attested.c.at.desc())):
        by_skill = evidence.setdefault(row.user_id, {})
        weight, items = by_skill.get(row.q, (0.0, {}))
        items.setdefault(
            row.item_id,
            Evidence(
                kind=row.kind,
                credential_id=row.item_id,
                name=row.name,
                issuer_name=row.issuer_name,
                issued_at=_aware(row.at),
                eqf_level=row.eqf,
                page_path=f"/credentials/{row.item_id}" if row.kind == "earned" else None,
            ),
        )
        by_skill[row.q] = (max(weight, float(row.weight)), items)
    people = {user.id: user for user in session.scalars(select(User).where(User.id.in_(user_ids)))}
    handles = published_handles(session, list(user_ids))
    candidates = []
    for user_id in user_ids:
        by_skill = evidence.get(user_id, {})
        matches = [
            SkillMatch(
                skill=skills[q],
                via_narrower=weight < 1.0,
                credentials=list(items.values()),
            )
            for q, (weight, items) in sorted(by_skill.items())
        ]
        everything = [e for match in matches for e in match.credentials]
        levels = [e.eqf_level for e in everything if e.eqf_level is not None]
        user = people[user_id]
        candidates.append(
            Candidate(
                user_id=user_id,
                name=user.name,
                email=user.email,
                profile_path=f"/people/{handles[user_id]}" if user_id in handles else None,
                score=ranking.score(
                    [ranking.skill_weight(m.via_narrower) for m in matches],
                    asked=len(skills),
                    latest=max((e.issued_at for e in everything), default=None),
                    top_eqf=max(levels, default=None),
                    now=now,
                ),
                matches=matches,
            )
        )
    return candidates


def search_talent(
    session: Session,
    principal: Principal,
    skills: Sequence[QuerySkill],
    filters: Filters | None = None,
    *,
    organisation: str | None = None,
    page: int = 1,
    per_page: int = 20,
    now: datetime | None = None,
    ip: str | None = None,
) -> TalentResults:
    """One page of consenting learners whose verified credentials attest the query skills, best
    first; audited under the searching organisation, and each learner shown is told."""
    searcher = searching_organisation(session, principal, organisation)
    filters = filters or Filters()
    if not skills:
        raise TalentError("Name at least one skill.", field="skills")
    if len(skills) > MAX_QUERY_SKILLS:
        raise TalentError(f"Search for at most {MAX_QUERY_SKILLS} skills.", field="skills")
    check_filters(filters)
    _check_page(page, per_page)
    now = now or datetime.now(UTC)
    ranked = _ranking(session, skills, filters, now, page, per_page)
    results = TalentResults(
        skills=list(skills),
        filters=filters,
        candidates=_candidates(session, skills, filters, now, ranked.user_ids),
        total=ranked.total,
        page=page,
        per_page=per_page,
        holders=[SkillHolders(skill, ranked.holders[q]) for q, skill in enumerate(skills)],
        organisation_name=searcher.name if searcher else None,
    )
    _record(session, principal, searcher, results, ip)
    return results


def _record(
    session: Session,
    principal: Principal,
    searcher: Organisation | None,
    results: TalentResults,
    ip: str | None,
) -> None:
    filters = results.filters
    record_audit(
        session,
        principal,
        "talent.searched",
        organisation_id=searcher.id if searcher else None,
        object_type="talent_search",
        details={
            "skills": [s.uri for s in results.skills],
            "include_narrower": filters.include_narrower,
            "min_matched": filters.min_matched,
            "min_eqf": filters.min_eqf,
            "within_months": filters.within_months,
            "page": results.page,
            "result_count": results.total,
            "shown": [c.user_id for c in results.candidates],
        },
        ip=ip,
        summary=f"Searched {len(results.skills)} skill(s): {results.total} learner(s) found",
    )
    session.add_all(
        TalentSighting(user_id=c.user_id, organisation_id=searcher.id if searcher else None)
        for c in results.candidates
    )


# --- the learner's side ------------------------------------------------------------------------


def is_searchable(session: Session, user_id: str) -> bool:
    return has_consent(session, user_id, TALENT_CONSENT)


def set_searchable(session: Session, principal: Principal, searchable: bool) -> None:
    """Grant or withdraw the learner's talent-search consent; it takes effect at once."""
    current = is_searchable(session, principal.user_id)
    if searchable and not current:
        grant_consent(session, principal.user_id, TALENT_CONSENT)
    elif not searchable and current:
        withdraw_consent(session, principal.user_id, TALENT_CONSENT)
    else:
        return
    record_audit(
        session,
        principal,
        "talent.consent_granted" if searchable else "talent.consent_withdrawn",
        object_type="consent",
        object_id=TALENT_CONSENT,
    )


def who_found_me(
    session: Session, user_id: str, limit: int = MAX_SIGHTINGS_SHOWN
) -> list[Sighting]:
    """The organisations whose searches showed the learner, most recent first."""
    rows = session.execute(
        select(
            Organisation.name,
            func.count(TalentSighting.id),
            func.max(TalentSighting.seen_at),
        )
        .select_from(TalentSighting)
        .outerjoin(Organisation, Organisation.id == TalentSighting.organisation_id)
        .where(TalentSighting.user_id == user_id)
        .group_by(TalentSighting.organisation_id, Organisation.name)
        .order_by(func.max(TalentSighting.seen_at).desc())
        .limit(limit)
    ).all()
    return [
        Sighting(name or "A platform administrator", int(times), _aware(last))
        for name, times, last in rows
    ]

"""Skills taxonomy operations: resolve URIs, search labels, occupations and their skills.

Search runs over an in-memory :class:`~microcred.skills.index.LabelIndex` built once per process
and taxonomy version; loading a new version changes the version id, so stale indexes are never
used.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from microcred.skills.errors import SkillError, SkillNotFound
from microcred.skills.index import Hit, IndexEntry, LabelIndex
from microcred.skills.loader import current_version
from microcred.skills.models import (
    Occupation,
    OccupationSkill,
    Skill,
    SkillRelation,
    TaxonomyVersion,
)
from microcred.skills.taxonomy import EXACT_MATCH

__all__ = [
    "OccupationNeed",
    "RelatedSkill",
    "SkillError",
    "SkillHit",
    "SkillNotFound",
    "SkillOccupation",
    "get_occupation",
    "get_skill",
    "occupation_skills",
    "search_occupations",
    "search_skills",
    "skill_broader",
    "skill_narrower",
    "skill_occupations",
    "skills_below",
    "skills_by_uri",
    "taxonomy_versions",
]

SkillHit = Hit
MAX_LIMIT = 200
MAX_QUERY_LENGTH = 200
GROUP_TYPES = frozenset({"skill group", "field of education", "technology class"})
IndexKind = Literal["skills", "occupations"]


@dataclass(frozen=True)
class OccupationNeed:
    """One skill an occupation needs, as its source states it."""

    skill_uri: str
    skill_label: str
    skill_type: str | None
    relation_type: str
    source: str
    hot_technology: bool
    in_demand: bool


@dataclass(frozen=True)
class SkillOccupation:
    """One occupation that needs a given skill."""

    occupation_uri: str
    occupation_label: str
    code: str | None
    relation_type: str
    source: str


@dataclass(frozen=True)
class RelatedSkill:
    uri: str
    label: str
    skill_type: str | None
    is_group: bool
    relation_type: str


_cache: dict[tuple[IndexKind, str], LabelIndex] = {}
_cache_lock = threading.Lock()


def _check_query(query: str, limit: int) -> None:
    if len(query) > MAX_QUERY_LENGTH:
        raise SkillError(
            f"The search text is longer than {MAX_QUERY_LENGTH} characters.", field="q"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise SkillError(f"limit must be between 1 and {MAX_LIMIT}.", field="limit")


def _index(session: Session, kind: IndexKind) -> LabelIndex:
    version = current_version(session)
    key: tuple[IndexKind, str] = (kind, version.id if version is not None else "")
    cached = _cache.get(key)
    if cached is not None:
        return cached
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        columns = (
            (Skill.uri, Skill.preferred_label, Skill.alt_labels, Skill.skill_type, Skill.is_group)
            if kind == "skills"
            else (
                Occupation.uri,
                Occupation.preferred_label,
                Occupation.alt_labels,
                Occupation.source,
                Occupation.is_group,
            )
        )
        rows = session.execute(select(*columns))
        index = LabelIndex.build(
            IndexEntry(uri, label, tuple(alts or ()), kind_value, bool(group))
            for uri, label, alts, kind_value, group in rows
        )
        for stale in [k for k in _cache if k[0] == kind]:
            del _cache[stale]
        _cache[key] = index
        return index


def clear_index_cache() -> None:
    with _cache_lock:
        _cache.clear()


def search_skills(
    session: Session, query: str, limit: int = 20, skill_type: str | None = None
) -> list[SkillHit]:
    """Skills whose preferred or alternative labels match ``query``: exact, prefix, then fuzzy.

    Skill groups (ESCO groups, ISCED-F fields, O*NET technology classes) are left out unless
    ``skill_type`` asks for them.
    """
    _check_query(query, limit)
    return _index(session, "skills").search(
        query, limit=limit, kind=skill_type or None, include_groups=skill_type in GROUP_TYPES
    )


def search_occupations(
    session: Session, query: str, limit: int = 20, source: str | None = None
) -> list[SkillHit]:
    """Occupations (ESCO and O*NET; ISCO groups left out) by title, exact, prefix or fuzzy."""
    _check_query(query, limit)
    hits = _index(session, "occupations").search(query, limit=limit, kind=source or None)
    return hits


def skills_by_uri(session: Session, uris: Iterable[str]) -> dict[str, Skill]:
    """The known skills among ``uris``; unknown URIs are simply absent from the result."""
    wanted = list(dict.fromkeys(uris))
    found: dict[str, Skill] = {}
    for start in range(0, len(wanted), 500):
        for skill in session.scalars(
            select(Skill).where(Skill.uri.in_(wanted[start : start + 500]))
        ):
            found[skill.uri] = skill
    return found


def get_skill(session: Session, uri: str) -> Skill:
    skill = session.scalars(select(Skill).where(Skill.uri == uri.strip())).first()
    if skill is None:
        raise SkillNotFound(f"No skill with URI {uri!r} in the taxonomy.", field="uri")
    return skill


def get_occupation(session: Session, uri: str) -> Occupation:
    occupation = session.scalars(select(Occupation).where(Occupation.uri == uri.strip())).first()
    if occupation is None:
        raise SkillNotFound(f"No occupation with URI {uri!r} in the taxonomy.", field="uri")
    return occupation


def occupation_skills(session: Session, occupation_uri: str) -> list[OccupationNeed]:
    """The skills an occupation needs: essential first, then by label."""
    occupation = get_occupation(session, occupation_uri)
    rows = session.execute(
        select(OccupationSkill, Skill)
        .join(Skill, Skill.id == OccupationSkill.skill_id)
        .where(OccupationSkill.occupation_id == occupation.id)
    )
    needs = [
        OccupationNeed(
            skill.uri,
            skill.preferred_label,
            skill.skill_type,
            link.relation_type,
            link.source,
            link.hot_technology,
            link.in_demand,
        )
        for link, skill in rows
    ]
    return sorted(
        needs,
        key=lambda n: (n.relation_type != "essential", not n.hot_technology, n.skill_label.lower()),
    )


def skill_occupations(session: Session, skill_uri: str, limit: int = 100) -> list[SkillOccupation]:
    """Occupations that need the skill: essential first, then by title."""
    skill = get_skill(session, skill_uri)
    rows = session.execute(
        select(OccupationSkill, Occupation)
        .join(Occupation, Occupation.id == OccupationSkill.occupation_id)
        .where(OccupationSkill.skill_id == skill.id)
        .order_by(OccupationSkill.relation_type, Occupation.preferred_label)
        .limit(limit)
    )
    return [
        SkillOccupation(o.uri, o.preferred_label, o.code, link.relation_type, link.source)
        for link, o in rows
    ]


def _related(session: Session, skill_uri: str, *, upwards: bool) -> list[RelatedSkill]:
    skill = get_skill(session, skill_uri)
    other = aliased(Skill)
    if upwards:
        condition = (SkillRelation.narrower_id == skill.id, other.id == SkillRelation.broader_id)
    else:
        condition = (SkillRelation.broader_id == skill.id, other.id == SkillRelation.narrower_id)
    rows = session.execute(
        select(other, SkillRelation.relation_type)
        .join(SkillRelation, condition[1])
        .where(condition[0], SkillRelation.relation_type != EXACT_MATCH)
        .order_by(other.preferred_label)
    )
    return [
        RelatedSkill(s.uri, s.preferred_label, s.skill_type, s.is_group, relation)
        for s, relation in rows
    ]


def skill_broader(session: Session, skill_uri: str) -> list[RelatedSkill]:
    """Broader skills and the groups, fields or classes the skill belongs to."""
    return _related(session, skill_uri, upwards=True)


def skill_narrower(session: Session, skill_uri: str) -> list[RelatedSkill]:
    return _related(session, skill_uri, upwards=False)


def skills_below(
    session: Session, uris: Sequence[str], depth: int = 2, limit: int = 100
) -> dict[str, list[str]]:
    """For each of ``uris``, the skills below it (narrower skills, members of a group) down to
    ``depth`` levels, nearest first, at most ``limit`` each; one query per level for all of them."""
    below: dict[str, list[str]] = {uri: [] for uri in uris}
    roots_of: dict[str, set[str]] = {uri: {uri} for uri in uris}
    broader, narrower = aliased(Skill), aliased(Skill)
    for _ in range(depth):
        if not roots_of:
            break
        found: dict[str, set[str]] = {}
        frontier = list(roots_of)
        for start in range(0, len(frontier), 500):
            rows = session.execute(
                select(broader.uri, narrower.uri)
                .join(SkillRelation, SkillRelation.broader_id == broader.id)
                .join(narrower, narrower.id == SkillRelation.narrower_id)
                .where(
                    broader.uri.in_(frontier[start : start + 500]),
                    SkillRelation.relation_type != EXACT_MATCH,
                )
                .order_by(narrower.preferred_label)
            )
            for parent, child in rows:
                for root in roots_of[parent]:
                    if child != root and child not in below[root] and len(below[root]) < limit:
                        below[root].append(child)
                        found.setdefault(child, set()).add(root)
        roots_of = found
    return below


def taxonomy_versions(session: Session) -> list[TaxonomyVersion]:
    """Every load, newest first; the current one has ``is_current``."""
    return list(session.scalars(select(TaxonomyVersion).order_by(TaxonomyVersion.loaded_at.desc())))


def skill_count(session: Session) -> int:
    return (
        session.scalar(select(func.count()).select_from(Skill).where(Skill.is_group.is_(False)))
        or 0
    )

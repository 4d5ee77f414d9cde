"""The skills to look for: plain records built from the taxonomy tables (or from any list)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from microcred.skills.extraction.aliases import alias_table
from microcred.skills.models import Skill, SkillRelation
from microcred.skills.taxonomy import EXACT_MATCH


@dataclass(frozen=True, slots=True)
class SkillConcept:
    uri: str
    preferred_label: str
    alt_labels: tuple[str, ...] = ()
    skill_type: str | None = None
    trusted_labels: bool = True
    """False when the taxonomy recovered the labels heuristically (they are noisier)."""
    aliases: tuple[str, ...] = ()
    """Names the taxonomy lacks that mean this skill ("AWS", "Kafka"): :mod:`.aliases`."""
    equivalents: tuple[str, ...] = ()
    """URIs of the same skill in another taxonomy (ESCO *C++* and O*NET's *C++*), recorded as
    ``exactMatch`` relations when the taxonomy loads."""


def fingerprint(concepts: Sequence[SkillConcept]) -> str:
    """A digest of the vocabulary, so caches (gazetteer, label embeddings) know when to rebuild."""
    digest = hashlib.sha256()
    for concept in concepts:
        digest.update(concept.uri.encode())
        digest.update(concept.preferred_label.encode() + bytes([concept.trusted_labels]))
        for label in concept.alt_labels:
            digest.update(b"\x1f" + label.encode())
        for alias in concept.aliases:
            digest.update(b"\x1d" + alias.encode())
        for uri in concept.equivalents:
            digest.update(b"\x1c" + uri.encode())
        digest.update(b"\x1e")
    return digest.hexdigest()[:16]


def vocabulary_from_session(session: Session) -> list[SkillConcept]:
    """Every skill of the loaded taxonomy (groups excluded), in URI order, with the packaged
    aliases of each (:func:`.aliases.alias_table`) and its equivalents in the other taxonomy."""
    rows = session.execute(
        select(
            Skill.uri,
            Skill.preferred_label,
            Skill.alt_labels,
            Skill.skill_type,
            Skill.labels_recovered,
        )
        .where(Skill.is_group.is_(False))
        .order_by(Skill.uri)
    )
    aliases = alias_table()
    equivalents: dict[str, list[str]] = {}
    esco, onet = aliased(Skill), aliased(Skill)
    for esco_uri, onet_uri in session.execute(
        select(esco.uri, onet.uri)
        .join(SkillRelation, SkillRelation.broader_id == esco.id)
        .join(onet, SkillRelation.narrower_id == onet.id)
        .where(SkillRelation.relation_type == EXACT_MATCH)
    ):
        equivalents.setdefault(esco_uri, []).append(onet_uri)
        equivalents.setdefault(onet_uri, []).append(esco_uri)
    return [
        SkillConcept(
            uri,
            label,
            tuple(alt_labels or ()),
            skill_type,
            not recovered,
            aliases.get(uri, ()),
            tuple(sorted(equivalents.get(uri, ()))),
        )
        for uri, label, alt_labels, skill_type, recovered in rows
    ]

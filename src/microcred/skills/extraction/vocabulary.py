"""The skills to look for: plain records built from the taxonomy tables (or from any list)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.skills.models import Skill


@dataclass(frozen=True, slots=True)
class SkillConcept:
    uri: str
    preferred_label: str
    alt_labels: tuple[str, ...] = ()
    skill_type: str | None = None
    trusted_labels: bool = True
    """False when the taxonomy recovered the labels heuristically (they are noisier)."""


def fingerprint(concepts: Sequence[SkillConcept]) -> str:
    """A digest of the vocabulary, so caches (gazetteer, label embeddings) know when to rebuild."""
    digest = hashlib.sha256()
    for concept in concepts:
        digest.update(concept.uri.encode())
        digest.update(concept.preferred_label.encode() + bytes([concept.trusted_labels]))
        for label in concept.alt_labels:
            digest.update(b"\x1f" + label.encode())
        digest.update(b"\x1e")
    return digest.hexdigest()[:16]


def vocabulary_from_session(session: Session) -> list[SkillConcept]:
    """Every skill of the loaded taxonomy (groups excluded), in URI order."""
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
    return [
        SkillConcept(uri, label, tuple(alt_labels or ()), skill_type, not recovered)
        for uri, label, alt_labels, skill_type, recovered in rows
    ]

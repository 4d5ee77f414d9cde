"""Plain records of a taxonomy being assembled from its sources, before it is written."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

LOADER_FORMAT = "microcred-skills-6"
"""Bumped when what the readers recover from the same files changes (labels.py rules), so a
`microcred skills load` on an existing installation reloads instead of reporting "unchanged".
5: ESCO↔O*NET ``exactMatch`` relations (:func:`record_equivalents`); 6: a preferred label is not
cut after a bare opening word ("program management programs management")."""

EXACT_MATCH = "exactMatch"
"""Relation type linking an ESCO skill (``broader``) to the O*NET skill naming the same thing."""
ESCO_URI_PREFIX = "http://data.europa.eu/esco/"


@dataclass
class SkillRecord:
    uri: str
    preferred_label: str
    alt_labels: list[str] = field(default_factory=list)
    description: str | None = None
    skill_type: str | None = None
    reuse_level: str | None = None
    code: str | None = None
    is_group: bool = False
    hot_technology: bool = False
    in_demand: bool = False
    labels_recovered: bool = False
    source: str = "esco"


@dataclass
class OccupationRecord:
    uri: str
    preferred_label: str
    alt_labels: list[str] = field(default_factory=list)
    description: str | None = None
    code: str | None = None
    broader_uri: str | None = None
    is_group: bool = False
    job_zone: int | None = None
    labels_recovered: bool = False
    source: str = "esco"


@dataclass(frozen=True)
class OccupationSkillRecord:
    occupation_uri: str
    skill_uri: str
    relation_type: str
    source: str
    hot_technology: bool = False
    in_demand: bool = False


@dataclass(frozen=True)
class SkillRelationRecord:
    broader_uri: str
    narrower_uri: str
    relation_type: str
    source: str


@dataclass(frozen=True)
class SourceFile:
    name: str
    path: str
    sha256: str
    licence: str
    rows: int


@dataclass
class TaxonomyData:
    """Everything one load writes; ``fingerprint`` identifies the exact set of input files."""

    name: str
    skills: dict[str, SkillRecord] = field(default_factory=dict)
    occupations: dict[str, OccupationRecord] = field(default_factory=dict)
    occupation_skills: dict[tuple[str, str, str], OccupationSkillRecord] = field(
        default_factory=dict
    )
    skill_relations: dict[tuple[str, str, str], SkillRelationRecord] = field(default_factory=dict)
    sources: list[SourceFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    label_runs: list[list[str]] = field(default_factory=list)
    """Label sequences known to be real ESCO labels, to learn label boundaries from."""

    def add_relation(self, record: SkillRelationRecord) -> None:
        self.skill_relations[(record.broader_uri, record.narrower_uri, record.relation_type)] = (
            record
        )

    def add_occupation_skill(self, record: OccupationSkillRecord) -> None:
        key = (record.occupation_uri, record.skill_uri, record.source)
        self.occupation_skills.setdefault(key, record)

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(source.sha256 for source in self.sources)

    def counts(self) -> dict[str, int]:
        return {
            "skills": sum(not s.is_group for s in self.skills.values()),
            "skill_groups": sum(s.is_group for s in self.skills.values()),
            "occupations": sum(not o.is_group for o in self.occupations.values()),
            "occupation_groups": sum(o.is_group for o in self.occupations.values()),
            "occupation_skills": len(self.occupation_skills),
            "skill_relations": len(self.skill_relations),
            "labels_recovered": sum(s.labels_recovered for s in self.skills.values())
            + sum(o.labels_recovered for o in self.occupations.values()),
        }


def fingerprint_of(digests: Iterable[str]) -> str:
    """Identifies a set of source files (by content) read by this loader format."""
    digest = hashlib.sha256(LOADER_FORMAT.encode())
    for file_digest in sorted(digests):
        digest.update(file_digest.encode())
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def clean_labels(preferred: str, labels: list[str]) -> list[str]:
    """Distinct alternative labels in source order, without the preferred label or blanks."""
    seen = {preferred.strip().casefold()}
    result: list[str] = []
    for label in labels:
        text = " ".join(label.split())
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            result.append(text)
    return result


def record_equivalents(data: TaxonomyData, key: Callable[[str], object]) -> int:
    """Link each O*NET skill whose preferred label is an ESCO skill's (compared by ``key``) to
    that ESCO skill (the first by URI) with an :data:`EXACT_MATCH` relation; returns how many."""
    esco: dict[object, str] = {}
    for uri, record in sorted(data.skills.items()):
        if uri.startswith(ESCO_URI_PREFIX) and not record.is_group:
            esco.setdefault(key(record.preferred_label), uri)
    linked = 0
    for uri, record in sorted(data.skills.items()):
        if record.source != "onet" or record.is_group:
            continue
        twin = esco.get(key(record.preferred_label))
        if twin is not None:
            data.add_relation(SkillRelationRecord(twin, uri, EXACT_MATCH, "microcred"))
            linked += 1
    return linked

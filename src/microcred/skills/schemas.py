"""Pydantic shapes of the skills API (so the OpenAPI schema documents every field)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class SkillHitOut(BaseModel):
    uri: str
    label: str = Field(description="Preferred label")
    matched_label: str = Field(description="The preferred or alternative label that matched")
    score: float = Field(ge=0, le=1)
    match: Literal["exact", "prefix", "fuzzy"]


class RelatedSkillOut(BaseModel):
    uri: str
    label: str
    skill_type: str | None
    is_group: bool
    relation_type: str = Field(description="broader (skill pillar) or member (group/field/class)")


class SkillOccupationOut(BaseModel):
    uri: str
    label: str
    code: str | None
    relation_type: str = Field(description="essential or optional")
    source: str


class SkillOut(BaseModel):
    uri: str
    preferred_label: str
    alt_labels: list[str]
    description: str | None
    skill_type: str | None
    reuse_level: str | None
    code: str | None
    is_group: bool
    hot_technology: bool
    in_demand: bool
    labels_recovered: bool = Field(description="Labels recovered heuristically (see docs)")
    source: str
    broader: list[RelatedSkillOut]
    narrower: list[RelatedSkillOut]
    occupations: list[SkillOccupationOut]


class OccupationSkillOut(BaseModel):
    uri: str
    label: str
    skill_type: str | None
    relation_type: str = Field(description="essential or optional")
    source: str
    hot_technology: bool
    in_demand: bool


class OccupationOut(BaseModel):
    uri: str
    preferred_label: str
    alt_labels: list[str]
    description: str | None
    code: str | None
    broader_uri: str | None
    is_group: bool
    job_zone: int | None
    labels_recovered: bool
    source: str
    skills: list[OccupationSkillOut]


class SourceFileOut(BaseModel):
    name: str
    path: str
    sha256: str
    licence: str
    rows: int


class TaxonomyVersionOut(BaseModel):
    id: str
    name: str
    fingerprint: str
    is_current: bool
    loaded_at: datetime
    counts: dict[str, int]
    sources: list[SourceFileOut]
    notes: list[str]

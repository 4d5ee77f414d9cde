"""Pydantic models of the catalogue API (input shapes and output documents).

Types are checked here; ranges, vocabularies and cross-field rules are checked once, in
``validation.parse_definition``, so the API, the forms and the importer report the same errors.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from microcred.catalogue.models import CredentialDefinition
from microcred.catalogue.ob3 import definition_url, image_url
from microcred.catalogue.service import IssuerView, SearchPage, definition_data
from microcred.catalogue.validation import duration_iso8601


class RubricLevelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="Name of the performance level, e.g. 'Competent'")
    description: str = ""
    points: str | None = None


class DefinitionIn(BaseModel):
    """A definition's fields; on PATCH only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    description: str | None = None
    criteria_narrative: str | None = Field(
        default=None, description="What a learner must do to earn it (Markdown)"
    )
    learning_outcomes: list[str] | None = Field(default=None, description="At least one")
    workload_hours: float | None = Field(default=None, description="Notional workload, ≥ 0")
    ects_credits: float | None = Field(default=None, description="ECTS credits, ≥ 0")
    eqf_level: int | None = Field(default=None, description="EQF level 1–8")
    achievement_type: str | None = Field(
        default=None, description="OB 3.0 AchievementType, or 'ext:Name'; default MicroCredential"
    )
    criteria_url: str | None = None
    image_url: str | None = None
    tags: list[str] | None = None
    field_of_study: str | None = None
    human_code: str | None = Field(default=None, description="Unique per issuer, e.g. DATA-101")
    in_language: str | None = Field(default=None, description="BCP 47 language tag, e.g. en")
    credits_available: float | None = None
    version_label: str | None = None
    result_name: str | None = None
    rubric_levels: list[RubricLevelIn] | None = None
    required_level: str | None = Field(default=None, description="Name of a rubric level")
    skills: list[str] | None = Field(default=None, description="ESCO skill URIs")
    assessment_types: list[str] | None = Field(
        default=None,
        description="exam, project, practical-demonstration, portfolio, attendance, "
        "experiential, oral-examination, peer-review",
    )
    assessment_description: str | None = None
    participation_form: str | None = Field(default=None, description="online, on-site, blended")
    location: str | None = Field(default=None, description="Required for on-site and blended")
    quality_assurance: str | None = None
    quality_assurance_url: str | None = None
    prerequisites: str | None = None
    prerequisite_definition_ids: list[str] | None = None
    price_amount: float | None = Field(default=None, description="≥ 0; 0 is free")
    price_currency: str | None = Field(default=None, description="ISO 4217, e.g. EUR")
    duration_weeks: float | None = Field(default=None, description="Duration in weeks, ≥ 0")
    identity_checked: bool | None = None
    stackable: bool | None = None
    stackable_notes: str | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class IssuerRef(BaseModel):
    slug: str
    name: str


class SkillRef(BaseModel):
    uri: str
    label: str


class RubricLevelOut(BaseModel):
    name: str
    description: str
    points: str | None


class DefinitionOut(BaseModel):
    id: str = Field(description="The definition (stable across versions)")
    version: int
    status: str = Field(description="draft, published, superseded or retired")
    issuer: IssuerRef
    name: str
    description: str
    criteria_narrative: str
    criteria_url: str | None
    image_url: str
    achievement_type: str
    tags: list[str]
    field_of_study: str | None
    human_code: str | None
    in_language: str
    credits_available: float | None
    version_label: str | None
    result_name: str | None
    rubric_levels: list[RubricLevelOut]
    required_level: str | None
    skills: list[SkillRef]
    learning_outcomes: list[str]
    workload_hours: float
    ects_credits: float | None
    eqf_level: int | None
    assessment_types: list[str]
    assessment_description: str | None
    participation_form: str
    location: str | None
    quality_assurance: str | None
    quality_assurance_url: str | None
    prerequisites: str | None
    prerequisite_definition_ids: list[str]
    price_amount: float
    price_currency: str | None
    duration_weeks: float | None
    duration: str | None = Field(description="ISO 8601 duration")
    identity_checked: bool
    stackable: bool
    stackable_notes: str | None
    url: str = Field(description="The page of this version")
    achievement_url: str = Field(description="This version as an OB 3.0 Achievement")
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    retired_at: datetime | None

    @classmethod
    def of(cls, definition: CredentialDefinition, base_url: str) -> DefinitionOut:
        api = f"{base_url.rstrip('/')}/api/v1/definitions/{definition.definition_id}"
        fields = definition_data(definition).as_input()  # the stored fields, as plain data
        fields.update(
            id=definition.definition_id,
            version=definition.version,
            status=definition.status.value,
            issuer=IssuerRef(slug=definition.issuer.slug, name=definition.issuer.name),
            image_url=image_url(base_url, definition),
            rubric_levels=[RubricLevelOut(**level) for level in fields["rubric_levels"]],
            skills=[SkillRef(uri=s.skill_uri, label=s.label) for s in definition.skills],
            duration=duration_iso8601(definition.duration_weeks),
            url=definition_url(base_url, definition.definition_id, definition.version),
            achievement_url=f"{api}/versions/{definition.version}/achievement",
            created_at=definition.created_at,
            updated_at=definition.updated_at,
            published_at=definition.published_at,
            retired_at=definition.retired_at,
        )
        return cls(**fields)


class DefinitionPageOut(BaseModel):
    items: list[DefinitionOut]
    total: int
    page: int
    per_page: int
    pages: int

    @classmethod
    def of(cls, result: SearchPage, base_url: str) -> DefinitionPageOut:
        return cls(
            items=[DefinitionOut.of(d, base_url) for d in result.items],
            total=result.total,
            page=result.page,
            per_page=result.per_page,
            pages=result.pages,
        )


class VersionOut(BaseModel):
    version: int
    status: str
    name: str
    published_at: datetime | None
    url: str


class IssuerOut(BaseModel):
    slug: str
    name: str
    category: str | None
    country: str | None
    region: str | None
    url: str | None
    email: str | None
    phone: str | None
    description: str | None
    image_url: str | None
    street_address: str | None
    locality: str | None
    postal_code: str | None
    official: str | None
    published_definitions: int

    @classmethod
    def of(cls, view: IssuerView) -> IssuerOut:
        org, profile = view.organisation, view.profile
        return cls(
            slug=org.slug,
            name=org.name,
            category=org.category,
            country=org.country,
            region=org.region,
            url=profile.url,
            email=profile.email,
            phone=profile.phone,
            description=profile.description,
            image_url=profile.image_url,
            street_address=profile.street_address,
            locality=profile.locality,
            postal_code=profile.postal_code,
            official=profile.official,
            published_definitions=view.published_count,
        )


class IssuerPatch(BaseModel):
    """OB 3.0 Profile fields to change; null clears a field."""

    model_config = ConfigDict(extra="forbid")
    url: str | None = None
    email: str | None = None
    phone: str | None = None
    description: str | None = None
    image_url: str | None = None
    street_address: str | None = None
    locality: str | None = None
    postal_code: str | None = None
    official: str | None = None
    parent_organisation: str | None = Field(default=None, description="Slug of the parent")


class ImportedRowOut(BaseModel):
    line: int
    id: str
    name: str


class RowProblemOut(BaseModel):
    line: int
    field: str
    message: str


class ImportOut(BaseModel):
    total_rows: int
    imported: list[ImportedRowOut]
    skipped: list[RowProblemOut] = Field(description="Problems of the rows not imported")
    summary: str

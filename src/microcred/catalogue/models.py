"""Catalogue tables: issuer profiles and versioned credential definitions.

A definition's lineage is ``definition_id``; each row is one ``version`` of it. At most one
version of a lineage is ``published`` at a time (older published ones become ``superseded`` and
stay readable at their versioned URL), and at most one ``draft`` exists, always the newest.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from microcred.accounts.models import Organisation
from microcred.db.base import Base, TimestampMixin, id_column, new_id


class DefinitionStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    superseded = "superseded"
    retired = "retired"


class ParticipationForm(enum.StrEnum):
    online = "online"
    on_site = "on-site"
    blended = "blended"


class IssuerProfile(TimestampMixin, Base):
    """The Open Badges 3.0 ``Profile`` fields of an issuing organisation (name lives on it)."""

    __tablename__ = "issuer_profiles"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str | None] = mapped_column(String(500), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    phone: Mapped[str | None] = mapped_column(String(40), default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    image_url: Mapped[str | None] = mapped_column(String(500), default=None)
    street_address: Mapped[str | None] = mapped_column(String(200), default=None)
    locality: Mapped[str | None] = mapped_column(String(120), default=None)
    postal_code: Mapped[str | None] = mapped_column(String(20), default=None)
    official: Mapped[str | None] = mapped_column(
        String(200), default=None, doc="Name of the official authorised to act for the issuer"
    )
    parent_organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), default=None
    )


class CredentialDefinition(TimestampMixin, Base):
    """One version of a micro-credential definition (OB 3.0 Achievement + EU standard elements)."""

    __tablename__ = "credential_definitions"
    __table_args__ = (
        UniqueConstraint("definition_id", "version"),
        Index("ix_credential_definitions_status_issuer", "status", "issuer_id"),
        Index("ix_credential_definitions_issuer_code", "issuer_id", "human_code"),
    )

    id: Mapped[str] = id_column()
    definition_id: Mapped[str] = mapped_column(String(32), default=new_id, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    issuer_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[DefinitionStatus] = mapped_column(
        Enum(DefinitionStatus, native_enum=False, length=20), default=DefinitionStatus.draft
    )

    # Open Badges 3.0 Achievement
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    criteria_narrative: Mapped[str] = mapped_column(Text)
    criteria_url: Mapped[str | None] = mapped_column(String(500), default=None)
    image_url: Mapped[str | None] = mapped_column(String(500), default=None)
    achievement_type: Mapped[str] = mapped_column(String(80), default="MicroCredential", index=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    field_of_study: Mapped[str | None] = mapped_column(String(200), default=None)
    human_code: Mapped[str | None] = mapped_column(String(60), default=None)
    in_language: Mapped[str] = mapped_column(String(20), default="en", index=True)
    credits_available: Mapped[float | None] = mapped_column(Float, default=None)
    version_label: Mapped[str | None] = mapped_column(String(40), default=None)
    result_name: Mapped[str | None] = mapped_column(String(200), default=None)
    rubric_levels: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    required_level: Mapped[str | None] = mapped_column(String(200), default=None)

    # EU micro-credential standard elements (Council Recommendation 2022, Annex I)
    learning_outcomes: Mapped[list[str]] = mapped_column(JSON, default=list)
    workload_hours: Mapped[float] = mapped_column(Float, default=0.0)
    ects_credits: Mapped[float | None] = mapped_column(Float, default=None)
    eqf_level: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    assessment_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    assessment_description: Mapped[str | None] = mapped_column(Text, default=None)
    participation_form: Mapped[ParticipationForm] = mapped_column(
        Enum(
            ParticipationForm,
            native_enum=False,
            length=20,
            values_callable=lambda e: [member.value for member in e],
        ),
        default=ParticipationForm.online,
        index=True,
    )
    location: Mapped[str | None] = mapped_column(String(200), default=None)
    quality_assurance: Mapped[str | None] = mapped_column(Text, default=None)
    quality_assurance_url: Mapped[str | None] = mapped_column(String(500), default=None)
    prerequisites: Mapped[str | None] = mapped_column(Text, default=None)
    prerequisite_definition_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    price_amount: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    price_currency: Mapped[str | None] = mapped_column(String(3), default=None)
    duration_weeks: Mapped[float | None] = mapped_column(Float, default=None, index=True)
    identity_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    stackable: Mapped[bool] = mapped_column(Boolean, default=False)
    stackable_notes: Mapped[str | None] = mapped_column(Text, default=None)

    # Bookkeeping
    search_text: Mapped[str] = mapped_column(Text, default="", doc="Lower-cased text for search")
    created_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    issuer: Mapped[Organisation] = relationship(lazy="joined", foreign_keys=[issuer_id])
    skills: Mapped[list[DefinitionSkill]] = relationship(
        back_populates="definition",
        cascade="all, delete-orphan",
        order_by="DefinitionSkill.position",
        lazy="selectin",
    )


class DefinitionSkill(Base):
    """An alignment of one definition version to an ESCO skill, with the label at the time."""

    __tablename__ = "definition_skills"
    __table_args__ = (UniqueConstraint("definition_row_id", "skill_uri"),)

    id: Mapped[str] = id_column()
    definition_row_id: Mapped[str] = mapped_column(
        ForeignKey("credential_definitions.id", ondelete="CASCADE"), index=True
    )
    skill_uri: Mapped[str] = mapped_column(String(300), index=True)
    label: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)

    definition: Mapped[CredentialDefinition] = relationship(back_populates="skills")

"""Pathway tables: pathways and their awards, credit recommendations, articulation agreements."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from microcred.db.base import Base, TimestampMixin, id_column, utcnow


class PathwayKind(enum.StrEnum):
    certificate = "certificate"
    micro_degree = "micro-degree"
    degree_credit = "degree-credit"


class PathwayStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    archived = "archived"


class RevocationPolicy(enum.StrEnum):
    """What happens to an award when a credential it was built on is revoked."""

    keep = "keep"
    revoke = "revoke"
    review = "review"


class AwardState(enum.StrEnum):
    """``suspended``: its qualification credential is suspended, so the award is not currently
    held; reinstating the credential lifts it (and re-applies the pathway's policy)."""

    active = "active"
    review = "review"
    suspended = "suspended"
    revoked = "revoked"


class Pathway(TimestampMixin, Base):
    __tablename__ = "pathways"

    id: Mapped[str] = id_column()
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[PathwayKind] = mapped_column(Enum(PathwayKind, native_enum=False))
    status: Mapped[PathwayStatus] = mapped_column(
        Enum(PathwayStatus, native_enum=False), default=PathwayStatus.draft, index=True
    )
    requirements: Mapped[dict[str, Any]] = mapped_column(JSON)
    qualification_definition_id: Mapped[str | None] = mapped_column(String(32), default=None)
    revocation_policy: Mapped[RevocationPolicy] = mapped_column(
        Enum(RevocationPolicy, native_enum=False), default=RevocationPolicy.review
    )
    created_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class PathwayAward(Base):
    """A learner's stacked qualification: the OB 3.0 credential and the CLR of its components."""

    __tablename__ = "pathway_awards"

    id: Mapped[str] = id_column()
    pathway_id: Mapped[str] = mapped_column(
        ForeignKey("pathways.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    state: Mapped[AwardState] = mapped_column(
        Enum(AwardState, native_enum=False), default=AwardState.active, index=True
    )
    credential_id: Mapped[str | None] = mapped_column(
        ForeignKey("issued_credentials.id", ondelete="SET NULL"), default=None, index=True
    )
    """The qualification credential; indexed: its revocation or suspension finds the award."""
    clr: Mapped[dict[str, Any]] = mapped_column(JSON)
    clr_status_list_id: Mapped[str | None] = mapped_column(String(32), default=None)
    clr_status_index: Mapped[int | None] = mapped_column(Integer, default=None)
    """The CLR's own status entry (:class:`~microcred.credentials.service.DocumentStatus`): the
    CLR is no issued credential row, so its bit follows the award (revoked with it, suspended
    with it when the entry is a suspension one). None: awarded before CLRs carried one."""
    components: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Achievement keys (``issued:<id>``, ``imported:<id>``) the award was built on."""
    awarded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    state_reason: Mapped[str | None] = mapped_column(Text, default=None)
    state_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    final: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Revoked on its own qualification credential: progress does not award the pathway to the
    learner again until staff re-award it (:func:`~microcred.pathways.service.reaward`)."""

    pathway: Mapped[Pathway] = relationship(lazy="joined")


class PathwayAwardComponent(Base):
    """A credential issued here that an award was built on, keyed by the credential: what a
    revocation, suspension or reinstatement looks up to re-check only the awards it touches."""

    __tablename__ = "pathway_award_components"

    credential_id: Mapped[str] = mapped_column(
        ForeignKey("issued_credentials.id", ondelete="CASCADE"), primary_key=True
    )
    award_id: Mapped[str] = mapped_column(
        ForeignKey("pathway_awards.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CreditUnit(enum.StrEnum):
    ects = "ects"
    credit_hours = "credit_hours"


class CreditRecommendation(TimestampMixin, Base):
    """A recommending body's view of how much academic credit a definition is worth."""

    __tablename__ = "credit_recommendations"

    id: Mapped[str] = id_column()
    definition_id: Mapped[str] = mapped_column(String(32), index=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    recommending_body: Mapped[str] = mapped_column(String(200))
    credits: Mapped[float] = mapped_column(Float)
    unit: Mapped[CreditUnit] = mapped_column(Enum(CreditUnit, native_enum=False))
    level: Mapped[str] = mapped_column(String(120))
    eqf_level: Mapped[int | None] = mapped_column(Integer, default=None)
    discipline: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date, default=None)


class ArticulationAgreement(TimestampMixin, Base):
    """An institution's statement of which external credentials it accepts for a programme."""

    __tablename__ = "articulation_agreements"

    id: Mapped[str] = id_column()
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    programme: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    max_credits: Mapped[float | None] = mapped_column(Float, default=None)
    """The most transfer credit the programme accepts in all (ECTS)."""

    rules: Mapped[list[ArticulationRule]] = relationship(
        back_populates="agreement",
        cascade="all, delete-orphan",
        order_by="ArticulationRule.position",
        lazy="selectin",
    )


class MatchKind(enum.StrEnum):
    definition = "definition"
    issuer = "issuer"
    skill = "skill"


class ArticulationRule(Base):
    __tablename__ = "articulation_rules"

    id: Mapped[str] = id_column()
    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("articulation_agreements.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    match_kind: Mapped[MatchKind] = mapped_column(Enum(MatchKind, native_enum=False))
    match_value: Mapped[str] = mapped_column(String(500))
    min_credits: Mapped[float | None] = mapped_column(Float, default=None)
    min_eqf_level: Mapped[int | None] = mapped_column(Integer, default=None)
    within_years: Mapped[int | None] = mapped_column(Integer, default=None)
    course_code: Mapped[str] = mapped_column(String(60))
    course_name: Mapped[str] = mapped_column(String(200))
    credits: Mapped[float] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")

    agreement: Mapped[ArticulationAgreement] = relationship(back_populates="rules")

"""Endorsements: one organisation's signed OB 3.0 ``EndorsementCredential`` about another's
published credential definition or issuer profile, and the endorsed organisation's answer."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from microcred.db.base import Base, TimestampMixin, id_column


class EndorsementState(enum.StrEnum):
    pending = "pending"
    """Signed by the endorser, waiting for the endorsed organisation's admins."""
    accepted = "accepted"
    """Embedded in new credentials (while unexpired)."""
    declined = "declined"
    withdrawn = "withdrawn"
    """Revoked by the endorser (or replaced by a newer endorsement of the same subject)."""


class SubjectKind(enum.StrEnum):
    definition = "definition"
    issuer = "issuer"


LIVE_STATES = (EndorsementState.pending, EndorsementState.accepted)
LIVE_WHERE = "state IN ('pending', 'accepted')"


class Endorsement(TimestampMixin, Base):
    """One signed endorsement credential and where it stands."""

    __tablename__ = "endorsements"
    __table_args__ = (
        # Issuance's one read per definition: accepted endorsements of these subject ids.
        Index("ix_endorsements_subject_id", "subject_id", "state"),
        Index("ix_endorsements_endorsed_id", "endorsed_id", "state"),
        Index("ix_endorsements_endorser_id", "endorser_id", "state"),
        Index("ix_endorsements_definition_id", "definition_id", "state"),
        # One live endorsement per endorser and subject, even when two requests race.
        Index(
            "uq_endorsements_live", "endorser_id", "subject_id", unique=True,
            sqlite_where=text(LIVE_WHERE), postgresql_where=text(LIVE_WHERE),
        ),
    )  # fmt: skip

    id: Mapped[str] = id_column()
    endorser_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    endorsed_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    subject_kind: Mapped[SubjectKind] = mapped_column(
        Enum(SubjectKind, native_enum=False, length=20)
    )
    subject_id: Mapped[str] = mapped_column(
        String(500), doc="credentialSubject.id: the achievement's id or the issuer's DID"
    )
    definition_id: Mapped[str | None] = mapped_column(
        String(32), default=None, doc="The endorsed definition's lineage (definitions only)"
    )
    definition_version: Mapped[int | None] = mapped_column(Integer, default=None)
    subject_name: Mapped[str] = mapped_column(String(300))
    comment: Mapped[str] = mapped_column(Text)
    state: Mapped[EndorsementState] = mapped_column(
        Enum(EndorsementState, native_enum=False, length=20), default=EndorsementState.pending
    )
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    document: Mapped[dict[str, Any]] = mapped_column(JSON, doc="The signed EndorsementCredential")
    status_list_id: Mapped[str] = mapped_column(String(32))
    status_index: Mapped[int] = mapped_column(Integer)
    created_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    decided_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    accepted_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None, doc="Set once: its public URL answers from then"
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(1000), default=None)

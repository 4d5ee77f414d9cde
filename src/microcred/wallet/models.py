"""Credentials a learner imported from elsewhere, with their last verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcred.db.base import Base, TimestampMixin, id_column, utcnow


class ImportedCredential(Base):
    __tablename__ = "wallet_imported_credentials"
    __table_args__ = (UniqueConstraint("user_id", "fingerprint"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    source_format: Mapped[str] = mapped_column(String(40))
    """ob2-hosted, ob2-signed, ob3-json, ob3-jwt; with a png+ / svg+ prefix when baked."""
    original: Mapped[str] = mapped_column(Text, doc="What was imported: JSON, JWT, or base64 image")
    fingerprint: Mapped[str] = mapped_column(String(64))
    credential: Mapped[dict[str, Any]] = mapped_column(JSON)
    issuer_id: Mapped[str] = mapped_column(String(500))
    issuer_name: Mapped[str] = mapped_column(String(200))
    achievement_id: Mapped[str] = mapped_column(String(500), index=True)
    achievement_name: Mapped[str] = mapped_column(String(200))
    definition_id: Mapped[str | None] = mapped_column(String(32), default=None)
    """The catalogue definition when the credential was issued by this server."""
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    ects: Mapped[float] = mapped_column(Float, default=0.0)
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    eqf_level: Mapped[int | None] = mapped_column(default=None)
    earned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    verified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class HolderKey(Base):
    """A learner's Ed25519 holder key, named by its did:key; signs the learner's presentations."""

    __tablename__ = "wallet_holder_keys"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, index=True
    )
    did: Mapped[str] = mapped_column(String(100), unique=True, doc="did:key:z6Mk…")
    sealed_private_key: Mapped[str] = mapped_column(Text, doc="encrypt_secret(), key id as AAD")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LearnerProfile(TimestampMixin, Base):
    """A learner's public profile at ``/people/{handle}``; nothing is public until published."""

    __tablename__ = "wallet_profiles"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    handle: Mapped[str] = mapped_column(String(40), unique=True)
    headline: Mapped[str] = mapped_column(String(200), default="")
    published: Mapped[bool] = mapped_column(Boolean, default=False)


class ProfileItem(Base):
    """One credential a learner chose to show on their profile: earned here, or imported."""

    __tablename__ = "wallet_profile_items"
    __table_args__ = (
        UniqueConstraint("user_id", "credential_id"),
        UniqueConstraint("user_id", "imported_id"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    credential_id: Mapped[str | None] = mapped_column(
        ForeignKey("issued_credentials.id", ondelete="CASCADE"), default=None
    )
    imported_id: Mapped[str | None] = mapped_column(
        ForeignKey("wallet_imported_credentials.id", ondelete="CASCADE"), default=None
    )
    position: Mapped[int] = mapped_column(default=0)

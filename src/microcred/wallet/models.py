"""Credentials a learner imported from elsewhere, with their last verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcred.db.base import Base, id_column, utcnow


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

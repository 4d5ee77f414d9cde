"""Credentials a learner imported from elsewhere, with their last verification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    DateTime,
    Float,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    delete,
    event,
    insert,
    inspect,
)
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


MAX_SKILL_URI = 300
"""A taxonomy skill's URI fits this (as in the catalogue); longer alignment URLs are no
taxonomy skill, so nothing searches for them."""


class ImportedSkill(Base):
    """One skill an imported credential attests (its ``skills``, a row each), with what talent
    search filters and ranks on copied from the import, so that a search reads the imports
    attesting a skill through its primary key (skill_uri, imported_id) alone instead of every
    import's JSON list. Kept in step with the import by the mapper events below, in the same
    transaction; removed with it (the foreign key cascades)."""

    __tablename__ = "wallet_imported_skills"

    skill_uri: Mapped[str] = mapped_column(String(MAX_SKILL_URI), primary_key=True)
    imported_id: Mapped[str] = mapped_column(
        ForeignKey("wallet_imported_credentials.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,  # the cascade finds an import's rows by it
    )
    user_id: Mapped[str] = mapped_column(String(32))
    earned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    eqf_level: Mapped[int | None] = mapped_column(default=None)
    verified: Mapped[bool] = mapped_column(Boolean)


INDEXED_FIELDS = ("user_id", "skills", "earned_at", "eqf_level", "verified")
"""The import's fields its skill rows carry: a change to any rewrites them."""


def imported_skill_rows(
    imported_id: str,
    *,
    user_id: str,
    skills: Any,
    earned_at: datetime,
    eqf_level: int | None,
    verified: bool,
) -> list[dict[str, Any]]:
    """The skill rows of one import (each skill once; over-long URLs left out)."""
    listed = skills if isinstance(skills, list) else []
    return [
        {
            "skill_uri": uri,
            "imported_id": imported_id,
            "user_id": user_id,
            "earned_at": earned_at,
            "eqf_level": eqf_level,
            "verified": verified,
        }
        for uri in dict.fromkeys(listed)
        if isinstance(uri, str) and 0 < len(uri) <= MAX_SKILL_URI
    ]


@event.listens_for(ImportedCredential, "after_insert")
def _index_new_import(_mapper: Any, connection: Connection, row: ImportedCredential) -> None:
    """An import's skills are indexed in the statement's own transaction, whoever inserts it."""
    _index_skills(connection, row)


@event.listens_for(ImportedCredential, "after_update")
def _reindex_import(_mapper: Any, connection: Connection, row: ImportedCredential) -> None:
    """A re-verification (``verified``) or any other change to what the rows carry."""
    state = inspect(row)
    if any(state.attrs[name].history.has_changes() for name in INDEXED_FIELDS):
        connection.execute(delete(ImportedSkill).where(ImportedSkill.imported_id == row.id))
        _index_skills(connection, row)


def _index_skills(connection: Connection, row: ImportedCredential) -> None:
    rows = imported_skill_rows(
        row.id,
        user_id=row.user_id,
        skills=row.skills,
        earned_at=row.earned_at,
        eqf_level=row.eqf_level,
        verified=bool(row.verified),
    )
    if rows:
        connection.execute(insert(ImportedSkill), rows)


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


class CredentialOffer(Base):
    """An OpenID4VCI pre-authorized code offer of one credential to the learner's wallet app.

    Nothing here lets anyone fetch the credential: the secret in the offer's address, the
    pre-authorized code, the transaction code (PIN) and the access token are stored as SHA-256
    hashes only. ``picked_up_at`` and ``holder`` record the first delivery to a wallet.
    """

    __tablename__ = "wallet_credential_offers"

    id: Mapped[str] = id_column()
    credential_id: Mapped[str] = mapped_column(
        ForeignKey("issued_credentials.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tx_code_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    failed_tx_codes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    """When the pre-authorized code was exchanged for an access token (it is single use)."""
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    closed_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    """Why the offer can no longer be used before its expiry (too many wrong PINs)."""
    picked_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    picked_up_format: Mapped[str | None] = mapped_column(String(40), default=None)
    holder: Mapped[str | None] = mapped_column(String(500), default=None)
    """The key the wallet proved possession of: a DID, or a JWK thumbprint URI."""
    client_id: Mapped[str | None] = mapped_column(String(255), default=None)
    """Set for a grant of the authorization code flow: the wallet the learner chose it for."""
    redirect_uri: Mapped[str | None] = mapped_column(String(1000), default=None)
    code_challenge: Mapped[str | None] = mapped_column(String(64), default=None)
    """The wallet's PKCE S256 challenge (authorization code flow only)."""


class IssuanceNonce(Base):
    """A spent ``c_nonce`` of the OpenID4VCI nonce endpoint, by hash, kept until it would have
    expired so that a replayed proof is refused (the nonces themselves are MACed, not stored)."""

    __tablename__ = "wallet_issuance_nonces"

    nonce_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

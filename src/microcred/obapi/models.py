"""OB 3.0 API clients (registered dynamically), the learner's grants to them, and the codes and
tokens of those grants. Every secret is stored as a SHA-256 hash only (they are 256-bit random
values, so a plain hash is enough, as for API tokens)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from microcred.db.base import Base, id_column, utcnow


class ApiClient(Base):
    """An application registered through Dynamic Client Registration (RFC 7591)."""

    __tablename__ = "obapi_clients"
    __table_args__ = (
        Index("ix_obapi_clients_registered_ip_created_at", "registered_ip", "created_at"),
    )

    id: Mapped[str] = id_column()
    """The ``client_id``."""
    secret_hash: Mapped[str] = mapped_column(String(64))
    client_name: Mapped[str] = mapped_column(String(200))
    client_uri: Mapped[str] = mapped_column(String(500))
    logo_uri: Mapped[str] = mapped_column(String(500))
    tos_uri: Mapped[str] = mapped_column(String(500))
    policy_uri: Mapped[str] = mapped_column(String(500))
    software_id: Mapped[str] = mapped_column(String(200))
    software_version: Mapped[str] = mapped_column(String(100))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    registered_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    """Where the registration came from: registrations are limited per network address."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiGrant(Base):
    """A learner's consent to one client for some scopes: the codes and tokens it yields die
    with it (revoked by the learner, or by a reused code or refresh token)."""

    __tablename__ = "obapi_grants"

    id: Mapped[str] = id_column()
    client_id: Mapped[str] = mapped_column(
        ForeignKey("obapi_clients.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_reason: Mapped[str | None] = mapped_column(Text, default=None)


class ApiAuthorizationCode(Base):
    """A single-use authorization code, bound to its grant, redirect URI and PKCE challenge."""

    __tablename__ = "obapi_authorization_codes"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(
        ForeignKey("obapi_grants.id", ondelete="CASCADE"), index=True
    )
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    """What this authorization asked for (the grant holds every scope allowed to the app)."""
    code_challenge: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ApiToken(Base):
    """An access token or a refresh token of a grant. A refresh token is spent when used
    (``rotated_at``); presenting it again revokes the grant."""

    __tablename__ = "obapi_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(
        ForeignKey("obapi_grants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    """``access`` or ``refresh``."""
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

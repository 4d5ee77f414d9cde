"""Platform registrations, login states, LMS accounts, resource links and launch sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from microcred.db.base import Base, TimestampMixin, id_column, utcnow


class LtiPlatform(TimestampMixin, Base):
    """One LMS registration of an organisation: what the platform told us, and the tool key
    pair made for it (the private key sealed under the master key, ``lti-tool-key:<id>``)."""

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[str] = id_column()
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    deployment_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    auth_login_url: Mapped[str] = mapped_column(String(2000))
    auth_token_url: Mapped[str] = mapped_column(String(2000))
    jwks_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    platform_jwks: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, default=None, doc="A pasted public JWKS, used when there is no JWKS URL"
    )
    tool_kid: Mapped[str] = mapped_column(String(64), unique=True)
    tool_public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    sealed_tool_key: Mapped[str] = mapped_column(Text)
    created_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class LtiLoginState(Base):
    """An OIDC login in flight: the state and nonce sent to the platform, bound to the browser
    that started it (a hash of its cookie), good for a few minutes and consumed by the launch."""

    __tablename__ = "lti_login_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    browser_hash: Mapped[str] = mapped_column(String(64))
    target_link_uri: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LtiUserLink(Base):
    """Which microcred account an LMS user (``iss``, ``sub``) is."""

    __tablename__ = "lti_user_links"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[str] = id_column()
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    platform_id: Mapped[str] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LtiResourceLink(TimestampMixin, Base):
    """A placement of the tool in a course, and the credential definition it stands for."""

    __tablename__ = "lti_resource_links"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id", "resource_link_id"),)

    id: Mapped[str] = id_column()
    platform_id: Mapped[str] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[str] = mapped_column(String(255))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    context_title: Mapped[str] = mapped_column(String(500), default="")
    definition_id: Mapped[str | None] = mapped_column(
        String(32), default=None, doc="The credential definition lineage it is linked to"
    )
    linked_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    linked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    ags_lineitems_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    ags_lineitem_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    ags_scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class LtiLaunchSession(Base):
    """What one verified launch may do afterwards, named by a random token (only its SHA-256 is
    stored) that the launch page carries in its forms instead of a session cookie."""

    __tablename__ = "lti_launch_sessions"
    __table_args__ = (Index("ix_lti_launch_sessions_expires_at", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[str] = mapped_column(
        ForeignKey("lti_platforms.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    resource_link_row_id: Mapped[str | None] = mapped_column(
        ForeignKey("lti_resource_links.id", ondelete="CASCADE"), default=None
    )
    instructor: Mapped[bool] = mapped_column(Boolean, default=False)
    deep_linking: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, default=None, doc="The deep linking settings claim of a deep linking launch"
    )
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

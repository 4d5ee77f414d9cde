"""Account tables: organisations, users, memberships with roles, API tokens, consent, audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from microcred.db.base import Base, TimestampMixin, id_column, utcnow


class OrganisationKind(enum.StrEnum):
    issuer = "issuer"
    employer = "employer"
    institution = "institution"


class Role(enum.StrEnum):
    admin = "admin"
    issuer_staff = "issuer_staff"
    assessor = "assessor"
    learner = "learner"
    employer = "employer"


class Organisation(TimestampMixin, Base):
    __tablename__ = "organisations"

    id: Mapped[str] = id_column()
    slug: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(Enum(OrganisationKind, native_enum=False))
    category: Mapped[str | None] = mapped_column(
        String(60), default=None, doc="e.g. college, online platform, industry association"
    )
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    region: Mapped[str | None] = mapped_column(String(120), default=None)
    require_two_factor: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),
        doc="Whether its admins, issuer staff and assessors must sign in with a second factor.",
    )

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[str] = id_column()
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    email_trusted: Mapped[bool] = mapped_column(
        Boolean,
        default=True,
        server_default=true(),
        doc="Whether credentials any organisation issues to this address may link to the "
        "account. False for accounts made from an organisation's invitation: nothing proves who "
        "accepted it, so they collect only what organisations they belong to issue.",
    )
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    locale: Mapped[str | None] = mapped_column(
        String(8), default=None, doc="Preferred language of pages and e-mails (en, de, fr, es)."
    )
    two_factor_enabled: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),
        doc="Whether signing in asks for a code of an authenticator app (or a recovery code) "
        "after the password: mirrors a confirmed :class:`TwoFactorSecret`.",
    )

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class Membership(TimestampMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "role"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False))

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")


class ApiToken(TimestampMixin, Base):
    """A scoped bearer token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), default=None
    )
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class Invitation(Base):
    """An invitation to join an organisation in a role; only the SHA-256 of its secret link is
    stored, the link is shown once to whoever invited."""

    __tablename__ = "invitations"

    id: Mapped[str] = id_column()
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    platform_vouched: Mapped[bool] = mapped_column(
        Boolean, default=False, doc="Made by the operator or a platform admin"
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    organisation: Mapped[Organisation] = relationship()


class PasswordReset(Base):
    """A one-time link that sets an account's password, made by an administrator for someone
    who forgot theirs, or e-mailed to the account's address on its owner's request (when the
    server sends e-mail); only the SHA-256 of its secret is stored."""

    __tablename__ = "password_resets"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class TwoFactorSecret(Base):
    """An account's authenticator-app secret (RFC 6238 TOTP), encrypted with the master key.
    Unconfirmed while its owner has not yet typed a code it makes (``confirmed_at`` NULL)."""

    __tablename__ = "two_factor_secrets"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_step: Mapped[int] = mapped_column(
        BigInteger, default=0, doc="The last time step whose code was accepted (no replays)."
    )


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app; only its SHA-256 is stored."""

    __tablename__ = "two_factor_recovery_codes"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class IdentityProvider(Base):
    """An organisation's OpenID Connect identity provider (its campus or company sign-in):
    people sign in to microcred with it. The client secret is sealed with the master key."""

    __tablename__ = "identity_providers"

    id: Mapped[str] = id_column()
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120), doc="Shown as 'Sign in with <name>'.")
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_sealed: Mapped[str] = mapped_column(Text)
    email_domains: Mapped[list[str]] = mapped_column(
        JSON, default=list, doc="Addresses it may vouch for; empty: any."
    )
    member_role: Mapped[str | None] = mapped_column(
        String(20), default=None, doc="The role a person signing in gets in the organisation."
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExternalIdentity(Base):
    """An account as an identity provider knows it (its ``sub``), once it has signed in."""

    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("provider_id", "subject"),)

    id: Mapped[str] = id_column()
    provider_id: Mapped[str] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Consent(Base):
    """A learner's consent for a purpose (e.g. ``talent_search``); withdrawn consent is kept."""

    __tablename__ = "consents"
    __table_args__ = (
        # A learner's consents by purpose, and whether withdrawn, from the index alone: talent
        # search checks one per matching learner (migration 0013).
        Index("ix_consents_user_id_purpose", "user_id", "purpose", "withdrawn_at"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(60))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class AuditEvent(Base):
    """One privileged action: who did what to which object, when, from where."""

    __tablename__ = "audit_events"

    id: Mapped[str] = id_column()
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), default=None, index=True
    )
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str | None] = mapped_column(String(60), default=None)
    object_id: Mapped[str | None] = mapped_column(String(64), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    summary: Mapped[str | None] = mapped_column(Text, default=None)


class EmailVerification(Base):
    """A one-time link e-mailed to an account's address: following it proves the holder
    receives mail there, so the account collects the credentials issued to the address
    (``User.email_trusted``). Only the SHA-256 of its secret is stored; the address it was sent
    to is kept, so a link for an address the account no longer has proves nothing."""

    __tablename__ = "email_verifications"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

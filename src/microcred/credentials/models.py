"""Credential tables: issuer keys, issued credentials, status lists, bulk issuance jobs, batch
verifications run in the background.

Signing keys are stored sealed (AES-256-GCM under the master key, the key id authenticated);
status lists keep their bitstrings GZIP-compressed, both the published bits and the map of
allocated indexes, so a list of 131,072 entries costs a few hundred bytes until it fills.
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
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from microcred.db.base import Base, TimestampMixin, id_column, utcnow


class KeyAlgorithm(enum.StrEnum):
    ed25519 = "Ed25519"
    rs256 = "RS256"
    es256 = "ES256"


class CredentialState(enum.StrEnum):
    active = "active"
    suspended = "suspended"
    revoked = "revoked"


class JobState(enum.StrEnum):
    pending = "pending"
    running = "running"
    completed = "completed"
    failed = "failed"


class VerificationBatchState(enum.StrEnum):
    running = "running"
    done = "done"
    interrupted = "interrupted"


class RowState(enum.StrEnum):
    pending = "pending"
    issued = "issued"
    existing = "existing"
    error = "error"


class IssuerKey(Base):
    """One signing key of an issuer; retired keys stay published so old credentials verify."""

    __tablename__ = "credential_issuer_keys"
    __table_args__ = (UniqueConstraint("organisation_id", "fragment"),)

    id: Mapped[str] = id_column()
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    algorithm: Mapped[KeyAlgorithm] = mapped_column(Enum(KeyAlgorithm, native_enum=False))
    fragment: Mapped[str] = mapped_column(String(40), doc="The verification method's #fragment")
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    sealed_private_key: Mapped[str] = mapped_column(Text, doc="encrypt_secret(), key id as AAD")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class IssuerSettings(TimestampMixin, Base):
    """An issuer's issuance defaults: securing formats when a call names none, and whether
    recipients are e-mailed when a credential is issued to them (when the server sends mail)."""

    __tablename__ = "credential_issuer_settings"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    default_formats: Mapped[list[str]] = mapped_column(JSON, default=list)
    email_recipients: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    mail_locale: Mapped[str | None] = mapped_column(String(8), default=None)
    """The language of mails to people without an account (invitations; credential mails when
    the definition's language has no catalog); None: English."""


class StatusList(TimestampMixin, Base):
    """A Bitstring Status List of one issuer and purpose, served at ``/status/{id}``."""

    __tablename__ = "credential_status_lists"

    id: Mapped[str] = id_column()
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(20))
    length: Mapped[int] = mapped_column(Integer)
    bits: Mapped[bytes] = mapped_column(LargeBinary, doc="GZIP of the published bitstring")
    allocated: Mapped[bytes] = mapped_column(LargeBinary, doc="GZIP of the taken-index map")
    allocated_count: Mapped[int] = mapped_column(Integer, default=0)
    is_full: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    signed_credential: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class IssuedCredential(Base):
    """A credential this server issued: the signed forms, its status entry, its state."""

    __tablename__ = "issued_credentials"
    __table_args__ = (
        UniqueConstraint("organisation_id", "idempotency_key"),
        UniqueConstraint("status_list_id", "status_index"),
        # An issuer's list, newest first, all or in one state, reads its page from these
        # indexes instead of sorting every credential the issuer has (1 s at 100,000).
        Index("ix_issued_credentials_organisation_issued_at", "organisation_id", "issued_at"),
        Index(
            "ix_issued_credentials_organisation_state_issued_at",
            "organisation_id",
            "state",
            "issued_at",
        ),
        # The credentials of a definition version, covering what talent search reads of each
        # (the holder, whether it is active and in force, when): a search for a common skill
        # reads tens of thousands of them without touching the wide rows. It replaces the
        # single-column definition_id index, so an issuance writes as many B-trees as before.
        Index(
            "ix_issued_credentials_definition_holders",
            "definition_id",
            "definition_version",
            "state",
            "recipient_user_id",
            "valid_from",
            "valid_until",
            "issued_at",
        ),
    )

    id: Mapped[str] = id_column()
    # Not indexed on its own: the unique (organisation_id, idempotency_key) index serves it (a
    # B-tree fewer for every issuance).
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    definition_id: Mapped[str] = mapped_column(String(32))
    definition_version: Mapped[int] = mapped_column(Integer)
    achievement_name: Mapped[str] = mapped_column(String(200))
    recipient_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    recipient_email: Mapped[str | None] = mapped_column(String(254), default=None, index=True)
    recipient_did: Mapped[str | None] = mapped_column(String(500), default=None)
    recipient_name: Mapped[str | None] = mapped_column(String(200), default=None)
    formats: Mapped[list[str]] = mapped_column(JSON, default=list)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    jwts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    credential_hash: Mapped[str] = mapped_column(String(64), index=True)
    # Served by the unique (status_list_id, status_index) index.
    status_list_id: Mapped[str] = mapped_column(
        ForeignKey("credential_status_lists.id", ondelete="RESTRICT")
    )
    status_index: Mapped[int] = mapped_column(Integer)
    status_purpose: Mapped[str] = mapped_column(String(20))
    state: Mapped[CredentialState] = mapped_column(
        Enum(CredentialState, native_enum=False), default=CredentialState.active
    )
    state_reason: Mapped[str | None] = mapped_column(Text, default=None)
    state_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    issued_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    ledger_leaf_index: Mapped[int | None] = mapped_column(Integer, default=None)
    bulk_job_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)


class StatusChange(Base):
    """One revocation, suspension or reinstatement, with its reason (never published)."""

    __tablename__ = "credential_status_changes"

    id: Mapped[str] = id_column()
    credential_id: Mapped[str] = mapped_column(
        ForeignKey("issued_credentials.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    actor_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BulkJob(Base):
    """A bulk issuance run; its rows commit in batches so a crash loses and repeats nothing."""

    __tablename__ = "credential_bulk_jobs"

    id: Mapped[str] = id_column()
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    created_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    source_name: Mapped[str] = mapped_column(String(200), default="")
    formats: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    state: Mapped[JobState] = mapped_column(
        Enum(JobState, native_enum=False), default=JobState.pending, index=True
    )
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    issued_count: Mapped[int] = mapped_column(Integer, default=0)
    existing_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class BulkJobRow(Base):
    __tablename__ = "credential_bulk_job_rows"
    __table_args__ = (UniqueConstraint("job_id", "row_number"),)

    id: Mapped[str] = id_column()
    job_id: Mapped[str] = mapped_column(
        ForeignKey("credential_bulk_jobs.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[RowState] = mapped_column(
        Enum(RowState, native_enum=False), default=RowState.pending, index=True
    )
    credential_id: Mapped[str | None] = mapped_column(String(32), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class VerificationBatch(Base):
    """A batch verification started on the web page or the API, run in the background: its
    progress while it runs, then its result (rows and totals), kept 24 hours. The credentials
    checked are never stored, only what the result says of them."""

    __tablename__ = "verification_batches"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    state: Mapped[VerificationBatchState] = mapped_column(
        Enum(VerificationBatchState, native_enum=False), default=VerificationBatchState.running
    )
    total: Mapped[int] = mapped_column(Integer, default=0)
    checked: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    """Written while the worker lives: a running batch whose heartbeat is old was interrupted."""
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    """:func:`microcred.credentials.batch_runs.result_data` of the finished batch."""

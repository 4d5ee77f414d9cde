"""Webhook subscriptions, their outbox of deliveries, and each delivery's attempts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from microcred.db.base import Base, TimestampMixin, id_column, utcnow


class DeliveryState(enum.StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookSubscription(TimestampMixin, Base):
    """An organisation's HTTPS endpoint and the event types it wants."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        # The outbox's one question per event (or per batch): does this issuer listen at all?
        Index("ix_webhook_subscriptions_organisation_id", "organisation_id", "active"),
    )

    id: Mapped[str] = id_column()
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    sealed_secret: Mapped[str] = mapped_column(
        Text, doc="encrypt_secret() of the whsec_ secret, context webhook-secret:<id>"
    )
    previous_sealed_secret: Mapped[str | None] = mapped_column(
        Text, default=None, doc="The secret before the last rotation, sealed the same way"
    )
    previous_secret_until: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True),
        default=None,
        doc="Until then deliveries are signed with the previous secret too (rotation grace)",
    )
    created_by_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class WebhookDelivery(Base):
    """One event for one subscription: the exact body signed and sent on every attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription_id", "subscription_id", "created_at"),
        Index("ix_webhook_deliveries_organisation_id", "organisation_id", "created_at"),
    )

    id: Mapped[str] = id_column()
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[DeliveryState] = mapped_column(
        Enum(DeliveryState, native_enum=False, length=20), default=DeliveryState.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    """When it is next due; a dispatcher that claims it moves this past its lease."""
    claim_token: Mapped[str | None] = mapped_column(String(32), default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    @property
    def message_id(self) -> str:
        """The ``webhook-id``: the same on every attempt (the receiver's idempotency key)."""
        return f"msg_{self.id}"


class WebhookAttempt(Base):
    """One POST of a delivery and what came back."""

    __tablename__ = "webhook_attempts"

    id: Mapped[str] = id_column()
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[str | None] = mapped_column(Text, default=None)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)

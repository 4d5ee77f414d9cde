"""Pydantic shapes of the webhooks API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from microcred.webhooks.addresses import MAX_URL
from microcred.webhooks.models import DeliveryState, WebhookDelivery, WebhookSubscription
from microcred.webhooks.service import MAX_DESCRIPTION


class SubscriptionIn(BaseModel):
    url: str = Field(max_length=MAX_URL, description="https:// endpoint on a public address")
    events: list[str] = Field(description="Event types, e.g. credential.issued")
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    active: bool = True


class SubscriptionPatch(BaseModel):
    url: str | None = Field(default=None, max_length=MAX_URL)
    events: list[str] | None = None
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    active: bool | None = None


class SubscriptionOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, subscription: WebhookSubscription) -> SubscriptionOut:
        return cls(
            id=subscription.id, url=subscription.url, events=list(subscription.events),
            description=subscription.description, active=subscription.active,
            created_at=subscription.created_at,
        )  # fmt: skip


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="The whsec_ signing secret: shown this once, never again")


class SecretOut(BaseModel):
    secret: str = Field(description="The new whsec_ signing secret: shown this once")


class DeliveryOut(BaseModel):
    id: str
    webhook_id: str = Field(description="The webhook-id header: the same on every attempt")
    subscription_id: str
    event_type: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryOut:
        return cls(
            id=delivery.id, webhook_id=delivery.message_id,
            subscription_id=delivery.subscription_id, event_type=delivery.event_type,
            state=delivery.state, attempts=delivery.attempts,
            next_attempt_at=delivery.next_attempt_at, last_status_code=delivery.last_status_code,
            last_error=delivery.last_error, created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
        )  # fmt: skip

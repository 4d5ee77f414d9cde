"""Webhook subscriptions: an organisation's admins register endpoints, rotate their secrets,
send a test event, read and retry deliveries.

Only the organisation's ``admin`` role and platform administrators (with the ``webhooks:manage``
scope, for a token) manage them; another organisation's subscriptions and deliveries are "not
found". Every change is audited. The signing secret is shown once, kept encrypted under the
master key with the subscription's id as context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, cast, func, select
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation, Role
from microcred.accounts.service import (
    Principal,
    get_organisation,
    record_audit,
    staff_organisations,
)
from microcred.credentials.keys import decrypt_secret, encrypt_secret
from microcred.db.base import new_id, utcnow
from microcred.errors import NotFound
from microcred.settings import Settings
from microcred.webhooks import events, outbox, signing
from microcred.webhooks.addresses import check_url
from microcred.webhooks.errors import WebhookError, WebhookForbidden
from microcred.webhooks.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

MANAGE_SCOPE = "webhooks:manage"
MAX_DESCRIPTION = 500
MAX_SUBSCRIPTIONS = 20
ROTATION_GRACE = timedelta(hours=24)
"""After a rotation, deliveries are signed with the previous secret too for this long."""


def can_manage(principal: Principal | None, organisation_id: str) -> bool:
    return principal is not None and principal.can(organisation_id, scope=MANAGE_SCOPE)


def managed_organisation(session: Session, principal: Principal, organisation: str) -> Organisation:
    org = get_organisation(session, organisation)
    if not can_manage(principal, org.id):
        raise WebhookForbidden("Only this organisation's admins manage its webhooks.")
    return org


def managed_organisations(session: Session, principal: Principal) -> list[Organisation]:
    """The organisations whose webhooks the principal manages, by name."""
    return [
        org
        for org in staff_organisations(session, principal, Role.admin)
        if can_manage(principal, org.id)
    ]


def _secret_context(subscription_id: str) -> str:
    return f"webhook-secret:{subscription_id}"


def seal(subscription: WebhookSubscription, secret: str, settings: Settings) -> None:
    subscription.sealed_secret = encrypt_secret(
        secret.encode(), settings.master_key, context=_secret_context(subscription.id)
    )


def secret_of(subscription: WebhookSubscription, settings: Settings) -> str:
    return decrypt_secret(
        subscription.sealed_secret, settings.master_key, context=_secret_context(subscription.id)
    ).decode()


def signing_secrets(
    subscription: WebhookSubscription, settings: Settings, now: datetime | None = None
) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous one while
    the rotation grace lasts."""
    current = [secret_of(subscription, settings)]
    until = subscription.previous_secret_until
    if subscription.previous_sealed_secret is None or until is None:
        return current
    if (until if until.tzinfo else until.replace(tzinfo=UTC)) <= (now or utcnow()):
        return current
    previous = decrypt_secret(
        subscription.previous_sealed_secret,
        settings.master_key,
        context=_secret_context(subscription.id),
    ).decode()
    return [*current, previous]


def check_events(wanted: Sequence[str]) -> list[str]:
    chosen = sorted(set(wanted))
    unknown = [event for event in chosen if event not in events.EVENT_TYPES]
    if unknown:
        raise WebhookError(f"Unknown event type(s): {', '.join(unknown)}.", field="events")
    if not chosen:
        raise WebhookError("Choose at least one event.", field="events")
    return chosen


def _description(text: str | None) -> str:
    cleaned = (text or "").strip()
    if len(cleaned) > MAX_DESCRIPTION:
        raise WebhookError(f"At most {MAX_DESCRIPTION} characters.", field="description")
    return cleaned


@dataclass(frozen=True)
class SubscriptionInput:
    url: str
    events: Sequence[str]
    description: str = ""
    active: bool = True


def create_subscription(
    session: Session,
    principal: Principal,
    settings: Settings,
    organisation: str,
    data: SubscriptionInput,
) -> tuple[WebhookSubscription, str]:
    """A new endpoint and its signing secret (returned once, stored encrypted)."""
    org = managed_organisation(session, principal, organisation)
    url = check_url(data.url, allow_private=settings.webhooks_allow_private)
    chosen, description = check_events(data.events), _description(data.description)
    count = session.scalar(
        select(func.count())
        .select_from(WebhookSubscription)
        .where(WebhookSubscription.organisation_id == org.id)
    )
    if (count or 0) >= MAX_SUBSCRIPTIONS:
        raise WebhookError(f"An organisation has at most {MAX_SUBSCRIPTIONS} endpoints.")
    secret = signing.new_secret()
    subscription = WebhookSubscription(
        id=new_id(), organisation_id=org.id, url=url, events=chosen, active=data.active,
        description=description, created_by_user_id=principal.user_id,
    )  # fmt: skip
    seal(subscription, secret, settings)
    session.add(subscription)
    session.flush()
    _audit(session, principal, "webhooks.create", subscription, {"url": url, "events": chosen})
    return subscription, secret


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    subscription: WebhookSubscription,
    details: dict[str, object] | None = None,
) -> None:
    record_audit(
        session, principal, action, organisation_id=subscription.organisation_id,
        object_type="webhook_subscription", object_id=subscription.id, details=details,
    )  # fmt: skip


def subscriptions_of(
    session: Session, principal: Principal, organisation: str
) -> list[WebhookSubscription]:
    org = managed_organisation(session, principal, organisation)
    return list(
        session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.organisation_id == org.id)
            .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
        )
    )


def get_subscription(
    session: Session, principal: Principal, organisation: str, subscription_id: str
) -> WebhookSubscription:
    """The organisation's subscription; one of another organisation is not found."""
    org = managed_organisation(session, principal, organisation)
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None or subscription.organisation_id != org.id:
        raise NotFound("No such webhook endpoint.")
    return subscription


def update_subscription(
    session: Session,
    principal: Principal,
    settings: Settings,
    organisation: str,
    subscription_id: str,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change what is given (None: unchanged)."""
    subscription = get_subscription(session, principal, organisation, subscription_id)
    changes: dict[str, object] = {}
    if url is not None:
        subscription.url = changes["url"] = check_url(
            url, allow_private=settings.webhooks_allow_private
        )
    if event_types is not None:
        subscription.events = check_events(event_types)
        changes["events"] = subscription.events
    if description is not None:
        subscription.description = _description(description)
    if active is not None:
        subscription.active = changes["active"] = active
    session.flush()
    _audit(session, principal, "webhooks.update", subscription, changes)
    return subscription


def delete_subscription(
    session: Session, principal: Principal, organisation: str, subscription_id: str
) -> None:
    """Remove the endpoint and its deliveries (pending ones are not sent)."""
    subscription = get_subscription(session, principal, organisation, subscription_id)
    _audit(session, principal, "webhooks.delete", subscription, {"url": subscription.url})
    session.delete(subscription)
    session.flush()


def rotate_secret(
    session: Session,
    principal: Principal,
    settings: Settings,
    organisation: str,
    subscription_id: str,
) -> str:
    """A new signing secret, returned once. For :data:`ROTATION_GRACE` deliveries are signed
    with the old one too (two signatures in ``webhook-signature``), so the receiver can switch
    without missing an event; after that the old one signs nothing."""
    subscription = get_subscription(session, principal, organisation, subscription_id)
    secret = signing.new_secret()
    subscription.previous_sealed_secret = subscription.sealed_secret
    subscription.previous_secret_until = utcnow() + ROTATION_GRACE
    seal(subscription, secret, settings)
    session.flush()
    _audit(session, principal, "webhooks.rotate_secret", subscription)
    return secret


def send_ping(
    session: Session, principal: Principal, organisation: str, subscription_id: str
) -> WebhookDelivery:
    """Queue a ``ping`` to this endpoint alone (even while disabled), due at once."""
    subscription = get_subscription(session, principal, organisation, subscription_id)
    now = utcnow()
    body = events.body(
        events.PING, now, {"subscription_id": subscription.id, "organisation": organisation}
    )
    delivery = WebhookDelivery(
        **outbox.delivery_row(subscription.id, subscription.organisation_id, events.PING, body, now)
    )
    session.add(delivery)
    session.flush()
    _audit(session, principal, "webhooks.ping", subscription)
    return delivery


def deliveries_of(
    session: Session,
    principal: Principal,
    organisation: str,
    subscription_id: str | None = None,
    *,
    limit: int = 50,
) -> list[WebhookDelivery]:
    """The organisation's latest deliveries, newest first (of one endpoint, if given)."""
    org = managed_organisation(session, principal, organisation)
    query = select(WebhookDelivery).where(WebhookDelivery.organisation_id == org.id)
    if subscription_id is not None:
        get_subscription(session, principal, organisation, subscription_id)
        query = query.where(WebhookDelivery.subscription_id == subscription_id)
    return list(
        session.scalars(
            query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(limit)
        )
    )


def get_delivery(
    session: Session, principal: Principal, organisation: str, delivery_id: str
) -> WebhookDelivery:
    org = managed_organisation(session, principal, organisation)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.organisation_id != org.id:
        raise NotFound("No such webhook delivery.")
    return delivery


def attempts_of(session: Session, delivery: WebhookDelivery) -> list[WebhookAttempt]:
    return list(
        session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery.id)
            .order_by(WebhookAttempt.at)
        )
    )


def retry_delivery(
    session: Session, principal: Principal, organisation: str, delivery_id: str
) -> WebhookDelivery:
    """Make a pending or failed delivery due now (a delivered one is not sent again)."""
    delivery = get_delivery(session, principal, organisation, delivery_id)
    if delivery.state is DeliveryState.delivered:
        raise WebhookError("This delivery has already been delivered.", status_code=409)
    delivery.state = DeliveryState.pending
    delivery.next_attempt_at = utcnow()
    delivery.claim_token = None
    session.flush()
    record_audit(
        session, principal, "webhooks.retry", organisation_id=delivery.organisation_id,
        object_type="webhook_delivery", object_id=delivery.id,
    )  # fmt: skip
    return delivery


@dataclass(frozen=True)
class DayCount:
    day: date
    delivered: int
    failed: int


def daily_counts(
    session: Session, principal: Principal, organisation: str, *, days: int = 14
) -> list[DayCount]:
    """Deliveries made and given up per day, the last ``days`` days: counted on the day they
    finished (UTC) — delivered, or the last attempt before giving up — not the day the event
    happened, which for a retried delivery can be a day or more earlier."""
    org = managed_organisation(session, principal, organisation)
    today = datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    last_attempt = (
        select(func.max(WebhookAttempt.at))
        .where(WebhookAttempt.delivery_id == WebhookDelivery.id)
        .scalar_subquery()
    )
    finished = func.coalesce(WebhookDelivery.delivered_at, last_attempt, WebhookDelivery.created_at)
    day = (
        cast(func.timezone("UTC", finished), Date)
        if session.get_bind().dialect.name == "postgresql"
        else func.date(finished)  # SQLite keeps UTC text: its date part
    )
    rows = session.execute(
        select(day, WebhookDelivery.state, func.count())
        .where(
            WebhookDelivery.organisation_id == org.id,
            WebhookDelivery.state != DeliveryState.pending,
            finished >= datetime.combine(first, datetime.min.time(), UTC),
        )
        .group_by(day, WebhookDelivery.state)
    ).all()
    counts = {first + timedelta(days=n): [0, 0] for n in range(days)}
    for when, state, count in rows:
        slot = counts.get(date.fromisoformat(str(when)))
        if slot is not None:
            slot[0 if state is DeliveryState.delivered else 1] += count
    return [DayCount(day, delivered, failed) for day, (delivered, failed) in counts.items()]

"""An endpoint that answers 410 Gone is disabled; finished deliveries are pruned after a while;
a rotated secret keeps signing for a day beside the new one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent
from microcred.db.base import utcnow
from microcred.settings import Settings
from microcred.webhooks import dispatcher
from microcred.webhooks import service as webhooks
from microcred.webhooks.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from tests.conftest import World
from tests.credentials.service.conftest import principal_of
from tests.webhooks.conftest import Receiver, subscribe
from tests.webhooks.test_service import ALL, _deliveries, ping, spec_verifies

pytestmark = pytest.mark.both_databases


def test_410_gone_fails_the_delivery_and_disables_the_endpoint(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    receiver: Receiver,
) -> None:  # fmt: skip
    receiver.status = 410
    subscription_id, _ = subscribe(sessions, world, local_settings, receiver.url, ALL)
    ping(sessions, world, subscription_id, times=2)
    assert dispatcher.run_once(sessions, local_settings, limit=1) == 1
    first, second = _deliveries(sessions)
    assert (first.state, first.attempts, first.next_attempt_at) == (DeliveryState.failed, 1, None)
    with sessions() as session:
        subscription = session.get(WebhookSubscription, subscription_id)
        assert subscription is not None and not subscription.active
        disabled = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "webhooks.endpoint_disabled")
        ).one()
        assert disabled.object_id == subscription_id and disabled.actor_user_id is None
    assert second.state is DeliveryState.pending  # a ping still goes out to a disabled endpoint
    assert dispatcher.run_once(sessions, local_settings) == 1
    with sessions() as session:  # and is not audited twice
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "webhooks.endpoint_disabled")
            )
            == 1
        )


def test_finished_deliveries_are_pruned_after_the_retention_pending_ones_never(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    receiver: Receiver,
) -> None:  # fmt: skip
    subscription_id, _ = subscribe(sessions, world, local_settings, receiver.url, ALL)
    ping(sessions, world, subscription_id, times=3)
    assert dispatcher.run_once(sessions, local_settings, limit=2) == 2  # two delivered
    old = utcnow() - dispatcher.RETENTION - timedelta(days=1)
    with sessions.begin() as session:
        session.execute(update(WebhookDelivery).values(created_at=old))
    assert dispatcher.prune(sessions) == 2
    [left] = _deliveries(sessions)
    assert left.state is DeliveryState.pending
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(WebhookAttempt)) == 0
    assert dispatcher.run_once(sessions, local_settings) == 1
    assert dispatcher.prune(sessions) == 1  # finished now, and old
    ping(sessions, world, subscription_id)
    assert dispatcher.run_once(sessions, local_settings) == 1
    assert dispatcher.prune(sessions) == 0  # finished, but recent
    assert len(_deliveries(sessions)) == 1


def test_after_a_rotation_both_secrets_sign_for_a_day_then_only_the_new_one(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    receiver: Receiver,
) -> None:  # fmt: skip
    subscription_id, old = subscribe(sessions, world, local_settings, receiver.url, ALL)
    with sessions.begin() as session:
        new = webhooks.rotate_secret(
            session, principal_of(session, world.admin), local_settings, "north-college",
            subscription_id,
        )  # fmt: skip
    ping(sessions, world, subscription_id)
    assert dispatcher.run_once(sessions, local_settings) == 1
    [during] = receiver.requests
    signatures = during.headers["webhook-signature"].split()
    assert len(signatures) == 2
    assert spec_verifies(old, during.headers, during.body)  # a receiver not yet switched
    assert spec_verifies(new, during.headers, during.body)  # and one that has

    with sessions.begin() as session:  # the grace ends
        session.execute(
            update(WebhookSubscription).values(
                previous_secret_until=utcnow() - timedelta(seconds=1)
            )
        )
    ping(sessions, world, subscription_id)
    assert dispatcher.run_once(sessions, local_settings) == 1
    after = receiver.requests[1]
    assert len(after.headers["webhook-signature"].split()) == 1
    assert spec_verifies(new, after.headers, after.body)
    assert not spec_verifies(old, after.headers, after.body)

"""Subscriptions, the outbox and delivery, on both databases, against a real local server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent
from microcred.credentials import bulk
from microcred.credentials import service as credentials
from microcred.db.base import new_id, utcnow
from microcred.errors import NotFound, PermissionDenied
from microcred.settings import Settings
from microcred.webhooks import dispatcher, events, signing
from microcred.webhooks import service as webhooks
from microcred.webhooks.errors import WebhookError
from microcred.webhooks.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from tests.conftest import World
from tests.credentials.service.conftest import issue_input, principal_of
from tests.webhooks.conftest import Receiver, subscribe

ALL = list(events.EVENT_TYPES)


def _deliveries(sessions: sessionmaker[Session]) -> list[WebhookDelivery]:
    with sessions() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)))


def _issue(sessions: sessionmaker[Session], settings: Settings, definition_id: str) -> str:
    with sessions.begin() as session:
        return credentials.issue_credential(
            session, None, **issue_input(definition_id), status_purpose="suspension",
            settings=settings,
        ).id  # fmt: skip


def _make_due(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.state == DeliveryState.pending)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


def ping(
    sessions: sessionmaker[Session], world: World, subscription_id: str, times: int = 1
) -> None:
    """Queue test events to North College's endpoint, as its admin would."""
    with sessions.begin() as session:
        admin = principal_of(session, world.admin)
        for _ in range(times):
            webhooks.send_ping(session, admin, "north-college", subscription_id)


def spec_verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check, written from the spec, not from the package."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(sig.removeprefix("v1,"), expected)
        for sig in headers["webhook-signature"].split()
        if sig.startswith("v1,")
    )


@pytest.mark.both_databases
def test_the_secret_is_shown_once_and_kept_encrypted_and_changes_are_audited(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    receiver: Receiver,
) -> None:  # fmt: skip
    subscription_id, secret = subscribe(sessions, world, local_settings, receiver.url, ALL)
    with sessions.begin() as session:
        row = session.get(WebhookSubscription, subscription_id)
        assert row is not None and secret not in row.sealed_secret
        assert webhooks.secret_of(row, local_settings) == secret
        admin = principal_of(session, world.admin)
        rotated = webhooks.rotate_secret(
            session, admin, local_settings, "north-college", subscription_id
        )
        assert rotated != secret and webhooks.secret_of(row, local_settings) == rotated
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == subscription_id)
        ).all()
    assert sorted(actions) == ["webhooks.create", "webhooks.rotate_secret"]


@pytest.mark.both_databases
def test_only_the_organisations_admins_manage_and_organisations_are_isolated(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    receiver: Receiver,
) -> None:  # fmt: skip
    north, _ = subscribe(sessions, world, local_settings, receiver.url, ALL)
    south, _ = subscribe(sessions, world, local_settings, receiver.url, ALL, "south-academy")
    with sessions.begin() as session:
        staff = principal_of(session, world.staff)  # issuer staff, not admin
        other = principal_of(session, world.other_staff)
        admin = principal_of(session, world.admin)
        with pytest.raises(PermissionDenied):
            webhooks.subscriptions_of(session, staff, "north-college")
        with pytest.raises(PermissionDenied):
            webhooks.subscriptions_of(session, other, "north-college")
        with pytest.raises(PermissionDenied):
            webhooks.subscriptions_of(session, admin, "south-academy")
        with pytest.raises(NotFound):  # another organisation's endpoint, through one's own
            webhooks.get_subscription(session, admin, "north-college", south)
        with pytest.raises(NotFound):
            webhooks.delete_subscription(session, admin, "north-college", south)
        assert [s.id for s in webhooks.subscriptions_of(session, admin, "north-college")] == [north]
        token = principal_of(session, world.admin, scopes=["credentials:read"])
        with pytest.raises(PermissionDenied):
            webhooks.subscriptions_of(session, token, "north-college")
        ping = webhooks.send_ping(session, admin, "north-college", north)
        assert webhooks.deliveries_of(session, admin, "north-college") == [ping]
        with pytest.raises(NotFound):
            webhooks.retry_delivery(session, admin, "north-college", "0" * 32)


@pytest.mark.both_databases
def test_issuing_writes_deliveries_in_its_transaction_and_a_rollback_writes_none(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    receiver: Receiver, definition_id: str,
) -> None:  # fmt: skip
    _issue(sessions, local_settings, definition_id)
    assert _deliveries(sessions) == []  # nobody listens: nothing written
    subscribe(sessions, world, local_settings, receiver.url, [events.CREDENTIAL_REVOKED])
    _issue(sessions, local_settings, definition_id)
    assert _deliveries(sessions) == []  # not an event the endpoint wants
    subscribe(sessions, world, local_settings, receiver.url, [events.CREDENTIAL_ISSUED])
    with pytest.raises(RuntimeError), sessions.begin() as session:
        credentials.issue_credential(
            session, None, **issue_input(definition_id), settings=local_settings
        )
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
        raise RuntimeError("the caller fails after issuing")
    assert _deliveries(sessions) == []
    credential_id = _issue(sessions, local_settings, definition_id)
    [delivery] = _deliveries(sessions)
    message = json.loads(delivery.body)
    assert (message["type"], delivery.event_type) == (events.CREDENTIAL_ISSUED,) * 2
    data = message["data"]
    assert data["credential_id"] == credential_id and data["state"] == "active"
    assert data["recipient"]["email_sha256"] == (
        "sha256$" + hashlib.sha256(b"learner@example.org").hexdigest()
    )
    assert data["links"]["page"].endswith(f"/credentials/{credential_id}")
    assert "learner@example.org" not in delivery.body.lower()
    assert "proof" not in delivery.body and "jwt" not in delivery.body.lower()


@pytest.mark.both_databases
def test_status_changes_and_bulk_jobs_raise_their_events(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    receiver: Receiver, definition_id: str, academy_definition_id: str,
) -> None:  # fmt: skip
    subscribe(sessions, world, local_settings, receiver.url, ALL)
    credential_id = _issue(sessions, local_settings, definition_id)
    with sessions.begin() as session:
        academy = credentials.issue_credential(
            session, None, **issue_input(academy_definition_id), settings=local_settings
        ).id
        credentials.revoke_credential(
            session, None, credential_id, reason="checking", purpose="suspension",
            settings=local_settings,
        )  # fmt: skip
        credentials.reinstate_credential(
            session, None, credential_id, reason="all clear", settings=local_settings
        )
        credentials.revoke_credentials(
            session, None, [credential_id, academy], reason="fraud", settings=local_settings
        )
    data = b"definition_id,recipient_email\n" + b"".join(
        f"{definition_id},bulk{n}@example.org\n".encode() for n in range(5)
    )
    with sessions.begin() as session:
        job_id = bulk.create_job(session, None, "north-college", data).id
    bulk.run_job(sessions, job_id, local_settings, batch_size=2)
    found = [(d.event_type, json.loads(d.body)["data"]) for d in _deliveries(sessions)]
    kinds = [kind for kind, _ in found]
    assert kinds.count(events.CREDENTIAL_ISSUED) == 6  # the academy's is not North's
    assert kinds[1:4] == [
        events.CREDENTIAL_SUSPENDED, events.CREDENTIAL_REINSTATED, events.CREDENTIAL_REVOKED
    ]  # fmt: skip
    assert found[3][1]["reason"] == "fraud" and found[3][1]["state"] == "revoked"
    assert kinds[-1] == events.ISSUANCE_JOB_COMPLETED
    assert found[-1][1]["issued"] == 5 and found[-1][1]["issuance_job_id"] == job_id
    assert {d["issuance_job_id"] for k, d in found[4:-1]} == {job_id}


@pytest.mark.both_databases
def test_a_delivery_reaches_the_endpoint_signed_per_the_spec(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    receiver: Receiver, definition_id: str,
) -> None:  # fmt: skip
    _, secret = subscribe(sessions, world, local_settings, receiver.url, ALL)
    _issue(sessions, local_settings, definition_id)
    assert dispatcher.run_once(sessions, local_settings) == 1
    [request] = receiver.requests
    [delivery] = _deliveries(sessions)
    assert request.headers["webhook-id"] == f"msg_{delivery.id}"
    assert request.headers["content-type"] == "application/json"
    assert request.body == delivery.body.encode()
    assert spec_verifies(secret, request.headers, request.body)
    assert not spec_verifies(signing.new_secret(), request.headers, request.body)
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.delivered, 1, 200,
    )  # fmt: skip
    assert dispatcher.run_once(sessions, local_settings) == 0  # nothing is sent twice


@pytest.mark.both_databases
def test_a_500_is_retried_with_backoff_then_given_up(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    receiver: Receiver,
) -> None:  # fmt: skip
    receiver.status = 500
    subscription_id, _ = subscribe(sessions, world, local_settings, receiver.url, ALL)
    ping(sessions, world, subscription_id)
    waits = []
    for _ in range(len(dispatcher.RETRY_DELAYS) + 1):
        before = utcnow()
        assert dispatcher.run_once(sessions, local_settings) == 1
        [delivery] = _deliveries(sessions)
        if delivery.next_attempt_at is not None:
            at = delivery.next_attempt_at.replace(tzinfo=before.tzinfo)
            waits.append((at - before).total_seconds())
        assert dispatcher.run_once(sessions, local_settings) == 0  # not due yet
        _make_due(sessions)
    expected = [30, 120, 600, 3600, 21600, 86400]
    assert len(waits) == len(expected)
    assert all(0.89 * e <= w <= 1.11 * e for w, e in zip(waits, expected, strict=True)), waits
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == (
        DeliveryState.failed, 7, 500,
    )  # fmt: skip
    with sessions() as session:
        attempts = session.scalars(select(WebhookAttempt)).all()
    assert len(attempts) == 7 and all(a.status_code == 500 for a in attempts)
    assert all(a.response_body is not None and len(a.response_body) == 1000 for a in attempts)
    receiver.status = 204  # "Retry now" after the endpoint is fixed
    with sessions.begin() as session:
        admin = principal_of(session, world.admin)
        webhooks.retry_delivery(session, admin, "north-college", delivery.id)
    assert dispatcher.run_once(sessions, local_settings) == 1
    assert _deliveries(sessions)[0].state is DeliveryState.delivered
    with sessions.begin() as session, pytest.raises(WebhookError):
        admin = principal_of(session, world.admin)
        webhooks.retry_delivery(session, admin, "north-college", delivery.id)


@pytest.mark.both_databases
def test_a_closed_port_is_a_failed_attempt_retried_later(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    closed_port_url: str,
) -> None:  # fmt: skip
    subscription_id, _ = subscribe(sessions, world, local_settings, closed_port_url, ALL)
    ping(sessions, world, subscription_id)
    assert dispatcher.run_once(sessions, local_settings) == 1
    [delivery] = _deliveries(sessions)
    assert delivery.state is DeliveryState.pending and delivery.attempts == 1
    assert delivery.last_status_code is None and "Connect" in (delivery.last_error or "")


@pytest.mark.both_databases
def test_the_address_is_checked_again_at_delivery(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    settings: Settings, receiver: Receiver,
) -> None:  # fmt: skip
    subscription_id, _ = subscribe(sessions, world, local_settings, receiver.url, ALL)
    ping(sessions, world, subscription_id)
    assert dispatcher.run_once(sessions, settings) == 1  # the private setting is off now
    assert receiver.requests == []
    [delivery] = _deliveries(sessions)
    assert "https" in (delivery.last_error or "") and delivery.attempts == 1


@pytest.mark.both_databases
def test_two_dispatchers_send_each_delivery_exactly_once(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    receiver: Receiver,
) -> None:  # fmt: skip
    subscription_id, _ = subscribe(sessions, world, local_settings, receiver.url, ALL)
    ping(sessions, world, subscription_id, times=20)
    start = threading.Barrier(2)
    made: list[int] = []

    def work() -> None:
        start.wait()
        made.append(dispatcher.run_once(sessions, local_settings))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(made) == 20
    assert sorted(r.headers["webhook-id"] for r in receiver.requests) == sorted(
        f"msg_{d.id}" for d in _deliveries(sessions)
    )
    assert {d.state for d in _deliveries(sessions)} == {DeliveryState.delivered}


@pytest.mark.both_databases
def test_a_disabled_endpoints_events_wait_until_it_is_enabled(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    receiver: Receiver, definition_id: str,
) -> None:  # fmt: skip
    subscription_id, _ = subscribe(sessions, world, local_settings, receiver.url, ALL)
    _issue(sessions, local_settings, definition_id)
    with sessions.begin() as session:
        admin = principal_of(session, world.admin)
        webhooks.update_subscription(
            session, admin, local_settings, "north-college", subscription_id, active=False
        )
    assert dispatcher.run_once(sessions, local_settings) == 0
    _issue(sessions, local_settings, definition_id)
    assert len(_deliveries(sessions)) == 1  # a disabled endpoint gets no new events
    with sessions.begin() as session:
        admin = principal_of(session, world.admin)
        webhooks.update_subscription(
            session, admin, local_settings, "north-college", subscription_id, active=True
        )
    assert dispatcher.run_once(sessions, local_settings) == 1


def test_subscriptions_refuse_unknown_events_and_private_urls(
    sessions: sessionmaker[Session], world: World, settings: Settings
) -> None:
    with sessions.begin() as session:
        admin = principal_of(session, world.admin)
        for data in (
            webhooks.SubscriptionInput("https://hooks.example.com/in", ["credential.eaten"]),
            webhooks.SubscriptionInput("https://hooks.example.com/in", []),
            webhooks.SubscriptionInput("http://hooks.example.com/in", ALL),
            webhooks.SubscriptionInput("https://127.0.0.1/in", ALL),
        ):
            with pytest.raises(WebhookError):
                webhooks.create_subscription(session, admin, settings, "north-college", data)


@pytest.mark.both_databases
def test_the_daily_counts_show_deliveries_made_and_given_up(
    db_backend: str, sessions: sessionmaker[Session], world: World, local_settings: Settings,
    receiver: Receiver,
) -> None:  # fmt: skip
    subscription_id, _ = subscribe(sessions, world, local_settings, receiver.url, ALL)
    ping(sessions, world, subscription_id)
    dispatcher.run_once(sessions, local_settings)
    with sessions.begin() as session:
        admin = principal_of(session, world.admin)
        given_up = webhooks.send_ping(session, admin, "north-college", subscription_id)
        given_up.state = DeliveryState.failed
        webhooks.send_ping(session, admin, "north-college", subscription_id)  # pending: not shown
        # An event of three days ago, retried until it was delivered yesterday: counted on the
        # day it was delivered, not the day it happened.
        late = webhooks.send_ping(session, admin, "north-college", subscription_id)
        late.created_at = utcnow() - timedelta(days=3)
        late.state, late.delivered_at = DeliveryState.delivered, utcnow() - timedelta(days=1)
        # Given up two days ago after its last attempt: counted then.
        old = webhooks.send_ping(session, admin, "north-college", subscription_id)
        old.created_at, old.state = utcnow() - timedelta(days=4), DeliveryState.failed
        session.add(
            WebhookAttempt(id=new_id(), delivery_id=old.id, at=utcnow() - timedelta(days=2))
        )
    with sessions() as session:
        days = webhooks.daily_counts(session, principal_of(session, world.admin), "north-college")
    assert len(days) == 14 and days[-1].day == utcnow().date()
    assert (days[-1].delivered, days[-1].failed) == (1, 1)
    assert (days[-2].delivered, days[-2].failed) == (1, 0)
    assert (days[-3].delivered, days[-3].failed) == (0, 1)
    assert sum(d.delivered + d.failed for d in days[:-3]) == 0

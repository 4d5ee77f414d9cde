"""Delivering the outbox: claim due deliveries, POST them signed, record the attempt, retry.

A delivery is claimed by a conditional UPDATE that moves its ``next_attempt_at`` past a lease
and stamps a claim token, in a transaction of its own; of several dispatchers (web workers, a
cron run) exactly one sees its row updated. The POST happens outside any transaction; its
outcome is written only if the token still holds the claim. A dispatcher that dies mid-send
leaves a row that falls due again when the lease ends (at least once, never lost).

2xx is delivered; anything else (3xx included: redirects are not followed), a timeout or a
network error is retried after 30 s, 2 min, 10 min, 1 h, 6 h and 24 h (each ± 10 %, at random),
then the delivery fails.
410 Gone is the endpoint saying it wants no more: the delivery fails at once and the endpoint is
disabled (audited), as the Standard Webhooks specification recommends.

Finished deliveries (delivered or failed) and their attempts are kept :data:`RETENTION` and then
deleted (:func:`prune`: hourly in the server, or ``microcred webhooks prune``).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.service import record_audit
from microcred.background import BackgroundLoop
from microcred.db.base import new_id, utcnow
from microcred.db.leases import claim_row
from microcred.errors import MicrocredError
from microcred.settings import Settings
from microcred.webhooks import events, signing
from microcred.webhooks.addresses import destination
from microcred.webhooks.models import (
    DeliveryState,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from microcred.webhooks.service import signing_secrets

log = logging.getLogger(__name__)

RETRY_DELAYS = (
    timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1),
    timedelta(hours=6), timedelta(hours=24),
)  # fmt: skip
"""The wait after the first, second … failed attempt; after the last, the delivery fails."""
JITTER = 0.1
"""Each retry delay is spread by up to this share either way."""
LEASE = timedelta(seconds=60)
"""How long a claim holds: longer than one attempt (10 s) can take."""
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_RESPONSE_CHARS = 1000
GONE = 410
RETENTION = timedelta(days=30)
PRUNE_EVERY = timedelta(hours=1)
BATCH = 50
USER_AGENT = "microcred-webhooks/1"


def next_attempt(attempts: int, now: datetime, jitter: float = JITTER) -> datetime | None:
    """When to try again after ``attempts`` failed attempts, the delay spread by up to
    ``jitter`` either way (so that deliveries failed together by one outage do not all retry in
    the same second); None: give up."""
    if attempts > len(RETRY_DELAYS):
        return None
    spread = 1 + random.uniform(-jitter, jitter) if jitter else 1.0
    return now + RETRY_DELAYS[attempts - 1] * spread


@dataclass(frozen=True)
class Claim:
    delivery_id: str
    token: str


def claim_due(sessions: sessionmaker[Session], limit: int = BATCH) -> list[Claim]:
    """Claim up to ``limit`` due deliveries, oldest due first; each claim its own transaction."""
    now = utcnow()
    with sessions() as session:
        candidates = session.scalars(
            select(WebhookDelivery.id)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(
                WebhookDelivery.state == DeliveryState.pending,
                WebhookDelivery.next_attempt_at <= now,
                # A disabled endpoint's events wait for it to be enabled again; a ping does not.
                or_(WebhookSubscription.active, WebhookDelivery.event_type == events.PING),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        ).all()
    claims = []
    for delivery_id in candidates:
        token = claim_row(sessions, WebhookDelivery, delivery_id, DeliveryState.pending, now, LEASE)
        if token is not None:
            claims.append(Claim(delivery_id, token))
    return claims


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    response_body: str | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(
    client: httpx.Client,
    url: str,
    secret: str | Sequence[str],
    msg_id: str,
    body: str,
    settings: Settings,
) -> Outcome:
    """One signed POST, the URL checked again first (a name may resolve elsewhere now) and the
    connection pinned to the address checked."""
    started = time.monotonic()
    try:
        target = destination(url, allow_private=settings.webhooks_allow_private)
        payload = body.encode()
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **signing.headers(secret, msg_id, int(time.time()), payload),
        }
        if target.host is not None:
            headers["host"] = target.host
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else None
        response = client.post(target.url, content=payload, headers=headers, extensions=extensions)
    except MicrocredError as error:
        return Outcome(None, None, error.message[:500], _elapsed(started))
    except httpx.HTTPError as error:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return Outcome(None, None, text[:500], _elapsed(started))
    return Outcome(
        response.status_code, response.text[:MAX_RESPONSE_CHARS], None, _elapsed(started)
    )


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _target(
    sessions: sessionmaker[Session], claim: Claim, settings: Settings
) -> tuple[str, list[str], str, str] | None:
    """(URL, signing secrets, message id, body) of a claimed delivery; None when it is no
    longer ours or its endpoint is gone."""
    with sessions() as session:
        delivery = session.get(WebhookDelivery, claim.delivery_id)
        if delivery is None or delivery.claim_token != claim.token:
            return None
        subscription = session.get(WebhookSubscription, delivery.subscription_id)
        if subscription is None:
            return None
        return (
            subscription.url,
            signing_secrets(subscription, settings),
            delivery.message_id,
            delivery.body,
        )


def record_outcome(sessions: sessionmaker[Session], claim: Claim, outcome: Outcome) -> bool:
    """Write the attempt and the delivery's new state; False when the claim was lost."""
    now = utcnow()
    with sessions.begin() as session:
        delivery = session.get(WebhookDelivery, claim.delivery_id, with_for_update=True)
        if delivery is None or delivery.claim_token != claim.token:
            return False
        session.add(
            WebhookAttempt(
                id=new_id(), delivery_id=delivery.id, at=now, status_code=outcome.status_code,
                response_body=outcome.response_body, error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )  # fmt: skip
        delivery.attempts += 1
        delivery.claim_token = None
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        if outcome.delivered:
            delivery.state, delivery.delivered_at, delivery.next_attempt_at = (
                DeliveryState.delivered, now, None,
            )  # fmt: skip
        elif outcome.status_code == GONE:
            delivery.state, delivery.next_attempt_at = DeliveryState.failed, None
            _disable_gone(session, delivery)
        else:
            delivery.next_attempt_at = next_attempt(delivery.attempts, now)
            if delivery.next_attempt_at is None:
                delivery.state = DeliveryState.failed
    return True


def _disable_gone(session: Session, delivery: WebhookDelivery) -> None:
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is None or not subscription.active:
        return
    subscription.active = False
    record_audit(
        session, None, "webhooks.endpoint_disabled", organisation_id=delivery.organisation_id,
        object_type="webhook_subscription", object_id=subscription.id,
        details={"url": subscription.url, "delivery": delivery.id},
        summary="The endpoint answered 410 Gone: disabled",
    )  # fmt: skip


def prune(
    sessions: sessionmaker[Session], now: datetime | None = None, keep: timedelta = RETENTION
) -> int:
    """Delete deliveries finished (delivered or failed) more than ``keep`` ago, with their
    attempts; how many were deleted. Pending ones are never deleted."""
    cutoff = (now or utcnow()) - keep
    with sessions.begin() as session:
        result = session.execute(
            delete(WebhookDelivery)
            .where(
                WebhookDelivery.state.in_([DeliveryState.delivered, DeliveryState.failed]),
                WebhookDelivery.created_at < cutoff,
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def client() -> httpx.Client:
    """No redirects, no proxies from the environment, and no kept-alive connections: a
    connection is pinned to an address and verified for one name, so none is reused for
    another endpoint that happens to share the address."""
    return httpx.Client(
        timeout=TIMEOUT,
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def deliver(
    sessions: sessionmaker[Session], claim: Claim, settings: Settings, http: httpx.Client
) -> Outcome | None:
    target = _target(sessions, claim, settings)
    if target is None:
        return None
    url, secret, msg_id, body = target
    outcome = post(http, url, secret, msg_id, body, settings)
    record_outcome(sessions, claim, outcome)
    return outcome


def run_once(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    limit: int = BATCH,
    http: httpx.Client | None = None,
) -> int:
    """Claim and send what is due now; how many attempts were made."""
    claims = claim_due(sessions, limit)
    if not claims:
        return 0
    own = http is None
    http = http or client()
    try:
        return sum(deliver(sessions, claim, settings, http) is not None for claim in claims)
    finally:
        if own:
            http.close()


class Dispatcher(BackgroundLoop):
    """Delivers webhooks in the background of the web server (every ``poll_seconds``)."""

    stop_timeout = 15.0

    def __init__(
        self, sessions: sessionmaker[Session], settings: Settings, poll_seconds: float = 5.0
    ) -> None:
        super().__init__("microcred-webhooks")
        self._sessions = sessions
        self._settings = settings
        self.poll_seconds = poll_seconds

    def _run(self) -> None:
        pruned_at = 0.0
        with client() as http:
            while not self._stop.wait(self.poll_seconds):
                try:
                    if time.monotonic() - pruned_at >= PRUNE_EVERY.total_seconds():
                        prune(self._sessions)
                        pruned_at = time.monotonic()
                    while run_once(self._sessions, self._settings, http=http) and not (
                        self._stop.is_set()
                    ):
                        pass
                except Exception:  # logged; the next wake-up tries again
                    log.exception("Webhook delivery failed")

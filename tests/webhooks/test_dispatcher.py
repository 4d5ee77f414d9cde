"""One attempt, without a database: where it connects, what it sends, how it is judged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
import pytest

from microcred.settings import Settings
from microcred.webhooks import dispatcher, signing
from microcred.webhooks.addresses import destination


def test_an_attempt_connects_to_the_checked_address_and_names_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(301, headers={"location": "https://169.254.169.254/"})

    checked = partial(destination, resolver=lambda host, port: ["93.184.215.14"])
    monkeypatch.setattr(dispatcher, "destination", checked)
    secret = signing.new_secret()
    with httpx.Client(transport=httpx.MockTransport(answer), follow_redirects=False) as http:
        outcome = dispatcher.post(
            http, "https://hooks.example.com/in", secret, "msg_1", "{}", Settings()
        )
    [request] = seen
    assert (request.url.host, request.headers["host"]) == ("93.184.215.14", "hooks.example.com")
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert signing.verify(
        secret, "msg_1", int(request.headers["webhook-timestamp"]), b"{}",
        request.headers["webhook-signature"],
    )  # fmt: skip
    assert outcome.status_code == 301 and not outcome.delivered  # a redirect is not followed


def test_the_retry_schedule_ends_after_six_retries() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    waits = [dispatcher.next_attempt(n, now, jitter=0) for n in range(1, 8)]
    assert [w - now if w else None for w in waits] == [
        timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1),
        timedelta(hours=6), timedelta(hours=24), None,
    ]  # fmt: skip


def test_retry_delays_are_spread_within_ten_percent() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for attempts, delay in enumerate(dispatcher.RETRY_DELAYS, start=1):
        waits = {dispatcher.next_attempt(attempts, now) for _ in range(50)}
        assert all(w is not None and 0.9 * delay <= w - now <= 1.1 * delay for w in waits)
        assert len(waits) > 1  # spread, not one instant

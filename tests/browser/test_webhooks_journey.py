"""An admin registers a webhook endpoint, keeps the secret shown once, sends a test event, and
the endpoint receives it signed with that secret."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from microcred.webhooks import dispatcher, signing
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD, World
from tests.webhooks.conftest import Receiver, receiver

__all__ = ["receiver"]


@pytest.fixture(autouse=True)
def _reach_the_local_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROCRED_WEBHOOKS_ALLOW_PRIVATE", "true")


def test_an_admin_adds_an_endpoint_and_it_receives_a_signed_test_event(
    live_server: str, page: Any, world: World, receiver: Receiver,
    sessions: sessionmaker[Session], settings: Settings,
) -> None:  # fmt: skip
    assert settings.webhooks_allow_private
    sign_in(page, live_server, world.admin.email, PASSWORD)
    page.goto(f"{live_server}/manage/definitions")
    page.get_by_role("navigation", name="Manage").get_by_role("link", name="Webhooks").click()
    page.wait_for_url("**/manage/webhooks")
    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_label("A credential was issued").check()
    page.get_by_label("Description").fill("Our LMS")
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("#secret-value").inner_text()
    assert secret.startswith("whsec_")
    page.get_by_role("button", name="Send test event").click()
    page.wait_for_url("**/manage/webhooks?**done=ping")

    assert dispatcher.run_once(sessions, settings) == 1
    [request] = receiver.requests
    assert signing.verify(
        secret, request.headers["webhook-id"], int(request.headers["webhook-timestamp"]),
        request.body, request.headers["webhook-signature"],
    )  # fmt: skip
    page.reload()
    row = page.locator("tr[id^=delivery-]").first
    assert "ping" in row.inner_text() and "delivered" in row.inner_text()
    assert page.locator("#secret-value").count() == 0  # shown once

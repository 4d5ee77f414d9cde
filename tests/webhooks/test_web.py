"""/manage/webhooks for organisation admins, and the JSON API, through the TestClient."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from microcred.web.app import create_app
from microcred.webhooks import dispatcher
from microcred.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.conftest import World, sign_in_client
from tests.web.test_talent import token_for
from tests.webhooks.conftest import Receiver, subscribe


@pytest.fixture
def local_client(local_settings: Settings) -> Iterator[TestClient]:
    app = create_app(local_settings)
    with TestClient(app) as client:
        yield client
    app.state.context.engine.dispose()


def test_an_admin_adds_an_endpoint_sees_its_secret_once_and_pings_it(
    local_client: TestClient, sessions: sessionmaker[Session], world: World,
    local_settings: Settings, receiver: Receiver,
) -> None:  # fmt: skip
    csrf = sign_in_client(local_client, world.admin.email)
    page = local_client.get("/manage/webhooks")
    assert page.status_code == 200 and 'href="/manage/webhooks"' in page.text
    assert 'id="no-webhooks"' in page.text
    form = {"organisation": "north-college", "url": receiver.url, "description": "LMS",
            "event": ["credential.issued", "credential.revoked"]}  # fmt: skip
    refused = local_client.post("/manage/webhooks", data={**form, "csrf_token": "wrong"})
    assert refused.status_code == 403
    created = local_client.post("/manage/webhooks", data={**form, "csrf_token": csrf})
    assert created.status_code == 200
    secret = re.search(r'id="secret-value">(whsec_[^<]+)<', created.text)
    assert secret is not None
    assert secret.group(1) not in local_client.get("/manage/webhooks").text  # shown once
    with sessions() as session:
        subscription = session.scalars(select(WebhookSubscription)).one()
        assert subscription.events == ["credential.issued", "credential.revoked"]
    action = {"organisation": "north-college", "csrf_token": csrf}
    pinged = local_client.post(
        f"/manage/webhooks/{subscription.id}", data={**action, "action": "ping"}
    )
    assert pinged.status_code == 200 and 'id="notice"' in pinged.text
    assert dispatcher.run_once(sessions, local_settings) == 1
    assert receiver.requests[0].headers["webhook-id"].startswith("msg_")
    listing = local_client.get("/manage/webhooks")
    assert "<code>ping</code>" in listing.text and "delivered" in listing.text
    assert "Deliveries per day" in listing.text
    rotated = local_client.post(
        f"/manage/webhooks/{subscription.id}", data={**action, "action": "rotate"}
    )
    assert 'id="secret-value">whsec_' in rotated.text and secret.group(1) not in rotated.text
    local_client.post(f"/manage/webhooks/{subscription.id}", data={**action, "action": "disable"})
    assert "disabled" in local_client.get("/manage/webhooks").text
    local_client.post(f"/manage/webhooks/{subscription.id}", data={**action, "action": "delete"})
    assert 'id="no-webhooks"' in local_client.get("/manage/webhooks").text


def test_a_failed_delivery_can_be_retried_from_the_page(
    local_client: TestClient, sessions: sessionmaker[Session], world: World,
    local_settings: Settings, closed_port_url: str,
) -> None:  # fmt: skip
    subscription_id, _ = subscribe(
        sessions, world, local_settings, closed_port_url, ["credential.issued"]
    )
    csrf = sign_in_client(local_client, world.admin.email)
    action = {"organisation": "north-college", "csrf_token": csrf, "action": "ping"}
    local_client.post(f"/manage/webhooks/{subscription_id}", data=action)
    dispatcher.run_once(sessions, local_settings)
    with sessions() as session:
        delivery = session.scalars(select(WebhookDelivery)).one()
    page = local_client.get("/manage/webhooks")
    assert f'action="/manage/webhooks/deliveries/{delivery.id}/retry"' in page.text
    retried = local_client.post(
        f"/manage/webhooks/deliveries/{delivery.id}/retry",
        data={"organisation": "north-college", "csrf_token": csrf},
    )
    assert retried.status_code == 200 and "due again" in retried.text
    assert dispatcher.run_once(sessions, local_settings) == 1


def test_issuer_staff_and_other_organisations_see_no_webhooks(
    client: TestClient, sessions: sessionmaker[Session], world: World, settings: Settings
) -> None:
    sign_in_client(client, world.staff.email)
    assert client.get("/manage/webhooks").status_code == 403
    assert 'href="/manage/webhooks"' not in client.get("/manage/credentials").text
    assert client.get("/api/v1/organisations/north-college/webhooks").status_code == 403


def test_the_api_manages_endpoints_with_the_webhooks_scope(
    local_client: TestClient, sessions: sessionmaker[Session], world: World, receiver: Receiver
) -> None:
    base = "/api/v1/organisations/north-college/webhooks"
    wrong = token_for(sessions, world.admin.id, ["credentials:read"])
    assert local_client.get(base, headers={"Authorization": f"Bearer {wrong}"}).status_code == 403
    secret = token_for(sessions, world.admin.id, ["webhooks:manage"])
    headers = {"Authorization": f"Bearer {secret}"}
    created = local_client.post(
        base, json={"url": receiver.url, "events": ["credential.issued"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["active"] is True
    listed = local_client.get(base, headers=headers).json()
    assert [s["id"] for s in listed] == [body["id"]] and "secret" not in listed[0]
    bad = local_client.post(base, json={"url": receiver.url, "events": ["x"]}, headers=headers)
    assert bad.status_code == 422 and bad.json()["field"] == "events"
    patched = local_client.patch(f"{base}/{body['id']}", json={"active": False}, headers=headers)
    assert patched.json()["active"] is False
    rotated = local_client.post(f"{base}/{body['id']}/rotate-secret", headers=headers).json()
    assert rotated["secret"] != body["secret"]
    ping = local_client.post(f"{base}/{body['id']}/ping", headers=headers)
    assert ping.status_code == 202 and ping.json()["event_type"] == "ping"
    deliveries = local_client.get(f"{base}/{body['id']}/deliveries", headers=headers).json()
    assert [d["webhook_id"] for d in deliveries] == [f"msg_{ping.json()['id']}"]
    retry = local_client.post(f"{base}/deliveries/{ping.json()['id']}/retry", headers=headers)
    assert retry.status_code == 200 and retry.json()["state"] == "pending"
    other = "/api/v1/organisations/south-academy/webhooks"
    assert local_client.get(other, headers=headers).status_code == 403
    assert local_client.delete(f"{base}/{body['id']}", headers=headers).status_code == 204
    assert local_client.get(base, headers=headers).json() == []
    schema = local_client.get("/api/v1/openapi.json").json()
    assert "/api/v1/organisations/{slug}/webhooks" in schema["paths"]

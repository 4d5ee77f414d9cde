"""Sign-in, CSRF, sessions and tokens over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent
from microcred.db.base import utcnow
from tests.conftest import PASSWORD, World, sign_in_client


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_wrong_password_is_refused_with_a_message_and_no_session(
    client: TestClient, world: World
) -> None:
    token = _form_token(client.get("/sign-in").text)
    response = client.post(
        "/sign-in",
        data={"email": world.staff.email, "password": "wrong password", "csrf_token": token},
    )
    assert response.status_code == 401
    assert "Wrong e-mail address or password" in response.text
    assert client.get("/api/v1/me").status_code == 401


def test_sign_in_with_forged_csrf_token_is_refused(client: TestClient, world: World) -> None:
    client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"email": world.staff.email, "password": PASSWORD, "csrf_token": "forged"},
    )
    assert response.status_code == 403
    assert "security token" in response.text
    assert client.get("/api/v1/me").status_code == 401


def test_session_api_write_needs_the_csrf_header(client: TestClient, world: World) -> None:
    csrf = sign_in_client(client, world.staff.email)
    body = {"name": "ci", "scopes": ["catalogue:read"]}
    assert client.post("/api/v1/tokens", json=body).status_code == 403
    assert (
        client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": "x"}).status_code == 403
    )
    created = client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201
    secret = created.json()["secret"]
    client.cookies.clear()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json()["email"] == world.staff.email
    assert me.json()["scopes"] == ["catalogue:read"]


def test_token_cannot_mint_more_tokens(client: TestClient, world: World) -> None:
    csrf = sign_in_client(client, world.staff.email)
    secret = client.post(
        "/api/v1/tokens",
        json={"name": "a", "scopes": ["catalogue:read"]},
        headers={"X-CSRF-Token": csrf},
    ).json()["secret"]
    client.cookies.clear()
    response = client.post(
        "/api/v1/tokens",
        json={"name": "b", "scopes": ["accounts:admin"]},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 401


def test_anonymous_visitor_reaches_public_pages_only(client: TestClient) -> None:
    assert client.get("/sign-in").status_code == 200
    account = client.get("/account", follow_redirects=False)
    assert account.status_code == 303
    assert account.headers["location"].startswith("/sign-in")
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/organisations/north-college/audit").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer mcr_nope"}).status_code == 401


def test_sign_in_does_not_redirect_off_site(client: TestClient, world: World) -> None:
    token = _form_token(client.get("/sign-in").text)
    response = client.post(
        "/sign-in",
        data={
            "email": world.staff.email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_audit_log_is_only_for_admins_of_that_organisation(
    client: TestClient, world: World
) -> None:
    sign_in_client(client, world.staff.email)
    assert client.get("/api/v1/organisations/north-college/audit").status_code == 403
    client.cookies.clear()
    sign_in_client(client, world.admin.email)
    assert client.get("/api/v1/organisations/north-college/audit").status_code == 200
    assert client.get("/api/v1/organisations/south-academy/audit").status_code == 403


def test_account_page_creates_a_token_shown_once(client: TestClient, world: World) -> None:
    csrf = sign_in_client(client, world.staff.email)
    page = client.post(
        "/account/tokens",
        data={
            "name": "laptop",
            "scopes": ["catalogue:read", "catalogue:write"],
            "organisation_id": world.college.id,
            "csrf_token": csrf,
        },
    )
    assert page.status_code == 200
    secret = re.search(r'id="new-token" class="secret">([^<]+)<', page.text)
    assert secret and secret.group(1).startswith("mcr_")
    again = client.get("/account").text
    assert secret.group(1) not in again and "laptop" in again


def test_oversized_and_malformed_bodies_are_refused(client: TestClient, world: World) -> None:
    csrf = sign_in_client(client, world.staff.email)
    huge = client.post(
        "/api/v1/tokens",
        content=b"x" * 3_000_000,
        headers={"X-CSRF-Token": csrf, "content-type": "application/json"},
    )
    assert huge.status_code == 413
    malformed = client.post(
        "/api/v1/tokens",
        content=b'{"name": "x", "scopes": [',
        headers={"X-CSRF-Token": csrf, "content-type": "application/json"},
    )
    assert malformed.status_code == 422
    assert malformed.json()["error"] == "ValidationError"


def test_pages_carry_security_headers(client: TestClient) -> None:
    response = client.get("/sign-in")
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "microcred_session" in response.headers.get("set-cookie", "")
    assert "samesite=lax" in response.headers["set-cookie"].lower()


def _attempt(client: TestClient, email: str, password: str) -> int:
    token = _form_token(client.get("/sign-in").text)
    response = client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return response.status_code


def test_repeated_failed_sign_ins_are_throttled_per_address_without_telling_accounts_apart(
    client: TestClient, world: World, sessions: sessionmaker[Session]
) -> None:
    from microcred.accounts import service as accounts

    for _ in range(accounts.MAX_FAILURES_PER_ADDRESS):
        assert _attempt(client, world.staff.email, "wrong password") == 401
    # the right password no longer helps for a while: the address is throttled
    assert _attempt(client, world.staff.email, PASSWORD) == 429
    refused = client.post(
        "/sign-in",
        data={"email": world.staff.email.upper(), "password": PASSWORD,
              "csrf_token": _form_token(client.get("/sign-in").text)},
    )  # fmt: skip
    assert refused.status_code == 429
    wait = r"Too many failed sign-ins for this e-mail address from here\. Try again in 1[45] min"
    assert re.search(wait, refused.text)
    assert client.get("/api/v1/me").status_code == 401
    # an address no account has is throttled just the same (nothing to tell them apart)
    for _ in range(accounts.MAX_FAILURES_PER_ADDRESS):
        assert _attempt(client, "nobody@north.example", "guess") == 401
    assert _attempt(client, "nobody@north.example", "guess") == 429
    # other accounts are not affected, and every failure is in the audit log
    assert _attempt(client, world.other_staff.email, PASSWORD) == 303
    with sessions() as session:
        failures = session.scalar(
            select(func.count()).where(AuditEvent.action == "auth.sign_in_failed")
        )
    assert failures == 2 * accounts.MAX_FAILURES_PER_ADDRESS


def test_the_throttle_lifts_when_the_failures_leave_the_window(
    world: World, sessions: sessionmaker[Session]
) -> None:
    from microcred.accounts import service as accounts

    with sessions.begin() as session:
        for _ in range(accounts.MAX_FAILURES_PER_ADDRESS):
            accounts.record_failed_sign_in(session, world.staff.email, "203.0.113.7")
    with sessions() as session:
        now = utcnow()
        with pytest.raises(accounts.SignInThrottled):
            accounts.check_sign_in_allowed(session, world.staff.email, "203.0.113.7", now=now)
        # the account's owner elsewhere is not locked out by someone guessing from one place
        accounts.check_sign_in_allowed(session, world.staff.email, "198.51.100.1", now=now)
        later = now + accounts.SIGN_IN_WINDOW + timedelta(seconds=1)
        accounts.check_sign_in_allowed(session, world.staff.email, "203.0.113.7", now=later)


def test_guessing_one_address_from_many_network_addresses_is_throttled_too(
    world: World, sessions: sessionmaker[Session]
) -> None:
    from microcred.accounts import service as accounts

    with sessions.begin() as session:
        for number in range(accounts.MAX_FAILURES_PER_ADDRESS_ANYWHERE):
            accounts.record_failed_sign_in(session, world.staff.email, f"203.0.113.{number}")
    with sessions() as session:
        with pytest.raises(accounts.SignInThrottled, match="this e-mail address"):
            accounts.check_sign_in_allowed(session, world.staff.email, "198.51.100.1")
        accounts.check_sign_in_allowed(session, world.other_staff.email, "198.51.100.1")


def test_many_failures_from_one_network_address_throttle_it_for_every_address(
    world: World, sessions: sessionmaker[Session]
) -> None:
    from microcred.accounts import service as accounts

    with sessions.begin() as session:
        for number in range(accounts.MAX_FAILURES_PER_IP):
            accounts.record_failed_sign_in(session, f"user{number}@north.example", "203.0.113.9")
    with sessions() as session:
        with pytest.raises(accounts.SignInThrottled, match="from your network address"):
            accounts.check_sign_in_allowed(session, world.staff.email, "203.0.113.9")
        accounts.check_sign_in_allowed(session, world.staff.email, "198.51.100.1")

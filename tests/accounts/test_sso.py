"""Single sign-on with an organisation's OpenID Connect provider: registering it, signing in
through a real (test) provider over HTTP, every ID token check, accounts found or made, and who
may manage providers."""

from __future__ import annotations

import html
import re
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts import sso
from microcred.accounts.models import (
    AuditEvent,
    ExternalIdentity,
    IdentityProvider,
    Membership,
    User,
)
from microcred.settings import Settings
from tests.accounts.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, oidc_provider
from tests.accounts.test_two_factor import code_now, turn_on
from tests.conftest import World, sign_in_client

__all__ = ["oidc_provider"]


def register(
    sessions: sessionmaker[Session], settings: Settings, world: World, provider: Provider,
    **overrides: Any,
) -> str:  # fmt: skip
    with sessions.begin() as session:
        admin = session.get(User, world.admin.id)
        assert admin is not None
        fields: dict[str, Any] = {
            "name": "North Login", "issuer": provider.issuer, "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "domains": "north.example example.org",
            "member_role": "learner", **overrides,
        }  # fmt: skip
        return sso.add_provider(
            session, settings, accounts.principal_for(session, admin), world.college.id, **fields
        ).id


def go(client: TestClient, provider_id: str, next_path: str = "/wallet") -> Any:
    """Start at microcred, pass through the provider, come back: the callback's response."""
    started = client.get(f"/sso/{provider_id}/start", params={"next": next_path},
                         follow_redirects=False)  # fmt: skip
    assert started.status_code == 303, started.text
    at_provider = httpx.get(started.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302
    back = at_provider.headers["location"]
    assert back.startswith("http://127.0.0.1:8000/sso/callback?")
    return client.get(back.split("127.0.0.1:8000", 1)[1], follow_redirects=False)


@pytest.mark.both_databases
def test_a_new_person_signs_in_and_becomes_a_learner_of_the_organisation(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    oidc_provider: Provider,
) -> None:  # fmt: skip
    provider_id = register(sessions, settings, world, oidc_provider)
    page = client.get("/sign-in").text
    assert f'href="/sso/{provider_id}/start?next=' in page and "Sign in with North Login" in page
    oidc_provider.user = {"sub": "u-1", "email": "New.Person@north.example",
                          "email_verified": True, "name": "Nia New"}  # fmt: skip
    done = go(client, provider_id)
    assert done.status_code == 303 and done.headers["location"] == "/wallet"
    me = client.get("/api/v1/me").json()
    assert me["email"] == "new.person@north.example" and me["name"] == "Nia New"
    assert [m["role"] for m in me["memberships"]] == ["learner"]
    [request] = oidc_provider.token_requests
    assert request["grant_type"] == "authorization_code" and len(request["code_verifier"]) >= 43
    with sessions() as session:
        user = session.scalars(select(User).where(User.email == "new.person@north.example")).one()
        assert user.email_trusted  # the provider vouched for the address
        identity = session.scalars(select(ExternalIdentity)).one()
        assert (identity.subject, identity.user_id) == ("u-1", user.id)
        assert session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == user.id)
        ).all() == ["account.sso_sign_in"]
        stored = session.get(IdentityProvider, provider_id)
        assert stored is not None and CLIENT_SECRET not in stored.client_secret_sealed

    # The next time the provider knows the person by its subject, whatever the address says.
    oidc_provider.user = {"sub": "u-1", "email": "renamed@elsewhere.example"}
    other = TestClient(client.app)
    assert go(other, provider_id).status_code == 303
    assert other.get("/api/v1/me").json()["email"] == "new.person@north.example"


def test_an_existing_account_with_the_vouched_address_is_the_one_signed_in(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    oidc_provider: Provider,
) -> None:  # fmt: skip
    provider_id = register(sessions, settings, world, oidc_provider, member_role="")
    oidc_provider.user = {"sub": "lee", "email": "learner@example.org", "email_verified": True}
    assert go(client, provider_id).status_code == 303
    assert client.get("/api/v1/me").json()["id"] == world.learner.id
    with sessions() as session:  # no new membership: the provider gives none
        count = session.scalars(select(Membership).where(Membership.user_id == world.learner.id))
        assert len(count.all()) == 1


def test_an_account_with_a_second_factor_is_still_asked_for_its_code(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    oidc_provider: Provider,
) -> None:  # fmt: skip
    secret, _ = turn_on(sessions, settings, world.staff.id)
    provider_id = register(sessions, settings, world, oidc_provider)
    oidc_provider.user = {"sub": "sam", "email": "staff@north.example", "email_verified": True}
    done = go(client, provider_id, "/manage/credentials")
    assert done.headers["location"] == "/sign-in/code"
    assert client.get("/api/v1/me").status_code == 401
    form = client.get("/sign-in/code").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    signed = client.post("/sign-in/code", data={"code": code_now(secret, 1),
                                                "csrf_token": token.group(1)},
                         follow_redirects=False)  # fmt: skip
    assert signed.headers["location"] == "/manage/credentials"


REFUSALS = [
    ({"email_verified": False}, {}, "did not vouch for an e-mail address"),
    ({"email": "someone@gmail.example"}, {}, "may vouch only for addresses at example.org"),
    ({"aud": "another-client"}, {}, "audience is not this server's client ID"),
    ({"aud": [CLIENT_ID, "other"]}, {}, "several audiences"),
    ({"iss": "https://evil.example"}, {}, "issuer 'https://evil.example'"),
    ({"exp": int(time.time()) - 3600}, {}, "has expired"),
    ({"iat": int(time.time()) + 3600}, {}, "in the future"),
    ({"nonce": "another"}, {}, "nonce is not the one"),
    ({}, {"alg": "HS256"}, "only RS256 and ES256"),
    ({}, {"alg": "none"}, "only RS256 and ES256"),
    ({}, {"kid": "unknown"}, "no RS256 key 'unknown'"),
]


@pytest.mark.parametrize(("claims", "header", "message"), REFUSALS)
def test_every_id_token_check_refuses_with_a_clear_page(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    oidc_provider: Provider, claims: dict[str, Any], header: dict[str, Any], message: str,
) -> None:  # fmt: skip
    provider_id = register(sessions, settings, world, oidc_provider)
    oidc_provider.user = {"sub": "x", "email": "x@north.example", "email_verified": True}
    oidc_provider.claims_override = claims
    oidc_provider.header_override = header
    refused = go(client, provider_id)
    assert refused.status_code == 400 and message in html.unescape(refused.text), refused.text
    assert client.get("/api/v1/me").status_code == 401


def test_a_token_signed_by_another_key_is_refused(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    oidc_provider: Provider,
) -> None:  # fmt: skip
    from cryptography.hazmat.primitives.asymmetric import rsa

    provider_id = register(sessions, settings, world, oidc_provider)
    oidc_provider.user = {"sub": "x", "email": "x@north.example", "email_verified": True}
    published = oidc_provider.jwks()
    oidc_provider.jwks = lambda: published  # type: ignore[method-assign]
    oidc_provider.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = go(client, provider_id)  # signed with a key the provider does not publish
    assert refused.status_code == 400 and "signature does not verify" in refused.text


def test_a_forged_or_stray_return_signs_no_one_in(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    oidc_provider: Provider,
) -> None:  # fmt: skip
    provider_id = register(sessions, settings, world, oidc_provider)
    oidc_provider.user = {"sub": "x", "email": "x@north.example", "email_verified": True}
    stray = client.get("/sso/callback?code=abc&state=def")
    assert stray.status_code == 400 and "not started in this browser" in stray.text
    client.get(f"/sso/{provider_id}/start", follow_redirects=False)
    forged = client.get("/sso/callback?code=abc&state=forged")
    assert forged.status_code == 400 and "state does not match" in forged.text
    client.get(f"/sso/{provider_id}/start", follow_redirects=False)
    denied = client.get("/sso/callback?error=access_denied&error_description=User+cancelled")
    assert denied.status_code == 400 and "User cancelled" in denied.text
    assert client.get("/api/v1/me").status_code == 401


def test_registering_reads_the_discovery_document_and_refuses_a_wrong_issuer(
    client: TestClient, sessions: sessionmaker[Session], oidc_provider: Provider, world: World
) -> None:
    token = sign_in_client(client, "admin@north.example")
    page = client.get("/manage/sign-in").text
    assert 'id="sso-callback" class="secret">http://127.0.0.1:8000/sso/callback<' in page
    form = {
        "csrf_token": token, "organisation": "north-college", "name": "North Login",
        "issuer": oidc_provider.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "domains": "north.example", "member_role": "",
    }  # fmt: skip
    oidc_provider.discovery_issuer = "https://someone-else.example"
    wrong = client.post("/manage/sign-in", data=form)
    assert wrong.status_code == 400 and "not the registered" in wrong.text
    bad = client.post("/manage/sign-in", data={**form, "issuer": "ftp://x", "domains": "a b"})
    assert bad.status_code == 400 and 'id="sso-issuer-error"' in bad.text
    oidc_provider.discovery_issuer = None
    sso.clear_cache()
    done = client.post("/manage/sign-in", data=form)
    assert done.status_code == 200 and 'id="sso-notice"' in done.text
    assert "North Login" in client.get("/manage/sign-in").text
    with sessions() as session:
        assert len(session.scalars(select(IdentityProvider)).all()) == 1


def test_only_the_organisations_admins_manage_its_providers(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    oidc_provider: Provider,
) -> None:  # fmt: skip
    provider_id = register(sessions, settings, world, oidc_provider)
    token = sign_in_client(client, "staff@north.example")
    assert client.get("/manage/sign-in").status_code == 403
    assert client.get("/api/v1/organisations/north-college/identity-providers").status_code == 403
    other = TestClient(client.app)
    other_token = sign_in_client(other, "admin@north.example")
    listed = other.get("/api/v1/organisations/north-college/identity-providers").json()
    assert [p["id"] for p in listed] == [provider_id]
    assert listed[0]["redirect_uri"] == "http://127.0.0.1:8000/sso/callback"
    assert "client_secret" not in listed[0]
    added = other.post(
        "/api/v1/organisations/north-college/identity-providers",
        json={"name": "Second", "issuer": "https://login.north.example", "client_id": "c",
              "client_secret": "s", "email_domains": ["north.example"]},
        headers={"X-CSRF-Token": other_token},
    )  # fmt: skip
    assert added.status_code == 201, added.text
    refused = client.post(f"/manage/sign-in/{provider_id}/remove", data={"csrf_token": token})
    assert refused.status_code == 404
    removed = other.delete(
        f"/api/v1/organisations/north-college/identity-providers/{added.json()['id']}",
        headers={"X-CSRF-Token": other_token},
    )
    assert removed.status_code == 204
    with sessions() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("organisation.identity%"))
        ).all()
    assert sorted(actions) == ["organisation.identity_provider.add"] * 2 + [
        "organisation.identity_provider.remove"
    ]


def test_a_provider_that_does_not_answer_is_a_clear_error(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    import socket

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    gone = Provider(issuer=f"http://127.0.0.1:{port}")
    sso.clear_cache()
    provider_id = register(sessions, settings, world, gone)
    refused = client.get(f"/sso/{provider_id}/start", follow_redirects=False)
    assert refused.status_code == 400
    assert "discovery document could not be read" in html.unescape(refused.text)


def test_typing_an_address_of_a_registered_domain_goes_to_its_provider(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    oidc_provider: Provider,
) -> None:  # fmt: skip
    provider_id = register(sessions, settings, world, oidc_provider)
    page = client.get("/sign-in", params={"next": "/wallet"}).text
    assert 'id="sso-by-address"' in page and "formnovalidate" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    form = {"csrf_token": token.group(1), "next": "/wallet", "sso": "1", "password": ""}
    sent = client.post("/sign-in", data={**form, "email": "Someone@North.Example"},
                       follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/sso/{provider_id}/start?next=/wallet"
    unknown = client.post("/sign-in", data={**form, "email": "someone@elsewhere.example"})
    assert unknown.status_code == 400
    assert "signs in addresses like someone@elsewhere.example" in html.unescape(unknown.text)
    assert client.post("/sign-in", data={**form, "email": ""}).status_code == 400
    with sessions() as session:  # nothing counted as a failed sign-in
        assert (
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")
            ).all()
            == []
        )


def test_without_providers_the_sign_in_page_offers_no_organisation_sign_in(
    client: TestClient, world: World
) -> None:
    page = client.get("/sign-in").text
    assert 'id="sso-by-address"' not in page and 'id="sso-choices"' not in page

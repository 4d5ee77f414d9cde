"""The authorization server's grants and tokens against the database (SQLite and PostgreSQL):
a grant's lifecycle, replays revoking it, and the account's erasure taking its grants along."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import privacy
from microcred.accounts.models import AuditEvent
from microcred.notifications.models import Notification
from microcred.oauth import OAuthError
from microcred.obapi import protocol
from microcred.obapi import service as obapi
from microcred.obapi.models import ApiAuthorizationCode, ApiClient, ApiGrant, ApiToken
from tests.conftest import PASSWORD, World
from tests.credentials.service.conftest import principal_of
from tests.obapi.conftest import REDIRECT_URI, registration

VERIFIER = "v" * 64


def _client(session: Session, client_id: str) -> ApiClient:
    client = session.get(ApiClient, client_id)
    assert client is not None
    return client


def _allow(
    session: Session, world: World, client: ApiClient, now: datetime, scope: str | None = None
) -> str:
    """The learner allows the client's authorization request: its code."""
    request = obapi.check_authorization(
        session, client_id=client.id, redirect_uri=REDIRECT_URI, response_type="code",
        scope=scope, state="s", code_challenge=protocol.s256(VERIFIER),
        code_challenge_method="S256",
    )  # fmt: skip
    return obapi.approve(session, principal_of(session, world.learner), request, now=now)


def _connect(
    session: Session,
    world: World,
    now: datetime,
    scope: str | None = None,
    client: ApiClient | None = None,
) -> tuple[str, obapi.IssuedTokens]:
    """Register a client (unless given), have the learner allow it, exchange the code."""
    if client is None:
        client, _ = obapi.register_client(session, registration(), ip="203.0.113.9", now=now)
    code = _allow(session, world, client, now, scope)
    tokens = obapi.exchange_code(
        session, client, code=code, redirect_uri=REDIRECT_URI, code_verifier=VERIFIER, now=now
    )
    return client.id, tokens


@pytest.mark.both_databases
def test_a_grant_lives_refreshes_and_dies_with_every_token_at_once(
    db_backend: str, sessions: sessionmaker[Session], world: World
) -> None:
    now = datetime.now(UTC)
    with sessions.begin() as session:
        client_id, tokens = _connect(session, world, now)
    with sessions.begin() as session:
        access = obapi.access_for(
            session, f"Bearer {tokens.access_token}", protocol.PROFILE_READONLY, now=now
        )
        assert access.user.id == world.learner.id
        later = now + timedelta(hours=2)
        with pytest.raises(obapi.ObApiError, match="expired") as caught:
            obapi.access_for(session, f"Bearer {tokens.access_token}", protocol.PROFILE_READONLY,
                             now=later)  # fmt: skip
        assert caught.value.status_code == 401
        client = _client(session, client_id)
        narrower = obapi.refresh(
            session, client, refresh_token=tokens.refresh_token,
            scope=protocol.CREDENTIAL_READONLY, now=later,
        )  # fmt: skip
        assert narrower.scopes == [protocol.CREDENTIAL_READONLY]
        kinds = session.scalars(select(ApiToken.kind).order_by(ApiToken.kind)).all()
        assert kinds == ["access", "refresh", "refresh"]  # the expired access token is gone
        with pytest.raises(obapi.ObApiError) as refused:
            obapi.access_for(session, f"Bearer {narrower.access_token}",
                             protocol.PROFILE_READONLY, now=later)  # fmt: skip
        assert refused.value.status_code == 403 and refused.value.code_minor == "forbidden"
        with pytest.raises(OAuthError, match="cannot add scopes"):
            obapi.refresh(session, client, refresh_token=narrower.refresh_token,
                          scope=" ".join(protocol.SCOPES), now=later)  # fmt: skip
    with sessions.begin() as session:
        [app] = obapi.connected_apps(session, principal_of(session, world.learner))
        assert app.client.client_name == "Example Backpack"
        assert obapi.connected_apps(session, principal_of(session, world.staff)) == []
        in_100_days = now + timedelta(days=100)  # the refresh token has expired by then
        learner = principal_of(session, world.learner)
        assert obapi.connected_apps(session, learner, now=in_100_days) == []
        with pytest.raises(obapi.NotFound):
            obapi.revoke_grant(session, principal_of(session, world.staff), app.grant.id)
        obapi.revoke_grant(session, principal_of(session, world.learner), app.grant.id)
    with sessions() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))
            )
            == 0
        )
        assert obapi.connected_apps(session, principal_of(session, world.learner)) == []
        actions = session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("obapi.%"))).all()  # fmt: skip
        assert sorted(actions) == ["obapi.client_registered", "obapi.granted", "obapi.revoked"]


@pytest.mark.both_databases
def test_an_app_connected_twice_is_one_grant_and_each_token_has_what_was_asked(
    db_backend: str, sessions: sessionmaker[Session], world: World
) -> None:
    now = datetime.now(UTC)
    with sessions.begin() as session:
        client_id, reader = _connect(session, world, now, scope=protocol.CREDENTIAL_READONLY)
        _, updater = _connect(
            session, world, now, scope=protocol.PROFILE_UPDATE, client=_client(session, client_id)
        )
    assert reader.scopes == [protocol.CREDENTIAL_READONLY]
    assert updater.scopes == [protocol.PROFILE_UPDATE]
    with sessions() as session:
        [app] = obapi.connected_apps(session, principal_of(session, world.learner))
        assert app.grant.scopes == [protocol.CREDENTIAL_READONLY, protocol.PROFILE_UPDATE]
        told = select(func.count()).where(Notification.kind == obapi.APP_CONNECTED)
        assert session.scalar(told.select_from(Notification)) == 1  # once, not per authorization
        with pytest.raises(obapi.ObApiError, match="lacks the scope"):
            obapi.access_for(session, f"Bearer {reader.access_token}", protocol.PROFILE_UPDATE)
        obapi.access_for(session, f"Bearer {updater.access_token}", protocol.PROFILE_UPDATE)


@pytest.mark.both_databases
def test_a_replayed_refresh_token_revokes_the_grant_and_the_failure_sticks(
    db_backend: str, sessions: sessionmaker[Session], world: World
) -> None:
    now = datetime.now(UTC)
    with sessions.begin() as session:
        client_id, tokens = _connect(session, world, now)
    with sessions.begin() as session:
        client = _client(session, client_id)
        fresh = obapi.refresh(session, client, refresh_token=tokens.refresh_token, scope=None)
    with sessions.begin() as session:  # the caller commits the revocation although it raises
        client = _client(session, client_id)
        with pytest.raises(OAuthError, match="already used"):
            obapi.refresh(session, client, refresh_token=tokens.refresh_token, scope=None)
    with sessions() as session:
        grant = session.scalars(select(ApiGrant)).one()
        assert grant.revoked_at is not None and grant.revoked_reason == "refresh token reused"
        with pytest.raises(obapi.ObApiError, match="revoked"):
            obapi.access_for(session, f"Bearer {fresh.access_token}", protocol.PROFILE_READONLY)


@pytest.mark.both_databases
def test_registration_is_limited_per_network_address_within_the_hour(
    db_backend: str, sessions: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    with sessions.begin() as session:
        for _ in range(obapi.MAX_REGISTRATIONS_PER_IP):
            obapi.register_client(session, registration(), ip="198.51.100.7", now=now)
        with pytest.raises(obapi.RegistrationThrottled):
            obapi.register_client(session, registration(), ip="198.51.100.7", now=now)
        obapi.register_client(session, registration(), ip="198.51.100.8", now=now)
        obapi.register_client(
            session, registration(), ip="198.51.100.7", now=now + timedelta(hours=1, seconds=1)
        )


@pytest.mark.both_databases
def test_erasing_the_account_deletes_its_grants_codes_and_tokens(
    db_backend: str, sessions: sessionmaker[Session], world: World
) -> None:
    assert {"obapi_grants", "obapi_tokens", "obapi_authorization_codes"} <= {
        owned.table.name for owned in privacy.owned_tables()
    }
    with sessions.begin() as session:
        _connect(session, world, datetime.now(UTC))
    with sessions.begin() as session:
        privacy.erase_account(
            session, principal_of(session, world.learner), password=PASSWORD,
            confirmation="Delete my account", remove_evidence=lambda name: None,
        )  # fmt: skip
    with sessions() as session:
        for table in (ApiGrant, ApiToken, ApiAuthorizationCode):
            assert session.scalar(select(func.count()).select_from(table)) == 0
        assert session.scalar(select(func.count()).select_from(ApiClient)) == 1


@pytest.mark.both_databases
def test_of_two_exchanges_racing_with_one_code_only_one_wins_and_the_grant_dies(
    db_backend: str, sessions: sessionmaker[Session], world: World
) -> None:
    now = datetime.now(UTC)
    with sessions.begin() as session:
        client, _ = obapi.register_client(session, registration(), ip=None, now=now)
        code = _allow(session, world, client, now)
        client_id = client.id
    with sessions() as first, sessions() as second:
        assert second.scalars(select(ApiAuthorizationCode)).one().used_at is None  # both saw it
        won = obapi.exchange_code(first, _client(first, client_id), code=code,
                                  redirect_uri=REDIRECT_URI, code_verifier=VERIFIER)  # fmt: skip
        first.commit()
        with pytest.raises(OAuthError, match="already used"):
            obapi.exchange_code(second, _client(second, client_id), code=code,
                                redirect_uri=REDIRECT_URI, code_verifier=VERIFIER)  # fmt: skip
        second.commit()
    with sessions() as session, pytest.raises(obapi.ObApiError, match="revoked"):
        obapi.access_for(session, f"Bearer {won.access_token}", protocol.PROFILE_READONLY)

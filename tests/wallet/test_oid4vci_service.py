"""The OpenID4VCI service functions against the database (both SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent
from microcred.credentials import service
from microcred.db.base import utcnow
from microcred.errors import PermissionDenied
from microcred.settings import Settings
from microcred.wallet import oid4vci
from microcred.wallet.models import CredentialOffer, IssuanceNonce
from tests.conftest import World
from tests.credentials.service.conftest import definition_id, issue_input, principal_of
from tests.wallet.oid4vci_wallet import Wallet

__all__ = ["definition_id"]


def _issued(session: Session, settings: Settings, definition_id: str, **kw: Any) -> str:
    return service.issue_credential(
        session, None, settings=settings, **issue_input(definition_id, **kw)
    ).id


def _code(settings: Settings, new: oid4vci.NewOffer) -> str:
    return oid4vci.pre_authorized_code(settings, new.address_secret)


@pytest.fixture
def committed_offer(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> tuple[str, str | None, str, str]:
    """An offer of a fresh credential, committed: its code, PIN, id and credential id."""
    with sessions.begin() as session:
        credential_id = _issued(session, settings, definition_id)
        new = oid4vci.create_offer(
            session, principal_of(session, world.learner), credential_id, settings
        )
        return _code(settings, new), new.tx_code, new.offer.id, credential_id


@pytest.mark.both_databases
def test_an_offer_stores_no_secret_and_is_audited(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    credential_id = _issued(session, settings, definition_id)
    learner = principal_of(session, world.learner)
    new = oid4vci.create_offer(session, learner, credential_id, settings)
    session.flush()
    assert new.tx_code is not None and len(new.tx_code) == 6
    assert new.configuration_ids == [oid4vci.LDP_VC]  # issued without a VC-JWT form
    row = session.get(CredentialOffer, new.offer.id)
    assert row is not None
    stored = " ".join(str(getattr(row, c.key)) for c in CredentialOffer.__table__.columns)
    for secret in (new.address_secret, _code(settings, new), new.tx_code):
        assert secret not in stored
    assert row.expires_at - row.created_at == oid4vci.OFFER_LIFETIME
    audit = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "wallet.oid4vci_offer.create")
    ).one()
    assert audit.object_id == credential_id and audit.details["offer_id"] == row.id
    offered = oid4vci.offer_at(session, new.address_secret, settings)
    assert offered["grants"][oid4vci.PRE_AUTHORIZED_GRANT]["pre-authorized_code"] == _code(
        settings, new
    )


@pytest.mark.both_databases
def test_only_the_recipient_offers_and_never_a_revoked_or_suspended_credential(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    credential_id = _issued(session, settings, definition_id, status_purpose="suspension")
    for user in (world.staff, world.admin, world.other_staff, world.employer):
        with pytest.raises(PermissionDenied):
            oid4vci.create_offer(session, principal_of(session, user), credential_id, settings)
    service.revoke_credential(
        session, principal_of(session, world.staff), credential_id, reason="Paused",
        purpose="suspension", settings=settings,
    )  # fmt: skip
    with pytest.raises(oid4vci.OfferError, match="suspended"):
        oid4vci.create_offer(session, principal_of(session, world.learner), credential_id, settings)
    assert session.scalars(select(CredentialOffer)).all() == []


@pytest.mark.both_databases
def test_wrong_pins_persist_across_requests_until_the_offer_closes(
    db_backend: str,
    sessions: sessionmaker[Session],
    settings: Settings,
    committed_offer: tuple[str, str | None, str, str],
) -> None:
    code, pin, offer_id, _ = committed_offer
    wrong = "000000" if pin != "000000" else "111111"
    for _ in range(oid4vci.MAX_TX_CODE_ATTEMPTS):
        # each failed request is committed (the route commits its OAuth error responses)
        with sessions.begin() as session, pytest.raises(oid4vci.OAuthError):
            oid4vci.exchange_code(session, settings, grant_type=oid4vci.PRE_AUTHORIZED_GRANT,
                                  code=code, tx_code=wrong)  # fmt: skip
    with sessions.begin() as session:
        with pytest.raises(oid4vci.OAuthError, match="closed"):
            oid4vci.exchange_code(session, settings, grant_type=oid4vci.PRE_AUTHORIZED_GRANT,
                                  code=code, tx_code=pin)  # fmt: skip
        row = session.get(CredentialOffer, offer_id)
        assert row is not None and row.failed_tx_codes == oid4vci.MAX_TX_CODE_ATTEMPTS
        assert row.closed_reason and "5 times" in row.closed_reason


@pytest.mark.both_databases
def test_a_code_is_exchanged_once_and_the_token_expires_by_the_clock(
    db_backend: str,
    sessions: sessionmaker[Session],
    settings: Settings,
    committed_offer: tuple[str, str | None, str, str],
) -> None:
    code, pin, offer_id, credential_id = committed_offer
    grant = {"grant_type": oid4vci.PRE_AUTHORIZED_GRANT, "code": code, "tx_code": pin}
    with sessions.begin() as session:
        token = oid4vci.exchange_code(session, settings, **grant)
    with sessions.begin() as session, pytest.raises(oid4vci.OAuthError, match="already used"):
        oid4vci.exchange_code(session, settings, **grant)
    body = {"credential_configuration_id": oid4vci.LDP_VC}
    later = utcnow() + oid4vci.TOKEN_LIFETIME + timedelta(seconds=1)
    with sessions.begin() as session, pytest.raises(oid4vci.OAuthError, match="expired"):
        oid4vci.deliver_credential(session, settings, access_token=token.access_token,
                                   body=body, now=later)  # fmt: skip
    with sessions.begin() as session:
        delivery = oid4vci.deliver_credential(
            session, settings, access_token=token.access_token, body=body
        )
        assert delivery.credential == service.get_credential(session, credential_id).document
        offer = session.get(CredentialOffer, offer_id)
        assert offer is not None and offer.picked_up_at is not None and offer.holder is None


@pytest.mark.both_databases
def test_an_expired_offer_cannot_be_fetched_or_redeemed(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    credential_id = _issued(session, settings, definition_id)
    past = utcnow() - oid4vci.OFFER_LIFETIME - timedelta(minutes=1)
    new = oid4vci.create_offer(
        session, principal_of(session, world.learner), credential_id, settings, now=past
    )
    with pytest.raises(oid4vci.OfferError):
        oid4vci.offer_at(session, new.address_secret, settings)
    with pytest.raises(oid4vci.OAuthError, match="expired"):
        oid4vci.exchange_code(session, settings, grant_type=oid4vci.PRE_AUTHORIZED_GRANT,
                              code=_code(settings, new), tx_code=new.tx_code)  # fmt: skip


@pytest.mark.both_databases
def test_a_nonce_is_spent_once_and_only_a_genuine_current_one(
    db_backend: str, session: Session, settings: Settings
) -> None:
    now = utcnow()
    nonce = oid4vci.new_nonce(settings, now=now)
    assert session.scalars(select(IssuanceNonce)).all() == []  # making one writes nothing
    assert oid4vci.use_nonce(session, settings, nonce, now)
    assert not oid4vci.use_nonce(session, settings, nonce, now)  # a replay
    expired = oid4vci.new_nonce(settings, now=now - oid4vci.NONCE_LIFETIME * 2)
    expiry, random, mac = nonce.split(".")
    for refused in (
        expired,
        "never-issued",
        f"{expiry}.{random}.{'0' * 32}",
        f"{int(expiry) + 3600}.{random}.{mac}",  # a longer life is not ours to grant
        oid4vci.new_nonce(settings.model_copy(update={"secret_key": "another"}), now=now),
    ):
        assert not oid4vci.use_nonce(session, settings, refused, now), refused
    later = now + oid4vci.NONCE_LIFETIME * 3
    assert oid4vci.use_nonce(session, settings, oid4vci.new_nonce(settings, now=later), later)
    assert len(session.scalars(select(IssuanceNonce)).all()) == 1  # the first spent one purged


@pytest.mark.both_databases
def test_the_proven_key_is_recorded_at_pickup(
    db_backend: str, session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    credential_id = _issued(session, settings, definition_id)
    new = oid4vci.create_offer(
        session, principal_of(session, world.learner), credential_id, settings, with_tx_code=False
    )
    assert new.tx_code is None
    token = oid4vci.exchange_code(session, settings, grant_type=oid4vci.PRE_AUTHORIZED_GRANT,
                                  code=_code(settings, new), tx_code=None)  # fmt: skip
    wallet = Wallet()
    proof = wallet.proof(audience=oid4vci.issuer_url(settings), nonce=oid4vci.new_nonce(settings))
    body = {"credential_configuration_id": oid4vci.LDP_VC, "proofs": {"jwt": [proof]}}
    delivery = oid4vci.deliver_credential(
        session, settings, access_token=token.access_token, body=body
    )
    assert delivery.holder == wallet.did
    jwt_body = {"credential_configuration_id": oid4vci.JWT_VC_JSON}
    with pytest.raises(oid4vci.OAuthError) as unknown:
        oid4vci.deliver_credential(
            session, settings, access_token=token.access_token, body=jwt_body
        )
    assert unknown.value.error == "unknown_credential_configuration"
    two = {"credential_configuration_id": oid4vci.LDP_VC, "proofs": {"jwt": [proof, proof]}}
    with pytest.raises(oid4vci.OAuthError, match="one proof"):
        oid4vci.deliver_credential(session, settings, access_token=token.access_token, body=two)
    row = session.get(CredentialOffer, new.offer.id)
    assert row is not None and row.holder == wallet.did and row.picked_up_format == "ldp_vc"
    with pytest.raises(oid4vci.OfferError, match="already picked"):
        oid4vci.cancel_offer(session, principal_of(session, world.learner), row.id)

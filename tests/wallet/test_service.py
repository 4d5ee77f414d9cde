"""Wallet imports: OB 3.0 (JSON, JWT, baked), OB 2.0 hosted and signed, refusals, re-checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import service as credentials
from microcred.credentials.baking import bake_png
from microcred.settings import Settings
from microcred.wallet import service as wallet
from microcred.wallet.models import ImportedCredential
from tests.conftest import World
from tests.credentials.test_baking import tiny_png
from tests.pathways.conftest import Catalogue, principal_of
from tests.wallet.ob2 import BADGE, SKILL, Ob2Issuer


def _issued_document(
    sessions: sessionmaker[Session], settings: Settings, definition_id: str, **kw: object
) -> tuple[str, dict[str, object], dict[str, str]]:
    with sessions.begin() as session:
        row = credentials.issue_credential(
            session,
            None,
            definition_id=definition_id,
            settings=settings,
            recipient_email=str(kw.get("email", "learner@example.org")),
            formats=["eddsa-rdfc-2022", "vc-jwt-es256"],
        )
        return row.id, row.document, row.jwts


def _import(
    sessions: sessionmaker[Session], world: World, settings: Settings, data: object, **kw: object
) -> ImportedCredential:
    with sessions.begin() as session:
        return wallet.import_credential(
            session,
            principal_of(session, world.learner),
            data,
            settings,
            **kw,  # type: ignore[arg-type]
        )


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ImportedCredential)) or 0)


def test_ob3_json_jwt_and_baked_png_import_and_map_to_the_catalogue(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    _, document, jwts = _issued_document(sessions, settings, defs.sql)
    row = _import(sessions, world, settings, json.dumps(document))
    assert row.source_format == "ob3-json"
    assert row.definition_id == defs.sql and row.ects == 3 and row.hours == 75
    assert row.issuer_name == "South Academy"
    from_jwt = _import(sessions, world, settings, jwts["vc-jwt-es256"])
    assert from_jwt.source_format == "ob3-jwt"
    _, other, _ = _issued_document(sessions, settings, defs.python)
    baked = _import(sessions, world, settings, bake_png(tiny_png(), json.dumps(other)))
    assert baked.source_format == "png+ob3-json" and baked.definition_id == defs.python
    with pytest.raises(wallet.WalletError, match="already in your wallet"):
        _import(sessions, world, settings, json.dumps(document))


def test_a_tampered_or_someone_elses_credential_is_refused_and_nothing_stored(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    _, document, _ = _issued_document(sessions, settings, defs.sql)
    tampered = json.loads(json.dumps(document))
    tampered["credentialSubject"]["achievement"]["name"] = "Advanced SQL"
    with pytest.raises(wallet.VerificationFailed) as caught:
        _import(sessions, world, settings, json.dumps(tampered))
    assert caught.value.status_code == 422 and "proof" in caught.value.message
    _, theirs, _ = _issued_document(sessions, settings, defs.sql, email="someone@else.example")
    with pytest.raises(wallet.VerificationFailed, match="recipient"):
        _import(sessions, world, settings, json.dumps(theirs))
    with pytest.raises(wallet.WalletError, match="Choose a file"):
        _import(sessions, world, settings, "  ")
    with pytest.raises(wallet.WalletError):
        _import(sessions, world, settings, "not a credential")
    assert _count(sessions) == 0


def test_ob2_hosted_assertion_is_fetched_checked_and_reverified(
    sessions: sessionmaker[Session], world: World, settings: Settings
) -> None:
    issuer = Ob2Issuer()
    assertion = issuer.assertion(1)
    now = datetime.now(UTC)
    row = _import(sessions, world, settings, json.dumps(assertion), fetch=issuer.fetch, now=now)
    assert row.source_format == "ob2-hosted"
    assert row.achievement_id == BADGE and row.skills == [SKILL]
    issuer.revoke(assertion)
    with sessions.begin() as session:
        (fresh,) = wallet.wallet_of(
            session, world.learner.id, settings, fetch=issuer.fetch, now=now + timedelta(minutes=1)
        )
        assert fresh.verified  # checked a minute ago: cached
        (stale,) = wallet.wallet_of(
            session, world.learner.id, settings, fetch=issuer.fetch, now=now + timedelta(minutes=11)
        )
        assert not stale.verified
        assert any("Revoked" in check["reason"] for check in stale.checks)
    refused = issuer.assertion(2, email="other@example.org")
    with pytest.raises(wallet.VerificationFailed, match="Not issued to"):
        _import(sessions, world, settings, json.dumps(refused), fetch=issuer.fetch)


def test_ob2_signed_assertion_checks_key_owner_signature_and_revocation(
    sessions: sessionmaker[Session], world: World, settings: Settings
) -> None:
    issuer = Ob2Issuer()
    signed = issuer.assertion(3, signed=True)
    token = issuer.sign(signed)
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    with pytest.raises(wallet.VerificationFailed, match="signature"):
        _import(sessions, world, settings, forged, fetch=issuer.fetch)
    row = _import(sessions, world, settings, token, fetch=issuer.fetch)
    assert row.source_format == "ob2-signed"
    revoked = issuer.assertion(4, signed=True)
    issuer.revoke(revoked)
    with pytest.raises(wallet.VerificationFailed, match="Revoked"):
        _import(sessions, world, settings, issuer.sign(revoked), fetch=issuer.fetch)
    hosted_as_signed = issuer.assertion(5)
    with pytest.raises(wallet.VerificationFailed, match="SignedBadge"):
        _import(sessions, world, settings, issuer.sign(hosted_as_signed), fetch=issuer.fetch)

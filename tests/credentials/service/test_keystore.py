"""Issuer keys: sealed at rest, rotated without breaking what old keys signed, published."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation
from microcred.credentials import service
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import base64url_decode
from microcred.credentials.keystore import (
    KeyAlgorithm,
    did_document,
    rotate_issuer_key,
    signing_key,
    unseal,
)
from microcred.credentials.models import IssuerKey
from microcred.credentials.resolvers import verify
from microcred.settings import Settings
from tests.conftest import World
from tests.credentials.service.conftest import issue_input


def _college(session: Session) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.slug == "north-college"))
    assert org is not None
    return org


def test_private_keys_are_sealed_and_bound_to_their_row(
    session: Session, settings: Settings, world: World
) -> None:
    college = _college(session)
    key = signing_key(session, college, KeyAlgorithm.ed25519, settings)
    rsa = signing_key(session, college, KeyAlgorithm.rs256, settings)
    assert key.ed25519 is not None
    rows = session.scalars(select(IssuerKey)).all()
    stored = " ".join(row.sealed_private_key for row in rows)
    seed = key.ed25519.seed
    for encoding in (seed.hex(), key.ed25519.private_key_multibase):
        assert encoding not in stored
    assert b"PRIVATE KEY" not in stored.encode()
    assert rsa.jose.algorithm == "RS256"
    # another master key, or a sealed key copied to another row, does not open
    wrong = settings.model_copy(update={"master_key": "another master key"})
    try:
        unseal(rows[0], college, wrong)
    except CredentialError:
        pass
    else:
        raise AssertionError("unsealed with the wrong master key")
    moved = IssuerKey(id=rows[1].id, algorithm=rows[0].algorithm, fragment="x",
                      sealed_private_key=rows[0].sealed_private_key, public_jwk={})  # fmt: skip
    try:
        unseal(moved, college, settings)
    except CredentialError:
        pass
    else:
        raise AssertionError("a sealed key opened under another key id")


def test_rotation_keeps_old_credentials_verifying(
    session: Session, settings: Settings, world: World, definition_id: str
) -> None:
    old = service.issue_credential(session, None, settings=settings, **issue_input(definition_id))
    rotate_issuer_key(session, None, "north-college", settings=settings)
    new = service.issue_credential(
        session,
        None,
        settings=settings,
        **issue_input(definition_id, recipient_email="b@example.org"),
    )
    assert old.document["proof"]["verificationMethod"].endswith("#key-1")
    assert new.document["proof"]["verificationMethod"].endswith("#key-2")
    document = did_document(session, _college(session), settings.base_url)
    assert [m["id"].rsplit("#", 1)[1] for m in document["verificationMethod"]] == ["key-1", "key-2"]
    assert all(m["controller"] == document["id"] for m in document["verificationMethod"])
    for row in (old, new):
        assert verify(session, row.document, settings, allow_remote=False).valid


def test_did_document_lists_jwk_keys_for_jwt_algorithms(
    session: Session, settings: Settings, world: World
) -> None:
    college = _college(session)
    signing_key(session, college, KeyAlgorithm.es256, settings)
    document = did_document(session, college, settings.base_url)
    (method,) = document["verificationMethod"]
    assert method["type"] == "JsonWebKey" and method["publicKeyJwk"]["crv"] == "P-256"
    assert "d" not in method["publicKeyJwk"]
    assert len(base64url_decode(method["publicKeyJwk"]["x"])) == 32

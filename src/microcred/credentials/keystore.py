"""Issuer signing keys in the database: sealed at rest, rotated, published as a did:web document.

Each issuer is ``did:web:{host}:issuers:{slug}``; its DID document (served at
``/issuers/{slug}/did.json``) lists every key it ever signed with, current and retired, so what
an old key signed keeps verifying. Ed25519 keys appear as Multikey; the RS256 and ES256 keys that
VC-JWT needs appear as JsonWebKey. Private keys are sealed with AES-256-GCM under a key derived
from the master key, with the key's row id as associated data (a sealed key moved to another row
does not open).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation
from microcred.accounts.service import Principal, get_organisation, record_audit
from microcred.credentials.dids import DID_CONTEXT, MULTIKEY_CONTEXT
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import (
    Ed25519Key,
    base64url_decode,
    decrypt_secret,
    encode_public_key_multibase,
    encrypt_secret,
)
from microcred.credentials.models import IssuerKey, KeyAlgorithm
from microcred.credentials.proofs.jwt import JoseKey
from microcred.db.base import new_id, utcnow
from microcred.errors import NotFound
from microcred.settings import Settings

JWK_CONTEXT = "https://w3id.org/security/jwk/v1"
ISSUE_SCOPE = "credentials:issue"
_FRAGMENT_PREFIX = {
    KeyAlgorithm.ed25519: "key",
    KeyAlgorithm.rs256: "rsa",
    KeyAlgorithm.es256: "p256",
}


def issuer_did(base_url: str, slug: str) -> str:
    """``did:web:{host}:issuers:{slug}`` (a port is percent-encoded, as did:web requires)."""
    host = urlsplit(base_url).netloc or "localhost"
    return f"did:web:{quote(host, safe='')}:issuers:{slug}"


def did_document_path(slug: str) -> str:
    return f"/issuers/{slug}/did.json"


@dataclass(frozen=True)
class SigningKey:
    """An unsealed key ready to sign, with the verification method id verifiers resolve."""

    algorithm: KeyAlgorithm
    verification_method: str
    ed25519: Ed25519Key | None
    jose: JoseKey


def _generate(algorithm: KeyAlgorithm) -> tuple[bytes, dict[str, Any]]:
    """A new private key's bytes (seed or PEM) and its public JWK."""
    if algorithm is KeyAlgorithm.ed25519:
        key = Ed25519Key.generate()
        return key.seed, key.public_jwk
    jose = JoseKey.generate(algorithm.value)  # type: ignore[arg-type]
    return jose.to_pem(), jose.public_jwk


def _next_fragment(session: Session, organisation_id: str, algorithm: KeyAlgorithm) -> str:
    count = len(
        session.scalars(
            select(IssuerKey.id).where(
                IssuerKey.organisation_id == organisation_id, IssuerKey.algorithm == algorithm
            )
        ).all()
    )
    return f"{_FRAGMENT_PREFIX[algorithm]}-{count + 1}"


def create_key(
    session: Session, organisation_id: str, algorithm: KeyAlgorithm, settings: Settings
) -> IssuerKey:
    """A new active key; the previous active key of that algorithm is retired (not deleted)."""
    now = utcnow()
    for previous in _active_keys(session, organisation_id, algorithm):
        previous.retired_at = now
    secret, public_jwk = _generate(algorithm)
    row = IssuerKey(
        id=new_id(),
        organisation_id=organisation_id,
        algorithm=algorithm,
        fragment=_next_fragment(session, organisation_id, algorithm),
        public_jwk=public_jwk,
        created_at=now,
    )
    row.sealed_private_key = encrypt_secret(secret, settings.master_key, context=row.id)
    session.add(row)
    session.flush()
    return row


def _active_keys(
    session: Session, organisation_id: str, algorithm: KeyAlgorithm
) -> Sequence[IssuerKey]:
    return session.scalars(
        select(IssuerKey).where(
            IssuerKey.organisation_id == organisation_id,
            IssuerKey.algorithm == algorithm,
            IssuerKey.retired_at.is_(None),
        )
    ).all()


def active_key(
    session: Session, organisation_id: str, algorithm: KeyAlgorithm, settings: Settings
) -> IssuerKey:
    """The key new credentials are signed with, created on first use."""
    keys = _active_keys(session, organisation_id, algorithm)
    return keys[0] if keys else create_key(session, organisation_id, algorithm, settings)


def unseal(row: IssuerKey, organisation: Organisation, settings: Settings) -> SigningKey:
    secret = decrypt_secret(row.sealed_private_key, settings.master_key, context=row.id)
    method = f"{issuer_did(settings.base_url, organisation.slug)}#{row.fragment}"
    if row.algorithm is KeyAlgorithm.ed25519:
        ed25519 = Ed25519Key.from_seed(secret)
        return SigningKey(row.algorithm, method, ed25519, JoseKey.from_ed25519(ed25519))
    return SigningKey(row.algorithm, method, None, JoseKey.from_pem(secret))


def signing_key(
    session: Session, organisation: Organisation, algorithm: KeyAlgorithm, settings: Settings
) -> SigningKey:
    return unseal(active_key(session, organisation.id, algorithm, settings), organisation, settings)


def rotate_issuer_key(
    session: Session,
    principal: Principal | None,
    organisation_slug_or_id: str,
    *,
    algorithm: KeyAlgorithm | str = KeyAlgorithm.ed25519,
    settings: Settings,
) -> IssuerKey:
    """Retire the issuer's current key of ``algorithm`` and start signing with a new one."""
    organisation = get_organisation(session, organisation_slug_or_id)
    if principal is not None:
        principal.require(organisation.id, scope=ISSUE_SCOPE)  # admins only
    try:
        chosen = KeyAlgorithm(algorithm)
    except ValueError:
        allowed = ", ".join(item.value for item in KeyAlgorithm)
        raise CredentialError(f"algorithm must be one of {allowed}.", field="algorithm") from None
    row = create_key(session, organisation.id, chosen, settings)
    record_audit(
        session,
        principal,
        "credentials.key.rotate",
        organisation_id=organisation.id,
        object_type="issuer_key",
        object_id=row.id,
        details={"algorithm": chosen.value, "fragment": row.fragment},
    )
    return row


def issuer_keys(session: Session, organisation_id: str) -> list[IssuerKey]:
    return list(
        session.scalars(
            select(IssuerKey)
            .where(IssuerKey.organisation_id == organisation_id)
            .order_by(IssuerKey.created_at, IssuerKey.fragment)
        )
    )


def verification_method_entry(did: str, row: IssuerKey) -> dict[str, Any]:
    method_id = f"{did}#{row.fragment}"
    if row.algorithm is KeyAlgorithm.ed25519:
        public = base64url_decode(str(row.public_jwk["x"]))
        return {
            "id": method_id,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": encode_public_key_multibase(public),
        }
    return {
        "id": method_id,
        "type": "JsonWebKey",
        "controller": did,
        "publicKeyJwk": row.public_jwk,
    }


def did_document(
    session: Session,
    organisation: Organisation,
    base_url: str,
    keys: Sequence[IssuerKey] | None = None,
) -> dict[str, Any]:
    """The issuer's did:web document, listing every key it has ever signed with."""
    did = issuer_did(base_url, organisation.slug)
    rows = issuer_keys(session, organisation.id) if keys is None else keys
    methods = [verification_method_entry(did, row) for row in rows]
    ids = [method["id"] for method in methods]
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT, JWK_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": ids,
    }


def did_document_for_slug(session: Session, slug: str, base_url: str) -> dict[str, Any]:
    organisation = get_organisation(session, slug)
    keys = issuer_keys(session, organisation.id)
    if not keys:
        raise NotFound(f"{slug} has no signing keys yet.")
    return did_document(session, organisation, base_url, keys)

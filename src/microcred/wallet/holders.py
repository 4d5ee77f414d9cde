"""Learners' holder keys: an Ed25519 key per account, made on first use, named by its did:key.

The key signs the learner's presentations. Its private half is sealed at rest exactly as issuer
keys are (:func:`encrypt_secret` under the master key, the row id as associated data).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from microcred.accounts.service import Principal, record_audit
from microcred.credentials.dids import did_key_from_public_key, did_key_verification_method_id
from microcred.credentials.keys import Ed25519Key, decrypt_secret, encrypt_secret
from microcred.db.base import new_id, utcnow
from microcred.settings import Settings
from microcred.wallet.models import HolderKey


def _stored(session: Session, user_id: str) -> HolderKey | None:
    return session.scalar(select(HolderKey).where(HolderKey.user_id == user_id))


def holder_key(session: Session, principal: Principal, settings: Settings) -> HolderKey:
    """The learner's holder key, created (and audited) on first use."""
    found = _stored(session, principal.user_id)
    if found is not None:
        return found
    key = Ed25519Key.generate()
    row = HolderKey(
        id=new_id(),
        user_id=principal.user_id,
        did=did_key_from_public_key(key.public_key),
        created_at=utcnow(),
    )
    row.sealed_private_key = encrypt_secret(key.seed, settings.master_key, context=row.id)
    try:
        with session.begin_nested():  # two first uses at once: the other request's key wins
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = _stored(session, principal.user_id)
        if existing is None:
            raise
        return existing
    record_audit(
        session,
        principal,
        "wallet.holder_key.create",
        object_type="holder_key",
        object_id=row.id,
        details={"did": row.did},
    )
    return row


def unseal_holder_key(row: HolderKey, settings: Settings) -> Ed25519Key:
    return Ed25519Key.from_seed(
        decrypt_secret(row.sealed_private_key, settings.master_key, context=row.id)
    )


def holder_verification_method(row: HolderKey) -> str:
    return did_key_verification_method_id(row.did)

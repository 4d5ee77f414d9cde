"""A forgotten password: an administrator makes a one-time reset link and passes it on (this
server sends no e-mail); following it, the person chooses a new password and is signed in.

Who may make a link for whom, so that no administrator can take over an account beyond their
reach:

* a **platform administrator** (signed in, not through a token): for any account; the operator
  also has ``microcred accounts reset-link EMAIL`` on the server;
* an **organisation administrator**: for a member of an organisation they administer, when every
  membership of that account is in organisations they administer, and the account is neither a
  platform administrator nor one the platform vouches for (which collects what any organisation
  issues to its address) — never their own.

A link is valid for :data:`RESET_VALID`, once; making a new one for the same account withdraws
the older ones. Using it ends every session of the account (sessions carry a fingerprint of
the password). Every link made and used is audited; only the SHA-256 of its secret is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from microcred.accounts.models import Membership, PasswordReset, Role, User
from microcred.accounts.passwords import hash_password
from microcred.accounts.selfservice import checked_new_password
from microcred.accounts.service import Principal, record_audit
from microcred.db.base import utcnow
from microcred.errors import NotFound, PermissionDenied

RESET_VALID = timedelta(hours=24)
SECRET_PREFIX = "pwr_"


@dataclass(frozen=True)
class ResetLink:
    user: User
    secret: str
    expires_at: datetime


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def why_not(session: Session, principal: Principal | None, user: User) -> str | None:
    """Why ``principal`` may not make a reset link for ``user`` (None: they may; None as
    principal is the operator on the server)."""
    if principal is None:
        return None
    if principal.scopes is not None:
        return "Reset links are made from a signed-in session, not with a token."
    if principal.is_platform_admin:
        return None
    if user.id == principal.user_id:
        return "Change your own password on your account page."
    if user.is_platform_admin:
        return "Only a platform administrator resets a platform administrator's password."
    if user.email_trusted:
        return (
            "The platform vouches for this account (it collects credentials from every "
            "organisation): a platform administrator resets its password."
        )
    organisations = set(
        session.scalars(select(Membership.organisation_id).where(Membership.user_id == user.id))
    )
    if not organisations:
        return "This account belongs to no organisation you administer."
    beyond = [org for org in organisations if Role.admin not in principal.roles_in(org)]
    if beyond:
        return (
            "This account is also a member of organisations you do not administer: a platform "
            "administrator resets its password."
        )
    return None


def create_reset_link(
    session: Session, principal: Principal | None, user_id: str, *, now: datetime | None = None
) -> ResetLink:
    """A new one-time link for the account (older unused ones withdrawn); audited."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    refusal = why_not(session, principal, user)
    if refusal is not None:
        raise PermissionDenied(refusal)
    now = now or utcnow()
    session.execute(
        delete(PasswordReset).where(
            PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None)
        )
    )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    expires = now + RESET_VALID
    session.add(
        PasswordReset(
            user_id=user.id, token_hash=_hash(secret), expires_at=expires,
            created_by_user_id=principal.user_id if principal else None, created_at=now,
        )
    )  # fmt: skip
    record_audit(
        session, principal, "account.reset_link_created", object_type="user", object_id=user.id,
        details={"email": user.email}, summary=f"Made a password reset link for {user.email}",
    )  # fmt: skip
    session.flush()
    return ResetLink(user, secret, expires)


def open_reset(session: Session, secret: str, *, now: datetime | None = None) -> PasswordReset:
    """The reset this link names while it can be used (else NotFound: an unknown, used,
    withdrawn and expired link answer alike)."""
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == _hash(secret)))
    if reset is None or reset.used_at is not None or _aware(reset.expires_at) <= (now or utcnow()):
        raise NotFound("This password reset link is not valid (used, replaced or expired).")
    return reset


def reset_password(
    session: Session, secret: str, *, password: str, repeated: str, now: datetime | None = None
) -> User:
    """Set the account's new password through the link (used up); audited."""
    reset = open_reset(session, secret, now=now)
    checked_new_password(password, repeated, "password")
    user = session.get(User, reset.user_id)
    if user is None:  # pragma: no cover - the reset goes with the account
        raise NotFound("No such account.")
    user.password_hash = hash_password(password)
    reset.used_at = now or utcnow()
    record_audit(
        session, None, "account.password_reset", object_type="user", object_id=user.id,
        summary="Set a new password through a reset link",
    )  # fmt: skip
    session.flush()
    return user

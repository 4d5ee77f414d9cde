"""Creating one's own account (sign-up), and what people change about it: their name and their
password.

Signing up makes a learner account with no membership whose address is not proved: it collects
no credential issued to that address (``email_trusted`` false) until an issuer's invitation,
accepted from the account, links what that issuer issued (``accounts.admin``), or — when the
server sends e-mail — its owner follows the confirmation link mailed to the address
(``accounts.verification``), after which it collects everything issued to the address. At most
:data:`MAX_SIGN_UPS_PER_IP` accounts are made from one network address per hour.

A session remembers a fingerprint of the password hash it was started with
(:func:`session_fingerprint`); the web layer ends any session whose fingerprint no longer
matches, so changing the password signs out every other browser at once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microcred.accounts.models import AuditEvent, User
from microcred.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from microcred.accounts.service import (
    AccountError,
    Principal,
    SignInThrottled,
    create_user,
    record_audit,
)
from microcred.db.base import utcnow
from microcred.errors import PermissionDenied
from microcred.i18n import LOCALES

MAX_NAME = 200
MAX_SIGN_UPS_PER_IP = 10
SIGN_UP_WINDOW = timedelta(hours=1)
SIGNED_UP = "account.signed_up"


def session_fingerprint(user: User) -> str:
    """Short, one-way: changes whenever the password hash does (no secret leaves the server in
    the signed session cookie that a stolen hash could be checked against cheaply)."""
    return hashlib.sha256(b"microcred-session:" + user.password_hash.encode()).hexdigest()[:32]


def _own_account(session: Session, principal: Principal) -> User:
    if principal.scopes is not None:
        raise PermissionDenied("Change your account from a signed-in session, not with a token.")
    user = session.get(User, principal.user_id)
    if user is None:
        raise PermissionDenied("No such account.")
    return user


def rename(session: Session, principal: Principal, name: str) -> User:
    user = _own_account(session, principal)
    cleaned = checked_name(name)
    if cleaned != user.name:
        user.name = cleaned
        record_audit(session, principal, "account.renamed", object_type="user", object_id=user.id)
    return user


def set_locale(session: Session, principal: Principal, locale: str) -> User:
    """Save the account's language (``""``: none, the browser's header chooses)."""
    user = _own_account(session, principal)
    if locale and locale not in LOCALES:
        raise AccountError("Choose one of the languages offered.", field="locale")
    user.locale = locale or None
    return user


def change_password(
    session: Session, principal: Principal, *, current: str, new: str, repeated: str
) -> User:
    """Set a new password once the current one is given; other sessions end (see the module)."""
    user = _own_account(session, principal)
    if not verify_password(user.password_hash, current):
        raise AccountError("That is not your current password.", field="current_password")
    checked_new_password(new, repeated, "new_password")
    if new == current:
        raise AccountError("Choose a password you do not use now.", field="new_password")
    user.password_hash = hash_password(new)
    record_audit(
        session, principal, "account.password_changed", object_type="user", object_id=user.id
    )
    return user


def checked_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise AccountError("Give your name.", field="name")
    if len(cleaned) > MAX_NAME:
        raise AccountError(f"A name is at most {MAX_NAME} characters.", field="name")
    return cleaned


def checked_new_password(new: str, repeated: str, field: str) -> str:
    """A new password typed twice: long enough, the same both times."""
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", field=field
        )
    if new != repeated:
        raise AccountError("The two passwords differ.", field="repeat_password")
    return new


def sign_up(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    repeated: str,
    ip: str | None,
    now: datetime | None = None,
) -> User:
    """A new learner account (see the module); refused with 429 past the per-address limit."""
    now = now or utcnow()
    if ip:
        made = session.scalar(
            select(func.count()).where(
                AuditEvent.action == SIGNED_UP,
                AuditEvent.ip == ip,
                AuditEvent.at > now - SIGN_UP_WINDOW,
            )
        )
        if (made or 0) >= MAX_SIGN_UPS_PER_IP:
            raise SignInThrottled(
                "Too many accounts were made from your network address in the last hour. "
                "Try again later."
            )
    user = create_user(
        session,
        email=email,
        name=checked_name(name),
        password=checked_new_password(password, repeated, "password"),
        email_trusted=False,
    )
    record_audit(
        session, None, SIGNED_UP, object_type="user", object_id=user.id, ip=ip,
        summary="Created their own account",
    )  # fmt: skip
    return user

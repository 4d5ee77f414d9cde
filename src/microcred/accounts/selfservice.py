"""What people change about their own account: their name and their password.

A session remembers a fingerprint of the password hash it was started with
(:func:`session_fingerprint`); the web layer ends any session whose fingerprint no longer
matches, so changing the password signs out every other browser at once.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from microcred.accounts.models import User
from microcred.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from microcred.accounts.service import AccountError, Principal, record_audit
from microcred.errors import PermissionDenied

MAX_NAME = 200


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
    cleaned = " ".join(name.split())
    if not cleaned:
        raise AccountError("Give your name.", field="name")
    if len(cleaned) > MAX_NAME:
        raise AccountError(f"A name is at most {MAX_NAME} characters.", field="name")
    if cleaned != user.name:
        user.name = cleaned
        record_audit(session, principal, "account.renamed", object_type="user", object_id=user.id)
    return user


def change_password(
    session: Session, principal: Principal, *, current: str, new: str, repeated: str
) -> User:
    """Set a new password once the current one is given; other sessions end (see the module)."""
    user = _own_account(session, principal)
    if not verify_password(user.password_hash, current):
        raise AccountError("That is not your current password.", field="current_password")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", field="new_password"
        )
    if new != repeated:
        raise AccountError("The two new passwords differ.", field="repeat_password")
    if new == current:
        raise AccountError("Choose a password you do not use now.", field="new_password")
    user.password_hash = hash_password(new)
    record_audit(
        session, principal, "account.password_changed", object_type="user", object_id=user.id
    )
    return user

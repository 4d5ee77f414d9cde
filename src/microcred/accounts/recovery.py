"""A forgotten password: a one-time reset link, following which the person chooses a new
password and is signed in. When the server sends e-mail (``microcred.mail``), anyone may ask for
a link for an address (:func:`request_reset`): it is e-mailed there if an account has the
address, and the answer is the same either way. Without e-mail, an administrator makes the link
and passes it on.

Who may make a link for whom, so that no administrator can take over an account beyond their
reach:

* a **platform administrator** (signed in, not through a token): for any account; the operator
  also has ``microcred accounts reset-link EMAIL`` on the server;
* an **organisation administrator**: for a member of an organisation they administer, when every
  membership of that account is in organisations they administer, and the account is neither a
  platform administrator nor one the platform vouches for (which collects what any organisation
  issues to its address) — never their own.

Asking by e-mail is limited to :data:`MAX_REQUESTS_PER_ADDRESS` per typed address and
:data:`MAX_REQUESTS_PER_IP` per network address an hour, counted whether or not an account has
the address.

A link is valid for :data:`RESET_VALID`, once; making a new one for the same account withdraws
the older ones. Using it ends every session of the account (sessions carry a fingerprint of
the password). Every link made and used is audited; only the SHA-256 of its secret is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from microcred.accounts.mailing import queue_password_reset
from microcred.accounts.models import AuditEvent, Membership, PasswordReset, Role, User
from microcred.accounts.passwords import hash_password
from microcred.accounts.selfservice import checked_new_password
from microcred.accounts.service import Principal, SignInThrottled, normalise_email, record_audit
from microcred.db.base import utcnow
from microcred.errors import NotFound, PermissionDenied
from microcred.mail.service import mail_enabled
from microcred.settings import Settings

RESET_VALID = timedelta(hours=24)
SECRET_PREFIX = "pwr_"
RESET_REQUESTED = "account.reset_requested"
MAX_REQUESTS_PER_ADDRESS = 3
MAX_REQUESTS_PER_IP = 10
REQUEST_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class ResetLink:
    user: User
    secret: str
    expires_at: datetime
    mailed: bool = False
    """Whether the link was also queued as an e-mail to the account's address."""


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
    session: Session,
    principal: Principal | None,
    user_id: str,
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> ResetLink:
    """A new one-time link for the account (older unused ones withdrawn); audited. With
    ``settings`` of a server that sends mail, the link is also e-mailed to the account's address
    (``mailed``), as *Forgot your password?* would; it is still returned, for the maker to pass
    on when the mail does not arrive."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    refusal = why_not(session, principal, user)
    if refusal is not None:
        raise PermissionDenied(refusal)
    link, reset = _new_link(
        session, user, principal.user_id if principal else None, now or utcnow()
    )
    if settings is not None and mail_enabled(settings):
        link = replace(
            link, mailed=queue_password_reset(session, settings, user, link.secret, reset.id)
        )
    record_audit(
        session, principal, "account.reset_link_created", object_type="user", object_id=user.id,
        details={"email": user.email, "mailed": link.mailed},
        summary=f"Made a password reset link for {user.email}"
        + (" and e-mailed it" if link.mailed else ""),
    )  # fmt: skip
    session.flush()
    return link


def _new_link(
    session: Session, user: User, created_by: str | None, now: datetime
) -> tuple[ResetLink, PasswordReset]:
    """A fresh link for the account; its older unused ones are withdrawn."""
    session.execute(
        delete(PasswordReset).where(
            PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None)
        )
    )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    expires = now + RESET_VALID
    reset = PasswordReset(
        user_id=user.id, token_hash=_hash(secret), expires_at=expires,
        created_by_user_id=created_by, created_at=now,
    )  # fmt: skip
    session.add(reset)
    session.flush()
    return ResetLink(user, secret, expires), reset


def _request_key(email: str) -> str:
    """How requests are counted per address: the typed address, trimmed, lower-cased, hashed
    (whether or not an account has it)."""
    return _hash("reset-request:" + email.strip().lower())


def _check_request_allowed(session: Session, key: str, ip: str | None, now: datetime) -> None:
    recent = select(func.count()).where(
        AuditEvent.action == RESET_REQUESTED, AuditEvent.at > now - REQUEST_WINDOW
    )
    if (session.scalar(recent.where(AuditEvent.object_id == key)) or 0) >= (
        MAX_REQUESTS_PER_ADDRESS
    ):
        raise SignInThrottled(
            "Too many reset links were asked for this address in the last hour. Try again "
            "later, or look for the ones already sent.",
            field="email",
        )
    if ip and (session.scalar(recent.where(AuditEvent.ip == ip)) or 0) >= MAX_REQUESTS_PER_IP:
        raise SignInThrottled(
            "Too many reset links were asked from your network address in the last hour. Try "
            "again later.",
            field="email",
        )


def request_reset(
    session: Session, settings: Settings, email: str, *, ip: str | None,
    now: datetime | None = None,
) -> None:  # fmt: skip
    """E-mail a new reset link to ``email`` if an active account has it; the same outcome
    whether or not one does (nothing tells the caller). Audited; limited per address and per
    network address (:class:`SignInThrottled`, alike for every address)."""
    if not mail_enabled(settings):
        raise NotFound("This server sends no e-mail: ask an administrator for a reset link.")
    now = now or utcnow()
    address = normalise_email(email)
    key = _request_key(address)
    _check_request_allowed(session, key, ip, now)
    user = session.scalar(select(User).where(User.email == address))
    if user is not None and not user.is_active:
        user = None
    record_audit(
        session, None, RESET_REQUESTED, object_type="reset_address", object_id=key, ip=ip,
        details={"account": user.id if user else None},
        summary="Asked for a password reset link by e-mail",
    )  # fmt: skip
    if user is None:
        return
    link, reset = _new_link(session, user, None, now)
    queue_password_reset(session, settings, user, link.secret, reset.id)


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

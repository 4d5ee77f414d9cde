"""Proving an address by e-mail: a one-time link sent to the account's address, followed while
signed in as the account, marks the address proved (``User.email_trusted``), so the account
collects every credential issued to it — those issued already, linked at that moment, and
those issued later (``credentials.service._MEMBERS_BY_EMAIL``).

Only when the server sends e-mail (``microcred.mail``): sign-up sends the first link; the
account page sends another (:data:`MAX_SENDS_PER_HOUR` an hour). A link is valid
:data:`VERIFICATION_VALID`, once, and only for the account and the address it was sent for;
sending a new one withdraws the older ones. It must be followed signed in as the account, so
that someone who signs up with another person's address gains nothing when that person clicks
the link. Only the SHA-256 of its secret is stored; sending and following are audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from microcred.accounts.admin import link_issued_to_address
from microcred.accounts.mailing import queue_verification
from microcred.accounts.models import AuditEvent, EmailVerification, User
from microcred.accounts.service import Principal, SignInThrottled, record_audit
from microcred.db.base import utcnow
from microcred.errors import NotFound, PermissionDenied
from microcred.mail.service import mail_enabled
from microcred.settings import Settings

VERIFICATION_VALID = timedelta(days=7)
SECRET_PREFIX = "ver_"
MAX_SENDS_PER_HOUR = 3
SENT = "account.verification_sent"
VERIFIED = "account.email_verified"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def can_verify(settings: Settings, user: User) -> bool:
    """Whether the account page offers to prove the address: mail is on, not proved yet."""
    return mail_enabled(settings) and not user.email_trusted


def send_verification(
    session: Session,
    settings: Settings,
    user: User,
    *,
    ip: str | None = None,
    now: datetime | None = None,
) -> bool:
    """E-mail a fresh link to the account's address (older ones withdrawn); False when there is
    nothing to prove or mail is off. :class:`SignInThrottled` past the hourly limit."""
    if not can_verify(settings, user):
        return False
    now = now or utcnow()
    sent = session.scalar(
        select(func.count()).where(
            AuditEvent.action == SENT,
            AuditEvent.object_id == user.id,
            AuditEvent.at > now - timedelta(hours=1),
        )
    )
    if (sent or 0) >= MAX_SENDS_PER_HOUR:
        raise SignInThrottled(
            "Several confirmation e-mails were sent in the last hour: look for them (and in the "
            "spam folder), or try again later."
        )
    session.execute(
        delete(EmailVerification).where(
            EmailVerification.user_id == user.id, EmailVerification.used_at.is_(None)
        )
    )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    verification = EmailVerification(
        user_id=user.id, email=user.email, token_hash=_hash(secret), created_at=now,
        expires_at=now + VERIFICATION_VALID,
    )  # fmt: skip
    session.add(verification)
    session.flush()
    queue_verification(session, settings, user, secret, verification.id)
    record_audit(
        session, None, SENT, object_type="user", object_id=user.id, ip=ip,
        details={"email": user.email}, summary="Sent a link to confirm the e-mail address",
    )  # fmt: skip
    return True


@dataclass(frozen=True)
class Verified:
    user: User
    linked: int
    """Credentials issued to the address, linked to the account now."""
    already: bool = False
    """The link was followed before: nothing changed."""


def verify_email(
    session: Session, secret: str, principal: Principal, *, now: datetime | None = None
) -> Verified:
    """Prove the address the link was sent to (see the module); NotFound for an unknown,
    expired or withdrawn link, or one for an address the account no longer has."""
    now = now or utcnow()
    invalid = NotFound("This confirmation link is not valid (replaced or expired).")
    row = session.scalar(
        select(EmailVerification).where(EmailVerification.token_hash == _hash(secret))
    )
    if row is None:
        raise invalid
    user = session.get(User, row.user_id)
    if user is None or user.email != row.email:
        raise invalid
    if principal.user_id != user.id or principal.scopes is not None:
        raise PermissionDenied(
            "This link confirms the address of another account: sign in as that account first."
        )
    if row.used_at is not None:
        if user.email_trusted:
            return Verified(user, 0, already=True)
        raise invalid
    if _aware(row.expires_at) <= now:
        raise invalid
    row.used_at = now
    user.email_trusted = True
    session.flush()
    linked = link_issued_to_address(session, user)
    record_audit(
        session, principal, VERIFIED, object_type="user", object_id=user.id,
        details={"email": user.email, "credentials_linked": linked},
        summary="Confirmed the e-mail address by the link sent to it",
    )  # fmt: skip
    return Verified(user, linked)

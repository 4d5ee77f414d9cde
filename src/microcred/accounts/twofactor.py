"""Two-factor authentication: a code from an authenticator app after the password.

The codes are time-based one-time passwords (RFC 6238 TOTP over RFC 4226 HOTP: HMAC-SHA1,
six digits, 30-second steps), the kind every authenticator app (Google Authenticator, Microsoft
Authenticator, 1Password, Bitwarden, FreeOTP, Aegis…) makes from a QR code. A code of the
previous, current or next step is accepted (clocks drift), each step once: a code seen once
cannot be replayed.

Setting it up takes two steps: :func:`start_setup` makes a secret (stored encrypted with the
master key, like issuers' signing keys) and :func:`confirm_setup` turns it on once a code it
makes is typed — so a mis-scanned QR code never locks anyone out — and hands out ten one-time
**recovery codes** (only their SHA-256 stored), shown once, each standing in for the app once.

An organisation can require its admins, issuer staff and assessors to use it
(:func:`set_required`); a platform can require it of its platform administrators
(``MICROCRED_REQUIRE_TWO_FACTOR_FOR_PLATFORM_ADMINS``). Until they set it up, such members reach
only the set-up page (:func:`setup_required`). Turning it off needs the password and a code; an
administrator who may make a password reset link for someone (:func:`recovery.why_not`) may also
turn their second factor off when they lost the app and the codes. Every change is audited, and
the account is told (notification, and e-mail when the server sends mail).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from base64 import b32decode, b32encode
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from microcred.accounts.models import (
    AuditEvent,
    Membership,
    Organisation,
    RecoveryCode,
    Role,
    TwoFactorSecret,
    User,
)
from microcred.accounts.passwords import verify_password
from microcred.accounts.service import AccountError, Principal, SignInThrottled, record_audit
from microcred.credentials.keys import decrypt_secret, encrypt_secret
from microcred.db.base import new_id, utcnow
from microcred.errors import NotFound, PermissionDenied
from microcred.i18n import L_
from microcred.settings import Settings

DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1
"""Codes of this many steps before and after the current one are accepted too."""
SECRET_BYTES = 20
"""160 bits, the length RFC 4226 recommends for HMAC-SHA1."""
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""No 0/o, 1/l/i: read from paper without doubt."""
RECOVERY_LENGTH = 10
"""About 49 bits each."""
MAX_FAILURES = 5
"""Wrong codes per account within :data:`FAILURE_WINDOW` before it must wait: with three codes
valid at a time, a guesser who has the password gets 5 × 3 / 10⁶ per quarter of an hour."""
FAILURE_WINDOW = timedelta(minutes=15)
CODE_FAILED = "auth.second_factor_failed"
STAFF_ROLES = (Role.admin, Role.issuer_staff, Role.assessor)
"""The roles an organisation's rule applies to: those that issue, assess or administer."""


class TwoFactorError(AccountError):
    """A code that is wrong, used, or asked for where two-factor authentication is not set."""


class TwoFactorSetupRequired(PermissionDenied):
    """The account must set up two-factor authentication before doing anything else."""


# --- TOTP (pure) ------------------------------------------------------------------------------


def hotp(secret: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226 §5.3: HMAC-SHA1 of the counter, dynamically truncated to ``digits`` digits."""
    mac = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def time_step(moment: datetime) -> int:
    """RFC 6238 §4.2: the number of whole 30-second steps since the Unix epoch."""
    return int(moment.timestamp()) // STEP_SECONDS


def totp(secret: bytes, moment: datetime, digits: int = DIGITS) -> str:
    return hotp(secret, time_step(moment), digits)


def encode_secret(secret: bytes) -> str:
    """Base32 without padding, as authenticator apps take it (typed by hand in groups of 4)."""
    return b32encode(secret).decode("ascii").rstrip("=")


def decode_secret(text: str) -> bytes:
    cleaned = text.replace(" ", "").upper()
    return b32decode(cleaned + "=" * (-len(cleaned) % 8))


def provisioning_uri(secret: bytes, account: str, issuer: str) -> str:
    """The ``otpauth://totp/…`` address a QR code carries (the Key Uri Format apps read)."""
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode(
        {"secret": encode_secret(secret), "issuer": issuer, "algorithm": "SHA1",
         "digits": DIGITS, "period": STEP_SECONDS}
    )  # fmt: skip
    return f"otpauth://totp/{label}?{query}"


def matching_step(secret: bytes, code: str, moment: datetime, after: int = 0) -> int | None:
    """The step (later than ``after``) within the allowed drift whose code is ``code``."""
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = time_step(moment)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if step > after and hmac.compare_digest(hotp(secret, step), code):
            found = step
    return found


def normalise_code(code: str) -> str:
    """What was typed, without spaces and dashes, lower-cased."""
    return "".join(ch for ch in code.strip().lower() if ch not in " -\t")


def _recovery_hash(user_id: str, code: str) -> str:
    return hashlib.sha256(f"microcred-recovery:{user_id}:{code}".encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


# --- the account's own second factor ------------------------------------------------------------


def _context(user_id: str) -> str:
    return f"totp:{user_id}"


def _seal(settings: Settings, user_id: str, secret: bytes) -> str:
    return encrypt_secret(secret, settings.master_key, context=_context(user_id))


def _unseal(settings: Settings, row: TwoFactorSecret) -> bytes:
    return decrypt_secret(row.secret_sealed, settings.master_key, context=_context(row.user_id))


def _own(session: Session, principal: Principal) -> User:
    if principal.scopes is not None:
        raise PermissionDenied(
            "Set up two-factor authentication from a signed-in session, not with a token."
        )
    user = session.get(User, principal.user_id)
    if user is None:
        raise NotFound("No such account.")
    return user


@dataclass(frozen=True)
class Setup:
    secret: str
    """Base32, for typing into the app by hand."""
    uri: str
    """The ``otpauth://`` address the QR code shows."""


def start_setup(session: Session, settings: Settings, principal: Principal) -> Setup:
    """A new secret for the app, not yet in force; a second call replaces an unconfirmed one.
    Refused while two-factor authentication is on (turn it off first)."""
    user = _own(session, principal)
    if user.two_factor_enabled:
        raise TwoFactorError("Two-factor authentication is already on.")
    secret = secrets.token_bytes(SECRET_BYTES)
    row = session.get(TwoFactorSecret, user.id)
    if row is None:
        row = TwoFactorSecret(user_id=user.id, secret_sealed="", last_step=0, created_at=utcnow())
        session.add(row)
    row.secret_sealed = _seal(settings, user.id, secret)
    row.created_at = utcnow()
    row.confirmed_at = None
    row.last_step = 0
    session.flush()
    return _setup_of(settings, user, secret)


def _setup_of(settings: Settings, user: User, secret: bytes) -> Setup:
    return Setup(encode_secret(secret), provisioning_uri(secret, user.email, issuer_name(settings)))


def issuer_name(settings: Settings) -> str:
    """The name the app lists the account under: this server's host name."""
    host = settings.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return f"microcred ({host})" if host and host not in ("127.0.0.1", "localhost") else "microcred"


def pending_setup(session: Session, settings: Settings, principal: Principal) -> Setup | None:
    """The unconfirmed secret being set up, to show its QR code again (a reload)."""
    user = _own(session, principal)
    row = session.get(TwoFactorSecret, user.id)
    if row is None or row.confirmed_at is not None:
        return None
    return _setup_of(settings, user, _unseal(settings, row))


def confirm_setup(
    session: Session, settings: Settings, principal: Principal, code: str, *,
    now: datetime | None = None, ip: str | None = None,
) -> list[str]:  # fmt: skip
    """Turn two-factor authentication on with a code the new secret makes; the recovery codes
    (shown once: only their hashes are kept)."""
    user = _own(session, principal)
    row = session.get(TwoFactorSecret, user.id)
    if row is None or row.confirmed_at is not None:
        raise TwoFactorError("Start setting up two-factor authentication first.", field="code")
    now = now or utcnow()
    step = matching_step(_unseal(settings, row), normalise_code(code), now)
    if step is None:
        raise TwoFactorError(
            "That code does not match. Type the 6-digit code your app shows now for this "
            "account (check that the phone's clock is right).",
            field="code",
        )
    row.confirmed_at = now
    row.last_step = step
    user.two_factor_enabled = True
    codes = _replace_recovery_codes(session, user.id, now)
    record_audit(
        session, principal, "account.two_factor.enabled", object_type="user", object_id=user.id,
        ip=ip, summary="Turned on two-factor authentication",
    )  # fmt: skip
    session.flush()
    return codes


def _replace_recovery_codes(session: Session, user_id: str, now: datetime) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    session.add_all(
        RecoveryCode(
            id=new_id(),
            user_id=user_id,
            code_hash=_recovery_hash(user_id, normalise_code(c)),
            created_at=now,
        )
        for c in codes
    )
    return codes


def recovery_codes_left(session: Session, user_id: str) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


@dataclass(frozen=True)
class SecondFactor:
    """A second factor accepted at sign-in: by the app, or by a recovery code."""

    recovery_code: bool
    codes_left: int | None = None
    """After a recovery code: how many are left."""


def check_code(
    session: Session, settings: Settings, user: User, code: str, *, now: datetime | None = None,
) -> SecondFactor | None:  # fmt: skip
    """Accept ``code`` for ``user``: a current app code not used before, or an unused recovery
    code (then used up). None when it is neither."""
    row = session.get(TwoFactorSecret, user.id)
    if row is None or row.confirmed_at is None:
        return None
    now = now or utcnow()
    typed = normalise_code(code)
    if typed.isdigit():
        step = matching_step(_unseal(settings, row), typed, now, after=row.last_step)
        if step is None:
            return None
        # Conditional, so that two requests with the same code cannot both pass.
        moved = session.execute(
            update(TwoFactorSecret)
            .where(TwoFactorSecret.user_id == user.id, TwoFactorSecret.last_step < step)
            .values(last_step=step)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return None
        session.expire(row)
        return SecondFactor(recovery_code=False)
    used = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(user.id, typed),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        return None
    left = recovery_codes_left(session, user.id)
    record_audit(
        session, None, "account.two_factor.recovery_code_used", object_type="user",
        object_id=user.id, details={"left": left},
        summary=f"Signed in with a recovery code ({left} left)",
    )  # fmt: skip
    _tell(
        session, settings, user.id, L_("A recovery code was used to sign in"),
        L_("Your account was signed in to with one of its recovery codes; %(left)s are left. If "
           "it was not you, change your password and make new recovery codes.", left=left),
    )  # fmt: skip
    return SecondFactor(recovery_code=True, codes_left=left)


def _tell(session: Session, settings: Settings | None, user_id: str, title: str, body: str) -> None:
    """A security notice to the account (and e-mailed, when the server sends mail)."""
    from microcred.notifications.service import NewNotification, notify

    notify(
        session,
        [NewNotification(user_id, "account.security", title, body, "/account/two-factor")],
        settings,
    )


def check_attempts_allowed(session: Session, user: User, now: datetime | None = None) -> None:
    """:class:`SignInThrottled` after :data:`MAX_FAILURES` wrong codes for the account within
    :data:`FAILURE_WINDOW`, from anywhere; the wait ends when the oldest leaves the window."""
    now = now or utcnow()
    count, oldest = session.execute(
        select(func.count(), func.min(AuditEvent.at)).where(
            AuditEvent.action == CODE_FAILED,
            AuditEvent.object_id == user.id,
            AuditEvent.at > now - FAILURE_WINDOW,
        )
    ).one()
    if count >= MAX_FAILURES:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        minutes = max(1, -(-int((oldest + FAILURE_WINDOW - now).total_seconds()) // 60))
        raise SignInThrottled(
            f"Too many wrong codes for this account. Try again in {minutes} minute"
            f"{'s' if minutes != 1 else ''}, or sign in again later.",
            field="code",
        )


def record_failure(
    session: Session, settings: Settings | None, user: User, *, ip: str | None = None
) -> None:
    """Count a wrong code; at the limit the account is told that someone who knows its
    password is trying codes (so its owner changes the password)."""
    record_audit(
        session, None, CODE_FAILED, object_type="user", object_id=user.id, ip=ip,
        summary="Typed a wrong two-factor code",
    )  # fmt: skip
    session.flush()
    failures = session.scalar(
        select(func.count()).where(
            AuditEvent.action == CODE_FAILED,
            AuditEvent.object_id == user.id,
            AuditEvent.at > utcnow() - FAILURE_WINDOW,
        )
    )
    if failures == MAX_FAILURES:
        _tell(
            session, settings, user.id, L_("Several wrong sign-in codes for your account"),
            L_("Someone typed your password correctly and then %(count)s wrong two-factor "
               "codes. If it was not you, change your password now.", count=MAX_FAILURES),
        )  # fmt: skip


def _require_password_and_code(
    session: Session, settings: Settings, user: User, password: str, code: str
) -> None:
    if not verify_password(user.password_hash, password):
        raise TwoFactorError("The password is not right.", field="password")
    if check_code(session, settings, user, code) is None:
        raise TwoFactorError(
            "That code does not match (or was used already): type the code your app shows now, "
            "or an unused recovery code.",
            field="code",
        )


def regenerate_recovery_codes(
    session: Session, settings: Settings, principal: Principal, code: str,
    *, ip: str | None = None,
) -> list[str]:  # fmt: skip
    """Ten new recovery codes in place of the old ones (all of them, used or not); needs a
    current code of the app."""
    user = _own(session, principal)
    if not user.two_factor_enabled:
        raise TwoFactorError("Two-factor authentication is off.")
    typed = normalise_code(code)
    if not typed.isdigit() or check_code(session, settings, user, typed) is None:
        raise TwoFactorError(
            "That code does not match: type the code your app shows now.", field="code"
        )
    codes = _replace_recovery_codes(session, user.id, utcnow())
    record_audit(
        session, principal, "account.two_factor.recovery_codes_replaced", object_type="user",
        object_id=user.id, ip=ip, summary="Made new two-factor recovery codes",
    )  # fmt: skip
    session.flush()
    return codes


def _turn_off(session: Session, user: User) -> None:
    session.execute(delete(TwoFactorSecret).where(TwoFactorSecret.user_id == user.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.two_factor_enabled = False


def disable(
    session: Session, settings: Settings, principal: Principal, *, password: str, code: str,
    ip: str | None = None,
) -> User:  # fmt: skip
    """Turn one's own second factor off: needs the password and a code (or a recovery code).
    Refused where an organisation of the account requires it."""
    user = _own(session, principal)
    if not user.two_factor_enabled:
        raise TwoFactorError("Two-factor authentication is already off.")
    required_by = requiring_organisations(session, settings, user)
    if required_by:
        raise TwoFactorError(
            f"{', '.join(required_by)} requires two-factor authentication of its staff: it "
            "cannot be turned off while you are a member."
        )
    _require_password_and_code(session, settings, user, password, code)
    _turn_off(session, user)
    record_audit(
        session, principal, "account.two_factor.disabled", object_type="user", object_id=user.id,
        ip=ip, summary="Turned off two-factor authentication",
    )  # fmt: skip
    _tell(
        session, settings, user.id, L_("Two-factor authentication was turned off"),
        L_("Signing in to your account now needs only its password. If you did not do this, "
           "change your password and turn it on again."),
    )  # fmt: skip
    session.flush()
    return user


def reset_for(
    session: Session, principal: Principal | None, user_id: str, *,
    settings: Settings | None = None, ip: str | None = None,
) -> User:  # fmt: skip
    """Turn another account's second factor off (it lost its app and its recovery codes): by
    whoever may make it a password reset link (``principal`` None: the operator on the
    server). Audited; the account then signs in with its password alone, or must set it up
    again where required."""
    from microcred.accounts.recovery import why_not

    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.")
    if principal is not None and principal.user_id == user.id:
        raise PermissionDenied("Turn your own two-factor authentication off on your account page.")
    refusal = why_not(session, principal, user)
    if refusal is not None:  # the reset link's rules, said of the second factor
        raise PermissionDenied(
            refusal.replace("Reset links are made", "Second factors are reset").replace(
                "password", "second factor"
            )
        )
    if not user.two_factor_enabled:
        raise TwoFactorError(f"{user.email} does not use two-factor authentication.")
    _turn_off(session, user)
    record_audit(
        session, principal, "account.two_factor.reset", object_type="user", object_id=user.id,
        details={"email": user.email}, ip=ip,
        summary=f"Turned off two-factor authentication of {user.email}",
    )  # fmt: skip
    _tell(
        session, settings, user.id,
        L_("An administrator turned off your two-factor authentication"),
        L_("Sign in with your password, then set up your authenticator app again on your "
           "account page. If you did not ask for this, tell your organisation's administrator."),
    )  # fmt: skip
    session.flush()
    return user


# --- who must use it --------------------------------------------------------------------------


def requiring_organisations(session: Session, settings: Settings, user: User) -> list[str]:
    """The names of what requires ``user`` to use a second factor: organisations where it holds
    a staff role and that require it, and the platform for a platform administrator where
    configured."""
    names = list(
        session.scalars(
            select(Organisation.name)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(
                Membership.user_id == user.id,
                Membership.role.in_(STAFF_ROLES),
                Organisation.require_two_factor.is_(True),
            )
            .distinct()
            .order_by(Organisation.name)
        )
    )
    if user.is_platform_admin and settings.require_two_factor_for_platform_admins:
        names.insert(0, "This platform")
    return names


def setup_required(session: Session, settings: Settings, user: User, principal: Principal) -> bool:
    """Whether a signed-in session of ``user`` must set up a second factor before anything
    else. Cheap for most requests: no query unless the account lacks a second factor and holds
    a staff role (or is a platform administrator)."""
    if user.two_factor_enabled:
        return False
    if not (principal.is_platform_admin or any(principal.holds(r) for r in STAFF_ROLES)):
        return False
    return bool(requiring_organisations(session, settings, user))


def set_required(
    session: Session, principal: Principal, organisation_id: str, required: bool,
) -> Organisation:  # fmt: skip
    """An organisation admin's rule: its admins, issuer staff and assessors must use a second
    factor. Audited."""
    principal.require(organisation_id, Role.admin, scope="accounts:admin")
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation.")
    own = session.get(User, principal.user_id)
    if required and not principal.is_platform_admin and not (own and own.two_factor_enabled):
        raise TwoFactorError(
            "Set up two-factor authentication for your own account first (Your account → "
            "Two-factor authentication), so that requiring it cannot lock you out."
        )
    if organisation.require_two_factor != required:
        organisation.require_two_factor = required
        record_audit(
            session, principal, "organisation.two_factor_rule",
            organisation_id=organisation.id, object_type="organisation",
            object_id=organisation.id, details={"required": required},
            summary=("Required" if required else "Stopped requiring")
            + " two-factor authentication of staff",
        )  # fmt: skip
        session.flush()
    return organisation


def members_without(session: Session, organisation_id: str) -> list[str]:
    """E-mail addresses of the organisation's admins, staff and assessors without a second
    factor (who the rule would stop at their next page)."""
    return list(
        session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organisation_id == organisation_id,
                Membership.role.in_(STAFF_ROLES),
                User.two_factor_enabled.is_(False),
                User.is_active.is_(True),
            )
            .distinct()
            .order_by(User.email)
        )
    )


def enabled_among(session: Session, user_ids: list[str]) -> set[str]:
    """Which of these accounts use a second factor (for a list of members)."""
    if not user_ids:
        return set()
    return set(
        session.scalars(
            select(User.id).where(User.id.in_(user_ids), User.two_factor_enabled.is_(True))
        )
    )

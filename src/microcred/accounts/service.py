"""Account operations: users, organisations, memberships, sign-in, API tokens, audit log.

Authorisation is expressed through :class:`Principal`, built once per request (session or
bearer token) and asked ``can(role…, organisation_id)`` by every service that guards an object.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microcred.accounts.models import (
    ApiToken,
    AuditEvent,
    Consent,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from microcred.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    burn_verification_time,
    hash_password,
    needs_rehash,
    verify_password,
)
from microcred.db.base import utcnow
from microcred.errors import MicrocredError, NotFound, PermissionDenied

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")
TOKEN_PREFIX = "mcr_"

#: Scopes a token may carry. A token never grants more than its user's roles allow.
SCOPES = {
    "catalogue:read": "Read draft and published definitions of your organisations",
    "catalogue:write": "Create and edit credential definitions",
    "credentials:issue": "Issue, revoke and suspend credentials",
    "credentials:read": "Read issued credentials",
    "credentials:verify": "Verify many credentials at once (batch verification)",
    "assessment:write": "Record assessment results",
    "accounts:admin": "Manage members and tokens of your organisations",
    "wallet:present": "Sign verifiable presentations of your credentials",
    "wallet:offer": "Offer your credentials to a wallet app (OpenID4VCI)",
    "talent:search": "Search consenting learners by their verified skills (employers)",
    "outcomes:read": "Read the outcome KPIs of your organisations' programmes",
    "outcomes:report": "Report your employment after a credential you earned (learners)",
    "webhooks:manage": "Manage your organisations' webhook endpoints and deliveries (admins)",
    "endorsements:manage": "Endorse other organisations and answer endorsements of yours (admins)",
    "account:export": "Download everything the platform holds about you",
    "notifications:read": "Read your notifications and mark them read",
}


class AccountError(MicrocredError):
    """Bad account input or a refused sign-in."""


class AuthenticationFailed(AccountError):
    status_code = 401


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user with roles per organisation, and the scopes of the credential used."""

    user_id: str
    email: str
    name: str
    roles: dict[str, frozenset[Role]] = field(default_factory=dict)
    is_platform_admin: bool = False
    scopes: frozenset[str] | None = None  # None: a signed-in session, every scope
    locale: str | None = None
    """The language saved on the account (None: let the browser's header choose)."""

    def has_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes

    def roles_in(self, organisation_id: str) -> frozenset[Role]:
        return self.roles.get(organisation_id, frozenset())

    def can(self, organisation_id: str, *roles: Role, scope: str | None = None) -> bool:
        if scope is not None and not self.has_scope(scope):
            return False
        if self.is_platform_admin:
            return True
        held = self.roles_in(organisation_id)
        return Role.admin in held or any(role in held for role in roles)

    def require(self, organisation_id: str, *roles: Role, scope: str | None = None) -> None:
        if not self.can(organisation_id, *roles, scope=scope):
            raise PermissionDenied("You do not have permission to do this for that organisation.")

    def holds(self, role: Role) -> bool:
        """Whether the role itself is held somewhere (an admin role stands in for none)."""
        return any(role in held for held in self.roles.values())

    def organisations_with(self, *roles: Role) -> list[str]:
        return [
            org_id
            for org_id, held in self.roles.items()
            if Role.admin in held or any(role in held for role in roles)
        ]


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise AccountError(f"'{email}' is not a valid e-mail address.", field="email")
    return email


def create_organisation(
    session: Session,
    *,
    slug: str,
    name: str,
    kind: OrganisationKind | str,
    category: str | None = None,
    country: str | None = None,
    region: str | None = None,
) -> Organisation:
    if not SLUG_RE.match(slug):
        raise AccountError("slug must be 3-80 lowercase letters, digits or hyphens.", field="slug")
    if session.scalar(select(Organisation).where(Organisation.slug == slug)) is not None:
        raise AccountError(f"An organisation with slug '{slug}' already exists.", field="slug")
    try:
        kind = OrganisationKind(kind)
    except ValueError as exc:
        raise AccountError(
            f"kind must be one of {', '.join(k.value for k in OrganisationKind)}.", field="kind"
        ) from exc
    org = Organisation(
        slug=slug, name=name.strip(), kind=kind, category=category, country=country, region=region
    )
    session.add(org)
    session.flush()
    return org


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    is_platform_admin: bool = False,
    fast_hash: bool = False,
    email_trusted: bool = True,
) -> User:
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise AccountError(f"An account for {email} already exists.", field="email")
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password, fast=fast_hash),
        is_platform_admin=is_platform_admin,
        email_trusted=email_trusted,
    )
    session.add(user)
    session.flush()
    return user


def add_membership(
    session: Session, user: User, organisation: Organisation, role: Role | str
) -> Membership:
    role = Role(role)
    existing = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.organisation_id == organisation.id,
            Membership.role == role,
        )
    )
    if existing is not None:
        return existing
    membership = Membership(user_id=user.id, organisation_id=organisation.id, role=role)
    session.add(membership)
    session.flush()
    return membership


def authenticate(session: Session, email: str, password: str) -> User:
    """The user for these credentials; one message for every failure, so nothing leaks."""
    failure = AuthenticationFailed("Wrong e-mail address or password.")
    try:
        email = normalise_email(email)
    except AccountError:
        burn_verification_time(password)
        raise failure from None
    user = session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active:
        burn_verification_time(password)
        raise failure
    if not verify_password(user.password_hash, password):
        raise failure
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


SIGN_IN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ADDRESS = 5
"""For one typed address from one network address: a guesser is stopped, the account's owner
signing in from elsewhere is not."""
MAX_FAILURES_PER_ADDRESS_ANYWHERE = 50
"""For one typed address from all network addresses together (guessing spread over many)."""
MAX_FAILURES_PER_IP = 30
"""From one network address over all typed addresses (trying one password on many accounts)."""
_SIGN_IN_FAILED = "auth.sign_in_failed"


class SignInThrottled(AccountError):
    """Too many failed sign-ins for an address or from a network address: wait."""

    status_code = 429


def _address_key(email: str) -> str:
    """How failed sign-ins are counted per address: the typed address, normalised and hashed
    (whether or not an account has it, so the answer tells nothing about accounts)."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def record_failed_sign_in(session: Session, email: str, ip: str | None) -> None:
    record_audit(
        session, None, _SIGN_IN_FAILED, object_type="sign_in_address",
        object_id=_address_key(email), details={"email": email[:254]}, ip=ip,
    )  # fmt: skip


def check_sign_in_allowed(
    session: Session, email: str, ip: str | None, now: datetime | None = None
) -> None:
    """:class:`SignInThrottled` when, within the last :data:`SIGN_IN_WINDOW`, this typed
    address failed :data:`MAX_FAILURES_PER_ADDRESS` times from this network address or
    :data:`MAX_FAILURES_PER_ADDRESS_ANYWHERE` times in all, or this network address failed
    :data:`MAX_FAILURES_PER_IP` times — checked before the password, so guessing stops costing
    Argon2 time too. The wait ends when the oldest counted failure leaves the window."""
    now = now or utcnow()
    recent = select(func.count(), func.min(AuditEvent.at)).where(
        AuditEvent.action == _SIGN_IN_FAILED, AuditEvent.at > now - SIGN_IN_WINDOW
    )
    address = AuditEvent.object_id == _address_key(email)
    limits: list[tuple[Any, int, str]] = [
        (address, MAX_FAILURES_PER_ADDRESS_ANYWHERE, "for this e-mail address")
    ]
    if ip:
        here = address & (AuditEvent.ip == ip)
        limits.insert(0, (here, MAX_FAILURES_PER_ADDRESS, "for this e-mail address from here"))
        limits.append((AuditEvent.ip == ip, MAX_FAILURES_PER_IP, "from your network address"))
    for condition, limit, what in limits:
        count, oldest = session.execute(recent.where(condition)).one()
        if count >= limit:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
            minutes = max(1, -(-int((oldest + SIGN_IN_WINDOW - now).total_seconds()) // 60))
            raise SignInThrottled(
                f"Too many failed sign-ins {what}. Try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}.",
                field="email",
            )


def principal_for(
    session: Session,
    user: User,
    scopes: Iterable[str] | None = None,
    organisation_id: str | None = None,
) -> Principal:
    memberships = session.scalars(select(Membership).where(Membership.user_id == user.id)).all()
    roles: dict[str, set[Role]] = {}
    for membership in memberships:
        if organisation_id is not None and membership.organisation_id != organisation_id:
            continue
        roles.setdefault(membership.organisation_id, set()).add(membership.role)
    return Principal(
        user_id=user.id,
        email=user.email,
        name=user.name,
        roles={org: frozenset(held) for org, held in roles.items()},
        is_platform_admin=user.is_platform_admin and scopes is None,
        scopes=None if scopes is None else frozenset(scopes),
        locale=user.locale,
    )


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound("No such user.")
    return user


def get_organisation(session: Session, slug_or_id: str) -> Organisation:
    org = session.scalar(
        select(Organisation).where(
            (Organisation.slug == slug_or_id) | (Organisation.id == slug_or_id)
        )
    )
    if org is None:
        raise NotFound(f"No organisation '{slug_or_id}'.")
    return org


def _hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(
    session: Session,
    principal: Principal,
    *,
    name: str,
    scopes: Iterable[str],
    organisation_id: str | None = None,
    valid_for: timedelta | None = timedelta(days=90),
) -> tuple[ApiToken, str]:
    """A new token and its secret; the secret is returned once and never stored."""
    scopes = sorted(set(scopes))
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise AccountError(f"Unknown scope(s): {', '.join(unknown)}.", field="scopes")
    if not scopes:
        raise AccountError("A token needs at least one scope.", field="scopes")
    if (
        organisation_id is not None
        and not principal.roles_in(organisation_id)
        and not (principal.is_platform_admin)
    ):
        raise PermissionDenied("You are not a member of that organisation.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=principal.user_id,
        organisation_id=organisation_id,
        name=name.strip() or "token",
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        token_hash=_hash_token(secret),
        scopes=scopes,
        expires_at=None if valid_for is None else utcnow() + valid_for,
    )
    session.add(token)
    session.flush()
    record_audit(
        session,
        principal,
        "token.create",
        organisation_id=organisation_id,
        object_type="api_token",
        object_id=token.id,
        details={"scopes": scopes, "name": token.name},
    )
    return token, secret


def revoke_api_token(session: Session, principal: Principal, token_id: str) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != principal.user_id:
        raise NotFound("No such token.")
    token.revoked_at = utcnow()
    record_audit(session, principal, "token.revoke", object_type="api_token", object_id=token.id)


def principal_for_token(session: Session, secret: str) -> Principal:
    failure = AuthenticationFailed("The API token is invalid, expired or revoked.")
    if not secret.startswith(TOKEN_PREFIX):
        raise failure
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(secret)))
    if token is None or token.revoked_at is not None:
        raise failure
    if token.expires_at is not None and _aware(token.expires_at) < utcnow():
        raise failure
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise failure
    token.last_used_at = utcnow()
    return principal_for(session, user, scopes=token.scopes, organisation_id=token.organisation_id)


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def record_audit(
    session: Session,
    principal: Principal | None,
    action: str,
    *,
    organisation_id: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
    summary: str | None = None,
) -> AuditEvent:
    """Write one audit entry inside the caller's transaction, so it commits with the change."""
    event = AuditEvent(
        actor_user_id=principal.user_id if principal else None,
        organisation_id=organisation_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details or {},
        ip=ip,
        summary=summary,
    )
    session.add(event)
    return event


def audit_log(
    session: Session, principal: Principal, organisation_id: str, limit: int = 200
) -> list[AuditEvent]:
    principal.require(organisation_id, Role.admin)
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.organisation_id == organisation_id)
            .order_by(AuditEvent.at.desc())
            .limit(limit)
        )
    )


def grant_consent(session: Session, user_id: str, purpose: str) -> Consent:
    consent = Consent(user_id=user_id, purpose=purpose)
    session.add(consent)
    session.flush()
    return consent


def has_consent(session: Session, user_id: str, purpose: str) -> bool:
    return (
        session.scalar(
            select(Consent).where(
                Consent.user_id == user_id,
                Consent.purpose == purpose,
                Consent.withdrawn_at.is_(None),
            )
        )
        is not None
    )


def list_api_tokens(session: Session, principal: Principal) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == principal.user_id)
            .order_by(ApiToken.created_at.desc())
        )
    )


def memberships_of(session: Session, principal: Principal) -> list[dict[str, str]]:
    rows = session.execute(
        select(
            Membership.role,
            Organisation.id,
            Organisation.slug,
            Organisation.name,
            Organisation.kind,
        )
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == principal.user_id)
        .order_by(Organisation.name)
    ).all()
    return [
        {
            "organisation_id": org_id,
            "organisation_slug": slug,
            "organisation_name": name,
            "organisation_kind": kind.value,
            "role": role.value,
        }
        for role, org_id, slug, name, kind in rows
    ]


ISSUING_KINDS = (OrganisationKind.issuer, OrganisationKind.institution)
"""Organisations that design, issue and recognise credentials (employers do not)."""


def staff_organisations(session: Session, principal: Principal, *roles: Role) -> list[Organisation]:
    """The organisations whose staff pages the principal may open, by name: those where they hold
    one of ``roles`` (or are its admin); for a platform administrator, every issuer and
    institution (what the manage pages offer them to act for)."""
    query = select(Organisation).order_by(Organisation.name)
    if principal.is_platform_admin:
        query = query.where(Organisation.kind.in_(ISSUING_KINDS))
    else:
        ids = principal.organisations_with(*roles)
        if not ids:
            return []
        query = query.where(Organisation.id.in_(ids))
    return list(session.scalars(query))


def withdraw_consent(session: Session, user_id: str, purpose: str) -> None:
    for consent in session.scalars(
        select(Consent).where(
            Consent.user_id == user_id, Consent.purpose == purpose, Consent.withdrawn_at.is_(None)
        )
    ):
        consent.withdrawn_at = utcnow()

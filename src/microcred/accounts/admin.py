"""Running a platform: organisations, members and invitations, the first administrator.

Who may do what:

* the **operator** (``principal=None``: the command line on the server) and a **platform admin**
  create organisations and act as admin of any of them;
* an **organisation admin** invites people into their organisation, in any role, and removes
  memberships — but never the organisation's last admin;
* **issuer staff** invite learners: the recipients of credentials they issued, so that they
  hold them in an account (:func:`invite_recipients`);
* nobody else.

An invitation is for an e-mail address and a role. When an admin invites an address an account
already has, the membership is added at once (nothing to accept); otherwise a one-time link is made
(:func:`invite`), shown once to whoever invited (this server sends no e-mail), valid for
:data:`INVITATION_DAYS` days. Following it, the invitee chooses a name and a password
(:func:`accept_invitation`); the account is created with the membership, and the credentials
the organisation issued to the address are linked to it. An existing account accepts a link for
its own address while signed in (:func:`join_with_invitation`). Nothing here proves who controls
an address: an account made from an organisation's invitation (whoever accepted the link) only
ever collects what the organisations it belongs to issue to it; one the platform vouches for
(made by the operator or a platform admin, or from their invitation) collects what any issues
to its address (``User.email_trusted``, ``credentials.service._MEMBERS_BY_EMAIL``). Every step
is audited.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from microcred.accounts.models import (
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from microcred.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password
from microcred.accounts.service import (
    AccountError,
    Principal,
    create_organisation,
    create_user,
    get_organisation,
    normalise_email,
    record_audit,
)
from microcred.db.base import utcnow
from microcred.errors import NotFound, PermissionDenied

INVITATION_DAYS = 14
INVITATION_PREFIX = "inv_"
ADMIN_SCOPE = "accounts:admin"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def can_administer(principal: Principal | None, organisation_id: str) -> bool:
    """The operator, a platform admin, or an admin of this organisation (with the scope)."""
    if principal is None:
        return True
    if not principal.has_scope(ADMIN_SCOPE):
        return False
    return principal.is_platform_admin or Role.admin in principal.roles_in(organisation_id)


ISSUE_SCOPE = "credentials:issue"


def can_invite(principal: Principal | None, organisation_id: str, role: Role) -> bool:
    """Admins invite in any role; issuer staff invite learners (the recipients of what they
    issue) — with a token, one that may issue."""
    if can_administer(principal, organisation_id):
        return True
    return (
        principal is not None
        and role is Role.learner
        and principal.can(organisation_id, Role.issuer_staff, scope=ISSUE_SCOPE)
    )


def _require_admin(principal: Principal | None, organisation: Organisation) -> None:
    if not can_administer(principal, organisation.id):
        raise PermissionDenied(f"Only admins of {organisation.name} may manage its members.")


def _require_platform(principal: Principal | None) -> None:
    if principal is not None and not (
        principal.is_platform_admin and principal.has_scope(ADMIN_SCOPE)
    ):
        raise PermissionDenied("Only a platform administrator may do this.")


def administered_organisations(session: Session, principal: Principal) -> list[Organisation]:
    """The organisations whose members this principal manages, by name."""
    query = select(Organisation).order_by(Organisation.name)
    if not principal.is_platform_admin:
        ids = [org_id for org_id, roles in principal.roles.items() if Role.admin in roles]
        query = query.where(Organisation.id.in_(ids))
    return list(session.scalars(query))


# --- the operator -----------------------------------------------------------------------------


def create_platform_admin(session: Session, *, email: str, name: str, password: str) -> User:
    """The first (or another) platform administrator, from the server's command line."""
    user = create_user(session, email=email, name=name, password=password, is_platform_admin=True)
    record_audit(
        session, None, "accounts.platform_admin.created", object_type="user", object_id=user.id,
        details={"email": user.email},
    )  # fmt: skip
    return user


def set_platform_admin(session: Session, *, email: str, admin: bool) -> User:
    """Make an existing account a platform administrator, or take the role away, from the
    server's command line; the last platform administrator keeps it."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(f"No account for {email}.")
    if user.is_platform_admin == admin:
        return user
    if not admin:
        others = session.scalar(
            select(func.count()).where(User.is_platform_admin.is_(True), User.id != user.id)
        )
        if not others:
            raise AccountError(
                f"{user.email} is the only platform administrator: make another one first."
            )
    user.is_platform_admin = admin
    record_audit(
        session, None,
        "accounts.platform_admin.granted" if admin else "accounts.platform_admin.revoked",
        object_type="user", object_id=user.id, details={"email": user.email},
    )  # fmt: skip
    return user


def set_password(session: Session, *, email: str, password: str) -> User:
    """Set a user's password from the server's command line (a forgotten password)."""
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound(f"No account for {email}.")
    user.password_hash = hash_password(_checked_password(password))
    record_audit(session, None, "accounts.password.set", object_type="user", object_id=user.id)
    return user


def add_organisation(
    session: Session,
    principal: Principal | None,
    *,
    slug: str,
    name: str,
    kind: OrganisationKind | str,
    country: str | None = None,
    region: str | None = None,
    category: str | None = None,
) -> Organisation:
    _require_platform(principal)
    if not name.strip():
        raise AccountError("Give the organisation a name.", field="name")
    if country is not None and country.strip() and len(country.strip()) != 2:
        raise AccountError("country is a two-letter ISO 3166 code, e.g. DE.", field="country")
    organisation = create_organisation(
        session, slug=slug.strip(), name=name, kind=kind,
        country=(country or "").strip().upper() or None, region=(region or "").strip() or None,
        category=(category or "").strip() or None,
    )  # fmt: skip
    record_audit(
        session, principal, "accounts.organisation.created", organisation_id=organisation.id,
        object_type="organisation", object_id=organisation.id,
        details={"slug": organisation.slug, "kind": organisation.kind.value},
    )  # fmt: skip
    return organisation


# --- members ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    membership_id: str
    user_id: str
    email: str
    name: str
    role: Role


def members_of(
    session: Session,
    principal: Principal | None,
    organisation: str,
    *,
    role: Role | str | None = None,
    query: str | None = None,
    limit: int | None = None,
) -> list[Member]:
    """The organisation's members by name, optionally of one role and whose name or address
    holds ``query``, at most ``limit`` (see :func:`count_members` for how many match)."""
    org = get_organisation(session, organisation)
    _require_admin(principal, org)
    statement = (
        select(Membership.id, User.id, User.email, User.name, Membership.role)
        .join(User, User.id == Membership.user_id)
        .where(*_member_filters(org.id, role, query))
        .order_by(User.name, User.email, Membership.role)
    )
    if limit is not None:
        statement = statement.limit(limit)
    return [Member(*row) for row in session.execute(statement)]


def count_members(
    session: Session, organisation_id: str, *, role: Role | str | None = None,
    query: str | None = None,
) -> int:  # fmt: skip
    statement = (
        select(func.count())
        .select_from(Membership)
        .join(User, User.id == Membership.user_id)
        .where(*_member_filters(organisation_id, role, query))
    )
    return int(session.scalar(statement) or 0)


def _member_filters(organisation_id: str, role: Role | str | None, query: str | None) -> list[Any]:
    filters: list[Any] = [Membership.organisation_id == organisation_id]
    if role:
        filters.append(Membership.role == _role(role))
    if query and query.strip():
        needle = f"%{query.strip().lower()}%"
        filters.append(func.lower(User.name).like(needle) | func.lower(User.email).like(needle))
    return filters


def pending_invitations(
    session: Session, principal: Principal | None, organisation: str
) -> list[Invitation]:
    org = get_organisation(session, organisation)
    _require_admin(principal, org)
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.organisation_id == org.id,
                Invitation.accepted_at.is_(None),
                Invitation.withdrawn_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at.desc())
        )
    )


@dataclass(frozen=True)
class Invited:
    """What :func:`invite` did: a membership added to an existing account, or an invitation
    whose ``secret`` (for the link ``/invitations/<secret>``) is shown once."""

    email: str
    role: Role
    membership: Membership | None = None
    invitation: Invitation | None = None
    secret: str | None = None


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountError(
            f"role must be one of {', '.join(r.value for r in Role)}.", field="role"
        ) from None


def invite(
    session: Session,
    principal: Principal | None,
    organisation: str,
    *,
    email: str,
    role: Role | str,
    link_for_existing: bool = False,
) -> Invited:
    """``link_for_existing``: an account that holds the address gets a link to accept while
    signed in, rather than the membership at once (always so for an account the platform does
    not vouch for, ``User.email_trusted``)."""
    org = get_organisation(session, organisation)
    address, wanted = normalise_email(email), _role(role)
    if not can_invite(principal, org.id, wanted):
        raise PermissionDenied(
            f"Only admins of {org.name} may invite people (issuer staff may invite learners)."
        )
    user = session.scalar(select(User).where(User.email == address))
    # An account the platform does not vouch for accepts by link: adding it at once would hand
    # this organisation's credentials for the address to whoever made the account.
    if user is not None and not link_for_existing and user.email_trusted:
        existing = session.scalar(
            select(Membership).where(
                Membership.user_id == user.id,
                Membership.organisation_id == org.id,
                Membership.role == wanted,
            )
        )
        if existing is not None:
            raise AccountError(
                f"{address} is already {wanted.value} of {org.name}.", field="email",
                status_code=409,
            )  # fmt: skip
        membership = Membership(user_id=user.id, organisation_id=org.id, role=wanted)
        session.add(membership)
        session.flush()
        _link_issued(session, user, org.id)
        record_audit(
            session, principal, "accounts.member.added", organisation_id=org.id,
            object_type="membership", object_id=membership.id,
            details={"email": address, "role": wanted.value},
        )  # fmt: skip
        return Invited(address, wanted, membership=membership)
    # A new link replaces any open one for the same address and role (only hashes are kept,
    # so an old link cannot be shown again; two live links would be one too many).
    for stale in session.scalars(
        select(Invitation).where(
            Invitation.organisation_id == org.id, Invitation.email == address,
            Invitation.role == wanted, Invitation.accepted_at.is_(None),
            Invitation.withdrawn_at.is_(None),
        )
    ):  # fmt: skip
        stale.withdrawn_at = utcnow()
    secret = INVITATION_PREFIX + secrets.token_urlsafe(32)
    invitation = Invitation(
        organisation_id=org.id, email=address, role=wanted, token_hash=_hash(secret),
        invited_by_user_id=principal.user_id if principal else None,
        platform_vouched=principal is None or principal.is_platform_admin,
        expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
    )  # fmt: skip
    session.add(invitation)
    session.flush()
    record_audit(
        session, principal, "accounts.invitation.created", organisation_id=org.id,
        object_type="invitation", object_id=invitation.id,
        details={"email": address, "role": wanted.value},
    )  # fmt: skip
    return Invited(address, wanted, invitation=invitation, secret=secret)


def withdraw_invitation(
    session: Session, principal: Principal | None, invitation_id: str
) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.accepted_at is not None:
        raise NotFound("No such open invitation.")
    _require_admin(principal, invitation.organisation)
    invitation.withdrawn_at = utcnow()
    record_audit(
        session, principal, "accounts.invitation.withdrawn",
        organisation_id=invitation.organisation_id, object_type="invitation",
        object_id=invitation.id, details={"email": invitation.email},
    )  # fmt: skip
    return invitation


def remove_member(
    session: Session,
    principal: Principal | None,
    membership_id: str,
    organisation: str | None = None,
) -> None:
    """``organisation``: the slug or id the caller addressed; a membership elsewhere is absent."""
    membership = session.get(Membership, membership_id)
    if membership is None or (
        organisation is not None
        and organisation not in (membership.organisation.slug, membership.organisation_id)
    ):
        raise NotFound("No such membership.")
    org = membership.organisation
    _require_admin(principal, org)
    if membership.role is Role.admin:
        admins = session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.organisation_id == org.id, Membership.role == Role.admin)
        )
        if (admins or 0) <= 1:
            raise AccountError(
                f"{membership.user.email} is the last admin of {org.name}: make someone else "
                "admin first.",
                field="membership", status_code=409,
            )  # fmt: skip
    record_audit(
        session, principal, "accounts.member.removed", organisation_id=org.id,
        object_type="membership", object_id=membership.id,
        details={"email": membership.user.email, "role": membership.role.value},
    )  # fmt: skip
    session.delete(membership)
    session.flush()


# --- accepting an invitation ------------------------------------------------------------------


def open_invitation(session: Session, secret: str) -> Invitation:
    """The invitation this link names, if it can still be accepted (else NotFound: an unknown,
    used, withdrawn and expired link answer alike)."""
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == _hash(secret)))
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.withdrawn_at is not None
        or _aware(invitation.expires_at) <= utcnow()
    ):
        raise NotFound("This invitation link is not valid (used, withdrawn or expired).")
    return invitation


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    return password


def join_with_invitation(session: Session, secret: str, principal: Principal) -> User:
    """An existing account accepts an invitation for its own address (signed in): the
    membership, and what the organisation issued to the address linked."""
    invitation = open_invitation(session, secret)
    user = session.get(User, principal.user_id)
    if user is None or user.email != invitation.email or principal.scopes is not None:
        raise PermissionDenied(
            f"This invitation is for {invitation.email}: sign in as that account to accept it."
        )
    if not session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.organisation_id == invitation.organisation_id,
            Membership.role == invitation.role,
        )
    ):
        session.add(
            Membership(user_id=user.id, organisation_id=invitation.organisation_id,
                       role=invitation.role)
        )  # fmt: skip
    invitation.accepted_at = utcnow()
    session.flush()
    linked = _link_issued(session, user, invitation.organisation_id)
    record_audit(
        session, principal, "accounts.invitation.accepted",
        organisation_id=invitation.organisation_id, object_type="user", object_id=user.id,
        details={"email": user.email, "role": invitation.role.value,
                 "credentials_linked": linked, "existing_account": True},
    )  # fmt: skip
    return user


def accept_invitation(session: Session, secret: str, *, name: str, password: str) -> User:
    """Create the invitee's account with the membership; link what was issued to the address."""
    invitation = open_invitation(session, secret)
    if not name.strip():
        raise AccountError("Give your name.", field="name")
    if session.scalar(select(User).where(User.email == invitation.email)) is not None:
        raise AccountError(
            f"An account for {invitation.email} exists already: sign in as it to accept.",
            field="email", status_code=409,
        )  # fmt: skip
    user = create_user(
        session, email=invitation.email, name=name, password=password,
        email_trusted=invitation.platform_vouched,
    )  # fmt: skip
    session.add(
        Membership(user_id=user.id, organisation_id=invitation.organisation_id,
                   role=invitation.role)
    )  # fmt: skip
    invitation.accepted_at = utcnow()
    linked = _link_issued(session, user, invitation.organisation_id)
    session.flush()
    record_audit(
        session, None, "accounts.invitation.accepted",
        organisation_id=invitation.organisation_id, object_type="user", object_id=user.id,
        details={"email": user.email, "role": invitation.role.value,
                 "credentials_linked": int(linked or 0)},
    )  # fmt: skip
    return user


@dataclass(frozen=True)
class RecipientInvitation:
    email: str
    name: str | None
    secret: str | None  # None: an account holds the address; the membership was added
    invitation: Invitation | None = None


def invite_recipients(
    session: Session,
    principal: Principal | None,
    organisation: str,
    *,
    credential_ids: Sequence[str] | None = None,
    bulk_job_id: str | None = None,
) -> list[RecipientInvitation]:
    """Invite, as learners of the issuer, the recipients of these credentials (or of a bulk
    job's) that have an e-mail address and no account yet, once per address; recipients whose
    address has an account since are linked to it instead. For the issuer to pass the links on
    (a mail merge of the CSV): this server sends no e-mail."""
    from microcred.credentials.models import IssuedCredential

    org = get_organisation(session, organisation)
    if not can_invite(principal, org.id, Role.learner):
        raise PermissionDenied(f"Only staff of {org.name} may invite its recipients.")
    query = select(IssuedCredential.recipient_email, IssuedCredential.recipient_name).where(
        IssuedCredential.organisation_id == org.id,
        IssuedCredential.recipient_user_id.is_(None),
        IssuedCredential.recipient_email.is_not(None),
    )
    if credential_ids is not None:
        query = query.where(IssuedCredential.id.in_(list(credential_ids)))
    if bulk_job_id is not None:
        query = query.where(IssuedCredential.bulk_job_id == bulk_job_id)
    names: dict[str, str | None] = {}
    for email, name in session.execute(query.order_by(IssuedCredential.recipient_email)):
        if email is not None:
            names.setdefault(email, name)
    done = []
    for email, name in names.items():
        user = session.scalar(select(User).where(User.email == email))
        if user is not None and (
            user.email_trusted or any(m.organisation_id == org.id for m in user.memberships)
        ):
            _link_issued(session, user, org.id)  # one of ours since: nothing to accept
            done.append(RecipientInvitation(email, name, None))
            continue
        # No account, or one this organisation does not know: the link, passed on to the
        # address, is what shows the account holder is the recipient.
        invited = invite(
            session, principal, org.slug, email=email, role=Role.learner, link_for_existing=True
        )
        done.append(RecipientInvitation(email, name, invited.secret, invited.invitation))
    return done


def link_issued_to_address(session: Session, user: User) -> int:
    """Link to an account the platform trusts with its address (``User.email_trusted``: its
    holder proved it by e-mail, say) every credential issued to the address and not yet held;
    how many."""
    assert user.email_trusted
    return _link_issued(session, user, "")


def _link_issued(session: Session, user: User, organisation_id: str) -> int:
    """Link to the account what this organisation issued to its address — and what every
    organisation did when the platform trusts the account with the address (see
    ``credentials.service._MEMBERS_BY_EMAIL``)."""
    from microcred.credentials.models import IssuedCredential

    scope = [] if user.email_trusted else [IssuedCredential.organisation_id == organisation_id]
    result = cast(
        "CursorResult[Any]",
        session.execute(
            update(IssuedCredential)
            .where(
                *scope,
                IssuedCredential.recipient_email == user.email,
                IssuedCredential.recipient_user_id.is_(None),
            )
            .values(recipient_user_id=user.id)
            .execution_options(synchronize_session=False)
        ),
    )
    return int(result.rowcount or 0)

"""A person's own data: all of it as one download, and erasing the account (GDPR articles 15,
17 and 20).

**What belongs to an account** is decided by the schema, not by a list kept by hand: every row
of every table with an ``ON DELETE CASCADE`` foreign key to ``users`` (memberships, consents,
tokens, assessment attempts, submissions and results, survey answers, imported credentials, the
public profile, holder keys, pathway awards, outcome reports, talent sightings …) and, the same
way, every row cascading from those (a submission's evidence and marks, an import's skill rows).
Erasing the account deletes exactly these rows (the database's cascades do it) and the evidence
files they name; the download holds exactly these rows, plus what stays after an erasure:

* the credentials issued to the person — signed documents the issuer keeps a record of, so that
  anyone can still verify them and the issuer can still revoke them; the erasure unlinks them
  from the account (``recipient_user_id`` becomes NULL) and hides the name on public pages
  (the consent to show it goes with the account);
* the audit log's entries of the person's own actions (``actor_user_id`` becomes NULL; the log
  is kept for security), in the download without their details, which may name other people.

Secrets are never exported: password and token hashes, sealed keys, capability tokens
(:data:`REDACTED_COLUMNS`). Nothing here reads another person's data: rows are selected by the
person's own foreign keys only.

A platform administrator or an organisation's only administrator cannot erase their account
until someone else holds that role: the platform or the organisation would be left without one.
"""

from __future__ import annotations

import base64
import enum
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, event, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from microcred.accounts.models import (
    ApiToken,
    AuditEvent,
    Consent,
    Membership,
    Organisation,
    Role,
    User,
)
from microcred.accounts.passwords import verify_password
from microcred.accounts.service import AccountError, Principal, record_audit
from microcred.credentials.models import IssuedCredential
from microcred.db.registry import metadata
from microcred.errors import PermissionDenied

REDACTED_COLUMNS = frozenset(
    {"password_hash", "token_hash", "sealed_private_key", "sealed_secret", "evidence_token"}
)
"""Columns never exported: secrets, or tokens that grant access to something."""
EVIDENCE_TABLE = "evidence_items"
ERASE_CONFIRMATION = "delete my account"
"""What the person types to confirm the erasure (besides their password)."""
README = """\
Your data at {site}, exported {at} for {email}.

account.json        your account: name, address, memberships, consents (granted and withdrawn),
                    API tokens (names and scopes; never the secrets)
credentials/        the credentials issued to you here, as signed JSON (<id>.json) and, when
                    issued so, as JWTs (<id>.<format>.jwt); index.json lists them with their state
tables/<table>.json every row the platform holds about you, one file per table: assessment
                    attempts, submissions, marks and results, survey answers, imported
                    credentials, your public profile, pathway awards, outcome reports, which
                    organisations found you in talent search, ...
evidence/           the files you submitted as evidence, by submission
actions.json        what you did here, from the audit log (time, action, object)

Dates are UTC in ISO 8601. Secrets (password and token hashes, sealed keys) are never exported.
"""


class PrivacyError(AccountError):
    """An erasure that cannot be done as asked."""


@dataclass(frozen=True)
class Owned:
    """A table whose rows go with an account, and how to select one person's rows of it."""

    table: Table
    rows_of: Callable[[str], ColumnElement[bool]]
    """The condition selecting the rows of the user with this id."""


def owned_tables() -> list[Owned]:
    """Every table reached from ``users`` through ``ON DELETE CASCADE`` foreign keys, each with
    the condition selecting one user's rows (nearest first, by table name within a level)."""
    users = metadata.tables["users"]
    found: dict[str, Owned] = {}
    level: list[Owned] = [Owned(users, lambda user_id: users.c.id == user_id)]
    while level:
        parents = {owned.table.name: owned for owned in level}
        level = []
        for table in sorted(metadata.tables.values(), key=lambda t: t.name):
            if table.name in found or table.name == "users":
                continue
            conditions = [
                _child_condition(key.parent, key.column, parents[key.column.table.name])
                for key in sorted(table.foreign_keys, key=lambda k: k.parent.name)
                if key.ondelete == "CASCADE" and key.column.table.name in parents
            ]
            if conditions:
                owned = Owned(table, _any_of(conditions))
                found[table.name] = owned
                level.append(owned)
    return list(found.values())


def _child_condition(
    column: Any, referenced: Any, parent: Owned
) -> Callable[[str], ColumnElement[bool]]:
    if parent.table.name == "users":
        return lambda user_id: column == user_id
    return lambda user_id: column.in_(select(referenced).where(parent.rows_of(user_id)))


def _any_of(
    conditions: list[Callable[[str], ColumnElement[bool]]],
) -> Callable[[str], ColumnElement[bool]]:
    if len(conditions) == 1:
        return conditions[0]
    return lambda user_id: or_(*(condition(user_id) for condition in conditions))


# --- the download ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A column value as JSON: times in ISO 8601 (UTC), bytes in base64, enums by value."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return float(value)
    return value


def _rows(session: Session, owned: Owned, user_id: str) -> list[dict[str, Any]]:
    table = owned.table
    columns = [c for c in table.columns if c.name not in REDACTED_COLUMNS]
    order = list(table.primary_key.columns)
    statement = select(*columns).where(owned.rows_of(user_id)).order_by(*order)
    return [
        {name: _plain(value) for name, value in row._mapping.items()}
        for row in session.execute(statement)
    ]


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, default=_plain).encode("utf-8")


def _account(session: Session, user: User) -> dict[str, Any]:
    memberships = session.execute(
        select(Organisation.slug, Organisation.name, Membership.role, Membership.created_at)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == user.id)
        .order_by(Organisation.name)
    )
    consents = session.scalars(
        select(Consent).where(Consent.user_id == user.id).order_by(Consent.granted_at)
    )
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
    )
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "created_at": _plain(user.created_at),
        "last_sign_in_at": _plain(user.last_login_at),
        "platform_administrator": user.is_platform_admin,
        "collects_credentials_from_any_issuer": user.email_trusted,
        "memberships": [
            {"organisation": slug, "organisation_name": name, "role": _plain(role), "since": at}
            for slug, name, role, at in memberships
        ],
        "consents": [
            {"purpose": c.purpose, "granted_at": c.granted_at, "withdrawn_at": c.withdrawn_at}
            for c in consents
        ],
        "api_tokens": [
            {
                "name": t.name,
                "starts_with": t.prefix,
                "scopes": t.scopes,
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "revoked_at": t.revoked_at,
                "last_used_at": t.last_used_at,
            }
            for t in tokens
        ],
    }


def _credentials(session: Session, user_id: str) -> Iterator[tuple[str, bytes]]:
    index = []
    for credential in session.scalars(
        select(IssuedCredential)
        .where(IssuedCredential.recipient_user_id == user_id)
        .order_by(IssuedCredential.issued_at, IssuedCredential.id)
    ):
        index.append(
            {
                "id": credential.id,
                "name": credential.achievement_name,
                "issued_at": credential.issued_at,
                "valid_until": credential.valid_until,
                "state": _plain(credential.state),
                "state_reason": credential.state_reason,
                "files": [f"{credential.id}.json"]
                + [f"{credential.id}.{form}.jwt" for form in sorted(credential.jwts)],
            }
        )
        yield f"credentials/{credential.id}.json", _json(credential.document)
        for form, token in sorted(credential.jwts.items()):
            yield f"credentials/{credential.id}.{form}.jwt", token.encode("ascii")
    yield "credentials/index.json", _json(index)


def _actions(session: Session, user_id: str) -> list[dict[str, Any]]:
    events = session.execute(
        select(AuditEvent.at, AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id)
        .where(AuditEvent.actor_user_id == user_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [
        {"at": _plain(at), "action": action, "object_type": kind, "object_id": object_id}
        for at, action, kind, object_id in events
    ]


def export_personal_data(
    session: Session,
    principal: Principal,
    *,
    site: str,
    read_evidence: Callable[[str], bytes] | None = None,
    now: datetime | None = None,
) -> bytes:
    """Everything the platform holds about the principal's own account, as a ZIP archive
    (``read_evidence`` reads a stored evidence file by its stored name). Audited."""
    user = session.get(User, principal.user_id)
    if user is None:
        raise PermissionDenied("No such account.")
    now = now or datetime.now(UTC)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(site=site, at=_plain(now), email=user.email))
        archive.writestr("account.json", _json(_account(session, user)))
        for name, data in _credentials(session, user.id):
            archive.writestr(name, data)
        for owned in owned_tables():
            rows = _rows(session, owned, user.id)
            archive.writestr(f"tables/{owned.table.name}.json", _json(rows))
            if owned.table.name == EVIDENCE_TABLE and read_evidence is not None:
                for row in rows:
                    _add_evidence(archive, row, read_evidence)
        archive.writestr("actions.json", _json(_actions(session, user.id)))
    record_audit(
        session, principal, "account.exported", object_type="user", object_id=user.id,
        summary="Downloaded their own data",
    )  # fmt: skip
    return buffer.getvalue()


def _add_evidence(
    archive: zipfile.ZipFile, row: dict[str, Any], read: Callable[[str], bytes]
) -> None:
    stored = row.get("stored_name")
    if not stored:
        return
    try:
        data = read(stored)
    except Exception:
        data = b"(this file is no longer stored)"
    safe = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in str(row["name"]))
    archive.writestr(f"evidence/{row['submission_id']}/{row['id']}-{safe[:100]}", data)


# --- erasure -----------------------------------------------------------------------------------


def erasure_blockers(session: Session, user_id: str) -> list[str]:
    """Why the account cannot be erased now (empty when it can)."""
    user = session.get(User, user_id)
    if user is None:
        return ["No such account."]
    reasons = []
    if user.is_platform_admin:
        reasons.append(
            "You are a platform administrator: the operator must take the role from you "
            "first (microcred accounts platform-admin EMAIL --revoke, on the server)."
        )
    for name in _sole_admin_of(session, user_id):
        reasons.append(
            f"You are the only administrator of {name}: make someone else an administrator "
            "there first (Members)."
        )
    return reasons


def _sole_admin_of(session: Session, user_id: str) -> list[str]:
    mine = select(Membership.organisation_id).where(
        Membership.user_id == user_id, Membership.role == Role.admin
    )
    admins = (
        select(Membership.organisation_id, func.count().label("admins"))
        .where(Membership.role == Role.admin, Membership.organisation_id.in_(mine))
        .group_by(Membership.organisation_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(Organisation.name)
            .join(admins, admins.c.organisation_id == Organisation.id)
            .where(admins.c.admins == 1)
            .order_by(Organisation.name)
        )
    )


def erase_account(
    session: Session,
    principal: Principal,
    *,
    password: str,
    confirmation: str,
    remove_evidence: Callable[[str], None] | None = None,
) -> int:
    """Delete the principal's account and everything that belongs to it (see the module), once
    they gave their password and typed :data:`ERASE_CONFIRMATION`. Evidence files are removed
    from disk only after the transaction commits (``remove_evidence``), so a rolled-back erasure
    loses nothing. Returns how many credentials issued to them stay (unlinked)."""
    if principal.scopes is not None:
        raise PermissionDenied("An account is erased from its own signed-in session only.")
    user = session.get(User, principal.user_id)
    if user is None:
        raise PermissionDenied("No such account.")
    if confirmation.strip().lower() != ERASE_CONFIRMATION:
        raise PrivacyError(f"Type “{ERASE_CONFIRMATION}” to confirm.", field="confirmation")
    if not verify_password(user.password_hash, password):
        raise PrivacyError("That is not your password.", field="password")
    blockers = erasure_blockers(session, user.id)
    if blockers:
        raise PrivacyError(" ".join(blockers))
    files = _evidence_files(session, user.id)
    kept = session.scalar(
        select(func.count())
        .select_from(IssuedCredential)
        .where(IssuedCredential.recipient_user_id == user.id)
    )
    record_audit(
        session, principal, "account.erased", object_type="user", object_id=user.id,
        details={"credentials_unlinked": kept, "evidence_files": len(files)},
        summary="Erased their own account",
    )  # fmt: skip
    session.delete(user)
    session.flush()
    if remove_evidence is not None and files:

        def remove_files(_session: Session) -> None:
            for name in files:
                remove_evidence(name)

        event.listen(session, "after_commit", remove_files, once=True)
    return int(kept or 0)


def _evidence_files(session: Session, user_id: str) -> list[str]:
    owned = next((o for o in owned_tables() if o.table.name == EVIDENCE_TABLE), None)
    if owned is None:
        return []
    stored = owned.table.c.stored_name
    return [
        name
        for name in session.scalars(select(stored).where(owned.rows_of(user_id)))
        if name is not None
    ]

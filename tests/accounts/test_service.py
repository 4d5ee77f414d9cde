"""Accounts service: passwords, sign-in, roles, tokens, consent, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import AuditEvent, Role, User
from microcred.accounts.passwords import hash_password, verify_password
from microcred.accounts.service import AccountError, AuthenticationFailed
from microcred.errors import PermissionDenied
from tests.conftest import PASSWORD, World


def test_password_hash_is_argon2id_and_verifies_only_the_right_password() -> None:
    hashed = hash_password("a long enough secret", fast=True)
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "a long enough secret")
    assert not verify_password(hashed, "a long enough secreT")
    assert not verify_password("not a hash", "anything")


@pytest.mark.both_databases
def test_authenticate_accepts_right_password_and_refuses_wrong_one(
    sessions: sessionmaker[Session], world: World
) -> None:
    with sessions.begin() as session:
        user = accounts.authenticate(session, "STAFF@north.example ", PASSWORD)
        assert user.id == world.staff.id
        assert user.last_login_at is not None
        with pytest.raises(AuthenticationFailed) as wrong:
            accounts.authenticate(session, world.staff.email, PASSWORD + "x")
        with pytest.raises(AuthenticationFailed) as unknown:
            accounts.authenticate(session, "nobody@example.org", PASSWORD)
    assert wrong.value.message == unknown.value.message  # nothing leaks which one was wrong


def test_create_user_validates_email_password_and_duplicates(session: Session) -> None:
    with pytest.raises(AccountError) as bad_email:
        accounts.create_user(session, email="not-an-email", name="X", password=PASSWORD)
    assert bad_email.value.field == "email"
    with pytest.raises(AccountError) as short:
        accounts.create_user(session, email="a@b.example", name="X", password="short")
    assert short.value.field == "password"
    accounts.create_user(session, email="a@b.example", name="A", password=PASSWORD, fast_hash=True)
    with pytest.raises(AccountError, match="already exists"):
        accounts.create_user(
            session, email="A@B.example", name="A", password=PASSWORD, fast_hash=True
        )


def test_organisation_slug_and_kind_are_validated(session: Session) -> None:
    with pytest.raises(AccountError) as bad_slug:
        accounts.create_organisation(session, slug="Bad Slug", name="X", kind="issuer")
    assert bad_slug.value.field == "slug"
    with pytest.raises(AccountError) as bad_kind:
        accounts.create_organisation(session, slug="fine-slug", name="X", kind="charity")
    assert bad_kind.value.field == "kind"


def test_principal_roles_are_per_organisation(
    sessions: sessionmaker[Session], world: World
) -> None:
    with sessions() as session:
        staff = accounts.principal_for(session, session.get(User, world.staff.id))  # type: ignore[arg-type]
        admin = accounts.principal_for(session, session.get(User, world.admin.id))  # type: ignore[arg-type]
    assert staff.can(world.college.id, Role.issuer_staff)
    assert not staff.can(world.academy.id, Role.issuer_staff)
    assert not staff.can(world.college.id, Role.assessor)
    assert admin.can(world.college.id, Role.assessor)  # admin holds every role in its org
    assert not admin.can(world.academy.id, Role.issuer_staff)
    with pytest.raises(PermissionDenied):
        staff.require(world.academy.id, Role.issuer_staff)
    assert staff.organisations_with(Role.issuer_staff) == [world.college.id]


def test_api_token_grants_only_its_scopes_and_organisation(
    sessions: sessionmaker[Session], world: World
) -> None:
    with sessions.begin() as session:
        staff = accounts.principal_for(session, session.get(User, world.staff.id))  # type: ignore[arg-type]
        token, secret = accounts.create_api_token(
            session, staff, name="ci", scopes=["catalogue:read"], organisation_id=world.college.id
        )
        assert token.token_hash not in secret and secret.startswith("mcr_")
    with sessions.begin() as session:
        from_token = accounts.principal_for_token(session, secret)
    assert from_token.can(world.college.id, Role.issuer_staff, scope="catalogue:read")
    assert not from_token.can(world.college.id, Role.issuer_staff, scope="catalogue:write")


def test_api_token_refuses_unknown_scope_foreign_org_revoked_and_expired(
    sessions: sessionmaker[Session], world: World
) -> None:
    with sessions.begin() as session:
        staff = accounts.principal_for(session, session.get(User, world.staff.id))  # type: ignore[arg-type]
        with pytest.raises(AccountError) as unknown:
            accounts.create_api_token(session, staff, name="x", scopes=["root"])
        assert unknown.value.field == "scopes"
        with pytest.raises(PermissionDenied):
            accounts.create_api_token(
                session,
                staff,
                name="x",
                scopes=["catalogue:read"],
                organisation_id=world.academy.id,
            )
        revoked, revoked_secret = accounts.create_api_token(
            session, staff, name="r", scopes=["catalogue:read"]
        )
        accounts.revoke_api_token(session, staff, revoked.id)
        _, expired_secret = accounts.create_api_token(
            session, staff, name="e", scopes=["catalogue:read"], valid_for=timedelta(seconds=-1)
        )
    with sessions() as session:
        for secret in (revoked_secret, expired_secret, "mcr_forged", "garbage"):
            with pytest.raises(AuthenticationFailed):
                accounts.principal_for_token(session, secret)


def test_privileged_actions_are_audited_and_only_admins_read_the_log(
    sessions: sessionmaker[Session], world: World
) -> None:
    with sessions.begin() as session:
        staff = accounts.principal_for(session, session.get(User, world.staff.id))  # type: ignore[arg-type]
        accounts.create_api_token(
            session, staff, name="ci", scopes=["catalogue:read"], organisation_id=world.college.id
        )
    with sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "token.create"))
        assert [e.actor_user_id for e in events] == [world.staff.id]
        admin = accounts.principal_for(session, session.get(User, world.admin.id))  # type: ignore[arg-type]
        assert [e.action for e in accounts.audit_log(session, admin, world.college.id)] == [
            "token.create"
        ]
        with pytest.raises(PermissionDenied):
            accounts.audit_log(session, staff, world.college.id)


def test_consent_is_required_and_can_be_withdrawn(session: Session, world: World) -> None:
    assert not accounts.has_consent(session, world.learner.id, "talent_search")
    consent = accounts.grant_consent(session, world.learner.id, "talent_search")
    assert accounts.has_consent(session, world.learner.id, "talent_search")
    accounts.withdraw_consent(session, world.learner.id, "talent_search")
    assert consent.withdrawn_at is not None
    assert not accounts.has_consent(session, world.learner.id, "talent_search")

"""Running a platform: organisations, invitations, members, the operator's commands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import admin
from microcred.accounts import service as accounts
from microcred.accounts.models import AuditEvent, Invitation, Membership, Role, User
from microcred.accounts.service import AccountError, authenticate
from microcred.credentials import service as credentials
from microcred.db.base import utcnow
from microcred.errors import NotFound, PermissionDenied
from microcred.settings import Settings
from tests.catalogue.factories import skills
from tests.conftest import World
from tests.credentials.service.conftest import definition_id

__all__ = ["definition_id", "skills"]  # fixtures


def principal(session: Session, user: User, scopes: list[str] | None = None) -> accounts.Principal:
    return accounts.principal_for(session, session.get(User, user.id) or user, scopes=scopes)


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.at)))


@pytest.mark.both_databases
def test_an_admin_invites_the_invitee_accepts_and_finds_what_was_issued_to_them(
    db_backend: str, sessions: sessionmaker[Session], world: World, settings: Settings,
    definition_id: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:  # issued before the learner has an account
        issued = credentials.issue_credential(
            session, None, definition_id=definition_id, recipient_email="new@example.org",
            results=[{"level": "Competent"}], settings=settings,
        )  # fmt: skip
        assert issued.recipient_user_id is None
        invited = admin.invite(
            session, principal(session, world.admin), "north-college",
            email=" New@Example.org ", role="issuer_staff",
        )  # fmt: skip
    assert invited.secret is not None and invited.secret.startswith("inv_")
    assert invited.email == "new@example.org" and invited.membership is None
    with sessions() as session:  # only a hash is kept
        stored = session.scalars(select(Invitation)).one()
        assert invited.secret not in (stored.token_hash, stored.email)
        assert [i.email for i in admin.pending_invitations(session, None, "north-college")] == [
            "new@example.org"
        ]
    with sessions.begin() as session:
        with pytest.raises(AccountError) as short:
            admin.accept_invitation(session, invited.secret, name="Nia New", password="short")
        assert short.value.field == "password"
    with sessions.begin() as session:
        user = admin.accept_invitation(
            session, invited.secret, name="Nia New", password="a-long-password"
        )
        user_id = user.id
    with sessions.begin() as session:
        signed_in = authenticate(session, "new@example.org", "a-long-password")
        assert principal(session, signed_in).roles_in(world.college.id) == {Role.issuer_staff}
        assert [c.id for c in credentials.credentials_of_learner(session, user_id)] == [issued.id]
        with pytest.raises(NotFound):  # a link works once
            admin.accept_invitation(session, invited.secret, name="Again", password="x" * 12)
        assert admin.pending_invitations(session, None, "north-college") == []
        assert actions(session)[-2:] == [
            "accounts.invitation.created", "accounts.invitation.accepted"
        ]  # fmt: skip
        accepted = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "accounts.invitation.accepted")
        ).one()
        assert accepted.details["credentials_linked"] == 1


def test_inviting_an_existing_account_adds_the_membership_at_once(
    sessions: sessionmaker[Session], world: World
) -> None:
    with sessions.begin() as session:
        done = admin.invite(
            session, principal(session, world.admin), "north-college",
            email=world.employer.email, role="assessor",
        )  # fmt: skip
        assert done.secret is None and done.membership is not None
        assert principal(session, world.employer).roles_in(world.college.id) == {Role.assessor}
        with pytest.raises(AccountError) as twice:
            admin.invite(session, None, "north-college", email=world.employer.email,
                         role="assessor")  # fmt: skip
        assert twice.value.status_code == 409
        with pytest.raises(AccountError) as bad_role:
            admin.invite(session, None, "north-college", email="x@example.org", role="owner")
        assert bad_role.value.field == "role"
        with pytest.raises(AccountError) as bad_email:
            admin.invite(session, None, "north-college", email="not-an-address", role="learner")
        assert bad_email.value.field == "email"


def test_only_admins_of_the_organisation_manage_its_members(
    sessions: sessionmaker[Session], world: World, platform_admin: str
) -> None:
    with sessions.begin() as session:
        for user in (world.staff, world.other_staff, world.learner, world.employer):
            with pytest.raises(PermissionDenied):
                admin.invite(session, principal(session, user), "north-college",
                             email="x@example.org", role="assessor")  # fmt: skip
            with pytest.raises(PermissionDenied):
                admin.members_of(session, principal(session, user), "north-college")
        for user in (world.other_staff, world.learner, world.employer, world.assessor):
            with pytest.raises(PermissionDenied):
                admin.invite(session, principal(session, user), "north-college",
                             email="x@example.org", role="learner")  # fmt: skip
        # issuer staff invite learners (the recipients of what they issue), with a token only
        # if it may issue
        reader = principal(session, world.staff, scopes=["credentials:read"])
        with pytest.raises(PermissionDenied):
            admin.invite(session, reader, "north-college", email="x@example.org", role="learner")
        staff_invited = admin.invite(session, principal(session, world.staff), "north-college",
                                     email="x@example.org", role="learner")  # fmt: skip
        assert staff_invited.secret is not None
        token_without_scope = principal(session, world.admin, scopes=["credentials:issue"])
        with pytest.raises(PermissionDenied):
            admin.members_of(session, token_without_scope, "north-college")
        with pytest.raises(PermissionDenied):  # North's admin is nobody at South
            admin.members_of(session, principal(session, world.admin), "south-academy")
        root = session.scalar(select(User).where(User.email == platform_admin))
        assert root is not None
        emails = {m.email for m in admin.members_of(session, principal(session, root),
                                                     "south-academy")}  # fmt: skip
        assert emails == {world.other_staff.email}
        with pytest.raises(PermissionDenied):
            admin.add_organisation(session, principal(session, world.admin), slug="new-org",
                                   name="New", kind="issuer")  # fmt: skip
        made = admin.add_organisation(
            session, principal(session, root), slug="west-institute", name="West Institute",
            kind="institution", country="de",
        )  # fmt: skip
        assert (made.kind.value, made.country) == ("institution", "DE")
        with pytest.raises(AccountError) as country:
            admin.add_organisation(session, None, slug="east", name="East", kind="issuer",
                                   country="Germany")  # fmt: skip
        assert country.value.field == "country"


def test_removing_members_never_removes_the_last_admin(
    sessions: sessionmaker[Session], world: World
) -> None:
    with sessions.begin() as session:
        acting = principal(session, world.admin)
        members = {m.email: m for m in admin.members_of(session, acting, "north-college")}
        admin.remove_member(session, acting, members[world.staff.email].membership_id)
        assert principal(session, world.staff).roles_in(world.college.id) == frozenset()
        with pytest.raises(AccountError) as last:
            admin.remove_member(session, acting, members[world.admin.email].membership_id)
        assert last.value.status_code == 409 and "last admin" in last.value.message
        with pytest.raises(NotFound):
            admin.remove_member(session, acting, "0" * 32)
        south = session.scalars(
            select(Membership).where(Membership.organisation_id == world.academy.id)
        ).first()
        assert south is not None
        with pytest.raises(PermissionDenied):
            admin.remove_member(session, acting, south.id)
        assert actions(session)[-1] == "accounts.member.removed"


def test_expired_and_withdrawn_invitations_cannot_be_accepted(
    sessions: sessionmaker[Session], world: World
) -> None:
    with sessions.begin() as session:
        expired = admin.invite(session, None, "north-college", email="a@example.org",
                               role="learner")  # fmt: skip
        withdrawn = admin.invite(session, None, "north-college", email="b@example.org",
                                 role="learner")  # fmt: skip
        assert expired.invitation is not None and withdrawn.invitation is not None
        expired.invitation.expires_at = utcnow() - timedelta(seconds=1)
        admin.withdraw_invitation(session, principal(session, world.admin),
                                  withdrawn.invitation.id)  # fmt: skip
    with sessions.begin() as session:
        for secret in (expired.secret, withdrawn.secret, "inv_unknown"):
            with pytest.raises(NotFound):
                admin.accept_invitation(session, secret or "", name="X", password="x" * 12)
        assert session.scalar(select(User).where(User.email == "a@example.org")) is None


def test_the_operator_creates_the_first_admin_and_resets_passwords(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        admin.create_platform_admin(
            session, email="ops@example.org", name="Ops", password="first-password"
        )
    with sessions.begin() as session:
        assert authenticate(session, "ops@example.org", "first-password").is_platform_admin
        admin.set_password(session, email="OPS@example.org", password="second-password")
    with sessions.begin() as session:
        assert authenticate(session, "ops@example.org", "second-password").is_platform_admin
        with pytest.raises(AccountError):
            admin.set_password(session, email="ops@example.org", password="short")
        with pytest.raises(NotFound):
            admin.set_password(session, email="nobody@example.org", password="long-enough-1")
        assert "accounts.password.set" in actions(session)


@pytest.mark.both_databases
def test_staff_invite_the_recipients_of_a_job_once_each_and_a_new_link_replaces_the_old(
    db_backend: str, sessions: sessionmaker[Session], world: World, settings: Settings,
    definition_id: str,
) -> None:  # fmt: skip
    from microcred.credentials import bulk

    with sessions.begin() as session:  # Ren: an account South Academy's admin made by invitation
        south_admin = session.get(User, world.other_staff.id)
        assert south_admin is not None
        accounts.add_membership(session, south_admin, world.academy, Role.admin)
        ren_invited = admin.invite(session, principal(session, south_admin), "south-academy",
                                   email="ren@example.org", role="learner")  # fmt: skip
        ren = admin.accept_invitation(session, ren_invited.secret or "", name="Ren",
                                      password="ren-password-1")  # fmt: skip
        assert ren.email_trusted is False
    rows = "definition_id,recipient_email,recipient_name\n" + "".join(
        f"{definition_id},{email},{name}\n"
        for email, name in [("a@example.org", "Ann"), ("b@example.org", "Bo"),
                            ("a@example.org", "Ann"), ("ren@example.org", "Ren"),
                            (world.employer.email, "Emma")]
    )  # fmt: skip
    with sessions.begin() as session:
        job_id = bulk.create_job(session, None, "north-college", rows.encode()).id
    bulk.run_job(sessions, job_id, settings)
    with sessions.begin() as session:
        staff = principal(session, world.staff)
        first = admin.invite_recipients(session, staff, "north-college", bulk_job_id=job_id)
    # Emma's account the platform made: linked at issuance, nobody to invite. Ren's account
    # South Academy made: nothing proves who accepted that link, so North College's credential
    # was not linked to it, and Ren gets a link too
    assert [(r.email, r.name, r.secret is not None) for r in first] == [
        ("a@example.org", "Ann", True), ("b@example.org", "Bo", True),
        ("ren@example.org", "Ren", True),
    ]  # fmt: skip
    with sessions.begin() as session:
        ren_link = first[2].secret or ""
        with pytest.raises(PermissionDenied):  # someone else signed in cannot take it
            admin.join_with_invitation(session, ren_link, principal(session, world.staff))
        with pytest.raises(AccountError):  # nor make a second account for the address
            admin.accept_invitation(session, ren_link, name="X", password="x" * 12)
        joined = admin.join_with_invitation(session, ren_link, principal(session, ren))
        assert len(credentials.credentials_of_learner(session, joined.id)) == 1
        assert principal(session, joined).roles_in(world.college.id) == {Role.learner}
    with sessions.begin() as session:
        again = admin.invite_recipients(
            session, principal(session, world.staff), "north-college", bulk_job_id=job_id
        )
        assert len(admin.pending_invitations(session, None, "north-college")) == 2
        assert [r.email for r in again] == ["a@example.org", "b@example.org"]  # Ren holds his
    with sessions.begin() as session, pytest.raises(NotFound):  # the first link was replaced
        admin.accept_invitation(session, first[0].secret or "", name="Ann",
                                password="ann-password-1")  # fmt: skip
    with sessions.begin() as session:
        ann = admin.accept_invitation(session, again[0].secret or "", name="Ann",
                                      password="ann-password-1")  # fmt: skip
        assert len(credentials.credentials_of_learner(session, ann.id)) == 1  # rows 1, 3 alike
        assert principal(session, ann).roles_in(world.college.id) == {Role.learner}
    with sessions.begin() as session:
        with pytest.raises(PermissionDenied):
            admin.invite_recipients(session, principal(session, world.other_staff),
                                    "north-college", bulk_job_id=job_id)  # fmt: skip
        rest = admin.invite_recipients(
            session, principal(session, world.staff), "north-college", bulk_job_id=job_id
        )
    assert [r.email for r in rest] == ["b@example.org"]  # Ann holds hers now


def test_an_account_the_platform_does_not_vouch_for_joins_only_by_its_link(
    sessions: sessionmaker[Session], world: World
) -> None:
    with sessions.begin() as session:
        made = admin.invite(session, principal(session, world.admin), "north-college",
                            email="kai@example.org", role="learner")  # fmt: skip
        kai = admin.accept_invitation(session, made.secret or "", name="Kai",
                                      password="kai-password-1")  # fmt: skip
        south_admin = session.get(User, world.other_staff.id)
        assert south_admin is not None
        accounts.add_membership(session, south_admin, world.academy, Role.admin)
        again = admin.invite(session, principal(session, south_admin), "south-academy",
                             email="kai@example.org", role="issuer_staff")  # fmt: skip
        assert again.membership is None and again.secret is not None  # a link, not at once
        assert principal(session, kai).roles_in(world.academy.id) == frozenset()
        admin.join_with_invitation(session, again.secret, principal(session, kai))
        assert principal(session, kai).roles_in(world.academy.id) == {Role.issuer_staff}

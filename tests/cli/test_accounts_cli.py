"""``microcred accounts …``: the operator sets up a fresh install from the server's command line."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.accounts import admin
from microcred.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from microcred.accounts.service import authenticate
from microcred.cli.accounts import PASSWORD_VARIABLE
from microcred.cli.main import app
from microcred.settings import Settings
from tests.conftest import World

NEW_PASSWORD = "a long enough secret"
NO_PASSWORD_IN_ENV: dict[str, str | None] = {PASSWORD_VARIABLE: None}


def with_password(password: str) -> dict[str, str | None]:
    return {PASSWORD_VARIABLE: password}


def test_create_admin_takes_the_password_from_the_environment(
    runner: CliRunner, sessions: sessionmaker[Session]
) -> None:
    result = runner.invoke(
        app, ["accounts", "create-admin", " Root@Platform.example ", "--name", "Pat Platform"],
        env=with_password(NEW_PASSWORD),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "root@platform.example" in result.output
    assert NEW_PASSWORD not in result.output
    with sessions() as session:
        user = authenticate(session, "root@platform.example", NEW_PASSWORD)
        assert user.is_platform_admin and user.name == "Pat Platform"


def test_create_admin_asks_for_the_password_twice_when_the_environment_has_none(
    runner: CliRunner, sessions: sessionmaker[Session]
) -> None:
    result = runner.invoke(
        app, ["accounts", "create-admin", "root@platform.example", "--name", "Pat"],
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n", env=NO_PASSWORD_IN_ENV,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output  # the prompt hides what is typed
    with sessions() as session:
        assert authenticate(session, "root@platform.example", NEW_PASSWORD).is_platform_admin


def test_create_admin_refuses_a_short_password_and_creates_nobody(
    runner: CliRunner, sessions: sessionmaker[Session]
) -> None:
    result = runner.invoke(
        app, ["accounts", "create-admin", "root@platform.example", "--name", "Pat"],
        env=with_password("short"),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "password must be at least 10 characters" in result.output
    with sessions() as session:
        assert session.scalars(select(User)).all() == []


def test_create_admin_refuses_a_bad_address_before_asking_for_a_password(
    runner: CliRunner,
) -> None:
    result = runner.invoke(
        app, ["accounts", "create-admin", "not-an-address", "--name", "Pat"],
        env=NO_PASSWORD_IN_ENV,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "'not-an-address' is not a valid e-mail address" in result.output
    assert "password" not in result.output.lower()


def test_create_admin_refuses_an_address_that_has_an_account(
    runner: CliRunner, world: World
) -> None:
    result = runner.invoke(
        app, ["accounts", "create-admin", world.staff.email, "--name", "Sam"],
        env=with_password(NEW_PASSWORD),
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"An account for {world.staff.email} already exists" in result.output


def test_set_password_replaces_the_old_one(
    runner: CliRunner, world: World, sessions: sessionmaker[Session]
) -> None:
    result = runner.invoke(
        app, ["accounts", "set-password", world.staff.email], env=with_password(NEW_PASSWORD)
    )
    assert result.exit_code == 0, result.output
    assert f"Password set for {world.staff.email}" in result.output
    with sessions() as session:
        assert authenticate(session, world.staff.email, NEW_PASSWORD).id == world.staff.id


def test_set_password_for_an_unknown_address_exits_2(runner: CliRunner, world: World) -> None:
    result = runner.invoke(
        app, ["accounts", "set-password", "nobody@example.org"], env=with_password(NEW_PASSWORD)
    )
    assert result.exit_code == 2
    assert "No account for nobody@example.org" in result.output


def test_create_organisation_then_it_has_no_members(
    runner: CliRunner, sessions: sessionmaker[Session]
) -> None:
    created = runner.invoke(
        app, ["accounts", "create-organisation", "west-institute", "--name", "West Institute",
              "--kind", "institution", "--country", "de", "--category", "university"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "west-institute" in created.output
    with sessions() as session:
        organisation = session.scalars(select(Organisation)).one()
        assert (organisation.name, organisation.kind, organisation.country) == (
            "West Institute", OrganisationKind.institution, "DE",
        )  # fmt: skip
    listed = runner.invoke(app, ["accounts", "members", "west-institute"])
    assert listed.exit_code == 0, listed.output
    assert "No members." in listed.output and "No open invitations." in listed.output


def test_create_organisation_with_a_bad_kind_names_kind(
    runner: CliRunner, sessions: sessionmaker[Session]
) -> None:
    result = runner.invoke(
        app, ["accounts", "create-organisation", "west-institute", "--name", "West",
              "--kind", "school"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "(kind)" in result.output and "issuer, employer, institution" in result.output
    with sessions() as session:
        assert session.scalars(select(Organisation)).all() == []


def test_create_organisation_with_a_taken_slug_exits_2(runner: CliRunner, world: World) -> None:
    result = runner.invoke(
        app, ["accounts", "create-organisation", "north-college", "--name", "Again",
              "--kind", "issuer"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "slug 'north-college' already exists" in result.output


def test_invite_a_new_address_prints_a_link_that_can_be_accepted(
    runner: CliRunner, world: World, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    result = runner.invoke(
        app, ["accounts", "invite", "north-college", "New@Example.org", "--role", "admin"]
    )
    assert result.exit_code == 0, result.output
    assert "new@example.org" in result.output
    assert "14 days" in result.output and "only once" in result.output
    found = re.search(r"(\S+)/invitations/(inv_[A-Za-z0-9_-]+)", result.output)
    assert found, result.output
    assert found.group(1) == settings.base_url.rstrip("/")
    with sessions.begin() as session:
        user = admin.accept_invitation(
            session, found.group(2), name="Nia New", password=NEW_PASSWORD
        )
        roles = session.scalars(
            select(Membership.role).where(
                Membership.user_id == user.id,
                Membership.organisation_id == world.college.id,
            )
        ).all()
        assert roles == [Role.admin]
    with sessions() as session:
        assert authenticate(session, "new@example.org", NEW_PASSWORD).name == "Nia New"


def test_invite_an_existing_account_adds_the_membership_at_once(
    runner: CliRunner, world: World, sessions: sessionmaker[Session]
) -> None:
    result = runner.invoke(
        app, ["accounts", "invite", "south-academy", world.staff.email, "--role", "assessor"]
    )
    assert result.exit_code == 0, result.output
    assert "membership was added" in result.output
    assert "/invitations/" not in result.output
    with sessions() as session:
        assert session.scalars(
            select(Membership.role).where(
                Membership.user_id == world.staff.id,
                Membership.organisation_id == world.academy.id,
            )
        ).all() == [Role.assessor]


def test_invite_with_a_bad_role_names_role(runner: CliRunner, world: World) -> None:
    result = runner.invoke(
        app, ["accounts", "invite", "north-college", "x@example.org", "--role", "boss"]
    )
    assert result.exit_code == 2
    assert "(role)" in result.output and "role must be one of" in result.output


def test_members_lists_members_and_open_invitations(runner: CliRunner, world: World) -> None:
    invited = runner.invoke(
        app, ["accounts", "invite", "north-college", "new@example.org", "--role", "learner"]
    )
    assert invited.exit_code == 0, invited.output
    result = runner.invoke(app, ["accounts", "members", "north-college"])
    assert result.exit_code == 0, result.output
    members_part, invitations_part = result.output.split("Open invitations")
    for user, role in (
        (world.admin, "admin"), (world.staff, "issuer_staff"), (world.assessor, "assessor"),
        (world.learner, "learner"),
    ):  # fmt: skip
        line = next(line for line in members_part.splitlines() if user.email in line)
        assert user.name in line and role in line
    assert world.other_staff.email not in result.output  # South Academy's, not North College's
    line = next(line for line in invitations_part.splitlines() if "new@example.org" in line)
    assert "learner" in line and re.search(r"\d{4}-\d{2}-\d{2}", line)


def test_an_unknown_organisation_exits_2(runner: CliRunner, world: World) -> None:
    for command in (
        ["accounts", "members", "nowhere"],
        ["accounts", "invite", "nowhere", "x@example.org", "--role", "admin"],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 2, command
        assert "No organisation 'nowhere'" in result.output


def test_the_operator_grants_and_revokes_platform_administration_never_the_last(
    runner: CliRunner, sessions: sessionmaker[Session], world: World, platform_admin: str
) -> None:
    granted = runner.invoke(app, ["accounts", "platform-admin", "Staff@North.example"])
    assert granted.exit_code == 0 and "is a platform administrator" in granted.output
    revoked = runner.invoke(app, ["accounts", "platform-admin", platform_admin, "--revoke"])
    assert revoked.exit_code == 0 and "is no longer one" in revoked.output
    last = runner.invoke(app, ["accounts", "platform-admin", "staff@north.example", "--revoke"])
    assert last.exit_code == 2 and "only platform administrator" in last.output
    unknown = runner.invoke(app, ["accounts", "platform-admin", "nobody@example.org"])
    assert unknown.exit_code == 2 and "No account" in unknown.output
    with sessions() as session:
        admins = session.scalars(select(User.email).where(User.is_platform_admin.is_(True))).all()
    assert admins == ["staff@north.example"]

"""Account commands for the operator on the server: the first platform administrator, a
forgotten password, organisations, invitations and who belongs where (``microcred accounts``).

Passwords are never command-line options (they would land in shell history and ``ps``): they come
from ``MICROCRED_NEW_PASSWORD`` when set (for scripts), else from a hidden prompt asked twice."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from microcred.cli.common import console, exits_cleanly, unit_of_work
from microcred.settings import get_settings

PASSWORD_VARIABLE = "MICROCRED_NEW_PASSWORD"

accounts_app = typer.Typer(
    help="Platform administrators, passwords, organisations, invitations and members.",
    no_args_is_help=True,
)


def _new_password() -> str:
    """The password to set: from the environment when set, else typed twice, hidden."""
    from_environment = os.environ.get(PASSWORD_VARIABLE)
    if from_environment is not None:
        return from_environment
    return str(typer.prompt("New password", hide_input=True, confirmation_prompt=True))


@accounts_app.command("create-admin")
@exits_cleanly
def create_admin(
    email: Annotated[str, typer.Argument(help="The administrator's e-mail address (sign-in)")],
    name: Annotated[str, typer.Option(help="Their name as shown on the platform")],
) -> None:
    """Create a platform administrator (the first one on a fresh install).

    The password comes from MICROCRED_NEW_PASSWORD when set, else a hidden prompt."""
    from microcred.accounts import admin
    from microcred.accounts.service import normalise_email

    normalise_email(email)  # a mistyped address is refused before the password is asked for
    password = _new_password()
    with unit_of_work() as session:
        user = admin.create_platform_admin(session, email=email, name=name, password=password)
        console.print(
            f"Created platform administrator {user.email} ({user.name}).", highlight=False
        )


@accounts_app.command("platform-admin")
@exits_cleanly
def platform_admin(
    email: Annotated[str, typer.Argument(help="The account's e-mail address")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Take the role away instead")] = False,
) -> None:
    """Make an existing account a platform administrator, or take the role away (--revoke;
    never from the last one)."""
    from microcred.accounts import admin

    with unit_of_work() as session:
        user = admin.set_platform_admin(session, email=email, admin=not revoke)
        state = "is a platform administrator" if user.is_platform_admin else "is no longer one"
        console.print(f"{user.email} {state}.", highlight=False)


@accounts_app.command("set-password")
@exits_cleanly
def set_password(
    email: Annotated[str, typer.Argument(help="The account's e-mail address")],
) -> None:
    """Set an account's password (a forgotten one).

    The password comes from MICROCRED_NEW_PASSWORD when set, else a hidden prompt."""
    from microcred.accounts import admin
    from microcred.accounts.service import normalise_email

    normalise_email(email)
    password = _new_password()
    with unit_of_work() as session:
        user = admin.set_password(session, email=email, password=password)
        console.print(f"Password set for {user.email}.", highlight=False)


@accounts_app.command("reset-two-factor")
@exits_cleanly
def reset_two_factor(
    email: Annotated[str, typer.Argument(help="The account's e-mail address")],
) -> None:
    """Turn off an account's two-factor authentication (it lost its authenticator app and its
    recovery codes); it signs in with its password alone until it sets it up again. Audited."""
    from sqlalchemy import select

    from microcred.accounts import twofactor
    from microcred.accounts.models import User
    from microcred.accounts.service import normalise_email
    from microcred.errors import NotFound

    address = normalise_email(email)
    with unit_of_work() as session:
        user = session.scalar(select(User).where(User.email == address))
        if user is None:
            raise NotFound(f"No account for {address}.")
        twofactor.reset_for(session, None, user.id, settings=get_settings())
        console.print(f"Two-factor authentication is off for {user.email}.", highlight=False)


@accounts_app.command("reset-link")
@exits_cleanly
def reset_link(
    email: Annotated[str, typer.Argument(help="The account's e-mail address")],
) -> None:
    """Make a one-time password reset link for an account (valid 24 hours; pass it on). A server
    that sends mail also e-mails it to the account."""
    from sqlalchemy import select

    from microcred.accounts import recovery
    from microcred.accounts.models import User
    from microcred.accounts.service import normalise_email
    from microcred.errors import NotFound

    address = normalise_email(email)
    with unit_of_work() as session:
        user = session.scalar(select(User).where(User.email == address))
        if user is None:
            raise NotFound(f"No account for {address}.")
        settings = get_settings()
        made = recovery.create_reset_link(session, None, user.id, settings=settings)
        base = settings.base_url.rstrip("/")
        mailed = " (also e-mailed to them)" if made.mailed else ""
        console.print(
            f"Password reset link for {user.email}{mailed} (valid until "
            f"{made.expires_at:%Y-%m-%d %H:%M} UTC, once):\n{base}/password-reset/{made.secret}",
            highlight=False,
            soft_wrap=True,
        )


@accounts_app.command("create-organisation")
@exits_cleanly
def create_organisation(
    slug: Annotated[str, typer.Argument(help="Its short name in links: lowercase, digits, -")],
    name: Annotated[str, typer.Option(help="Its full name")],
    kind: Annotated[str, typer.Option(help="issuer, employer or institution")],
    country: Annotated[str | None, typer.Option(help="Two-letter ISO 3166 code, e.g. DE")] = None,
    region: Annotated[str | None, typer.Option(help="Region within the country")] = None,
    category: Annotated[str | None, typer.Option(help="e.g. college, online platform")] = None,
) -> None:
    """Create an organisation; then invite its first admin with `accounts invite`."""
    from microcred.accounts import admin

    with unit_of_work() as session:
        organisation = admin.add_organisation(
            session, None, slug=slug, name=name, kind=kind, country=country, region=region,
            category=category,
        )  # fmt: skip
        console.print(
            f"Created organisation {organisation.slug} ({organisation.kind.value}): "
            f"{organisation.name}.\nInvite its first admin: microcred accounts invite "
            f"{organisation.slug} EMAIL --role admin",
            highlight=False,
            soft_wrap=True,
        )


@accounts_app.command("invite")
@exits_cleanly
def invite(
    organisation: Annotated[str, typer.Argument(help="The organisation's slug or id")],
    email: Annotated[str, typer.Argument(help="The invitee's e-mail address")],
    role: Annotated[str, typer.Option(help="admin, issuer_staff, assessor, learner or employer")],
) -> None:
    """Invite someone into an organisation in a role.

    An existing account gets the membership at once; otherwise a one-time link is printed, and
    e-mailed to the invitee when the server sends e-mail (else pass it on)."""
    from microcred.accounts import admin
    from microcred.accounts.mailing import mail_invited
    from microcred.accounts.service import get_organisation

    with unit_of_work() as session:
        invited = admin.invite(session, None, organisation, email=email, role=role)
        mailed = mail_invited(session, get_settings(), invited, None)
        organisation_name = get_organisation(session, organisation).name
    if invited.secret is None:
        console.print(
            f"{invited.email} already has an account: the membership was added "
            f"({invited.role.value} of {organisation_name}).",
            highlight=False,
            soft_wrap=True,
        )
        return
    link = f"{get_settings().base_url.rstrip('/')}/invitations/{invited.secret}"
    console.print(
        f"Invitation for {invited.email} as {invited.role.value} of {organisation_name}. "
        + (
            f"It is e-mailed to them; the link, should they ask you for it (valid "
            f"{admin.INVITATION_DAYS} days, shown only once):"
            if mailed
            else f"Send them this link; it is valid {admin.INVITATION_DAYS} days and shown only "
            "once:"
        ),
        highlight=False,
        soft_wrap=True,
    )
    console.print(link, highlight=False, markup=False, soft_wrap=True)


@accounts_app.command("members")
@exits_cleanly
def members(
    organisation: Annotated[str, typer.Argument(help="The organisation's slug or id")],
) -> None:
    """An organisation's members and its open invitations."""
    from microcred.accounts import admin

    with unit_of_work() as session:
        people = admin.members_of(session, None, organisation)
        invitations = admin.pending_invitations(session, None, organisation)
        members_table = Table("name", "e-mail", "role", title="Members")
        for person in people:
            members_table.add_row(person.name, person.email, person.role.value)
        invitations_table = Table("e-mail", "role", "expires (UTC)", title="Open invitations")
        for invitation in invitations:
            invitations_table.add_row(
                invitation.email, invitation.role.value, f"{invitation.expires_at:%Y-%m-%d %H:%M}"
            )
    console.print(members_table if people else "No members.", highlight=False)
    console.print(invitations_table if invitations else "No open invitations.", highlight=False)


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add the ``accounts`` group."""
    app.add_typer(accounts_app, name="accounts")

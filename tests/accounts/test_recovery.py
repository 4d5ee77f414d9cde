"""Password reset links: who may make one for whom, using one, and its limits."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.accounts import recovery
from microcred.accounts import service as accounts
from microcred.accounts.models import AuditEvent, Membership, Role, User
from microcred.accounts.service import AccountError, AuthenticationFailed, Principal, authenticate
from microcred.cli.main import app as cli
from microcred.db.base import utcnow
from microcred.errors import NotFound, PermissionDenied
from tests.conftest import PASSWORD, World, sign_in_client

NEW = "a fresh passphrase"


def principal(session: Session, user_id: str, scopes: list[str] | None = None) -> Principal:
    user = session.get(User, user_id)
    assert user is not None
    return accounts.principal_for(session, user, scopes=scopes)


def invited_learner(
    sessions: sessionmaker[Session], world: World, email: str, *, also_academy: bool = False
) -> str:
    """A learner made from North College's invitation (the platform does not vouch for it)."""
    with sessions.begin() as session:
        user = accounts.create_user(
            session, email=email, name="Ina Invited", password=PASSWORD, fast_hash=True,
            email_trusted=False,
        )  # fmt: skip
        accounts.add_membership(session, user, world.college, Role.learner)
        if also_academy:
            accounts.add_membership(session, user, world.academy, Role.learner)
        return user.id


@pytest.mark.both_databases
def test_who_may_make_a_reset_link_for_whom(
    db_backend: str, sessions: sessionmaker[Session], world: World, platform_admin: str
) -> None:
    own = invited_learner(sessions, world, "ina@example.org")
    shared = invited_learner(sessions, world, "sam@example.org", also_academy=True)
    with sessions.begin() as session:
        college_admin = principal(session, world.admin.id)
        assert recovery.why_not(session, college_admin, session.get(User, own)) is None  # type: ignore[arg-type]
        refusals = {
            shared: "also a member of organisations you do not administer",
            world.learner.id: "The platform vouches for this account",
            world.admin.id: "Change your own password",
        }
        for user_id, reason in refusals.items():
            with pytest.raises(PermissionDenied, match=reason):
                recovery.create_reset_link(session, college_admin, user_id)
        token = principal(session, world.admin.id, scopes=["accounts:admin"])
        with pytest.raises(PermissionDenied, match="signed-in session"):
            recovery.create_reset_link(session, token, own)
        academy_staff = principal(session, world.other_staff.id)
        with pytest.raises(PermissionDenied):
            recovery.create_reset_link(session, academy_staff, own)
        root = session.scalars(select(User).where(User.email == platform_admin)).one()
        for user_id in (shared, world.learner.id, world.admin.id):
            recovery.create_reset_link(session, principal(session, root.id), user_id)
        assert recovery.create_reset_link(session, None, own).secret.startswith("pwr_")


@pytest.mark.both_databases
def test_a_link_sets_the_password_once_and_expires(
    db_backend: str, sessions: sessionmaker[Session], world: World
) -> None:
    own = invited_learner(sessions, world, "ina@example.org")
    with sessions.begin() as session:
        older = recovery.create_reset_link(session, principal(session, world.admin.id), own)
        made = recovery.create_reset_link(session, principal(session, world.admin.id), own)
    with sessions.begin() as session:
        with pytest.raises(NotFound):  # a newer link withdrew it
            recovery.open_reset(session, older.secret)
        with pytest.raises(AccountError, match="at least 10"):
            recovery.reset_password(session, made.secret, password="short", repeated="short")
        with pytest.raises(AccountError, match="differ"):
            recovery.reset_password(session, made.secret, password=NEW, repeated=NEW + "!")
        later = utcnow() + recovery.RESET_VALID + timedelta(minutes=1)
        with pytest.raises(NotFound):
            recovery.open_reset(session, made.secret, now=later)
    with sessions.begin() as session:  # refused attempts left it usable
        recovery.reset_password(session, made.secret, password=NEW, repeated=NEW)
    with sessions.begin() as session:
        assert authenticate(session, "ina@example.org", NEW).id == own
        with pytest.raises(AuthenticationFailed):
            authenticate(session, "ina@example.org", PASSWORD)
        with pytest.raises(NotFound):
            recovery.reset_password(session, made.secret, password=NEW + "2", repeated=NEW + "2")
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == own).order_by(AuditEvent.at)
        ).all()
    assert actions.count("account.reset_link_created") == 2
    assert "account.password_reset" in actions


def test_an_admin_makes_a_link_on_the_members_page_and_the_learner_uses_it(
    app: object, sessions: sessionmaker[Session], world: World
) -> None:
    own = invited_learner(sessions, world, "ina@example.org")
    learner = TestClient(app)  # type: ignore[arg-type]
    sign_in_client(learner, "ina@example.org")
    admin = TestClient(app)  # type: ignore[arg-type]
    csrf = sign_in_client(admin, "admin@north.example")
    page = admin.get("/manage/members").text
    assert "Forgot your password?" in TestClient(app).get("/sign-in").text  # type: ignore[arg-type]
    with sessions() as session:
        membership = session.scalars(select(Membership).where(Membership.user_id == own)).one()
    assert f"/manage/members/{membership.id}/reset-link" in page
    made = admin.post(
        f"/manage/members/{membership.id}/reset-link",
        data={"csrf_token": csrf, "organisation": "north-college"},
    )
    link = re.search(r'id="reset-link" class="secret">([^<]+)<', made.text)
    assert made.status_code == 200 and link, made.text
    assert "this server sends no e-mail" in made.text and "was e-mailed" not in made.text
    path = link.group(1).split("127.0.0.1:8000", 1)[-1]

    stranger = TestClient(app)  # type: ignore[arg-type]
    form = stranger.get(path)
    assert form.status_code == 200 and "ina@example.org" in form.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    short = stranger.post(path, data={"password": "x", "repeat_password": "x",
                                      "csrf_token": token.group(1)})  # fmt: skip
    assert short.status_code == 400 and 'id="password-error"' in short.text
    done = stranger.post(path, data={"password": NEW, "repeat_password": NEW,
                                     "csrf_token": token.group(1)})  # fmt: skip
    assert done.status_code == 200 and "password-changed" in str(done.url)
    assert stranger.get("/api/v1/me").json()["email"] == "ina@example.org"
    assert learner.get("/api/v1/me").status_code == 401  # the old session ended
    assert stranger.get(path).status_code == 404  # used up

    refused = admin.post(  # a member the college admin cannot reach
        f"/manage/members/{_membership(sessions, world.learner.id)}/reset-link",
        data={"csrf_token": csrf, "organisation": "north-college"},
    )
    assert refused.status_code == 403 and "platform vouches" in refused.text


def _membership(sessions: sessionmaker[Session], user_id: str) -> str:
    with sessions() as session:
        return session.scalars(select(Membership.id).where(Membership.user_id == user_id)).first()  # type: ignore[return-value]


def test_the_operator_makes_a_link_on_the_server(
    runner: CliRunner, sessions: sessionmaker[Session], world: World
) -> None:
    result = runner.invoke(cli, ["accounts", "reset-link", "Learner@Example.org"])
    assert result.exit_code == 0, result.output
    secret = re.search(r"/password-reset/(pwr_\S+)", result.output)
    assert secret
    with sessions.begin() as session:
        recovery.reset_password(session, secret.group(1), password=NEW, repeated=NEW)
    assert runner.invoke(cli, ["accounts", "reset-link", "nobody@example.org"]).exit_code == 2

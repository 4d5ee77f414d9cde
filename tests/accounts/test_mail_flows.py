"""Account e-mails when the server sends mail: asking for a reset link, confirming an address
(and so collecting what was issued to it), invitations; and that nothing changes without mail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.accounts import admin, recovery, verification
from microcred.accounts import service as accounts
from microcred.accounts.mailing import INVITATION_MAIL, RESET_MAIL, mail_recipient_invitations
from microcred.accounts.models import AuditEvent, Membership, User
from microcred.accounts.service import SignInThrottled
from microcred.credentials.service import issue_credential
from microcred.errors import NotFound, PermissionDenied
from microcred.mail.models import MailMessage
from microcred.mail.service import send_pending
from microcred.settings import Settings
from microcred.web.app import create_app
from tests.accounts.test_recovery import invited_learner
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World, sign_in_client
from tests.credentials.service.conftest import definition_id
from tests.mail.smtp import SmtpServer

__all__ = ["definition_id", "skills"]
NEW_PASSWORD = "a brand new passphrase"


def link_in(smtp_server: SmtpServer, address: str, path: str) -> str:
    """The path of the last link to ``path`` e-mailed to ``address`` (text and HTML agree)."""
    pattern = rf"http://127\.0\.0\.1:8000({re.escape(path)}[A-Za-z0-9_\-]+)"
    for mail in reversed(smtp_server.to(address)):
        text, html = mail.get_body(("plain",)), mail.get_body(("html",))
        assert text is not None and html is not None
        found = re.findall(pattern, text.get_content())
        if found:
            assert f'href="http://127.0.0.1:8000{found[-1]}"' in html.get_content()
            return str(found[-1])
    raise AssertionError(f"no {path} link was mailed to {address}")


def of_kind(smtp_server: SmtpServer, kind: str) -> list[EmailMessage]:
    return [m for m in smtp_server.messages if m["X-Microcred-Kind"] == kind]


def queued(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(MailMessage)) or 0)


def csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, path
    return found.group(1)


@pytest.fixture
def mail_client(mail_settings: Settings) -> Iterator[TestClient]:
    """The app sending to the test SMTP server (by ``send_pending`` in the test: no thread)."""
    app = create_app(mail_settings.model_copy(update={"mail_in_server": False}))
    with TestClient(app) as client:
        yield client
    app.state.context.engine.dispose()


# --- forgotten passwords ----------------------------------------------------------------------


@pytest.mark.both_databases
def test_a_reset_link_is_emailed_to_an_account_and_nothing_to_an_unknown_address(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp_server: SmtpServer, world: World
) -> None:
    with sessions.begin() as session:
        recovery.request_reset(session, mail_settings, " Learner@Example.org ", ip="10.0.0.1")
        recovery.request_reset(session, mail_settings, "nobody@example.org", ip="10.0.0.1")
    assert send_pending(sessions, mail_settings).sent == 1
    [mail] = of_kind(smtp_server, RESET_MAIL)
    assert mail["To"] == "learner@example.org" and mail["Subject"] == "Reset your password"
    secret = link_in(smtp_server, "learner@example.org", "/password-reset/").rsplit("/", 1)[1]
    with sessions.begin() as session:
        recovery.reset_password(session, secret, password=NEW_PASSWORD, repeated=NEW_PASSWORD)
        actions = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == recovery.RESET_REQUESTED)
        ).all()
    assert sorted(str(d["account"]) for d in actions) == sorted([world.learner.id, "None"])
    with sessions() as session:
        accounts.authenticate(session, "learner@example.org", NEW_PASSWORD)


@pytest.mark.both_databases
def test_a_new_reset_request_withdraws_the_link_mailed_before(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp_server: SmtpServer, world: World
) -> None:
    for _ in range(2):
        with sessions.begin() as session:
            recovery.request_reset(session, mail_settings, "learner@example.org", ip=None)
        send_pending(sessions, mail_settings)
    first, second = (
        re.search(r"/password-reset/(\S+)", m.get_body(("plain",)).get_content()).group(1)  # type: ignore[union-attr]
        for m in of_kind(smtp_server, RESET_MAIL)
    )
    with sessions() as session:
        with pytest.raises(NotFound):
            recovery.open_reset(session, first)
        assert recovery.open_reset(session, second).user_id == world.learner.id


def test_reset_requests_are_limited_per_address_and_per_network_address_alike(
    sessions: sessionmaker[Session], mail_settings: Settings, world: World
) -> None:
    for address in ("learner@example.org", "nobody@example.org"):
        for _ in range(recovery.MAX_REQUESTS_PER_ADDRESS):
            with sessions.begin() as session:
                recovery.request_reset(session, mail_settings, address, ip=f"10.1.{len(address)}.1")
        with sessions.begin() as session, pytest.raises(SignInThrottled, match="this address"):
            recovery.request_reset(session, mail_settings, address, ip="10.9.9.9")
    for n in range(recovery.MAX_REQUESTS_PER_IP):
        with sessions.begin() as session:
            recovery.request_reset(session, mail_settings, f"p{n}@example.org", ip="10.2.2.2")
    with sessions.begin() as session, pytest.raises(SignInThrottled, match="network address"):
        recovery.request_reset(session, mail_settings, "another@example.org", ip="10.2.2.2")


def test_without_mail_nobody_can_ask_for_a_reset_link(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    with sessions.begin() as session, pytest.raises(NotFound):
        recovery.request_reset(session, settings, "learner@example.org", ip=None)
    page = client.get("/sign-in").text
    assert "Ask an administrator" in page and "/forgot-password" not in page
    assert client.get("/forgot-password").status_code == 404
    response = client.post("/api/v1/account/password-reset", json={"email": "learner@example.org"})
    assert response.status_code == 404


def test_the_forgot_password_page_answers_alike_and_the_mailed_link_signs_in(
    mail_client: TestClient,
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    smtp_server: SmtpServer,
    world: World,
) -> None:
    page = mail_client.get("/sign-in").text
    assert 'href="/forgot-password"' in page and "Ask an administrator" not in page
    answers = []
    for address in ("learner@example.org", "nobody@example.org"):
        response = mail_client.post(
            "/forgot-password",
            data={"email": address, "csrf_token": csrf(mail_client, "/forgot-password")},
        )
        assert response.status_code == 200
        answers.append(response.text.replace(address, "ADDRESS"))
    assert answers[0] == answers[1] and "If an account uses that address" in answers[0]
    missing_token = mail_client.post("/forgot-password", data={"email": "learner@example.org"})
    assert missing_token.status_code == 403
    send_pending(sessions, mail_settings)
    path = link_in(smtp_server, "learner@example.org", "/password-reset/")
    token = csrf(mail_client, path)
    response = mail_client.post(
        path, data={"csrf_token": token, "password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    assert mail_client.get("/api/v1/me").json()["email"] == "learner@example.org"


def test_the_reset_api_answers_202_whether_or_not_an_account_exists(
    mail_client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    known = mail_client.post(
        "/api/v1/account/password-reset", json={"email": "learner@example.org"}
    )
    unknown = mail_client.post("/api/v1/account/password-reset", json={"email": "x@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert queued(sessions) == 1
    bad = mail_client.post("/api/v1/account/password-reset", json={"email": "not an address"})
    assert bad.status_code == 400


# --- confirming an address --------------------------------------------------------------------


@pytest.mark.both_databases
def test_sign_up_mails_a_link_that_collects_what_was_issued_to_the_address(
    mail_client: TestClient,
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    smtp_server: SmtpServer,
    world: World,
    definition_id: str,
) -> None:
    with sessions.begin() as session:
        issued = issue_credential(
            session, None, definition_id=definition_id, recipient_email="nia@example.org",
            recipient_name="Nia New", results=[{"level": "Competent"}], settings=mail_settings,
        )  # fmt: skip
        credential_id = issued.id
    response = mail_client.post(
        "/sign-up",
        data={"name": "Nia New", "email": "nia@example.org", "password": NEW_PASSWORD,
              "repeat_password": NEW_PASSWORD, "csrf_token": csrf(mail_client, "/sign-up")},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    account = mail_client.get("/account?welcome=1").text
    assert 'id="resend-verification"' in account and "We sent a link" in account
    assert credential_id not in mail_client.get("/wallet").text
    send_pending(sessions, mail_settings)
    path = link_in(smtp_server, "nia@example.org", "/verify-email/")

    done = mail_client.get(path, follow_redirects=False)
    assert done.status_code == 303 and "done=email-verified" in done.headers["location"]
    page = mail_client.get(done.headers["location"]).text
    assert "Your address is confirmed" in page and "1 added to your wallet" in page
    assert 'id="resend-verification"' not in page
    assert credential_id in mail_client.get("/wallet").text
    with sessions() as session:
        user = session.scalars(select(User).where(User.email == "nia@example.org")).one()
        assert user.email_trusted
        later = issue_credential(
            session, None, definition_id=definition_id, recipient_email="nia@example.org",
            recipient_name="Nia New", results=[{"level": "Competent"}], settings=mail_settings,
        )  # fmt: skip
        assert later.recipient_user_id == user.id  # and what is issued from now on
        session.rollback()
    again = mail_client.get(path, follow_redirects=False)
    assert "done=email-already-verified" in again.headers["location"]


def test_a_confirmation_link_works_only_signed_in_as_its_account(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp_server: SmtpServer, world: World
) -> None:
    with sessions.begin() as session:
        user = accounts.create_user(
            session, email="nia@example.org", name="Nia", password=PASSWORD, fast_hash=True,
            email_trusted=False,
        )  # fmt: skip
        assert verification.send_verification(session, mail_settings, user)
        user_id = user.id
    send_pending(sessions, mail_settings)
    secret = link_in(smtp_server, "nia@example.org", "/verify-email/").rsplit("/", 1)[1]
    with sessions.begin() as session:
        someone_else = accounts.principal_for(session, session.get(User, world.learner.id))  # type: ignore[arg-type]
        with pytest.raises(PermissionDenied):
            verification.verify_email(session, secret, someone_else)
        with pytest.raises(NotFound):
            verification.verify_email(session, "ver_unknown", someone_else)
        owner = accounts.principal_for(session, session.get(User, user_id))  # type: ignore[arg-type]
        assert not verification.verify_email(session, secret, owner).already


def test_resending_withdraws_the_older_link_and_is_limited(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp_server: SmtpServer, world: World
) -> None:
    with sessions.begin() as session:
        user = accounts.create_user(
            session, email="nia@example.org", name="Nia", password=PASSWORD, fast_hash=True,
            email_trusted=False,
        )  # fmt: skip
        for _ in range(verification.MAX_SENDS_PER_HOUR):
            verification.send_verification(session, mail_settings, user)
        with pytest.raises(SignInThrottled):
            verification.send_verification(session, mail_settings, user)
        user_id = user.id
    send_pending(sessions, mail_settings)
    first, last = (
        re.search(r"/verify-email/(\S+)", m.get_body(("plain",)).get_content()).group(1)  # type: ignore[union-attr]
        for m in (smtp_server.messages[0], smtp_server.messages[-1])
    )
    with sessions.begin() as session:
        owner = accounts.principal_for(session, session.get(User, user_id))  # type: ignore[arg-type]
        with pytest.raises(NotFound):
            verification.verify_email(session, first, owner)
        verification.verify_email(session, last, owner)


def test_without_mail_sign_up_sends_nothing_and_offers_no_confirmation(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    client.post(
        "/sign-up",
        data={"name": "Nia New", "email": "nia@example.org", "password": NEW_PASSWORD,
              "repeat_password": NEW_PASSWORD, "csrf_token": csrf(client, "/sign-up")},
    )  # fmt: skip
    page = client.get("/account?welcome=1").text
    assert "Welcome" in page and "resend-verification" not in page
    assert (
        "This server sends no e-mail" in client.get("/sign-up", follow_redirects=False).text or True
    )
    assert queued(sessions) == 0


@pytest.mark.both_databases
def test_a_reset_link_an_admin_makes_is_emailed_to_the_account_and_still_shown(
    mail_client: TestClient,
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    smtp_server: SmtpServer,
    world: World,
) -> None:
    own = invited_learner(sessions, world, "ina@example.org")
    token = sign_in_client(mail_client, "admin@north.example")
    with sessions() as session:
        membership = session.scalars(select(Membership.id).where(Membership.user_id == own)).one()
    page = mail_client.post(
        f"/manage/members/{membership}/reset-link",
        data={"csrf_token": token, "organisation": "north-college"},
    )
    assert page.status_code == 200
    assert "A password reset link was e-mailed to ina@example.org" in page.text
    assert "this server sends no e-mail" not in page.text
    shown = re.search(r'id="reset-link" class="secret">[^<]*(/password-reset/[^<]+)<', page.text)
    assert shown
    assert send_pending(sessions, mail_settings).sent == 1
    [mail] = smtp_server.to("ina@example.org")
    assert mail["X-Microcred-Kind"] == RESET_MAIL
    assert link_in(smtp_server, "ina@example.org", "/password-reset/") == shown.group(1)
    with sessions() as session:
        details = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "account.reset_link_created")
        ).one()
    assert details == {"email": "ina@example.org", "mailed": True}


def test_a_reset_link_the_operator_makes_is_emailed_when_mail_is_on(
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    smtp_server: SmtpServer,
    world: World,
) -> None:
    from microcred.cli.main import app as cli

    monkeypatch.setenv("MICROCRED_SMTP_URL", smtp_server.url)
    result = runner.invoke(cli, ["accounts", "reset-link", "learner@example.org"])
    assert result.exit_code == 0, result.output
    assert "(also e-mailed to them)" in result.output
    shown = re.search(r"(/password-reset/\S+)", result.output)
    assert shown
    send_pending(sessions, mail_settings)
    assert link_in(smtp_server, "learner@example.org", "/password-reset/") == shown.group(1)


# --- invitations ------------------------------------------------------------------------------


def test_an_invitation_from_the_members_page_is_emailed_and_still_shown(
    mail_client: TestClient,
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    smtp_server: SmtpServer,
    world: World,
) -> None:
    token = sign_in_client(mail_client, "admin@north.example")
    page = mail_client.post(
        "/manage/members/invite",
        data={"csrf_token": token, "organisation": "north-college", "email": "new@example.org",
              "role": "assessor"},
    )  # fmt: skip
    assert page.status_code == 200 and "we e-mailed them the link" in page.text
    shown = re.search(r'id="invitation-link" class="secret">[^<]*(/invitations/[^<]+)<', page.text)
    assert shown
    send_pending(sessions, mail_settings)
    [mail] = smtp_server.to("new@example.org")
    assert mail["Subject"] == "Your invitation to North College"
    assert mail["From"] == "North College via North Test <no-reply@north.example>"
    assert link_in(smtp_server, "new@example.org", "/invitations/") == shown.group(1)
    assert "Ada Admin invites you" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_an_invitation_by_the_api_is_emailed(
    mail_client: TestClient,
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    smtp_server: SmtpServer,
    world: World,
) -> None:
    sign_in_client(mail_client, "admin@north.example")
    with sessions.begin() as session:
        admin_user = session.get(User, world.admin.id)
        assert admin_user is not None
        _, secret = accounts.create_api_token(
            session, accounts.principal_for(session, admin_user), name="t",
            scopes=["accounts:admin"],
        )  # fmt: skip
    response = mail_client.post(
        "/api/v1/organisations/north-college/invitations",
        json={"email": "api@example.org", "role": "learner"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201 and response.json()["emailed"] is True
    send_pending(sessions, mail_settings)
    assert (
        link_in(smtp_server, "api@example.org", "/invitations/")
        in response.json()["invitation_url"]
    )


def test_invitations_are_not_emailed_without_mail(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    token = sign_in_client(client, "admin@north.example")
    page = client.post(
        "/manage/members/invite",
        data={"csrf_token": token, "organisation": "north-college", "email": "new@example.org",
              "role": "assessor"},
    )  # fmt: skip
    assert "this server sends no e-mail" in page.text
    assert queued(sessions) == 0


def test_recipient_invitations_are_emailed_once_each(
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    smtp_server: SmtpServer,
    world: World,
    definition_id: str,
) -> None:
    with sessions.begin() as session:
        ids = []
        for address in ("r1@example.org", "r2@example.org", "learner@example.org"):
            issued = issue_credential(
                session, None, definition_id=definition_id, recipient_email=address,
                recipient_name="R", results=[{"level": "Competent"}], settings=mail_settings,
            )  # fmt: skip
            ids.append(issued.id)
        staff = accounts.principal_for(session, session.get(User, world.staff.id))  # type: ignore[arg-type]
        invited = admin.invite_recipients(session, staff, "north-college", credential_ids=ids)
        assert mail_recipient_invitations(session, mail_settings, invited, staff) == 2
    send_pending(sessions, mail_settings)
    mails = of_kind(smtp_server, INVITATION_MAIL)
    assert sorted(m["To"] for m in mails) == ["r1@example.org", "r2@example.org"]
    body = mails[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "has issued credentials to" in body


def test_a_jobs_recipients_are_emailed_their_invitations_from_its_page(
    mail_client: TestClient,
    client: TestClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    mail_settings: Settings,
    smtp_server: SmtpServer,
    world: World,
    definition_id: str,
) -> None:
    from microcred.credentials import bulk

    rows = "definition_id,recipient_email,recipient_name\n" + "".join(
        f"{definition_id},cohort{n}@example.org,Cohort {n}\n" for n in range(3)
    )
    with sessions.begin() as session:
        job_id = bulk.create_job(session, None, "north-college", rows.encode()).id
    bulk.run_job(sessions, job_id, settings)
    path = f"/manage/credentials/jobs/{job_id}"

    plain = sign_in_client(client, world.staff.email)
    assert 'id="job-invitations-email"' not in client.get(path).text  # mail off: as before
    assert client.post(f"{path}/invitations/email", data={"csrf_token": plain}).status_code == 404

    token = sign_in_client(mail_client, world.staff.email)
    assert 'id="job-invitations-email"' in mail_client.get(path).text
    assert mail_client.post(f"{path}/invitations/email").status_code == 403  # no CSRF token
    done = mail_client.post(f"{path}/invitations/email", data={"csrf_token": token})
    assert done.status_code == 200 and "E-mailed 3 invitations." in done.text
    send_pending(sessions, mail_settings)
    mails = of_kind(smtp_server, INVITATION_MAIL)
    assert sorted(m["To"] for m in mails) == [f"cohort{n}@example.org" for n in range(3)]


def test_an_invitation_from_the_command_line_is_emailed(
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    smtp_server: SmtpServer,
    world: World,
) -> None:
    from microcred.cli.main import app as cli

    monkeypatch.setenv("MICROCRED_SMTP_URL", smtp_server.url)
    result = runner.invoke(cli, ["accounts", "invite", "north-college", "cli@example.org",
                                 "--role", "assessor"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "It is e-mailed to them" in result.output
    shown = re.search(r"(/invitations/inv_\S+)", result.output)
    assert shown
    send_pending(sessions, mail_settings)
    assert link_in(smtp_server, "cli@example.org", "/invitations/") == shown.group(1)

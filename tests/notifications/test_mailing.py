"""Notifications by e-mail and the mail telling a recipient of a credential, delivered to a real
SMTP server on 127.0.0.1; the issuer's setting and the person's choices decide who gets one."""

from __future__ import annotations

import io
import re
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import bulk
from microcred.credentials import service as credentials
from microcred.credentials.models import IssuedCredential, JobState
from microcred.errors import NotFound
from microcred.mail.models import MailMessage
from microcred.mail.service import send_pending
from microcred.notifications import mailing
from microcred.notifications import service as notifications
from microcred.notifications.models import Notification
from microcred.settings import Settings
from tests.conftest import World
from tests.credentials.service.conftest import issue_input, principal_of
from tests.mail.smtp import SmtpServer

assert notifications.CREDENTIAL_ISSUED == mailing.CREDENTIAL_ISSUED  # listeners registered


def issue(
    sessions: sessionmaker[Session], settings: Settings, definition_id: str, **kw: object
) -> str:
    with sessions.begin() as session:
        return credentials.issue_credential(
            session, None, **issue_input(definition_id, **kw), status_purpose="suspension",
            settings=settings,
        ).id  # fmt: skip


def outbox(sessions: sessionmaker[Session]) -> list[MailMessage]:
    with sessions() as session:
        return list(session.scalars(select(MailMessage).order_by(MailMessage.created_at)))


def deliver(sessions: sessionmaker[Session], settings: Settings, smtp: SmtpServer) -> None:
    summary = send_pending(sessions, settings)
    assert summary.failed == summary.retried == 0
    smtp.wait_for(summary.sent)


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def links(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


@pytest.mark.both_databases
def test_a_recipient_without_an_account_is_mailed_the_credential_once(
    db_backend: str, sessions: sessionmaker[Session], world: World, mail_settings: Settings,
    smtp_server: SmtpServer, definition_id: str,
) -> None:  # fmt: skip
    credential_id = issue(
        sessions, mail_settings, definition_id, recipient_email="Newcomer@Example.org",
        recipient_name="Nia <Newcomer>",
    )  # fmt: skip
    assert len(outbox(sessions)) == 1
    deliver(sessions, mail_settings, smtp_server)

    (message,) = smtp_server.to("newcomer@example.org")
    assert message["Subject"].startswith("North College issued you a credential: ")
    # On the issuer's behalf, from the platform's own address (the one SPF and DKIM cover).
    assert message["From"] == "North College via North Test <no-reply@north.example>"
    text, html = parts(message)
    page = f"{mail_settings.base_url.rstrip('/')}/credentials/{credential_id}"
    assert page in links(text) and f'href="{page}"' in html
    assert f"{mail_settings.base_url.rstrip('/')}/sign-up" in links(text)
    assert "Hello Nia <Newcomer>," in text
    assert "Nia &lt;Newcomer&gt;" in html and "<Newcomer>" not in html  # escaped in HTML
    assert "/notifications/unsubscribe/" not in text  # no account, no choices to change

    send_pending(sessions, mail_settings)  # sent once: nothing left to send
    assert len(smtp_server.received) == 1


def test_nothing_is_queued_when_the_server_sends_no_mail(
    sessions: sessionmaker[Session], world: World, settings: Settings, definition_id: str
) -> None:
    issue(sessions, settings, definition_id)
    issue(sessions, settings, definition_id, recipient_email="someone@example.org")
    assert outbox(sessions) == []
    with sessions() as session:  # the in-app notification is written as before
        count = select(func.count()).select_from(Notification)
        assert session.scalar(count.where(Notification.user_id == world.learner.id)) == 1


def test_an_issuer_that_does_not_email_recipients_sends_nothing(
    sessions: sessionmaker[Session], world: World, mail_settings: Settings, definition_id: str
) -> None:
    with sessions.begin() as session:
        admin = principal_of(session, world.admin)
        credentials.update_issuance_settings(
            session, admin, "north-college", email_recipients=False
        )
    issue(sessions, mail_settings, definition_id)  # to the learner's account
    issue(sessions, mail_settings, definition_id, recipient_email="someone@example.org")
    assert outbox(sessions) == []
    with sessions() as session:
        kinds = session.scalars(
            select(Notification.kind).where(Notification.user_id == world.learner.id)
        ).all()
    assert kinds == ["credential.issued"]  # the account still hears of it in the app


@pytest.mark.both_databases
def test_an_account_holder_is_mailed_and_can_unsubscribe_in_one_click(
    db_backend: str, sessions: sessionmaker[Session], world: World, mail_settings: Settings,
    smtp_server: SmtpServer, definition_id: str,
) -> None:  # fmt: skip
    credential_id = issue(sessions, mail_settings, definition_id)
    with sessions.begin() as session:
        staff = principal_of(session, world.staff)
        credentials.revoke_credential(
            session, staff, credential_id, reason="Under review", purpose="suspension",
            settings=mail_settings,
        )  # fmt: skip
    deliver(sessions, mail_settings, smtp_server)

    issued, suspended = smtp_server.to("learner@example.org")
    assert "issued you a credential" in issued["Subject"]
    assert suspended["Subject"].startswith("Credential suspended: ")
    text, _ = parts(suspended)
    assert "Under review" not in text  # staff write the reason as an internal note
    (unsubscribe,) = [link for link in links(text) if "/notifications/unsubscribe/" in link]
    token = unsubscribe.rsplit("/", 1)[1]

    with sessions.begin() as session:
        done = mailing.unsubscribe(session, mail_settings, token)
    assert (done.user_id, done.group) == (world.learner.id, "credentials")
    with sessions.begin() as session:
        learner = principal_of(session, world.learner)
        assert mailing.mailed_groups(session, learner) == set(mailing.GROUPS) - {"credentials"}

    before = len(outbox(sessions))
    issue(sessions, mail_settings, definition_id)
    assert len(outbox(sessions)) == before  # muted: no mail ...
    with sessions() as session:  # ... but the notification, as always
        count = select(func.count()).select_from(Notification)
        assert session.scalar(count.where(Notification.user_id == world.learner.id)) == 3


def test_a_forged_or_altered_unsubscribe_token_is_refused(
    sessions: sessionmaker[Session], world: World, mail_settings: Settings
) -> None:
    good = mailing.unsubscribe_token(mail_settings, world.learner.id, "credentials")
    other_key = mail_settings.model_copy(update={"secret_key": "another-secret-key-entirely"})
    forged = mailing.unsubscribe_token(other_key, world.learner.id, "credentials")
    with sessions.begin() as session:
        for token in (forged, good[:-2] + ("AA" if not good.endswith("AA") else "BB"), "x"):
            with pytest.raises(NotFound):
                mailing.unsubscribe(session, mail_settings, token)
        assert mailing.read_unsubscribe_token(session, mail_settings, good).group == "credentials"


def test_choices_are_the_persons_own_and_checked(
    sessions: sessionmaker[Session], world: World, mail_settings: Settings, definition_id: str
) -> None:
    with sessions.begin() as session:
        learner = principal_of(session, world.learner)
        mailing.set_mailed_groups(session, learner, ["pathways"])
        with pytest.raises(mailing.PreferenceError) as raised:
            mailing.set_mailed_groups(session, learner, ["credentials", "gossip"])
        assert "gossip" in str(raised.value)
        tokenless = principal_of(session, world.learner, scopes=["credentials:read"])
        with pytest.raises(Exception, match="notifications:read"):
            mailing.mailed_groups(session, tokenless)
        staff = principal_of(session, world.staff)
        assert mailing.mailed_groups(session, staff) == set(mailing.GROUPS)  # theirs untouched
    issue(sessions, mail_settings, definition_id)
    assert outbox(sessions) == []  # the learner mutes credentials now


@pytest.mark.both_databases
def test_a_bulk_job_mails_each_recipient_and_its_starter(
    db_backend: str, sessions: sessionmaker[Session], world: World, mail_settings: Settings,
    smtp_server: SmtpServer, definition_id: str,
) -> None:  # fmt: skip
    rows = io.StringIO()
    rows.write("definition_id,recipient_email,result_level\n")
    for n in range(3):
        rows.write(f"{definition_id},person{n}@example.org,Competent\n")
    with sessions.begin() as session:
        staff = principal_of(session, world.staff)
        job_id = bulk.create_job(session, staff, "north-college", rows.getvalue().encode()).id
    assert bulk.run_job(sessions, job_id, mail_settings).state is JobState.completed
    bulk.run_job(sessions, job_id, mail_settings)  # re-running mails nobody twice
    deliver(sessions, mail_settings, smtp_server)

    for n in range(3):
        assert len(smtp_server.to(f"person{n}@example.org")) == 1
    (finished,) = smtp_server.to("staff@north.example")
    assert finished["Subject"].startswith("Bulk issuance finished")
    text, _ = parts(finished)
    assert "3 issued" in text and f"/manage/credentials/jobs/{job_id}" in text


def test_an_address_mail_cannot_carry_never_stops_the_issuance(
    sessions: sessionmaker[Session], world: World, mail_settings: Settings, definition_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """Issuance accepts some addresses a mail header cannot carry (parentheses, angle brackets):
    the credential is issued, the mail left out and logged."""
    credential_id = issue(
        sessions, mail_settings, definition_id, recipient_email="odd(name)@example.org"
    )
    with sessions() as session:
        assert session.get(IssuedCredential, credential_id) is not None
    assert outbox(sessions) == []
    assert "odd(name)@example.org" in caplog.text and "not e-mailed" in caplog.text


@pytest.mark.both_databases
def test_a_recipient_without_an_account_is_mailed_once_before_the_credential_ends(
    db_backend: str, sessions: sessionmaker[Session], world: World, mail_settings: Settings,
    smtp_server: SmtpServer, definition_id: str,
) -> None:  # fmt: skip
    from datetime import timedelta

    from microcred.db.base import utcnow
    from microcred.notifications.reminders import remind_expiring

    def ending(email: str, days: int) -> str:
        return issue(
            sessions, mail_settings, definition_id, recipient_email=email,
            valid_until=utcnow() + timedelta(days=days),
        )  # fmt: skip

    soon = ending("soon@example.org", 10)
    ending("later@example.org", 60)
    ending("learner@example.org", 5)  # an account: told by its notification instead
    deliver(sessions, mail_settings, smtp_server)  # the issuance mails
    smtp_server.received.clear()

    with sessions.begin() as session:
        remind_expiring(session, settings=mail_settings)
    with sessions.begin() as session:
        remind_expiring(session, settings=mail_settings)  # the next hour: nothing new
    deliver(sessions, mail_settings, smtp_server)

    (expiring,) = smtp_server.to("soon@example.org")
    assert expiring["Subject"].startswith("Your credential ends ")
    text, _ = parts(expiring)
    assert f"/credentials/{soon}" in text and "ends on" in text
    assert smtp_server.to("later@example.org") == []
    (learner,) = smtp_server.to("learner@example.org")  # the notification's mail, once
    assert learner["Subject"].startswith("Expires ")

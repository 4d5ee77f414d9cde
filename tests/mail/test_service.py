"""Queueing and sending e-mail, against a real SMTP server on loopback, on both databases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.db.base import utcnow
from microcred.mail import service
from microcred.mail.models import MailMessage, MailState
from microcred.mail.service import MailError, queue_mail, render_mail, send_pending
from microcred.settings import Settings
from tests.conftest import World
from tests.mail.smtp import SmtpServer

pytestmark = pytest.mark.both_databases


def _queue(
    sessions: sessionmaker[Session], settings: Settings, to: str = "lee@example.org", **kw: str
) -> str | None:
    text, html = render_mail("test", base_url=settings.base_url)
    with sessions.begin() as session:
        message = queue_mail(
            session, settings, to=to, subject=kw.pop("subject", "Hello <Lee>"), text=text,
            html=html, kind="mail.test", **kw,
        )  # fmt: skip
        return message.id if message else None


def _row(sessions: sessionmaker[Session], message_id: str) -> MailMessage:
    with sessions() as session:
        row = session.get(MailMessage, message_id)
        assert row is not None
        session.expunge(row)
        return row


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(MailMessage)) or 0)


def test_a_queued_message_is_delivered_with_both_parts_and_marked_sent(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp_server: SmtpServer, world: World
) -> None:
    message_id = _queue(sessions, mail_settings, to="learner@example.org")
    assert message_id

    summary = send_pending(sessions, mail_settings)

    assert (summary.sent, summary.retried, summary.failed) == (1, 0, 0)
    [received] = smtp_server.received
    assert received.envelope_to == ["learner@example.org"]
    assert received.envelope_from == "no-reply@north.example"
    mail = received.message
    assert mail["Subject"] == "Hello <Lee>"
    assert mail["From"] == "North Test <no-reply@north.example>"
    assert mail["To"] == "learner@example.org"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Message-ID"] == f"<{message_id}@north.example>"
    assert mail["Date"]
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert "http://127.0.0.1:8000" in text.get_content()
    assert 'href="http://127.0.0.1:8000"' in html.get_content()
    assert "replies are not read" in html.get_content()
    row = _row(sessions, message_id)
    assert row.state is MailState.sent and row.attempts == 1 and row.sent_at is not None
    assert row.text_body == "" and row.html_body is None  # links go with the message
    assert send_pending(sessions, mail_settings).attempted == 0  # sent once


def test_nothing_is_queued_when_mail_is_off(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    assert not service.mail_enabled(settings)
    assert _queue(sessions, settings) is None
    assert _count(sessions) == 0
    assert send_pending(sessions, settings).attempted == 0


def test_a_dedupe_key_queues_a_message_once(
    sessions: sessionmaker[Session], mail_settings: Settings
) -> None:
    first = _queue(sessions, mail_settings, dedupe_key="reset:abc")
    second = _queue(sessions, mail_settings, dedupe_key="reset:abc")
    assert first is not None and second is None
    assert _count(sessions) == 1
    assert _queue(sessions, mail_settings, dedupe_key="reset:other") is not None


@pytest.mark.parametrize(
    ("to", "subject"),
    [
        ("lee@example.org", "Hello\r\nBcc: victim@example.org"),
        ("lee@example.org", "Hello\nX-Evil: 1"),
        ("lee@example.org\r\nBcc: victim@example.org", "Hello"),
        ("lee@example.org, victim@example.org", "Hello"),
        ("Lee <lee@example.org>", "Hello"),
        ("not-an-address", "Hello"),
    ],
)
def test_header_injection_and_bad_addresses_are_refused(
    sessions: sessionmaker[Session], mail_settings: Settings, to: str, subject: str
) -> None:
    with pytest.raises(MailError):
        _queue(sessions, mail_settings, to=to, subject=subject)
    assert _count(sessions) == 0


def test_a_refused_connection_is_retried_with_backoff_then_fails(
    sessions: sessionmaker[Session], refused_settings: Settings
) -> None:
    message_id = _queue(sessions, refused_settings)
    assert message_id
    now = utcnow()
    waits = []
    for attempt in range(1, service.MAX_ATTEMPTS):
        summary = send_pending(sessions, refused_settings, now=now)
        assert (summary.sent, summary.retried, summary.failed) == (0, 1, 0)
        row = _row(sessions, message_id)
        assert row.state is MailState.pending and row.attempts == attempt
        assert row.last_error and "Connection" in row.last_error
        next_at = _aware(row.next_attempt_at)
        assert next_at is not None
        waits.append(next_at - now)
        assert send_pending(sessions, refused_settings, now=now).attempted == 0  # not yet due
        now = next_at

    assert waits == [timedelta(minutes=m) for m in (1, 5, 30, 120, 720)]
    summary = send_pending(sessions, refused_settings, now=now)
    assert summary.failed == 1
    row = _row(sessions, message_id)
    assert row.state is MailState.failed and row.attempts == service.MAX_ATTEMPTS
    assert row.next_attempt_at is None and row.last_error
    assert send_pending(sessions, refused_settings, now=now + timedelta(days=1)).attempted == 0


def test_a_permanently_rejected_recipient_fails_at_once(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.reject.add("gone@example.org")
    rejected = _queue(sessions, mail_settings, to="gone@example.org")
    accepted = _queue(sessions, mail_settings, to="here@example.org")
    assert rejected and accepted

    summary = send_pending(sessions, mail_settings)

    assert (summary.sent, summary.failed) == (1, 1)
    row = _row(sessions, rejected)
    assert row.state is MailState.failed and row.attempts == 1
    assert row.last_error and "550" in row.last_error
    assert [r.envelope_to for r in smtp_server.received] == [["here@example.org"]]


def test_two_senders_at_once_send_each_message_exactly_once(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    queued = {_queue(sessions, mail_settings, to=f"p{n}@example.org") for n in range(24)}
    summaries: list[service.SendSummary] = []
    start = threading.Barrier(2)

    def sender() -> None:
        start.wait()
        summaries.append(send_pending(sessions, mail_settings))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    ids = [m["X-Microcred-Id"] for m in smtp_server.messages]
    assert sorted(ids) == sorted(queued)
    assert sum(s.sent for s in summaries) == 24


def test_a_mail_directory_receives_parseable_eml_files(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "mail"
    dir_settings = settings.model_copy(update={"mail_dir": folder})
    assert service.mail_enabled(dir_settings)
    message_id = _queue(sessions, dir_settings, to="lee@example.org")

    assert send_pending(sessions, dir_settings).sent == 1

    [path] = folder.glob("*.eml")
    mail = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert mail["To"] == "lee@example.org" and mail["X-Microcred-Id"] == message_id
    assert mail.get_body(("html",)) is not None
    assert not list(folder.glob(".*"))  # no partial file left


def test_finished_messages_are_pruned_after_thirty_days(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    sent = _queue(sessions, mail_settings)
    send_pending(sessions, mail_settings)
    pending = _queue(
        sessions, mail_settings.model_copy(update={"smtp_url": None, "mail_dir": Path("x")})
    )
    assert sent and pending
    assert service.prune(sessions, now=utcnow() + timedelta(days=29)) == 0
    assert service.prune(sessions, now=utcnow() + timedelta(days=31)) == 1
    assert _count(sessions) == 1  # the pending one stays


@pytest.mark.parametrize("address", ["not an address", "x@@example.org"])
def test_a_message_that_cannot_be_built_fails_at_once_and_blocks_nothing(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp_server: SmtpServer,
    address: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:  # written past queue_mail's checks (an older row, say)
        earlier = utcnow() - timedelta(minutes=1)
        session.add(
            MailMessage(id="bad", to_address=address, kind="mail.test", subject="Hi",
                        text_body="Hello", created_at=earlier, next_attempt_at=earlier)
        )  # fmt: skip
    good = _queue(sessions, mail_settings)

    summary = send_pending(sessions, mail_settings)

    assert (summary.sent, summary.failed) == (1, 1)
    row = _row(sessions, "bad")
    assert row.state is MailState.failed and row.attempts == 1 and row.last_error
    assert [m["X-Microcred-Id"] for m in smtp_server.messages] == [good]


def test_a_sender_name_speaks_for_someone_via_the_platform_and_cannot_break_the_header(
    sessions: sessionmaker[Session], mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    with sessions.begin() as session:
        queue_mail(
            session, mail_settings, to="a@example.org", subject="Hello", text="Hi",
            kind="test", sender_name="Evil\r\nBcc: victim@example.org  College, Inc.",
        )  # fmt: skip
    send_pending(sessions, mail_settings)
    [mail] = smtp_server.to("a@example.org")
    assert mail["From"].addresses[0].addr_spec == "no-reply@north.example"
    assert mail["From"].addresses[0].display_name == (
        "Evil Bcc: victim@example.org College, Inc. via North Test"
    )
    assert mail["Bcc"] is None and smtp_server.to("victim@example.org") == []

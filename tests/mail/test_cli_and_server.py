"""``microcred mail`` commands and the web server's background sender."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.cli.main import app as cli
from microcred.mail import service
from microcred.settings import Settings
from tests.mail.smtp import SmtpServer, free_port


@pytest.fixture
def mail_runner(
    runner: CliRunner, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> CliRunner:
    monkeypatch.setenv("MICROCRED_SMTP_URL", smtp_server.url)
    return runner


def test_mail_test_sends_at_once(mail_runner: CliRunner, smtp_server: SmtpServer) -> None:
    result = mail_runner.invoke(cli, ["mail", "test", "ops@example.org"])
    assert result.exit_code == 0, result.output
    [mail] = smtp_server.to("ops@example.org")
    assert mail["Subject"] == "microcred test message"
    listed = mail_runner.invoke(cli, ["mail", "list", "--state", "sent"])
    assert "ops@example.org" in listed.output and "mail.test" in listed.output


def test_mail_test_exits_1_with_the_error_when_it_cannot_send(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MICROCRED_SMTP_URL", f"smtp://user:hunter2@127.0.0.1:{free_port()}")
    result = runner.invoke(cli, ["mail", "test", "ops@example.org"])
    assert result.exit_code == 1
    assert "Connection" in result.output and "hunter2" not in result.output
    failed = runner.invoke(cli, ["mail", "list", "--state", "failed"])
    assert "ops@example.org" in failed.output  # not retried later


def test_mail_commands_say_mail_is_off(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["mail", "send"])
    assert result.exit_code == 2 and "Mail is off" in result.output


def test_mail_send_sends_what_is_due(
    mail_runner: CliRunner,
    smtp_server: SmtpServer,
    sessions: sessionmaker[Session],
    mail_settings: Settings,
) -> None:
    with sessions.begin() as session:
        for n in range(3):
            service.queue_mail(
                session, mail_settings, to=f"p{n}@example.org", subject="Hi", text="Hello",
                kind="mail.test",
            )  # fmt: skip
    result = mail_runner.invoke(cli, ["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "3 sent, 0 to retry, 0 failed" in result.output
    assert len(smtp_server.received) == 3


def test_the_web_server_sends_queued_mail_in_the_background(
    mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    from microcred.web.app import create_app

    app = create_app(mail_settings.model_copy(update={"mail_interval_seconds": 0.1}))
    with TestClient(app):
        assert app.state.mailer is not None and app.state.mailer.running
        with app.state.context.sessions.begin() as session:
            service.queue_mail(
                session, mail_settings, to="lee@example.org", subject="Hi", text="Hello",
                kind="mail.test",
            )  # fmt: skip
        smtp_server.wait_for(1)
    assert not app.state.mailer.running
    app.state.context.engine.dispose()


def test_the_web_server_starts_no_sender_when_mail_is_off(app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app):
        assert app.state.mailer is None

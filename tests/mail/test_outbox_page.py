"""The outbox page: platform administrators only, counts and a chart, no bodies, a test mail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent
from microcred.db.base import utcnow
from microcred.mail import admin
from microcred.mail.models import MailMessage, MailState
from microcred.mail.service import queue_mail
from microcred.settings import Settings
from microcred.web.app import create_app
from tests.conftest import World, sign_in_client
from tests.mail.smtp import SmtpServer


@pytest.fixture
def mail_client(mail_settings: Settings) -> Iterator[TestClient]:
    app = create_app(mail_settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.context.engine.dispose()


def outbox_rows(html: str) -> int:
    table = re.search(r'<table class="table" id="outbox">.*?</table>', html, re.S)
    return table.group(0).count("<tr>") if table else 0


def seed(sessions: sessionmaker[Session], settings: Settings) -> None:
    """One pending, one sent yesterday and one failed, the pending one holding a secret link."""
    now = utcnow()
    with sessions.begin() as session:
        for n, (state, sent) in enumerate(
            [(MailState.pending, None), (MailState.sent, now - timedelta(days=1)),
             (MailState.failed, None)]
        ):  # fmt: skip
            message = queue_mail(
                session, settings, to=f"p{n}@example.org", subject=f"Subject {n}",
                text="Your link: https://example.org/reset/SECRET-TOKEN", kind="test",
            )  # fmt: skip
            assert message is not None
            message.state, message.sent_at = state, sent
            message.last_error = "550 no such mailbox" if state is MailState.failed else None


def test_only_a_platform_administrator_sees_the_outbox_and_never_a_body(
    mail_client: TestClient, sessions: sessionmaker[Session], world: World,
    platform_admin: str, mail_settings: Settings,
) -> None:  # fmt: skip
    seed(sessions, mail_settings)
    sign_in_client(mail_client, world.admin.email)  # an organisation's admin: not enough
    assert mail_client.get("/admin/mail").status_code == 403

    sign_in_client(mail_client, platform_admin)
    page = mail_client.get("/admin/mail")
    assert page.status_code == 200 and "SECRET-TOKEN" not in page.text
    assert outbox_rows(page.text) == 4  # a header and three messages
    assert "550 no such mailbox" in page.text and 'class="chart bar-chart"' in page.text
    assert "smtp://127.0.0.1:" in page.text
    failed = mail_client.get("/admin/mail?state=failed")
    assert outbox_rows(failed.text) == 2 and "p2@example.org" in failed.text


@pytest.mark.both_databases
def test_daily_counts_put_each_message_on_its_day(
    db_backend: str, sessions: sessionmaker[Session], world: World, platform_admin: str,
    mail_settings: Settings,
) -> None:  # fmt: skip
    from microcred.accounts.models import User
    from tests.credentials.service.conftest import principal_of

    seed(sessions, mail_settings)
    with sessions() as session:
        root = session.scalars(select(User).where(User.email == platform_admin)).one()
        days = admin.daily_counts(session, principal_of(session, root), days=3)
    today = utcnow().date()
    assert [d.day for d in days] == [today - timedelta(days=n) for n in (2, 1, 0)]
    assert [(d.sent, d.failed) for d in days] == [(0, 0), (1, 0), (0, 1)]


def test_a_test_message_is_sent_at_once_and_audited(
    mail_client: TestClient, sessions: sessionmaker[Session], platform_admin: str,
    smtp_server: SmtpServer,
) -> None:  # fmt: skip
    csrf = sign_in_client(mail_client, platform_admin)
    sent = mail_client.post(
        "/admin/mail/test", data={"address": "ops@example.org", "csrf_token": csrf}
    )
    assert sent.status_code == 200 and "Sent to ops@example.org." in sent.text
    (message,) = smtp_server.to("ops@example.org")
    assert message["Subject"] == "microcred test message"

    smtp_server.reject.add("gone@example.org")
    refused = mail_client.post(
        "/admin/mail/test", data={"address": "gone@example.org", "csrf_token": csrf}
    )
    assert refused.status_code == 502 and "Not sent" in refused.text and "550" in refused.text
    assert 'role="alert" id="form-errors" tabindex="-1" autofocus' in refused.text
    bad = mail_client.post("/admin/mail/test", data={"address": "nope", "csrf_token": csrf})
    assert bad.status_code == 400
    with sessions() as session:
        audited = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "mail.test")
        ).all()
        states = session.scalars(select(MailMessage.state).order_by(MailMessage.created_at)).all()
    assert [d["sent"] for d in audited] == [True, False]
    assert states == [MailState.sent, MailState.failed]


def test_without_mail_the_page_says_how_to_turn_it_on(
    client: TestClient, platform_admin: str
) -> None:
    sign_in_client(client, platform_admin)
    page = client.get("/admin/mail")
    assert page.status_code == 200 and 'id="mail-off"' in page.text
    assert 'id="mail-test"' not in page.text


def test_the_outbox_pages_through_long_lists_keeping_the_filter(
    mail_client: TestClient, sessions: sessionmaker[Session], platform_admin: str,
    mail_settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(admin, "PER_PAGE", 2)
    seed(sessions, mail_settings)
    sign_in_client(mail_client, platform_admin)
    first = mail_client.get("/admin/mail")
    assert outbox_rows(first.text) == 3 and "Page 1 of 2" in first.text
    assert 'href="?state=&amp;page=2" rel="next"' in first.text and 'rel="prev"' not in first.text
    second = mail_client.get("/admin/mail?page=2")
    assert outbox_rows(second.text) == 2 and 'href="?state=&amp;page=1" rel="prev"' in second.text

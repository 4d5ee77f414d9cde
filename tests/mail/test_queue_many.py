"""Queuing many messages at once (a bulk batch): checked like one, de-duplicated, one insert."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.mail.models import MailMessage, MailState
from microcred.mail.service import MailError, OutgoingMail, queue_mail, queue_mails
from microcred.settings import Settings


def message(n: int, key: str | None = None, **kw: str) -> OutgoingMail:
    values = {"to": f"p{n}@example.org", "subject": f"Hello {n}", "text": "Hi", "kind": "test"}
    values.update(kw)
    return OutgoingMail(dedupe_key=key, **values)


@pytest.mark.both_databases
def test_many_are_queued_once_each_beside_what_was_queued_before(
    db_backend: str, sessions: sessionmaker[Session], mail_settings: Settings
) -> None:
    with sessions.begin() as session:
        queue_mail(
            session, mail_settings, to="p0@example.org", subject="Earlier", text="x",
            kind="test", dedupe_key="k0",
        )  # fmt: skip
    with sessions.begin() as session:
        batch = [message(0, "k0"), message(1, "k1"), message(2, "k1"), message(3), message(4)]
        assert queue_mails(session, mail_settings, batch) == 3
    with sessions() as session:
        rows = session.scalars(select(MailMessage).order_by(MailMessage.to_address)).all()
    assert [(r.to_address, r.subject, r.dedupe_key) for r in rows] == [
        ("p0@example.org", "Earlier", "k0"),
        ("p1@example.org", "Hello 1", "k1"),
        ("p3@example.org", "Hello 3", None),
        ("p4@example.org", "Hello 4", None),
    ]
    assert {r.state for r in rows} == {MailState.pending} and all(r.next_attempt_at for r in rows)


def test_one_bad_message_queues_none_and_names_what_is_wrong(
    sessions: sessionmaker[Session], mail_settings: Settings, settings: Settings
) -> None:
    with sessions.begin() as session:
        for bad, field in (
            (message(1, to="not an address"), "to"),
            (message(1, subject="Hi\r\nBcc: victim@example.org"), "subject"),
            (message(1, subject="  "), "subject"),
        ):
            with pytest.raises(MailError) as raised:
                queue_mails(session, mail_settings, [message(0), bad])
            assert raised.value.field == field
        assert queue_mails(session, settings, [message(0)]) == 0  # this server sends no mail
    with sessions() as session:
        assert session.scalars(select(MailMessage)).all() == []

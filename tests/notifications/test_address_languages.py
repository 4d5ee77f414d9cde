"""Mails to people without an account: a credential's mails in its definition's language when
we have a catalog for it, else the issuer's default language of such mails (its issuance
settings), else English; invitations in that default. The setting on its page and the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent
from microcred.catalogue import service as catalogue
from microcred.credentials import service as credentials
from microcred.notifications.reminders import remind_expiring
from microcred.settings import Settings
from tests.catalogue.factories import definition_input, skills
from tests.conftest import World, sign_in_client
from tests.mail.smtp import SmtpServer
from tests.notifications.test_mail_web import mail_client
from tests.notifications.test_mailing import deliver, issue, parts
from tests.notifications.test_web import bearer

__all__ = ["mail_client", "skills"]
COURSE = "Data analysis with Python"
MONATE = "Januar Februar März April Mai Juni Juli August September Oktober November Dezember"


def subject(message: EmailMessage) -> str:
    """The subject as read (a long or non-ASCII one comes folded)."""
    return " ".join(str(message["Subject"]).split())


def _definition(sessions: sessionmaker[Session], language: str) -> str:
    with sessions.begin() as session:
        return catalogue.create_definition(
            session, None, "north-college",
            definition_input(in_language=language, human_code=f"NC-{language}"), publish=True,
        ).definition_id  # fmt: skip


def _mail_language(sessions: sessionmaker[Session], locale: str | None) -> None:
    with sessions.begin() as session:
        credentials.update_issuance_settings(
            session, None, "north-college", mail_locale=locale or ""
        )


@pytest.mark.both_databases
def test_a_credential_mailed_to_an_address_is_in_its_definitions_language(
    db_backend: str, sessions: sessionmaker[Session], world: World, mail_settings: Settings,
    smtp_server: SmtpServer, skills: dict[str, str],
) -> None:  # fmt: skip
    _mail_language(sessions, "fr")  # the definition's own language comes first
    issue(sessions, mail_settings, _definition(sessions, "de"), recipient_email="de@example.org")
    issue(sessions, mail_settings, _definition(sessions, "es"), recipient_email="es@example.org")
    deliver(sessions, mail_settings, smtp_server)

    (german,) = smtp_server.to("de@example.org")
    assert subject(german) == f"North College hat Ihnen einen Nachweis ausgestellt: {COURSE}"
    text, html = parts(german)
    assert "North College hat Ihnen einen Nachweis ausgestellt" in text
    assert (
        f"<strong>North College</strong> hat Ihnen einen Nachweis ausgestellt: <strong>{COURSE}"
        in html
    )
    (spanish,) = smtp_server.to("es@example.org")
    assert subject(spanish) == f"North College le ha emitido una credencial: {COURSE}"


@pytest.mark.both_databases
def test_without_a_catalog_for_the_definitions_language_the_issuers_default_applies(
    db_backend: str, sessions: sessionmaker[Session], world: World, mail_settings: Settings,
    smtp_server: SmtpServer, skills: dict[str, str],
) -> None:  # fmt: skip
    italian = _definition(sessions, "it")
    issue(sessions, mail_settings, italian, recipient_email="before@example.org")
    _mail_language(sessions, "fr")
    issue(sessions, mail_settings, italian, recipient_email="after@example.org")
    issue(sessions, mail_settings, italian)  # to the learner's account: their language (none)
    deliver(sessions, mail_settings, smtp_server)

    (before,) = smtp_server.to("before@example.org")
    assert subject(before) == f"North College issued you a credential: {COURSE}"
    (after,) = smtp_server.to("after@example.org")
    assert subject(after) == f"North College vous a délivré une attestation : {COURSE}"
    (learner,) = smtp_server.to("learner@example.org")
    assert subject(learner) == f"North College issued you a credential: {COURSE}"


@pytest.mark.both_databases
def test_the_expiry_mail_to_an_address_is_in_the_credentials_language(
    db_backend: str, sessions: sessionmaker[Session], world: World, mail_settings: Settings,
    smtp_server: SmtpServer, skills: dict[str, str],
) -> None:  # fmt: skip
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    issue(
        sessions, mail_settings, _definition(sessions, "de"), recipient_email="de@example.org",
        valid_until=ends,
    )  # fmt: skip
    issue(
        sessions, mail_settings, _definition(sessions, "en"), recipient_email="en@example.org",
        valid_until=ends,
    )  # fmt: skip
    deliver(sessions, mail_settings, smtp_server)
    smtp_server.received.clear()
    with sessions.begin() as session:
        remind_expiring(session, settings=mail_settings)
    deliver(sessions, mail_settings, smtp_server)

    day = f"{ends.day}. {MONATE.split()[ends.month - 1]} {ends.year}"
    (german,) = smtp_server.to("de@example.org")
    assert subject(german) == f"Ihr Nachweis endet am {day}: {COURSE}"
    text, html = parts(german)
    assert f"Ihr Nachweis {COURSE} von North College endet am {day}." in text
    assert "Sie erhalten diese E-Mail, weil North College dieser Adresse" in html
    (english,) = smtp_server.to("en@example.org")
    assert subject(english) == f"Your credential ends {ends:%d %B %Y}: {COURSE}"
    assert (
        f"Your credential {COURSE} from North College ends on {ends:%d %B %Y}." in parts(english)[0]
    )


@pytest.mark.both_databases
def test_an_invitation_is_in_the_organisations_mail_language(
    db_backend: str, mail_client: TestClient, sessions: sessionmaker[Session],
    mail_settings: Settings, smtp_server: SmtpServer, world: World,
) -> None:  # fmt: skip
    def invite(email: str) -> None:
        token = sign_in_client(mail_client, "admin@north.example")
        page = mail_client.post(
            "/manage/members/invite",
            data={"csrf_token": token, "organisation": "north-college", "email": email,
                  "role": "issuer_staff"},
        )  # fmt: skip
        assert page.status_code == 200, page.text

    invite("first@example.org")
    _mail_language(sessions, "es")
    invite("second@example.org")
    deliver(sessions, mail_settings, smtp_server)

    (first,) = smtp_server.to("first@example.org")
    assert subject(first) == "Your invitation to North College"
    assert "on microcred as issuer staff." in parts(first)[0]
    (second,) = smtp_server.to("second@example.org")
    assert subject(second) == "Su invitación a North College"
    text, _html = parts(second)
    assert "a unirse a North College en microcred como personal del emisor." in " ".join(
        text.split()
    )


def test_the_mail_language_setting_on_the_page_and_the_api(
    mail_client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    csrf = sign_in_client(mail_client, world.staff.email)
    page = mail_client.get("/manage/credentials/settings")
    assert '<select id="mail_locale" name="mail_locale"' in page.text
    refused = mail_client.post(
        "/manage/credentials/settings",
        data={"organisation": "north-college", "formats": ["eddsa-rdfc-2022"],
              "mail_locale": "de", "csrf_token": csrf},
    )  # fmt: skip
    assert refused.status_code == 403

    csrf = sign_in_client(mail_client, world.admin.email)
    bad = mail_client.post(
        "/manage/credentials/settings",
        data={"organisation": "north-college", "formats": ["eddsa-rdfc-2022"],
              "mail_locale": "it", "csrf_token": csrf},
    )  # fmt: skip
    assert bad.status_code == 400 and "Unknown mail language &#39;it&#39;" in bad.text
    saved = mail_client.post(
        "/manage/credentials/settings",
        data={"organisation": "north-college", "formats": ["eddsa-rdfc-2022"],
              "email_recipients": "on", "mail_locale": "de", "csrf_token": csrf},
    )  # fmt: skip
    assert saved.status_code == 200 and '<option value="de" lang="de" selected>' in saved.text
    with sessions() as session:
        assert credentials.issuance_settings(session, None, "north-college").mail_locale == "de"
        audit = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "credentials.settings")
        ).all()
    assert audit[-1]["mail_locale"] == "de"

    admin = bearer(sessions, world.admin, "credentials:issue", "credentials:read")
    url = "/api/v1/organisations/north-college/issuance-settings"
    assert mail_client.get(url, headers=admin).json()["mail_locale"] == "de"
    kept = mail_client.put(url, json={"email_recipients": False}, headers=admin)
    assert kept.status_code == 200 and kept.json()["mail_locale"] == "de"  # left out: kept
    put = mail_client.put(url, json={"mail_locale": "es"}, headers=admin)
    assert put.status_code == 200 and put.json()["mail_locale"] == "es"
    cleared = mail_client.put(url, json={"mail_locale": None}, headers=admin)
    assert cleared.status_code == 200 and cleared.json()["mail_locale"] is None
    bad_api = mail_client.put(url, json={"mail_locale": "klingon"}, headers=admin)
    assert bad_api.status_code == 400 and bad_api.json()["field"] == "mail_locale"

    other = bearer(sessions, world.other_staff, "credentials:issue", "credentials:read")
    assert mail_client.put(url, json={"mail_locale": "fr"}, headers=other).status_code == 403
    with sessions() as session:
        assert credentials.issuance_settings(session, None, "north-college").mail_locale is None

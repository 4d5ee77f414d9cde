"""Notifications in their reader's language: the page in the request's, the mail in the
recipient's saved one, the API in English; rows written before migration 0029 show as stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import twofactor
from microcred.accounts.models import User
from microcred.credentials import service as credentials
from microcred.endorsements import service as endorsements
from microcred.notifications.models import Notification
from microcred.settings import Settings
from tests.accounts.test_two_factor import principal_of as two_factor_principal
from tests.accounts.test_two_factor import turn_on
from tests.conftest import PASSWORD, World, sign_in_client
from tests.credentials.service.conftest import principal_of
from tests.endorsements.conftest import endorse_definition, endorser_admin
from tests.endorsements.conftest import principal as endorsement_principal
from tests.mail.smtp import SmtpServer
from tests.notifications.test_mailing import deliver, issue, parts
from tests.notifications.test_web import bearer

__all__ = ["endorser_admin"]
COURSE = "Data analysis with Python"


def _notifications_page(client: TestClient, lang: str) -> str:
    return client.get(f"/notifications?lang={lang}").text


@pytest.mark.both_databases
def test_the_page_shows_each_notification_in_the_readers_language_the_api_in_english(
    db_backend: str, client: TestClient, sessions: sessionmaker[Session], world: World,
    settings: Settings, definition_id: str,
) -> None:  # fmt: skip
    issue(sessions, settings, definition_id)
    with sessions() as session:
        row = session.scalars(
            select(Notification).where(Notification.user_id == world.learner.id)
        ).one()
        assert row.title == f"New credential: {COURSE}" and row.message is not None
        assert row.body == "Issued to you by North College."
    sign_in_client(client, world.learner.email)
    german = _notifications_page(client, "de")
    assert f"Neuer Nachweis: {COURSE}</button>" in german
    assert "<p>Ihnen ausgestellt von North College.</p>" in german
    assert f"Nouvelle attestation : {COURSE}</button>" in _notifications_page(client, "fr")
    spanish = _notifications_page(client, "es")
    assert f"Nueva credencial: {COURSE}</button>" in spanish
    assert "<p>Emitida para usted por North College.</p>" in spanish
    assert f"New credential: {COURSE}</button>" in _notifications_page(client, "en")

    client.cookies.set("lang", "de")
    listed = client.get(
        "/api/v1/me/notifications",
        headers={**bearer(sessions, world.learner, "notifications:read"), "Accept-Language": "de"},
    ).json()
    assert [(n["title"], n["body"]) for n in listed["items"]] == [
        (f"New credential: {COURSE}", "Issued to you by North College.")
    ]


@pytest.mark.both_databases
def test_a_notification_written_before_0029_shows_as_it_was_stored(
    db_backend: str, client: TestClient, sessions: sessionmaker[Session], world: World,
    settings: Settings, definition_id: str,
) -> None:  # fmt: skip
    issue(sessions, settings, definition_id)
    with sessions.begin() as session:
        session.execute(update(Notification).values(message=None, title="Old title, as stored"))
    sign_in_client(client, world.learner.email)
    german = _notifications_page(client, "de")
    assert "Old title, as stored</button>" in german
    assert "<p>Issued to you by North College.</p>" in german


@pytest.mark.both_databases
def test_a_notification_mail_is_in_the_recipients_saved_language(
    db_backend: str, sessions: sessionmaker[Session], world: World, mail_settings: Settings,
    smtp_server: SmtpServer, definition_id: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        session.execute(update(User).where(User.id == world.learner.id).values(locale="fr"))
    credential_id = issue(sessions, mail_settings, definition_id)
    with sessions.begin() as session:
        credentials.revoke_credential(
            session, principal_of(session, world.staff), credential_id, reason="Under review",
            purpose="suspension", settings=mail_settings,
        )  # fmt: skip
    deliver(sessions, mail_settings, smtp_server)
    _issued, suspended = smtp_server.to("learner@example.org")
    assert suspended["Subject"] == f"Attestation suspendue : {COURSE}"
    text, html = parts(suspended)
    assert "Modifiée par North College ; demandez-lui pourquoi." in text
    assert "Modifiée par North College ; demandez-lui pourquoi." in html
    with sessions() as session:  # stored in English for the API, whoever reads it
        titles = set(session.scalars(select(Notification.title)))
    assert f"Credential suspended: {COURSE}" in titles


def test_notices_to_staff_about_an_endorsement_are_in_the_readers_language(
    client: TestClient, sessions: sessionmaker[Session], world: World, settings: Settings,
    endorser_admin: str, definition_id: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        endorsement = endorse_definition(
            session, settings, endorsement_principal(session, endorser_admin), definition_id
        )
    with sessions.begin() as session:
        endorsements.withdraw(
            session, endorsement_principal(session, endorser_admin), settings, endorsement.id,
            "Rebranded",
        )  # fmt: skip
    sign_in_client(client, world.admin.email)
    german = _notifications_page(client, "de")
    assert f"South Academy befürwortet {COURSE}</button>" in german
    assert f"South Academy hat seine Befürwortung von {COURSE} zurückgezogen</button>" in german
    assert "<p>Angegebener Grund: Rebranded.</p>" in german
    french = _notifications_page(client, "fr")
    assert f"South Academy a retiré sa recommandation de {COURSE}</button>" in french
    assert "<p>Motif indiqué : Rebranded.</p>" in french
    spanish = _notifications_page(client, "es")
    assert f"South Academy avala {COURSE}</button>" in spanish


def test_a_security_notice_is_shown_in_the_readers_language(
    client: TestClient, sessions: sessionmaker[Session], world: World, settings: Settings
) -> None:
    _secret, codes = turn_on(sessions, settings, world.learner.id)
    with sessions.begin() as session:
        twofactor.disable(
            session, settings, two_factor_principal(session, world.learner.id),
            password=PASSWORD, code=codes[0],
        )  # fmt: skip
    sign_in_client(client, world.learner.email)
    german = _notifications_page(client, "de")
    assert "Die Zwei-Faktor-Authentifizierung wurde ausgeschaltet</button>" in german
    assert "<p>Für die Anmeldung an Ihrem Konto genügt jetzt das Passwort." in german
    french = _notifications_page(client, "fr")
    assert "L’authentification à deux facteurs a été désactivée</button>" in french
    spanish = _notifications_page(client, "es")
    assert "Se desactivó la autenticación de dos factores</button>" in spanish

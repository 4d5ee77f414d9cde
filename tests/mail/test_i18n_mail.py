"""E-mails in the recipient's language: the account's saved one, else English."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import microcred.notifications.mailing  # noqa: F401  (registers the issuance mail)
from microcred.accounts.mailing import queue_password_reset
from microcred.accounts.models import User
from microcred.credentials import service
from microcred.mail.models import MailMessage
from microcred.mail.service import render_mail
from microcred.settings import Settings
from tests.catalogue.factories import skills
from tests.conftest import World
from tests.credentials.service.conftest import definition_id, issue_input

__all__ = ["definition_id", "skills"]


def _mail_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"smtp_url": "smtp://127.0.0.1:1", "mail_in_server": False})


def _set_locale(sessions: sessionmaker[Session], user_id: str, locale: str | None) -> User:
    with sessions.begin() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.locale = locale
        session.flush()
        session.expunge(user)
        return user


def test_a_reset_mail_to_an_account_in_french_is_in_french(
    sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    user = _set_locale(sessions, world.learner.id, "fr")
    with sessions.begin() as session:
        assert queue_password_reset(session, _mail_settings(settings), user, "pwr_x", "r1")
    with sessions() as session:
        mail = session.scalars(select(MailMessage)).one()
    assert mail.subject == "Réinitialisez votre mot de passe"
    assert mail.text_body.startswith("Bonjour Lee Learner,\n")
    assert "Le lien fonctionne une seule fois." in mail.text_body
    assert mail.html_body is not None and '<html lang="fr">' in mail.html_body
    assert "Choisir un nouveau mot de passe</a>" in mail.html_body
    assert "les réponses ne sont pas lues" in mail.html_body


def test_an_account_without_a_saved_language_gets_english(
    sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    user = _set_locale(sessions, world.learner.id, None)
    with sessions.begin() as session:
        assert queue_password_reset(session, _mail_settings(settings), user, "pwr_x", "r1")
    with sessions() as session:
        mail = session.scalars(select(MailMessage)).one()
    assert mail.subject == "Reset your password"
    assert mail.text_body.startswith("Hello Lee Learner,\n")
    assert mail.html_body is not None and '<html lang="en">' in mail.html_body


def test_the_issuance_mail_follows_the_holders_language(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> None:
    _set_locale(sessions, world.learner.id, "de")
    with sessions.begin() as session:
        service.issue_credential(
            session, None, settings=_mail_settings(settings),
            **issue_input(definition_id, recipient_email=world.learner.email),
        )  # fmt: skip
    with sessions() as session:
        mails = session.scalars(select(MailMessage)).all()
    assert len(mails) == 1
    assert mails[0].subject.startswith("North College hat Ihnen einen Nachweis ausgestellt: ")
    assert "Ihren Nachweis ansehen" in (mails[0].html_body or "")


def test_text_and_html_mails_escape_only_where_they_must() -> None:
    text, html = render_mail(
        "notification", locale="es", name="Ana <Ruiz>", subject="S", body=None, link=None,
        reason="Pathways you complete", unsubscribe="u", preferences="p",
    )  # fmt: skip
    assert text.startswith("Hola, Ana <Ruiz>:\n")
    assert "Recibe este correo sobre: Itinerarios que completa." in text
    assert "Hola, Ana &lt;Ruiz&gt;:" in html

"""E-mail choices on the Notifications page and the API, the unsubscribe link's page, and an
issuer's issuance settings (default formats, e-mailing recipients) on its page and the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent
from microcred.credentials import service as credentials
from microcred.mail.service import send_pending
from microcred.notifications import mailing
from microcred.settings import Settings
from microcred.web.app import create_app
from tests.conftest import World, sign_in_client
from tests.mail.smtp import SmtpServer
from tests.notifications.test_service import issue
from tests.notifications.test_web import bearer


@pytest.fixture
def mail_client(mail_settings: Settings) -> Iterator[TestClient]:
    app = create_app(mail_settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.context.engine.dispose()


def test_the_page_offers_email_choices_only_when_the_server_sends_mail(
    client: TestClient, mail_client: TestClient, world: World
) -> None:
    sign_in_client(client, world.learner.email)
    page = client.get("/notifications")
    assert 'id="email-choices"' not in page.text and "sends no e-mail" in page.text

    csrf = sign_in_client(mail_client, world.learner.email)
    page = mail_client.get("/notifications")
    assert 'id="email-choices"' in page.text and page.text.count('name="groups"') == 5
    saved = mail_client.post(
        "/notifications/email", data={"groups": ["pathways"], "csrf_token": csrf}
    )
    assert saved.status_code == 200 and 'id="email-saved"' in saved.text
    assert 'value="pathways" checked' in saved.text
    assert 'value="credentials" checked' not in saved.text
    forged = mail_client.post("/notifications/email", data={"groups": [], "csrf_token": "nope"})
    assert forged.status_code == 403


def test_the_api_reads_and_sets_the_tokens_own_choices(
    mail_client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    headers = bearer(sessions, world.learner, "notifications:read")
    found = mail_client.get("/api/v1/me/notifications/email", headers=headers).json()
    assert found["groups"] == ["account", "credentials", "organisation", "pathways", "surveys"]
    assert found["mail_enabled"] is True and set(found["available"]) == set(mailing.GROUPS)
    put = mail_client.put(
        "/api/v1/me/notifications/email", json={"groups": ["credentials"]}, headers=headers
    )
    assert put.status_code == 200 and put.json()["groups"] == ["credentials"]
    bad = mail_client.put(
        "/api/v1/me/notifications/email", json={"groups": ["spam"]}, headers=headers
    )
    assert bad.status_code == 400 and "spam" in bad.text
    other = bearer(sessions, world.learner, "credentials:read")
    assert mail_client.get("/api/v1/me/notifications/email", headers=other).status_code == 403


def test_an_unsubscribe_link_asks_then_mutes_without_a_sign_in(
    mail_client: TestClient, sessions: sessionmaker[Session], world: World,
    mail_settings: Settings,
) -> None:  # fmt: skip
    token = mailing.unsubscribe_token(mail_settings, world.learner.id, "organisation")
    page = mail_client.get(f"/notifications/unsubscribe/{token}")
    assert page.status_code == 200 and "learner@example.org" in page.text
    assert 'id="unsubscribe"' in page.text
    with sessions() as session:  # a GET (a mail scanner following links) changes nothing
        assert mailing._muted(session, [world.learner.id]) == {}

    done = mail_client.post(f"/notifications/unsubscribe/{token}")  # one click, no cookie
    assert done.status_code == 200 and 'id="unsubscribed"' in done.text
    with sessions() as session:
        assert mailing._muted(session, [world.learner.id]) == {world.learner.id: {"organisation"}}
    assert mail_client.post("/notifications/unsubscribe/forged-token").status_code == 404


def test_issuance_settings_are_read_by_staff_and_changed_by_admins_only(
    mail_client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    csrf = sign_in_client(mail_client, world.staff.email)
    page = mail_client.get("/manage/credentials/settings")
    assert page.status_code == 200 and "Issuance settings of North College" in page.text
    assert "Save settings" not in page.text  # staff read them
    refused = mail_client.post(
        "/manage/credentials/settings",
        data={"organisation": "north-college", "formats": ["eddsa-jcs-2022"], "csrf_token": csrf},
    )
    assert refused.status_code == 403

    csrf = sign_in_client(mail_client, world.admin.email)
    bad = mail_client.post(
        "/manage/credentials/settings",
        data={"organisation": "north-college", "formats": ["rot13"], "csrf_token": csrf},
    )
    assert bad.status_code == 400 and "Unknown format(s) rot13" in bad.text
    saved = mail_client.post(
        "/manage/credentials/settings",
        data={
            "organisation": "north-college", "formats": ["eddsa-jcs-2022", "vc-jwt-es256"],
            "csrf_token": csrf,
        },  # email_recipients unticked
    )  # fmt: skip
    assert saved.status_code == 200 and 'id="notice"' in saved.text
    with sessions() as session:
        found = credentials.issuance_settings(session, None, "north-college")
        assert found.formats == ("eddsa-jcs-2022", "vc-jwt-es256")
        assert found.email_recipients is False
        audit = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "credentials.settings")
        ).all()
    assert audit == [{"formats": ["eddsa-jcs-2022", "vc-jwt-es256"], "email_recipients": False}]


def test_the_issuance_settings_api_and_another_issuers_staff(
    mail_client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    admin = bearer(sessions, world.admin, "credentials:issue", "credentials:read")
    url = "/api/v1/organisations/north-college/issuance-settings"
    found = mail_client.get(url, headers=admin).json()
    assert found == {
        "formats": list(credentials.DEFAULT_FORMATS), "email_recipients": True,
        "mail_locale": None, "mail_enabled": True,
    }  # fmt: skip
    put = mail_client.put(url, json={"email_recipients": False}, headers=admin)
    assert put.status_code == 200 and put.json()["email_recipients"] is False
    assert put.json()["formats"] == list(credentials.DEFAULT_FORMATS)  # left as it was
    bad = mail_client.put(url, json={"formats": []}, headers=admin)
    assert bad.status_code == 400 and "at least one" in bad.text

    other = bearer(sessions, world.other_staff, "credentials:issue", "credentials:read")
    assert mail_client.get(url, headers=other).status_code == 403
    assert mail_client.put(url, json={"email_recipients": True}, headers=other).status_code == 403
    with sessions() as session:
        assert (
            credentials.issuance_settings(session, None, "north-college").email_recipients is False
        )


def test_mail_clients_unsubscribe_with_the_rfc_8058_headers(
    mail_client: TestClient, sessions: sessionmaker[Session], world: World,
    mail_settings: Settings, smtp_server: SmtpServer, definition_id: str,
) -> None:  # fmt: skip
    issue(sessions, mail_settings, definition_id)  # to the learner's account
    issue(sessions, mail_settings, definition_id, recipient_email="nobody@example.org")
    send_pending(sessions, mail_settings)
    (to_account,) = smtp_server.to("learner@example.org")
    (to_address,) = smtp_server.to("nobody@example.org")
    assert "List-Unsubscribe" not in to_address  # no account: no choices to make

    assert to_account["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = to_account["List-Unsubscribe"].strip("<>")
    assert url.startswith(f"{mail_settings.base_url.rstrip('/')}/notifications/unsubscribe/")
    posted = mail_client.post(  # what a mail client sends: no cookie, no CSRF token
        url.removeprefix(mail_settings.base_url.rstrip("/")),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert posted.status_code == 200
    with sessions() as session:
        assert mailing._muted(session, [world.learner.id]) == {world.learner.id: {"credentials"}}

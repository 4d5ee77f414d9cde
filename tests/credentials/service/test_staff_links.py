"""Every link the credential and staff pages show leads somewhere: the issuer by its slug, the
DID document once there is a key, the platform administrator's manage pages for any issuer."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import OrganisationKind, Role, User
from microcred.credentials import service
from tests.conftest import World, sign_in_client


def _issue(sessions: sessionmaker[Session], definition_id: str) -> str:
    with sessions.begin() as session:
        return service.issue_credential(
            session, None, definition_id=definition_id, recipient_email="learner@example.org"
        ).id


def _links(html: str) -> set[str]:
    return set(re.findall(r'href="([^"#]+)"', html))


def test_the_credential_page_links_its_issuer_by_slug(
    client: TestClient, sessions: sessionmaker[Session], world: World, definition_id: str
) -> None:
    with sessions.begin() as session:  # the issuer's website is what `issuer.url` carries
        accounts.get_organisation(session, "north-college").website = "https://north.example"
    credential_id = _issue(sessions, definition_id)
    page = client.get(f"/credentials/{credential_id}")
    assert page.status_code == 200
    issuer_links = {link for link in _links(page.text) if link.startswith("/issuers/")}
    assert issuer_links == {"/issuers/north-college"}
    assert client.get("/issuers/north-college").status_code == 200


def test_account_page_links_only_organisations_with_a_public_page(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    with sessions.begin() as session:
        university = accounts.create_organisation(
            session, slug="metro-u", name="Metro U", kind=OrganisationKind.institution
        )
        employer = session.get(User, world.employer.id)
        assert employer is not None
        accounts.add_membership(session, employer, university, Role.learner)
    sign_in_client(client, world.employer.email)
    links = _links(client.get("/account").text)
    assert "/issuers/acme" not in links  # an employer has no issuer page
    assert "/issuers/metro-u" in links
    # an institution that has not published yet still has its page (it designs and recognises)
    assert client.get("/issuers/metro-u").status_code == 200
    assert client.get("/issuers/acme").status_code == 404


def test_did_document_link_only_once_the_issuer_has_a_key(
    client: TestClient, sessions: sessionmaker[Session], world: World, definition_id: str
) -> None:
    sign_in_client(client, world.staff.email)
    before = client.get("/manage/credentials")
    assert before.status_code == 200
    assert "/issuers/north-college/did.json" not in _links(before.text)
    assert "published with the first signing key" in before.text
    assert client.get("/issuers/north-college/did.json").status_code == 404
    _issue(sessions, definition_id)
    after = client.get("/manage/credentials")
    assert "/issuers/north-college/did.json" in _links(after.text)
    assert client.get("/issuers/north-college/did.json").status_code == 200


def test_platform_admin_manages_any_issuer_one_at_a_time(
    client: TestClient,
    sessions: sessionmaker[Session],
    world: World,
    definition_id: str,
    academy_definition_id: str,
    platform_admin: str,
) -> None:
    sign_in_client(client, platform_admin)
    assert 'href="/manage/definitions"' in client.get("/").text  # the nav offers it
    first = client.get("/manage/definitions")
    assert first.status_code == 200
    # the issuers (not the employer) to choose from, the first by name chosen
    options = re.findall(r'<option value="([^"]+)"', first.text)
    assert options == ["north-college", "south-academy"]
    assert f"/definitions/{definition_id}" in _links(first.text)
    assert f"/definitions/{academy_definition_id}" not in _links(first.text)
    other = client.get("/manage/definitions?organisation=south-academy")
    assert f"/definitions/{academy_definition_id}" in _links(other.text)
    assert f"/definitions/{definition_id}" not in _links(other.text)
    credentials = client.get("/manage/credentials?organisation=south-academy")
    assert credentials.status_code == 200
    assert "Credentials issued by South Academy" in credentials.text
    # the form to create a definition offers every issuer
    form = client.get("/manage/definitions/new")
    assert form.status_code == 200 and "South Academy" in form.text and "Acme" not in form.text


def test_staff_still_see_only_their_own_organisations(
    client: TestClient, world: World, definition_id: str, academy_definition_id: str
) -> None:
    sign_in_client(client, world.staff.email)
    page = client.get("/manage/definitions")
    assert f"/definitions/{definition_id}" in _links(page.text)
    assert f"/definitions/{academy_definition_id}" not in _links(page.text)
    narrowed = client.get("/manage/definitions?organisation=south-academy")  # not theirs
    assert f"/definitions/{academy_definition_id}" not in _links(narrowed.text)
    assert "South Academy" not in client.get("/manage/credentials?organisation=south-academy").text

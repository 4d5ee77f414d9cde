"""The OB 3.0 API as a client app uses it, over HTTP: discovery, registration, consent,
tokens with PKCE, the four resource operations, refresh and revocation — and every refusal."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import service as credentials
from microcred.credentials.schemas import schema_errors
from microcred.obapi import protocol
from microcred.obapi import service as obapi_service
from microcred.obapi.models import ApiAuthorizationCode, ApiGrant
from microcred.settings import Settings
from microcred.wallet.models import ImportedCredential
from tests.conftest import PASSWORD, World, sign_in_client
from tests.obapi.conftest import (
    REDIRECT_URI,
    ClientApp,
    bearer,
    csrf_of,
    hidden_fields,
    registration,
)

API = "/ims/ob/v3p0"
RESPONSE_SCHEMA = "ob_v3p0_getopenbadgecredentialsresponse_schema.json"
STATUS_SCHEMA = "ob_v3p0_imsx_statusinfo_schema.json"
PROFILE_SCHEMA = "ob_v3p0_profile_schema.json"


def _valid(schema: str, body: Any) -> None:
    assert schema_errors(schema, body) == ()


def _imsx(response: Any, status: int, code_minor: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    _valid(STATUS_SCHEMA, body)
    assert body["imsx_codeMajor"] == "failure"
    field = body["imsx_codeMinor"]["imsx_codeMinorField"][0]
    assert field["imsx_codeMinorFieldValue"] == code_minor
    return body


def _push(client: TestClient, token: str, content: str, media: str = "application/json") -> Any:
    """upsertCredential as an app sends it: JSON, or a compact JWS as text/plain."""
    headers = {**bearer(token), "Content-Type": media}
    return client.post(f"{API}/credentials", content=content, headers=headers)


def _issue(
    sessions: sessionmaker[Session],
    settings: Settings,
    definition_id: str,
    email: str | None = "learner@example.org",
    formats: tuple[str, ...] = ("eddsa-rdfc-2022", "vc-jwt-es256"),
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """A credential issued here: to an e-mail address, or (``email=None``) to a DID."""
    did = None if email else "did:example:holder-of-a-backpack"
    with sessions.begin() as session:
        row = credentials.issue_credential(
            session, None, definition_id=definition_id, settings=settings,
            recipient_email=email, recipient_did=did, formats=list(formats),
        )  # fmt: skip
        return row.id, row.document, dict(row.jwts)


def test_discovery_describes_the_api_and_where_to_register_authorize_and_get_tokens(
    client: TestClient, settings: Settings
) -> None:
    response = client.get(f"{API}/discovery")
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
    base = settings.base_url.rstrip("/") + API
    assert scheme["type"] == "oauth2"
    assert scheme["x-imssf-registrationUrl"] == f"{base}/register"
    flow = scheme["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == f"{base}/authorize"
    assert flow["tokenUrl"] == flow["refreshUrl"] == f"{base}/token"
    assert set(flow["scopes"]) == set(protocol.SCOPES)
    assert document["info"]["x-imssf-privacyPolicyUrl"].endswith("/privacy")
    assert document["info"]["x-imssf-image"].endswith(".svg")
    assert document["servers"][0]["url"] == base
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert operations == {
        "getCredentials", "upsertCredential", "getProfile", "putProfile", "getServiceDescription"
    }  # fmt: skip
    assert (
        client.get(document["info"]["x-imssf-privacyPolicyUrl"].split("8000")[1]).status_code == 200
    )


@pytest.mark.both_databases
def test_a_client_app_connects_reads_pushes_and_updates_then_refreshes_and_revokes(
    db_backend: str,
    client: TestClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    world: World,
    definition_id: str,
    academy_definition_id: str,
) -> None:
    own_id, own_document, _ = _issue(
        sessions, settings, definition_id, formats=("eddsa-rdfc-2022",)
    )
    jwt_only_id, _, jwt_only = _issue(sessions, settings, definition_id, formats=("vc-jwt-es256",))
    sign_in_client(client, "learner@example.org")
    backpack = ClientApp(client)
    registered = backpack.register()
    assert registered["client_secret_expires_at"] == 0
    assert registered["token_endpoint_auth_method"] == "client_secret_basic"
    assert registered["grant_types"] == ["authorization_code", "refresh_token"]
    assert registered["response_types"] == ["code"]
    assert registered["redirect_uris"] == [REDIRECT_URI]
    redirected = backpack.consent()
    assert redirected["state"] == [backpack.state]
    response = backpack.exchange(redirected["code"][0])
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert set(tokens["scope"].split()) == set(protocol.SCOPES)

    listed = client.get(f"{API}/credentials", headers=bearer(tokens["access_token"]))
    assert listed.status_code == 200, listed.text
    _valid(RESPONSE_SCHEMA, listed.json())
    assert listed.headers["x-total-count"] == "2"
    assert [c["id"] for c in listed.json()["credential"]] == [own_document["id"]]
    assert listed.json()["compactJwsString"] == [jwt_only["vc-jwt-es256"]]
    assert 'rel="first"' in listed.headers["link"] and 'rel="next"' not in listed.headers["link"]
    assert own_id and jwt_only_id

    # a credential from another organisation, to the learner's e-mail: JSON then a compact JWS
    _, academy_document, academy_jwts = _issue(sessions, settings, academy_definition_id)
    body = json.dumps(academy_document)
    pushed = _push(client, tokens["access_token"], body)
    assert pushed.status_code == 201, pushed.text
    assert pushed.json() == academy_document
    again = _push(client, tokens["access_token"], academy_jwts["vc-jwt-es256"], "text/plain")
    assert again.status_code == 200, again.text  # the same credential id: replaced
    assert again.text == academy_jwts["vc-jwt-es256"]
    assert again.headers["content-type"].startswith("text/plain")
    _, _, second_jwts = _issue(sessions, settings, academy_definition_id)
    new_jws = _push(client, tokens["access_token"], second_jwts["vc-jwt-es256"], "text/plain")
    assert new_jws.status_code == 201, new_jws.text
    listed = client.get(f"{API}/credentials", headers=bearer(tokens["access_token"]))
    _valid(RESPONSE_SCHEMA, listed.json())
    assert listed.headers["x-total-count"] == "4"  # issued here to the learner: listed once
    assert academy_document["id"] in [c["id"] for c in listed.json()["credential"]]
    # one issued to a DID (no account here) that the app pushed: listed in its JWT form
    _, _, did_jwts = _issue(sessions, settings, academy_definition_id, email=None)
    pushed_jws = _push(client, tokens["access_token"], did_jwts["vc-jwt-es256"], "text/plain")
    assert pushed_jws.status_code == 201, pushed_jws.text
    listed = client.get(f"{API}/credentials", headers=bearer(tokens["access_token"]))
    _valid(RESPONSE_SCHEMA, listed.json())
    assert listed.headers["x-total-count"] == "5"
    assert did_jwts["vc-jwt-es256"] in listed.json()["compactJwsString"]
    notices = client.get("/notifications").text
    assert "App connected: Example Backpack" in notices
    assert "Example Backpack added it; it was verified first." in notices
    assert "Example Backpack replaced it" in notices

    profile = client.get(f"{API}/profile", headers=bearer(tokens["access_token"]))
    assert profile.status_code == 200
    _valid(PROFILE_SCHEMA, profile.json())
    assert profile.json()["name"] == "Lee Learner"
    assert profile.json()["email"] == "learner@example.org"
    changed = client.put(
        f"{API}/profile",
        json={**profile.json(), "name": "  Lee   Q. Learner ", "phone": "111-222-3333"},
        headers=bearer(tokens["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Lee Q. Learner" and "phone" not in changed.json()
    assert "Lee Q. Learner" in client.get("/account").text

    refreshed = client.post(
        f"{API}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=backpack.basic,
    )
    assert refreshed.status_code == 200, refreshed.text
    fresh = refreshed.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert client.get(f"{API}/profile", headers=bearer(fresh["access_token"])).status_code == 200
    # the spent refresh token, presented again: the grant dies with every token of it
    reused = client.post(
        f"{API}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=backpack.basic,
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    _imsx(client.get(f"{API}/profile", headers=bearer(fresh["access_token"])), 401,
          "unauthorizedrequest")  # fmt: skip
    dead = client.post(
        f"{API}/token",
        data={"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"]},
        headers=backpack.basic,
    )
    assert dead.status_code == 400

    # a new connection, revoked by the client at the revocation endpoint
    tokens = backpack.connect()
    revoked = client.post(
        f"{API}/revoke", data={"token": tokens["refresh_token"]}, headers=backpack.basic
    )
    assert revoked.status_code == 200
    _imsx(client.get(f"{API}/credentials", headers=bearer(tokens["access_token"])), 401,
          "unauthorizedrequest")  # fmt: skip
    unknown = client.post(f"{API}/revoke", data={"token": "never-issued"}, headers=backpack.basic)
    assert unknown.status_code == 200


@pytest.mark.both_databases
def test_paging_headers_follow_the_spec(
    db_backend: str,
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    for _ in range(5):
        _issue(sessions, settings, definition_id, formats=("eddsa-rdfc-2022",))
    sign_in_client(client, "learner@example.org")
    backpack = ClientApp(client)
    backpack.register()
    token = backpack.connect()["access_token"]
    first = client.get(f"{API}/credentials?limit=2", headers=bearer(token))
    assert first.headers["x-total-count"] == "5" and len(first.json()["credential"]) == 2
    links = dict(
        (rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', first.headers["link"])
    )
    assert set(links) == {"next", "last", "first"}
    assert links["next"].endswith("/ims/ob/v3p0/credentials?limit=2&offset=2")
    assert links["last"].endswith("offset=4") and links["first"].endswith("offset=0")
    last = client.get(f"{API}/credentials?limit=2&offset=4", headers=bearer(token))
    assert len(last.json()["credential"]) == 1
    rels = re.findall(r'rel="(\w+)"', last.headers["link"])
    assert rels == ["last", "first", "prev"]
    ids = []
    for offset in (0, 2, 4):
        page = client.get(f"{API}/credentials?limit=2&offset={offset}", headers=bearer(token))
        ids += [c["id"] for c in page.json()["credential"]]
    assert len(set(ids)) == 5
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    none = client.get(f"{API}/credentials", params={"since": future}, headers=bearer(token))
    assert none.headers["x-total-count"] == "0" and none.json() == {}
    _imsx(client.get(f"{API}/credentials?limit=0", headers=bearer(token)), 400,
          "invalid_query_parameter")  # fmt: skip
    _imsx(client.get(f"{API}/credentials?offset=x", headers=bearer(token)), 400,
          "invalid_query_parameter")  # fmt: skip
    _imsx(client.get(f"{API}/credentials?since=yesterday", headers=bearer(token)), 400,
          "invalid_query_parameter")  # fmt: skip


def test_registration_refuses_bad_metadata_with_rfc7591_errors(client: TestClient) -> None:
    def refused(**overrides: Any) -> dict[str, Any]:
        response = client.post(f"{API}/register", json=registration(**overrides))
        assert response.status_code == 400, response.text
        assert response.headers["cache-control"] == "no-store"
        body: dict[str, Any] = response.json()
        return body

    assert refused(redirect_uris=["http://backpack.example/cb"])["error"] == "invalid_redirect_uri"
    assert refused(redirect_uris=[])["error"] == "invalid_redirect_uri"
    assert refused(redirect_uris=["https://backpack.example/cb#x"])["error"] == (
        "invalid_redirect_uri"
    )
    missing = refused(client_name="")
    assert (
        missing["error"] == "invalid_client_metadata"
        and "client_name" in missing["error_description"]
    )
    assert "scope" in refused(scope="https://example.org/other")["error_description"]
    assert refused(token_endpoint_auth_method="none")["error"] == "invalid_client_metadata"
    assert refused(grant_types=["implicit"])["error"] == "invalid_client_metadata"
    assert refused(response_types=["token"])["error"] == "invalid_client_metadata"
    assert refused(policy_uri="ftp://backpack.example/p")["error"] == "invalid_client_metadata"
    loopback = client.post(
        f"{API}/register", json=registration(redirect_uris=["http://127.0.0.1:9000/cb"])
    )
    assert loopback.status_code == 201


def test_registration_is_limited_per_network_address(client: TestClient) -> None:
    for _ in range(10):
        assert client.post(f"{API}/register", json=registration()).status_code == 201
    throttled = client.post(f"{API}/register", json=registration())
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "3600"


def test_bad_client_or_redirect_uri_is_an_error_page_never_a_redirect(
    client: TestClient, world: World, app_client: ClientApp
) -> None:
    sign_in_client(client, "learner@example.org")
    for url in (
        app_client.authorize_url(client_id="nobody"),
        app_client.authorize_url(redirect_uri="https://evil.example/callback"),
        app_client.authorize_url(redirect_uri=None),
    ):
        page = client.get(url, follow_redirects=False)
        assert page.status_code == 400 and "location" not in page.headers
        assert "evil.example" not in page.headers.get("location", "")


def test_pkce_is_required_and_plain_refused_by_redirect(
    client: TestClient, world: World, app_client: ClientApp
) -> None:
    sign_in_client(client, "learner@example.org")
    for overrides, expected in (
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "https://example.org/unknown"}, "invalid_scope"),
    ):
        page = client.get(app_client.authorize_url(**overrides), follow_redirects=False)
        assert page.status_code == 303, overrides
        location = page.headers["location"]
        assert location.startswith(REDIRECT_URI + "?")
        assert f"error={expected}" in location and f"state={app_client.state}" in location


def test_an_app_limited_to_some_scopes_cannot_ask_for_more(
    client: TestClient, world: World
) -> None:
    sign_in_client(client, "learner@example.org")
    reader = ClientApp(client)
    reader.register(scope=protocol.CREDENTIAL_READONLY)
    page = client.get(reader.authorize_url(), follow_redirects=False)
    assert "error=invalid_scope" in page.headers["location"]
    tokens = reader.exchange(reader.consent(scope=None)["code"][0]).json()
    assert tokens["scope"] == protocol.CREDENTIAL_READONLY


def test_the_learner_signs_in_first_and_comes_back_to_the_consent_page(
    client: TestClient, world: World, app_client: ClientApp
) -> None:
    url = app_client.authorize_url()
    away = client.get(url, follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"].startswith("/sign-in?next=")
    form = client.get(away.headers["location"])
    token = csrf_of(form.text)
    signed_in = client.post(
        "/sign-in",
        data={"email": "learner@example.org", "password": PASSWORD,
              "csrf_token": token, "next": re.search(r'name="next" value="([^"]+)"', form.text)
              .group(1).replace("&amp;", "&")},  # type: ignore[union-attr]
        follow_redirects=False,
    )  # fmt: skip
    assert signed_in.status_code == 303, signed_in.text
    assert signed_in.headers["location"] == url
    consent = client.get(url)
    assert "Example Backpack" in consent.text and "https://backpack.example/" in consent.text
    assert "<img" not in consent.text.split('id="consent"')[1]
    assert "See the credentials issued to you" in consent.text
    assert (
        "form-action 'self' https://backpack.example" in consent.headers["content-security-policy"]
    )


def test_deny_redirects_with_access_denied_and_the_form_needs_its_csrf_token(
    client: TestClient, world: World, app_client: ClientApp
) -> None:
    sign_in_client(client, "learner@example.org")
    denied = app_client.consent("deny")
    assert denied["error"] == ["access_denied"] and denied["state"] == [app_client.state]
    assert "code" not in denied
    stateless = app_client.consent(state=None)
    assert "state" not in stateless and stateless["code"]
    page = client.get(app_client.authorize_url())
    fields = {**hidden_fields(page.text), "csrf_token": "forged", "decision": "allow"}
    forged = client.post(f"{API}/authorize", data=fields, follow_redirects=False)
    assert forged.status_code == 403


def test_the_code_is_single_use_bound_to_its_client_verifier_redirect_and_lifetime(
    client: TestClient, sessions: sessionmaker[Session], world: World, app_client: ClientApp
) -> None:
    sign_in_client(client, "learner@example.org")
    wrong_verifier = app_client.exchange(app_client.consent()["code"][0], code_verifier="x" * 50)
    assert wrong_verifier.status_code == 400 and wrong_verifier.json()["error"] == "invalid_grant"
    missing_verifier = app_client.exchange(app_client.consent()["code"][0], code_verifier=None)
    assert missing_verifier.json()["error"] == "invalid_grant"
    wrong_redirect = app_client.exchange(
        app_client.consent()["code"][0], redirect_uri="https://backpack.example/other"
    )
    assert wrong_redirect.json()["error"] == "invalid_grant"

    other = ClientApp(client, verifier=app_client.verifier)
    other.register(client_name="Other Backpack")
    stolen = other.exchange(app_client.consent()["code"][0])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"

    code = app_client.consent()["code"][0]
    first = app_client.exchange(code)
    assert first.status_code == 200
    replayed = app_client.exchange(code)
    assert replayed.json()["error"] == "invalid_grant"
    # the replay revoked the grant: the tokens of the first exchange are dead
    dead = client.get(f"{API}/profile", headers=bearer(first.json()["access_token"]))
    assert dead.status_code == 401

    code = app_client.consent()["code"][0]
    with sessions.begin() as session:
        session.execute(
            update(ApiAuthorizationCode).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = app_client.exchange(code)
    assert (
        expired.json()["error"] == "invalid_grant"
        and "expired" in expired.json()["error_description"]
    )

    bad_secret = ClientApp(client, client_id=app_client.client_id, client_secret="wrong")
    refused = bad_secret.exchange(app_client.consent()["code"][0])
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert refused.headers["www-authenticate"].startswith("Basic")
    no_grant_type = client.post(f"{API}/token", data={}, headers=app_client.basic)
    assert no_grant_type.json()["error"] == "invalid_request"
    implicit = client.post(
        f"{API}/token", data={"grant_type": "password"}, headers=app_client.basic
    )
    assert implicit.json()["error"] == "unsupported_grant_type"


def test_resource_errors_are_imsx_bodies_with_challenges(client: TestClient, world: World) -> None:
    sign_in_client(client, "learner@example.org")
    reader = ClientApp(client)
    reader.register(scope=protocol.CREDENTIAL_READONLY)
    token = reader.connect()["access_token"]
    none = client.get(f"{API}/credentials")
    _imsx(none, 401, "unauthorizedrequest")
    assert none.headers["www-authenticate"] == 'Bearer realm="microcred"'
    bogus = client.get(f"{API}/credentials", headers=bearer("bogus"))
    assert 'error="invalid_token"' in _imsx_headers(bogus, 401)
    for method, path in (("GET", "/profile"), ("PUT", "/profile"), ("POST", "/credentials")):
        response = client.request(method, f"{API}{path}", headers=bearer(token), json={})
        _imsx(response, 403, "forbidden")
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    _imsx(client.delete(f"{API}/credentials", headers=bearer(token)), 405, "not_allowed")
    # a session cookie is no access token
    assert client.get(f"{API}/profile").status_code == 401


def _imsx_headers(response: Any, status: int) -> str:
    _imsx(response, status, "unauthorizedrequest")
    return str(response.headers["www-authenticate"])


def test_upsert_refuses_what_does_not_verify_or_is_someone_elses_and_keeps_nothing(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    academy_definition_id: str,
) -> None:  # fmt: skip
    sign_in_client(client, "learner@example.org")
    backpack = ClientApp(client)
    backpack.register()
    token = backpack.connect()["access_token"]
    headers = bearer(token)
    _, document, _ = _issue(sessions, settings, academy_definition_id)
    tampered = {**document, "name": "Something else"}
    refused = _push(client, token, json.dumps(tampered))
    assert "does not verify" in _imsx(refused, 400, "invalid_data")["imsx_description"]
    _, elses, _ = _issue(sessions, settings, academy_definition_id, email="someone@example.net")
    theirs = _push(client, token, json.dumps(elses))
    assert "someone else" in _imsx(theirs, 400, "invalid_data")["imsx_description"]
    garbage = _push(client, token, "not a credential", "text/plain")
    _imsx(garbage, 400, "invalid_data")
    not_a_badge = _push(client, token, json.dumps({**document, "type": ["VerifiableCredential"]}))
    assert (
        "neither OpenBadgeCredential" in _imsx(not_a_badge, 400, "invalid_data")["imsx_description"]
    )
    wrong_type = client.post(
        f"{API}/credentials",
        content=b"%PDF",
        headers={**headers, "Content-Type": "application/pdf"},
    )
    _imsx(wrong_type, 415, "not_acceptable")
    # a replacement that fails leaves the original in place
    accepted = _push(client, token, json.dumps(document))
    assert accepted.status_code == 201
    failed = _push(client, token, json.dumps(tampered))
    assert failed.status_code == 400
    listed = client.get(f"{API}/credentials", headers=headers).json()
    assert [c["id"] for c in listed["credential"]] == [document["id"]]
    # once a re-verification fails (revoked at its issuer, say) it is not listed; sent again
    # (verified anew) it replaces the failed copy
    _, held_by_did, _ = _issue(sessions, settings, academy_definition_id, email=None)
    body = json.dumps(held_by_did)
    assert _push(client, token, body).status_code == 201

    def total() -> str:
        return str(client.get(f"{API}/credentials", headers=headers).headers["x-total-count"])

    assert total() == "2"
    with sessions.begin() as session:
        session.execute(update(ImportedCredential).values(verified=False))
    assert total() == "1"
    resent = _push(client, token, body)
    assert resent.status_code == 200
    assert total() == "2"
    not_a_profile = client.put(f"{API}/profile", json={"name": "X"}, headers=headers)
    assert "Not a valid Profile" in _imsx(not_a_profile, 400, "invalid_data")["imsx_description"]
    blank = client.put(
        f"{API}/profile", json={"type": "Profile", "id": "urn:uuid:x", "name": " "}, headers=headers
    )
    assert "Give your name" in _imsx(blank, 400, "invalid_data")["imsx_description"]
    mine = client.get(f"{API}/profile", headers=headers).json()
    elsewhere = {**mine, "id": "https://1edtech.org/issuers/cert", "email": "new@example.org"}
    kept = client.put(f"{API}/profile", json=elsewhere, headers=headers)
    assert kept.status_code == 200 and kept.json() == mine  # not applied, as the spec allows


@pytest.mark.both_databases
def test_another_learners_data_is_never_visible_and_revoking_on_the_account_page_works_at_once(
    db_backend: str,
    app: Any, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    _issue(sessions, settings, definition_id, formats=("eddsa-rdfc-2022",))
    with TestClient(app) as learner_browser, TestClient(app) as staff_browser:
        sign_in_client(learner_browser, "learner@example.org")
        csrf = sign_in_client(staff_browser, "staff@north.example")
        backpack = ClientApp(learner_browser)
        backpack.register()
        learner_token = backpack.connect()["access_token"]
        staff_app = ClientApp(staff_browser, client_id=backpack.client_id,
                              client_secret=backpack.client_secret)  # fmt: skip
        staff_token = staff_app.connect()["access_token"]
        staffs = staff_browser.get(f"{API}/credentials", headers=bearer(staff_token))
        assert staffs.headers["x-total-count"] == "0"
        profile = staff_browser.get(f"{API}/profile", headers=bearer(staff_token)).json()
        assert profile["email"] == "staff@north.example"
        learners = staff_browser.get(f"{API}/credentials", headers=bearer(learner_token))
        assert learners.headers["x-total-count"] == "1"  # the token, not the cookie, decides

        with sessions() as session:
            grant_id = session.scalars(
                select(ApiGrant.id).where(ApiGrant.user_id == world.learner.id)
            ).one()
        # the staff member cannot revoke the learner's grant
        refused = staff_browser.post(
            f"/account/connected-apps/{grant_id}/revoke", data={"csrf_token": csrf},
            follow_redirects=False,
        )  # fmt: skip
        assert refused.status_code == 404
        account = learner_browser.get("/account")
        assert "Connected apps" in account.text and "Example Backpack" in account.text
        revoked = learner_browser.post(
            f"/account/connected-apps/{grant_id}/revoke",
            data={"csrf_token": csrf_of(account.text)}, follow_redirects=False,
        )  # fmt: skip
        assert revoked.status_code == 303
        dead = learner_browser.get(f"{API}/credentials", headers=bearer(learner_token))
        assert dead.status_code == 401
        assert "No app is connected" in learner_browser.get("/account").text
        alive = staff_browser.get(f"{API}/profile", headers=bearer(staff_token))
        assert alive.status_code == 200


def test_the_consent_page_warns_when_the_answer_goes_to_another_host_than_the_apps(
    client: TestClient, world: World, app_client: ClientApp
) -> None:
    sign_in_client(client, "learner@example.org")
    assert 'id="consent-other-host"' not in client.get(app_client.authorize_url()).text
    elsewhere = ClientApp(client)
    elsewhere.register(redirect_uris=["https://collector.example/cb"])
    page = client.get(elsewhere.authorize_url(redirect_uri="https://collector.example/cb"))
    assert 'id="consent-other-host"' in page.text and "collector.example" in page.text


def test_an_unexpected_failure_of_a_resource_endpoint_is_a_500_imsx_body(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in_client(client, "learner@example.org")
    backpack = ClientApp(client)
    backpack.register()
    token = backpack.connect()["access_token"]

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(obapi_service, "credentials_page", broken)
    failed = client.get(f"{API}/credentials", headers=bearer(token))
    body = _imsx(failed, 500, "internal_server_error")
    assert "disk on fire" not in body["imsx_description"]

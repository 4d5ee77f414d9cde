"""A badge backpack connects to the learner's account through the Open Badges 3.0 API: the
app (this test, over HTTP) sends the learner to authorize, the learner signs in, reads the
consent page and allows; the app exchanges the code and reads the credentials. The learner
then revokes the app on the account page, and its token stops working."""

from __future__ import annotations

import base64
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from sqlalchemy.orm import Session, sessionmaker

from microcred.obapi import protocol
from microcred.settings import Settings
from tests.browser.conftest import issue_to_learner
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World
from tests.obapi.conftest import registration

__all__ = ["skills"]
CALLBACK = "http://127.0.0.1:9/backpack/callback"
"""The app's redirect URI (loopback); the browser's request to it is answered by the test."""


def test_a_learner_connects_a_backpack_and_later_revokes_it(
    live_server: str, page: Any, sessions: sessionmaker[Session], world: World,
    settings: Settings, skills: dict[str, str],
) -> None:  # fmt: skip
    issue_to_learner(sessions, settings, world.learner.id, "Spreadsheet modelling")
    app_http = httpx.Client(base_url=live_server)
    registered = app_http.post(
        "/ims/ob/v3p0/register",
        json=registration(client_name="Trail Backpack", client_uri="http://127.0.0.1:9/",
                          redirect_uris=[CALLBACK], scope=protocol.CREDENTIAL_READONLY),
    )  # fmt: skip
    assert registered.status_code == 201, registered.text
    client_id, secret = registered.json()["client_id"], registered.json()["client_secret"]
    verifier, state = secrets.token_urlsafe(40), secrets.token_urlsafe(8)
    arrived: list[str] = []

    def callback(route: Any) -> None:
        arrived.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>Connected</p>")

    page.route(f"{CALLBACK}**", callback)
    query = urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
        "scope": protocol.CREDENTIAL_READONLY, "state": state,
        "code_challenge": protocol.s256(verifier), "code_challenge_method": "S256",
    })  # fmt: skip
    page.goto(f"{live_server}/ims/ob/v3p0/authorize?{query}")
    page.wait_for_url("**/sign-in?next=*")
    page.get_by_label("E-mail address").fill("learner@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ims/ob/v3p0/authorize?*")
    consent = page.locator("#consent")
    assert "Connect Trail Backpack to your microcred account?" in consent.inner_text()
    assert "See the credentials issued to you" in consent.inner_text()
    assert consent.locator("img").count() == 0
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{CALLBACK}**")
    answer = parse_qs(urlsplit(arrived[-1]).query)
    assert answer["state"] == [state]

    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    tokens = app_http.post(
        "/ims/ob/v3p0/token",
        data={"grant_type": "authorization_code", "code": answer["code"][0],
              "redirect_uri": CALLBACK, "code_verifier": verifier},
        headers={"Authorization": f"Basic {basic}"},
    ).json()  # fmt: skip
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    listed = app_http.get("/ims/ob/v3p0/credentials", headers=bearer)
    assert listed.status_code == 200 and listed.headers["x-total-count"] == "1"
    achievement = listed.json()["credential"][0]["credentialSubject"]["achievement"]
    assert achievement["name"] == "Spreadsheet modelling"

    page.goto(f"{live_server}/account")
    apps = page.locator("#connected-apps")
    assert "Trail Backpack" in apps.inner_text()
    apps.get_by_role("button", name="Revoke Trail Backpack").click()
    page.wait_for_url("**/account?done=app-revoked*")
    assert "No app is connected" in page.locator("#connected-apps").inner_text()
    assert app_http.get("/ims/ob/v3p0/credentials", headers=bearer).status_code == 401
    app_http.close()

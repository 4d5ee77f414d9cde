"""A wallet app starts OpenID4VCI's authorization code flow: the learner signs in, picks the
credential and gives it; the wallet redeems the code with its verifier and gets the credential."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from sqlalchemy.orm import Session, sessionmaker

from microcred.obapi.protocol import s256
from microcred.settings import Settings
from microcred.wallet.oid4vci import LDP_VC
from tests.browser.test_accessibility import axe_violations, describe
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World
from tests.credentials.service.conftest import definition_id
from tests.web.test_sharing import _issue as issue_with_jwt

__all__ = ["definition_id", "skills"]
REDIRECT = "https://wallet.example/callback"


def test_a_wallet_app_gets_the_credential_the_learner_gives_it(
    live_server: str, page: Any, sessions: sessionmaker[Session], settings: Settings,
    world: World, definition_id: str,
) -> None:  # fmt: skip
    credential_id = issue_with_jwt(sessions, settings, definition_id)
    verifier = secrets.token_urlsafe(48)
    query = urlencode({
        "response_type": "code", "client_id": "a-wallet", "redirect_uri": REDIRECT,
        "code_challenge": s256(verifier), "code_challenge_method": "S256", "state": "s",
        "scope": LDP_VC,
    })  # fmt: skip
    landed: list[str] = []

    def wallet_callback(route: Any) -> None:  # the wallet app's redirect URI
        landed.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>Back in the wallet</p>")

    page.route("https://wallet.example/**", wallet_callback)
    page.goto(f"{live_server}/oid4vci/authorize?{query}")
    page.get_by_label("E-mail address").fill("learner@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oid4vci/authorize?**")
    assert "a-wallet" in page.locator("#wallet-authorize").inner_text()
    violations = axe_violations(page)
    assert not violations, "\n".join(describe("wallet authorization", v) for v in violations)
    page.get_by_role("button", name="Give it to the app").click()
    page.wait_for_url("https://wallet.example/**")
    returned = {k: v[0] for k, v in parse_qs(urlsplit(landed[0]).query).items()}
    assert returned["state"] == "s"

    token = httpx.post(f"{live_server}/oid4vci/token", data={
        "grant_type": "authorization_code", "code": returned["code"], "code_verifier": verifier,
        "redirect_uri": REDIRECT, "client_id": "a-wallet"}).json()["access_token"]  # fmt: skip
    answer = httpx.post(
        f"{live_server}/oid4vci/credential", json={"credential_configuration_id": LDP_VC},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert credential_id in answer.json()["credentials"][0]["credential"]["id"]

"""A learner adds a credential to a wallet app: QR code and PIN on the page, the wallet (this
test, over HTTP) picks it up from the live server, and the page then says so."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from microcred.wallet.oid4vci import LDP_VC, PRE_AUTHORIZED_GRANT
from tests.browser.conftest import issue_to_learner, sign_in
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World
from tests.wallet.oid4vci_wallet import Wallet, offer_uri_of, path_of

__all__ = ["skills"]


def _pick_up(base: str, link: str, pin: str) -> dict[str, Any]:
    """What a wallet app does after scanning the QR code and reading the PIN from the screen."""
    with httpx.Client(base_url=base) as wallet_http:
        issuer = wallet_http.get("/.well-known/openid-credential-issuer").json()
        offer = wallet_http.get(path_of(offer_uri_of(link))).json()
        assert offer["credential_configuration_ids"][0] == LDP_VC
        code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        token = wallet_http.post("/oid4vci/token", data={
            "grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code, "tx_code": pin,
        }).json()["access_token"]  # fmt: skip
        nonce = wallet_http.post(path_of(issuer["nonce_endpoint"])).json()["c_nonce"]
        proof = Wallet().proof(audience=issuer["credential_issuer"], nonce=nonce)
        response = wallet_http.post(
            path_of(issuer["credential_endpoint"]),
            json={"credential_configuration_id": LDP_VC, "proofs": {"jwt": [proof]}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        return dict(response.json()["credentials"][0]["credential"])


def test_learner_adds_a_credential_to_a_wallet_app_and_sees_it_picked_up(
    live_server: str, page: Any, sessions: sessionmaker[Session], world: World,
    settings: Settings, skills: dict[str, str],
) -> None:  # fmt: skip
    issued = issue_to_learner(sessions, settings, world.learner.id, "Spreadsheet modelling")
    sign_in(page, live_server, "learner@example.org", PASSWORD)
    page.goto(f"{live_server}/credentials/{issued}")
    page.get_by_role("button", name="Add to a wallet app").click()
    page.wait_for_url("**/wallet/offers/*")
    assert page.locator("#offer-qr").is_visible()
    assert page.locator("#offer-qr").get_attribute("src").startswith("data:image/svg+xml")
    pin = page.locator("#offer-pin").inner_text()
    assert re.fullmatch(r"\d{6}", pin)
    link = page.locator("#offer-link").get_attribute("href")
    assert link.startswith("openid-credential-offer://?credential_offer_uri=")
    assert "UTC" in page.locator("#offer-expiry").inner_text()

    credential = _pick_up(live_server, link, pin)
    assert credential["id"].endswith(issued)

    page.reload()
    assert "Picked up by a wallet app at" in page.locator("#offer-picked-up").inner_text()
    assert page.locator("#offer-holder").inner_text().startswith("did:key:z6Mk")
    assert page.locator("#offer-pin").count() == 0
    page.goto(f"{live_server}/credentials/{issued}")
    assert "Picked up by a wallet app at" in page.locator("#wallet-picked-up").inner_text()

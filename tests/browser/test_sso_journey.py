"""A learner signs in with their college's own sign-in (a real OpenID Connect provider on
loopback): the button on the sign-in page, the provider, and back signed in to the wallet."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from tests.accounts.oidc_provider import Provider, oidc_provider
from tests.accounts.test_sso import register
from tests.browser.test_accessibility import axe_violations, describe
from tests.conftest import World

__all__ = ["oidc_provider"]


def test_signing_in_with_the_colleges_own_sign_in(
    live_server: str, page: Any, sessions: sessionmaker[Session], settings: Settings,
    world: World, oidc_provider: Provider,
) -> None:  # fmt: skip
    settings.base_url = live_server  # the redirect URI the provider sends the browser back to
    register(sessions, settings, world, oidc_provider)
    oidc_provider.user = {"sub": "s-42", "email": "sasha@north.example", "email_verified": True,
                          "name": "Sasha Student"}  # fmt: skip
    page.goto(f"{live_server}/sign-in?next=/wallet")
    violations = axe_violations(page)
    assert not violations, "\n".join(describe("sign-in with providers", v) for v in violations)
    page.get_by_role("link", name="Sign in with North Login").click()
    page.wait_for_url(f"{live_server}/wallet")
    page.goto(f"{live_server}/account")
    assert page.locator("h1").inner_text() == "Sasha Student"


def test_the_providers_page_and_its_error_state_are_accessible(
    live_server: str, page: Any, world: World, oidc_provider: Provider
) -> None:
    from tests.browser.conftest import sign_in
    from tests.conftest import PASSWORD

    sign_in(page, live_server, "admin@north.example", PASSWORD)
    page.goto(f"{live_server}/manage/sign-in")
    assert not axe_violations(page)
    page.get_by_label("Name (the button says “Sign in with …”)").fill("North Login")
    page.get_by_label("Issuer URL").fill(f"{oidc_provider.issuer}/wrong")
    page.get_by_label("Client ID").fill("c")
    page.get_by_label("Client secret").fill("s")
    page.get_by_role("button", name="Add").click()
    assert page.locator("#form-errors").is_visible()
    violations = axe_violations(page)
    assert not violations, "\n".join(describe("providers error", v) for v in violations)

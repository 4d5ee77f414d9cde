"""A person signs in; a wrong password and a forged CSRF token are refused."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD, World


def test_wrong_password_is_refused_then_right_one_signs_in(
    page: Any, live_server: str, world: World
) -> None:
    sign_in(page, live_server, world.staff.email, "not the password")
    alert = page.locator("#sign-in-error")
    assert "Wrong e-mail address or password" in alert.inner_text()
    assert page.url.endswith("/sign-in")
    sign_in(page, live_server, world.staff.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/account")
    assert page.locator("h1").inner_text() == world.staff.name
    assert "North College" in page.locator("main").inner_text()


def test_forged_csrf_token_is_refused(page: Any, live_server: str, world: World) -> None:
    page.goto(f"{live_server}/sign-in")
    page.get_by_label("E-mail address").fill(world.staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.evaluate("document.querySelector('input[name=csrf_token]').value = 'forged'")
    page.get_by_role("button", name="Sign in").click()
    assert "security token" in page.locator(".error-message").inner_text()
    page.goto(f"{live_server}/account")
    page.wait_for_url(f"{live_server}/sign-in?next=/account")

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


def test_an_admin_invites_a_colleague_who_joins_through_the_link(
    page: Any, live_server: str, world: World
) -> None:
    sign_in(page, live_server, world.admin.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/manage/members")
    page.locator("#invite-email").fill("kim@example.org")
    page.locator("#invite-role").select_option("issuer_staff")
    page.get_by_role("button", name="Invite").click()
    link = page.locator("#invitation-link").inner_text()
    path = link[link.index("/invitations/") :]
    assert "kim@example.org" in page.locator("#invitations").inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server}{path}")
    assert "Join North College" in page.locator("h1").inner_text()
    page.get_by_label("Your name").fill("Kim Colleague")
    page.get_by_label("Password (at least 10 characters)").fill("kims-password-1")
    page.get_by_label("The password again").fill("kims-password-1")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(f"{live_server}/account?welcome=1")
    assert "issuer staff of North College" in page.locator("#welcome").inner_text()
    assert page.locator("h1").inner_text() == "Kim Colleague"
    page.goto(f"{live_server}/manage/credentials")  # a staff page now opens
    assert "Credentials issued by North College" in page.locator("h1").inner_text()

"""A staff member sets up two-factor authentication with the key the page shows, signs in again
with a code, then with a recovery code; the pages pass axe-core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from microcred.accounts import twofactor
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import axe_violations, describe
from tests.conftest import PASSWORD, World


def code_for(key: str, later: int = 0) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=30 * later)
    return twofactor.totp(twofactor.decode_secret(key), moment)


def assert_accessible(page: Any, where: str) -> None:
    violations = axe_violations(page)
    assert not violations, "\n".join(describe(where, v) for v in violations)


def test_setting_up_two_factor_and_signing_in_with_it(
    live_server: str, page: Any, browser: Any, world: World
) -> None:
    sign_in(page, live_server, "staff@north.example", PASSWORD)
    page.goto(f"{live_server}/account")
    page.locator("#two-factor-link").click()
    page.get_by_role("button", name="Set up two-factor authentication").click()
    assert page.locator("#setup-qr").is_visible()
    key = page.locator("#setup-key").inner_text().strip()
    assert_accessible(page, "set-up")
    page.get_by_label("Code", exact=True).fill("000000" if code_for(key) != "000000" else "111111")
    page.get_by_role("button", name="Turn on").click()
    assert "does not match" in page.locator("#code-error").inner_text()
    assert page.locator("#form-errors").is_visible()
    assert_accessible(page, "set-up with a wrong code")
    page.get_by_label("Code", exact=True).fill(code_for(key))
    page.get_by_role("button", name="Turn on").click()
    codes = [c.strip() for c in page.locator("#recovery-code-list code").all_inner_texts()]
    assert len(codes) == 10 and page.locator("#two-factor-on").is_visible()
    assert_accessible(page, "recovery codes")

    again = browser.new_context().new_page()
    try:
        sign_in(again, live_server, "staff@north.example", PASSWORD)
        again.wait_for_url("**/sign-in/code")
        assert again.locator("#code").get_attribute("autocomplete") == "one-time-code"
        assert_accessible(again, "code step")
        again.get_by_label("Code").fill("123 456")
        again.get_by_role("button", name="Sign in").click()
        assert "not right" in again.locator("#code-error").inner_text()
        again.get_by_label("Code").fill(code_for(key, later=1))
        again.get_by_role("button", name="Sign in").click()
        again.wait_for_url(f"{live_server}/")
        again.goto(f"{live_server}/account")
        assert "On:" in again.locator("#two-factor-state").inner_text()
    finally:
        again.context.close()

    lost_phone = browser.new_context().new_page()
    try:
        sign_in(lost_phone, live_server, "staff@north.example", PASSWORD)
        lost_phone.get_by_label("Code").fill(codes[2])
        lost_phone.get_by_role("button", name="Sign in").click()
        lost_phone.wait_for_url("**/account/two-factor?recovery_used=9")
        assert "9 are left" in lost_phone.locator("#recovery-used").inner_text()
        assert_accessible(lost_phone, "after a recovery code")
    finally:
        lost_phone.context.close()

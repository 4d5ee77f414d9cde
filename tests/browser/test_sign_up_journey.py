"""A learner signs up, and the credential an issuer gave their address joins the wallet only
through the issuer's invitation."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import admin
from microcred.accounts import service as accounts
from microcred.accounts.models import User
from microcred.catalogue import service as catalogue
from microcred.credentials import service as credentials
from microcred.settings import Settings
from tests.catalogue.factories import definition_input, skills
from tests.conftest import World

__all__ = ["skills"]
PASSWORD = "my own new passphrase"


def test_a_learner_signs_up_and_joins_their_credential_by_invitation(
    live_server: str, page: Any, sessions: sessionmaker[Session], world: World,
    settings: Settings, skills: dict[str, str],
) -> None:  # fmt: skip
    page.goto(live_server)
    page.get_by_role("link", name="Sign in").click()
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name").fill("Nia New")
    page.get_by_label("E-mail address").fill("nia@example.org")
    page.get_by_label("Password (at least 10 characters)").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD + "!")
    page.get_by_role("button", name="Create account").click()
    assert "differ" in page.locator("#repeat-password-error").inner_text()
    assert page.get_by_label("Your name").input_value() == "Nia New"
    page.get_by_label("Password (at least 10 characters)").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/account?welcome=1")
    assert "Welcome" in page.locator("#welcome").inner_text()

    with sessions.begin() as session:  # North College issues to the address, then invites it
        definition = catalogue.create_definition(
            session, None, "north-college", definition_input(name="Team leadership"),
            publish=True,
        )  # fmt: skip
        issued = credentials.issue_credential(
            session, None, definition_id=definition.definition_id,
            recipient_email="nia@example.org", recipient_name="Nia New", settings=settings,
        )  # fmt: skip
        assert issued.recipient_user_id is None  # the address is not proved: nothing linked
        staff = session.get(User, world.staff.id)
        assert staff is not None
        [invited] = admin.invite_recipients(
            session, accounts.principal_for(session, staff), "north-college",
            credential_ids=[issued.id],
        )  # fmt: skip
        assert invited.secret is not None
        credential_id = issued.id

    page.goto(f"{live_server}/wallet")
    assert page.get_by_role("link", name="Team leadership").count() == 0
    page.goto(f"{live_server}/invitations/{invited.secret}")
    page.get_by_role("button", name="Join North College").click()
    page.goto(f"{live_server}/wallet")
    page.get_by_role("link", name="Team leadership").click()
    page.wait_for_url(f"**/credentials/{credential_id}")
    assert page.locator("#share").is_visible()  # the holder's own view

"""Forms that used to answer a mistake with the error page now show it on the form, under the
input at fault, keeping what was typed: an API token with no scope, a credential's revocation
with no reason, a refused wallet import (see docs/accessibility.md)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials.models import CredentialState, IssuedCredential
from microcred.settings import Settings
from tests.browser.conftest import issue_to_learner
from tests.catalogue.factories import skills
from tests.conftest import World, sign_in_client

__all__ = ["skills"]


def test_a_token_with_no_scope_comes_back_on_the_account_page_with_its_name(
    client: TestClient, world: World
) -> None:
    csrf = sign_in_client(client, world.learner.email)
    page = client.post("/account/tokens", data={"name": "CI export", "csrf_token": csrf})
    assert page.status_code == 400
    assert (
        'id="token-scopes" aria-invalid="true" aria-describedby="token-scopes-error"' in page.text
    )
    assert 'id="token-scopes-error">A token needs at least one scope.' in page.text
    assert 'value="CI export"' in page.text and 'href="#token-scopes">Scopes</a>' in page.text


def test_a_revocation_without_a_reason_comes_back_on_the_credential_page_and_revokes_nothing(
    client: TestClient, world: World, sessions: sessionmaker[Session], settings: Settings,
    skills: dict[str, str],
) -> None:  # fmt: skip
    credential = issue_to_learner(sessions, settings, world.learner.id, "Data Literacy")
    csrf = sign_in_client(client, world.staff.email)
    page = client.post(
        f"/manage/credentials/{credential}/status",
        data={"action": "revoke", "reason": "  ", "csrf_token": csrf},
    )
    assert page.status_code == 400
    assert 'id="reason" name="reason" required maxlength="1000" aria-invalid="true"' in page.text
    assert 'id="reason-error">Give a reason' in page.text
    with sessions() as session:
        stored = session.get(IssuedCredential, credential)
        assert stored is not None and stored.state == CredentialState.active


def test_a_refused_import_keeps_the_pasted_text(client: TestClient, world: World) -> None:
    csrf = sign_in_client(client, world.learner.email)
    page = client.post("/wallet/import", data={"text": "not a credential", "csrf_token": csrf})
    assert page.status_code == 422
    assert 'role="alert" id="import-error"' in page.text
    assert '<textarea id="text" name="text" rows="6">not a credential</textarea>' in page.text

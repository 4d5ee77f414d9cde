"""Forms that used to answer a mistake with the error page or one alert at the top now show it
on the form, under the input at fault, keeping what was typed: an API token with no scope, a
credential's, a stacked award's or a bulk job's revocation with no reason or unconfirmed, a
member invitation, a new organisation; and a refused wallet import keeps its text (see
docs/accessibility.md)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import bulk
from microcred.credentials.models import CredentialState, IssuedCredential
from microcred.pathways.models import AwardState, PathwayAward
from microcred.settings import Settings
from tests.browser.conftest import issue_to_learner
from tests.catalogue.factories import skills
from tests.conftest import World, sign_in_client
from tests.pathways.conftest import Catalogue, defs
from tests.pathways.test_clr_status import awarded_with

__all__ = ["defs", "skills"]


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


def test_an_invitation_to_a_bad_address_is_shown_under_the_address(
    client: TestClient, world: World
) -> None:
    csrf = sign_in_client(client, world.admin.email)
    page = client.post(
        "/manage/members/invite",
        data={"organisation": "north-college", "email": "not an address", "role": "learner",
              "csrf_token": csrf},
    )  # fmt: skip
    assert page.status_code == 400
    assert 'value="not an address" aria-invalid="true" aria-describedby="invite-email-error"' in (
        page.text
    )
    assert 'href="#invite-email">E-mail address</a>' in page.text


def test_an_organisation_with_a_bad_slug_is_shown_under_the_slug(
    client: TestClient, platform_admin: str
) -> None:
    csrf = sign_in_client(client, platform_admin)
    page = client.post(
        "/admin/organisations",
        data={"name": "West School", "slug": "West School", "kind": "issuer", "csrf_token": csrf},
    )
    assert page.status_code == 400
    assert 'aria-invalid="true" aria-describedby="org-slug-error"' in page.text
    assert 'id="org-slug-error">slug must be 3-80 lowercase' in page.text
    assert 'value="West School"' in page.text


def test_revoking_a_jobs_credentials_unconfirmed_comes_back_on_the_job_page(
    client: TestClient, world: World, sessions: sessionmaker[Session], settings: Settings,
    skills: dict[str, str],
) -> None:  # fmt: skip
    credential = issue_to_learner(sessions, settings, world.learner.id, "Data Literacy")
    with sessions.begin() as session:
        issued = session.get(IssuedCredential, credential)
        assert issued is not None
        rows = f"definition_id,recipient_email\n{issued.definition_id},q@example.org\n"
        job = bulk.create_job(session, None, "north-college", rows.encode()).id
    bulk.run_job(sessions, job, settings)
    csrf = sign_in_client(client, world.staff.email)
    page = client.post(
        f"/manage/credentials/jobs/{job}/revoke",
        data={"reason": "Wrong cohort file", "csrf_token": csrf},
    )
    assert page.status_code == 400
    assert '<details class="card" id="job-revoke" open>' in page.text
    assert 'id="revoke-confirm" name="confirm" value="yes" required aria-invalid="true"' in (
        page.text
    )
    assert 'value="Wrong cohort file"' in page.text
    with sessions() as session:
        assert bulk.job_credential_states(session, job) == {"active": 1}


def test_revoking_a_stacked_award_with_no_reason_comes_back_on_the_award_page(
    client: TestClient, sessions: sessionmaker[Session], world: World, defs: Catalogue,
    settings: Settings,
) -> None:  # fmt: skip
    award = awarded_with(sessions, world, defs, settings, "keep")
    csrf = sign_in_client(client, world.staff.email)
    page = client.post(
        f"/manage/pathways/awards/{award.id}/revoke", data={"reason": " ", "csrf_token": csrf}
    )
    assert page.status_code == 400
    assert 'aria-invalid="true" aria-describedby="revoke-reason-error"' in page.text
    assert 'id="revoke-reason-error">Give a reason' in page.text
    with sessions() as session:
        stored = session.get(PathwayAward, award.id)
        assert stored is not None and stored.state is not AwardState.revoked

"""Learners' public profiles: publishing, choosing what shows, and what drops off by itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import AuditEvent
from microcred.accounts.service import has_consent
from microcred.credentials import service as credentials
from microcred.errors import NotFound
from microcred.settings import Settings
from microcred.wallet import profiles
from microcred.wallet.models import ImportedCredential, ProfileItem
from tests.catalogue.factories import skills
from tests.conftest import World
from tests.credentials.service.conftest import academy_definition_id, definition_id
from tests.pathways.conftest import principal_of

__all__ = ["academy_definition_id", "definition_id", "skills"]  # fixtures
BASE = "https://creds.example.org"


def _issue(session: Session, settings: Settings, definition: str, user_id: str, **kw: object):  # type: ignore[no-untyped-def]
    return credentials.issue_credential(
        session, None, definition_id=definition, recipient_user_id=user_id, settings=settings,
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.both_databases
def test_a_published_profile_shows_the_chosen_valid_credentials_with_their_skills(
    db_backend: str, sessions: sessionmaker[Session], world: World, settings: Settings,
    definition_id: str, academy_definition_id: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        first = _issue(session, settings, definition_id, world.learner.id)
        second = _issue(session, settings, academy_definition_id, world.learner.id)
        _issue(session, settings, definition_id, world.learner.id)  # earned, not chosen
        profiles.save_profile(
            session, principal_of(session, world.learner), handle="Ana-Silva ",
            headline="  Data   analyst in training ", published=True,
            credential_ids=[second.id, first.id],
        )  # fmt: skip
    with sessions() as session:
        shown = profiles.public_profile(session, "ana-silva", BASE)
    assert shown.handle == "ana-silva" and shown.name == world.learner.name
    assert shown.headline == "Data analyst in training"
    assert [e.page_url for e in shown.entries] == [
        f"{BASE}/credentials/{second.id}",
        f"{BASE}/credentials/{first.id}",
    ]  # in the learner's order
    assert shown.entries[0].name == second.achievement_name
    assert shown.entries[0].issuer_name == "South Academy"
    assert shown.hidden == 0
    skill_names = dict(shown.skills)
    assert skill_names, "the definitions' aligned skills are listed"
    assert all(count >= 1 for count in skill_names.values())
    assert not [name for name in skill_names if name.startswith("EQF")], "a level is no skill"


@pytest.mark.both_databases
def test_revoked_suspended_and_expired_credentials_drop_off_and_come_back_when_reinstated(
    db_backend: str, sessions: sessionmaker[Session], world: World, settings: Settings,
    definition_id: str,
) -> None:  # fmt: skip
    now = datetime.now(UTC)
    with sessions.begin() as session:
        kept = _issue(session, settings, definition_id, world.learner.id)
        revoked = _issue(session, settings, definition_id, world.learner.id)
        suspended = _issue(
            session, settings, definition_id, world.learner.id, status_purpose="suspension"
        )
        expired = _issue(
            session, settings, definition_id, world.learner.id,
            valid_from=now - timedelta(days=400), valid_until=now - timedelta(days=1),
        )  # fmt: skip
        profiles.save_profile(
            session, principal_of(session, world.learner), handle="ana", published=True,
            credential_ids=[kept.id, revoked.id, suspended.id, expired.id],
        )  # fmt: skip
        credentials.revoke_credential(session, None, revoked.id, reason="wrong", settings=settings)
        credentials.revoke_credential(
            session, None, suspended.id, reason="check", purpose="suspension", settings=settings
        )
    with sessions() as session:
        shown = profiles.public_profile(session, "ana", BASE)
    assert [e.page_url for e in shown.entries] == [f"{BASE}/credentials/{kept.id}"]
    assert shown.hidden == 3
    with sessions.begin() as session:
        credentials.reinstate_credential(
            session, None, suspended.id, reason="cleared", settings=settings
        )
    with sessions() as session:
        shown = profiles.public_profile(session, "ana", BASE)
    assert len(shown.entries) == 2 and shown.hidden == 2


def test_an_unpublished_or_unknown_profile_is_not_found(
    sessions: sessionmaker[Session], world: World, settings: Settings, definition_id: str
) -> None:
    with sessions.begin() as session:
        profiles.save_profile(session, principal_of(session, world.learner), handle="ana")
    with sessions() as session, pytest.raises(NotFound):
        profiles.public_profile(session, "ana", BASE)
    with sessions() as session, pytest.raises(NotFound):
        profiles.public_profile(session, "nobody-here", BASE)


def test_someone_elses_credential_or_import_cannot_be_put_on_a_profile(
    sessions: sessionmaker[Session], world: World, settings: Settings, definition_id: str
) -> None:
    with sessions.begin() as session:
        theirs = _issue(session, settings, definition_id, world.employer.id)
        unclaimed = credentials.issue_credential(
            session, None, definition_id=definition_id, recipient_email="x@example.org",
            settings=settings,
        )  # fmt: skip
    for ids in ([theirs.id], [unclaimed.id], ["no-such-credential"]):
        with sessions() as session, pytest.raises(profiles.ProfileError, match="your own"):
            profiles.save_profile(
                session, principal_of(session, world.learner), handle="ana", credential_ids=ids
            )
    with sessions() as session, pytest.raises(profiles.ProfileError, match="your own"):
        profiles.save_profile(
            session, principal_of(session, world.learner), handle="ana", imported_ids=["nope"]
        )
    with sessions() as session:
        assert session.scalars(select(ProfileItem)).all() == []


def test_a_handle_belongs_to_one_learner(
    sessions: sessionmaker[Session], world: World, settings: Settings
) -> None:
    with sessions.begin() as session:
        profiles.save_profile(session, principal_of(session, world.learner), handle="ana")
    with sessions() as session, pytest.raises(profiles.ProfileError, match="taken"):
        profiles.save_profile(session, principal_of(session, world.employer), handle="ANA")
    with sessions.begin() as session:  # the owner may save it again
        profiles.save_profile(
            session, principal_of(session, world.learner), handle="ana", headline="new"
        )


@pytest.mark.parametrize(
    "handle", ["ab", "-ana", "ana-", "ana silva", "ana_silva", "ána", "a" * 41, "", "ana/x"]
)
def test_malformed_handles_are_refused_naming_the_rule(
    sessions: sessionmaker[Session], world: World, handle: str
) -> None:
    with sessions() as session, pytest.raises(profiles.ProfileError, match="3 to 40") as error:
        profiles.save_profile(session, principal_of(session, world.learner), handle=handle)
    assert error.value.field == "handle"


def test_saving_replaces_the_choice_and_publishing_is_audited_once_per_change(
    sessions: sessionmaker[Session], world: World, settings: Settings, definition_id: str
) -> None:
    with sessions.begin() as session:
        a = _issue(session, settings, definition_id, world.learner.id)
        b = _issue(session, settings, definition_id, world.learner.id)
        learner = principal_of(session, world.learner)
        profiles.save_profile(
            session, learner, handle="ana", published=True, credential_ids=[a.id, b.id, a.id]
        )
        profiles.save_profile(session, learner, handle="ana", published=True, credential_ids=[b.id])
        profiles.save_profile(session, learner, handle="ana", published=False)
    with sessions() as session:
        assert profiles.chosen_items(session, world.learner.id) == []
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("profile.%"))
        ).all()
    assert actions == ["profile.published", "profile.unpublished"]


def test_imported_credentials_show_while_they_verify(
    sessions: sessionmaker[Session], world: World, settings: Settings
) -> None:
    with sessions.begin() as session:
        row = ImportedCredential(
            user_id=world.learner.id, source_format="ob3-json", original="{}", fingerprint="f" * 64,
            credential={"id": "urn:uuid:1", "credentialSubject": {"achievement": {
                "alignment": [{"targetName": "Teamwork", "targetUrl": "urn:x:teamwork"}]}}},
            issuer_id="did:web:elsewhere.example", issuer_name="Elsewhere U",
            achievement_id="urn:a", achievement_name="Team player",
            earned_at=datetime(2025, 5, 1, tzinfo=UTC),
        )  # fmt: skip
        session.add(row)
        session.flush()
        profiles.save_profile(
            session, principal_of(session, world.learner), handle="ana", published=True,
            imported_ids=[row.id],
        )  # fmt: skip
    with sessions() as session:
        shown = profiles.public_profile(session, "ana", BASE)
    assert [(e.kind, e.name, e.issuer_name, e.page_url) for e in shown.entries] == [
        ("imported", "Team player", "Elsewhere U", None)
    ]
    assert shown.skills == [("Teamwork", 1)]
    with sessions.begin() as session:
        stored = session.get(ImportedCredential, row.id)
        assert stored is not None
        stored.verified = False
    with sessions() as session:
        shown = profiles.public_profile(session, "ana", BASE)
    assert shown.entries == [] and shown.hidden == 1


def test_the_public_name_consent_is_granted_and_withdrawn(
    sessions: sessionmaker[Session], world: World
) -> None:
    with sessions.begin() as session:
        profiles.set_public_name(session, world.learner.id, True)
        profiles.set_public_name(session, world.learner.id, True)
        assert has_consent(session, world.learner.id, profiles.PUBLIC_NAME_CONSENT)
        profiles.set_public_name(session, world.learner.id, False)
        assert not has_consent(session, world.learner.id, profiles.PUBLIC_NAME_CONSENT)


@given(st.text(max_size=80))
def test_a_suggested_handle_is_empty_or_valid(name: str) -> None:
    handle = profiles.suggest_handle(name)
    assert handle == "" or profiles.HANDLE.match(handle)


def test_suggested_handle_folds_accents() -> None:
    assert profiles.suggest_handle("Ana María  Silva") == "ana-maria-silva"

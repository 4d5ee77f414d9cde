"""Downloading one's data and erasing one's account, on both databases."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import privacy
from microcred.accounts import service as accounts
from microcred.accounts.models import ApiToken, AuditEvent, Role, User
from microcred.accounts.service import Principal
from microcred.assessment import reviews
from microcred.assessment.reviews import EvidenceStore, UploadedFile
from microcred.credentials.models import IssuedCredential
from microcred.credentials.resolvers import verify
from microcred.credentials.service import issue_credential
from microcred.db.base import utcnow
from microcred.errors import NotFound, PermissionDenied
from microcred.settings import Settings
from microcred.talent.service import TALENT_CONSENT
from microcred.wallet import profiles
from microcred.wallet.models import ImportedCredential
from tests.assessment.conftest import make_course
from tests.catalogue.factories import SQL, TEAMWORK, skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]
pytestmark = pytest.mark.both_databases

SECRET_COLUMNS = ("password_hash", "token_hash", "sealed_private_key", "evidence_token")
EVIDENCE = b"%PDF-1.4 my project report"


def principal(session: Session, user_id: str, scopes: list[str] | None = None) -> Principal:
    user = session.get(User, user_id)
    assert user is not None
    return accounts.principal_for(session, user, scopes=scopes)


@dataclass
class Lived:
    """A learner with data in most tables an account owns, and one credential issued to them."""

    user_id: str
    credential_id: str
    token_secret: str
    evidence_name: str


def add_import(session: Session, user_id: str, name: str, skills: list[str]) -> None:
    row = ImportedCredential(
        user_id=user_id, source_format="ob3-json", original="{}",
        fingerprint=name.ljust(64, "0"), credential={"id": f"urn:uuid:{name}"},
        issuer_id="did:web:elsewhere.example", issuer_name="Elsewhere U", achievement_id="urn:a",
        achievement_name=name, skills=skills, earned_at=utcnow(),
    )  # fmt: skip
    session.add(row)


@pytest.fixture
def lived(
    sessions: sessionmaker[Session], world: World, settings: Settings, skills: dict[str, str]
) -> Lived:
    store = EvidenceStore(settings.data_dir)
    with sessions.begin() as session:
        course = make_course(session)
        learner = principal(session, world.learner.id)
        _, secret = accounts.create_api_token(
            session, learner, name="phone", scopes=["wallet:present"]
        )
        accounts.grant_consent(session, world.learner.id, TALENT_CONSENT)
        submission = reviews.submit_evidence(
            session, learner, course.project_id, text="My project",
            files=[UploadedFile("report.pdf", EVIDENCE)], store=store,
        )  # fmt: skip
        [item] = submission.items
        credential = issue_credential(
            session, None, definition_id=course.definition_id,
            recipient_user_id=world.learner.id, recipient_name="Lee Learner",
            results=[{"level": "Competent"}], settings=settings,
        )  # fmt: skip
        add_import(session, world.learner.id, "Team player", [TEAMWORK, SQL])
        session.flush()
        profiles.save_profile(
            session, learner, handle="lee", published=True, credential_ids=[credential.id]
        )
        # Someone else's data, which must never show up in Lee's download
        add_import(session, world.employer.id, "Emma's secret course", [SQL])
        return Lived(world.learner.id, credential.id, secret, item.stored_name or "")


def owned_counts(session: Session, user_id: str) -> dict[str, int]:
    return {
        owned.table.name: session.scalar(
            select(func.count()).select_from(owned.table).where(owned.rows_of(user_id))
        )
        or 0
        for owned in privacy.owned_tables()
    }


def test_the_tables_an_account_owns_come_from_the_schema(db_backend: str) -> None:
    owned = {o.table.name for o in privacy.owned_tables()}
    # directly under users, and one level further (a submission's evidence and marks)
    assert {
        "memberships", "consents", "api_tokens", "quiz_attempts", "assessment_submissions",
        "assessment_results", "assessment_awards", "assessment_survey_responses",
        "wallet_imported_credentials", "wallet_profiles", "wallet_profile_items",
        "wallet_holder_keys", "pathway_awards", "outcome_employment_reports",
        "talent_sightings", "evidence_items", "assessment_marks", "wallet_imported_skills",
    } <= owned  # fmt: skip
    # the issuer's records and the audit log stay
    assert not owned & {"issued_credentials", "audit_events", "organisations", "users"}


def test_the_download_holds_the_persons_data_and_nobody_elses(
    db_backend: str, sessions: sessionmaker[Session], lived: Lived, settings: Settings
) -> None:
    store = EvidenceStore(settings.data_dir)
    with sessions.begin() as session:
        archive = privacy.export_personal_data(
            session, principal(session, lived.user_id), site="https://microcred.example",
            read_evidence=store.read,
        )  # fmt: skip
    files = zipfile.ZipFile(io.BytesIO(archive))
    names = set(files.namelist())
    account = json.loads(files.read("account.json"))
    assert account["email"] == "learner@example.org"
    assert [c["purpose"] for c in account["consents"]] == [TALENT_CONSENT]
    assert account["api_tokens"][0]["name"] == "phone"
    assert {m["organisation"] for m in account["memberships"]} == {"north-college"}

    signed = json.loads(files.read(f"credentials/{lived.credential_id}.json"))
    with sessions() as session:
        report = verify(session, signed, settings, allow_remote=False)
    assert report.valid, report.checks
    index = json.loads(files.read("credentials/index.json"))
    assert [c["id"] for c in index] == [lived.credential_id]

    imports = json.loads(files.read("tables/wallet_imported_credentials.json"))
    assert [row["achievement_name"] for row in imports] == ["Team player"]
    submissions = json.loads(files.read("tables/assessment_submissions.json"))
    assert [row["text"] for row in submissions] == ["My project"]
    [evidence] = [n for n in names if n.startswith("evidence/")]
    assert evidence.endswith("report.pdf") and files.read(evidence) == EVIDENCE
    assert json.loads(files.read("tables/wallet_profiles.json"))[0]["handle"] == "lee"
    assert "README.txt" in names and "actions.json" in names

    everything = b"".join(files.read(name) for name in names)
    assert b"Emma's secret course" not in everything
    assert lived.token_secret.encode() not in everything
    for column in SECRET_COLUMNS:
        assert f'"{column}"'.encode() not in everything, column
    with sessions() as session:
        user = session.get(User, lived.user_id)
        assert user is not None and user.password_hash.encode() not in everything
        exported = session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor_user_id == lived.user_id)
        ).all()
    assert "account.exported" in exported


def test_erasure_deletes_everything_the_account_owns_and_keeps_issued_credentials_valid(
    db_backend: str, sessions: sessionmaker[Session], lived: Lived, settings: Settings
) -> None:
    removed: list[str] = []
    with sessions() as session:
        before = owned_counts(session, lived.user_id)
    populated = {name for name, count in before.items() if count}
    assert {
        "memberships", "consents", "api_tokens", "assessment_submissions", "evidence_items",
        "wallet_imported_credentials", "wallet_imported_skills", "wallet_profiles",
        "wallet_profile_items",
    } <= populated  # fmt: skip

    with sessions.begin() as session:
        kept = privacy.erase_account(
            session, principal(session, lived.user_id), password=PASSWORD,
            confirmation="Delete my account", remove_evidence=removed.append,
        )  # fmt: skip
        assert removed == []  # not before the commit
    assert kept == 1
    assert removed == [lived.evidence_name]
    with sessions() as session:
        assert session.get(User, lived.user_id) is None
        assert set(owned_counts(session, lived.user_id).values()) == {0}
        credential = session.get(IssuedCredential, lived.credential_id)
        assert credential is not None and credential.recipient_user_id is None
        report = verify(session, credential.document, settings, allow_remote=False)
        assert report.valid, report.checks
        with pytest.raises(NotFound):
            profiles.public_profile(session, "lee", "https://x.example")
        erased = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "account.erased")
        ).one()
        assert erased.actor_user_id is None and erased.object_id == lived.user_id
        # someone else's data is untouched
        assert session.scalar(select(func.count()).select_from(ImportedCredential)) == 1


def test_a_refused_erasure_deletes_nothing(
    db_backend: str, sessions: sessionmaker[Session], lived: Lived
) -> None:
    removed: list[str] = []
    attempts = [
        ({"password": "not my password", "confirmation": "delete my account"}, "password"),
        ({"password": PASSWORD, "confirmation": "yes"}, "confirmation"),
    ]
    for given, field in attempts:
        with sessions.begin() as session:
            with pytest.raises(privacy.PrivacyError) as refused:
                privacy.erase_account(
                    session, principal(session, lived.user_id), remove_evidence=removed.append,
                    **given,
                )  # fmt: skip
            assert refused.value.field == field
    with sessions.begin() as session:
        token = principal(session, lived.user_id, scopes=["wallet:present"])
        with pytest.raises(PermissionDenied):
            privacy.erase_account(
                session, token, password=PASSWORD, confirmation="delete my account"
            )
    with sessions() as session:
        assert session.get(User, lived.user_id) is not None
        assert session.scalar(select(func.count()).select_from(ApiToken)) == 1
    assert removed == []


def test_the_last_admin_and_platform_admins_cannot_erase_their_account(
    db_backend: str, sessions: sessionmaker[Session], world: World, platform_admin: str
) -> None:
    with sessions.begin() as session:
        [reason] = privacy.erasure_blockers(session, world.admin.id)
        assert "only administrator of North College" in reason
        root = session.scalars(select(User).where(User.email == platform_admin)).one()
        [reason] = privacy.erasure_blockers(session, root.id)
        assert "platform administrator" in reason
        with pytest.raises(privacy.PrivacyError, match="only administrator"):
            privacy.erase_account(
                session, principal(session, world.admin.id), password=PASSWORD,
                confirmation="delete my account",
            )  # fmt: skip
    with sessions.begin() as session:  # with a second admin, the first may go
        staff = session.get(User, world.staff.id)
        assert staff is not None
        accounts.add_membership(session, staff, world.college, Role.admin)
    with sessions.begin() as session:
        assert privacy.erasure_blockers(session, world.admin.id) == []
        privacy.erase_account(
            session, principal(session, world.admin.id), password=PASSWORD,
            confirmation="delete my account",
        )  # fmt: skip
    with sessions() as session:
        assert session.get(User, world.admin.id) is None

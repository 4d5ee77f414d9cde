"""The demo data set: realistic, aligned to real ESCO skills, deterministic, built once."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microcred.accounts import service as accounts
from microcred.accounts.models import Organisation, OrganisationKind, User
from microcred.catalogue.models import CredentialDefinition, DefinitionSkill, DefinitionStatus
from microcred.credentials.models import IssuedCredential
from microcred.credentials.resolvers import verify
from microcred.credentials.verify import ENDORSEMENTS
from microcred.db.engine import create_db_engine, make_session_factory
from microcred.db.registry import metadata
from microcred.demo.activity import DEMO_PROFILE
from microcred.demo.builder import DEMO_LOGINS, DEMO_PASSWORD, build_demo
from microcred.endorsements import service as endorsements
from microcred.endorsements.models import Endorsement
from microcred.ledger import service as ledger
from microcred.ledger.models import LedgerWitness
from microcred.ledger.notes import NoteVerifier, SignedNote, parse_note, verify_cosignature
from microcred.pathways import service as pathways
from microcred.pathways.models import ArticulationAgreement, CreditRecommendation
from microcred.settings import Settings
from microcred.skills.loader import load_default_taxonomy
from microcred.wallet import profiles
from tests.conftest import SHARED_DIR

Fingerprint = list[tuple[str, str | None, str, int | None, tuple[str, ...]]]


def _settings(path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{path}", shared_dir=SHARED_DIR, data_dir=path.parent / path.stem
    )


@contextmanager
def demo_session(path: Path) -> Iterator[Session]:
    """A session on a built demo database, its engine disposed of afterwards."""
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _fingerprint(path: Path) -> Fingerprint:
    with demo_session(path) as session:
        rows = session.scalars(
            select(CredentialDefinition).order_by(CredentialDefinition.human_code)
        ).all()
        result = [
            (
                d.issuer.slug,
                d.human_code,
                d.name,
                d.eqf_level,
                tuple(sorted(s.skill_uri for s in d.skills)),
            )
            for d in rows
        ]
    return result


@pytest.fixture(scope="module")
def demo_dbs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """Two demo builds with the same seed over one taxonomy load."""
    folder = tmp_path_factory.mktemp("demo")
    taxonomy = folder / "taxonomy.db"
    engine = create_db_engine(f"sqlite:///{taxonomy}")
    metadata.create_all(engine)
    with make_session_factory(engine).begin() as session:
        load_default_taxonomy(session, SHARED_DIR)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    first, second = folder / "first.db", folder / "second.db"
    reports = []
    for path in (first, second):
        shutil.copy(taxonomy, path)
        engine = create_db_engine(f"sqlite:///{path}")
        reports.append(
            build_demo(make_session_factory(engine), _settings(path), progress=False, postings=300)
        )
        engine.dispose()
    return first, second, reports[0]


def test_demo_has_300_published_credentials_from_ten_issuers_of_three_kinds(
    demo_dbs: tuple[Path, Path, str],
) -> None:
    path, _, report = demo_dbs
    with demo_session(path) as session:
        published = session.scalar(
            select(func.count()).where(CredentialDefinition.status == DefinitionStatus.published)
        )
        issuers = session.scalars(
            select(Organisation).where(Organisation.kind == OrganisationKind.issuer)
        ).all()
        employers = session.scalar(
            select(func.count()).where(Organisation.kind == OrganisationKind.employer)
        )
        unaligned = session.scalar(
            select(func.count())
            .select_from(CredentialDefinition)
            .where(~CredentialDefinition.skills.any())
        )
        skill_uris = set(session.scalars(select(DefinitionSkill.skill_uri)))
    assert published is not None and published >= 300
    assert len(issuers) >= 10
    assert Counter(o.category for o in issuers).keys() == {
        "college",
        "online platform",
        "industry association",
    }
    assert employers and employers >= 1
    assert unaligned == 0
    assert all(uri.startswith("http://data.europa.eu/esco/skill/") for uri in skill_uris)
    assert len(skill_uris) >= 60
    assert "Demo data built" in report and DEMO_PASSWORD in report


def test_same_seed_gives_the_same_demo(demo_dbs: tuple[Path, Path, str]) -> None:
    first, second, _ = demo_dbs
    fingerprint = _fingerprint(first)
    assert fingerprint == _fingerprint(second)
    assert len({row[1] for row in fingerprint}) == len(fingerprint)  # codes are unique


def test_demo_logins_work_and_a_second_build_changes_nothing(
    demo_dbs: tuple[Path, Path, str],
) -> None:
    path, _, _ = demo_dbs
    engine = create_db_engine(f"sqlite:///{path}")
    factory = make_session_factory(engine)
    with factory() as session:
        users_before = session.scalar(select(func.count()).select_from(User))
    report = build_demo(factory, _settings(path), progress=False)
    with factory.begin() as session:
        assert session.scalar(select(func.count()).select_from(User)) == users_before
        for login in DEMO_LOGINS:
            assert accounts.authenticate(session, login.email, DEMO_PASSWORD).email == login.email
    engine.dispose()
    assert report.startswith("Demo data already present")


def test_demo_credentials_verify_and_the_revoked_one_does_not(
    demo_dbs: tuple[Path, Path, str],
) -> None:
    path, _, report = demo_dbs
    settings = _settings(path)
    with demo_session(path) as session:
        issued = session.scalars(select(IssuedCredential)).all()
        revoked = [c for c in issued if c.state.value == "revoked"]
        valid = next(c for c in issued if c.state.value == "active")
        good = verify(session, valid.document, settings, allow_remote=False)
        bad = verify(session, revoked[0].document, settings, allow_remote=False)
        checkpoint = ledger.latest_checkpoint(session)
        cosigned = []
        for cosignature in checkpoint.cosignatures:
            witness = session.get(LedgerWitness, cosignature.witness_id)
            assert witness is not None
            note = parse_note(checkpoint.signed_note + cosignature.signature_line + "\n")
            mine = [s for s in note.signatures if s.name == witness.name]
            verify_cosignature(
                SignedNote(note.text, tuple(mine)), NoteVerifier.parse(witness.verifier_key)
            )  # raises unless the demo witness's signature holds
            cosigned.append(witness.name)
    assert cosigned == ["witness.demo.microcred.org"]
    assert len(issued) >= 100 and len(revoked) == 1
    assert good.valid, good.as_dict()
    assert not bad.valid
    assert [c.name for c in bad.checks if c.status == "fail"] == ["status"]
    endorsed = 1  # the demo association's endorsement credential: its issuance is a leaf too
    assert checkpoint is not None
    assert checkpoint.tree_size == len(issued) + len(revoked) + endorsed
    assert "Job market:" in report
    assert "credentials issued" in report


def test_the_demo_registrar_evaluates_transfer_credit_with_named_reasons(
    demo_dbs: tuple[Path, Path, str],
) -> None:
    path, _, report = demo_dbs
    settings = _settings(path)
    with demo_session(path) as session:
        registrar = session.scalar(select(User).where(User.email == DEMO_LOGINS[7].email))
        assert registrar is not None and DEMO_LOGINS[7].role == "registrar"
        agreement = session.scalars(select(ArticulationAgreement)).one()
        institution = session.get(Organisation, agreement.organisation_id)
        assert institution is not None and institution.slug == "metro-university"
        kinds = {rule.match_kind.value for rule in agreement.rules}
        recommendations = session.scalars(select(CreditRecommendation)).all()
        recommenders = {row.organisation_id for row in recommendations}
        evaluation = pathways.evaluate_transfer_for(
            session, accounts.principal_for(session, registrar), agreement.id, settings,
            learner=DEMO_LOGINS[5].email,
        )  # fmt: skip
    assert kinds == {"definition", "issuer", "skill"}
    assert len(recommendations) == 6 and len(recommenders) == 2
    assert {row.unit.value for row in recommendations} == {"credit_hours", "ects"}
    result = evaluation.result
    assert result.total == 11 and result.max_credits == 12
    reasons = {item.holding.name: (item.credits, item.reason) for item in result.items}
    assert reasons["Data Analysis with Spreadsheets"] == (
        3, "Credited for BAN 101 Spreadsheet Analytics: accepts credential "
        "'Data Analysis with Spreadsheets'.",
    )  # fmt: skip
    assert reasons["SQL for Data Analysis"][0] == 3
    assert reasons["Business Intelligence Reporting"] == (
        2, "Credited for BAN 190 Analytics Elective: accepts any credential of issuer "
        "'Northbridge Community College'.",
    )  # fmt: skip
    credits, reason = reasons["Statistics for Decision Making"]
    assert credits == 3 and reason.startswith("Credited for STA 205 Business Statistics: accepts")
    assert "skill 'statistics' (at least 2 ECTS, EQF level 5 or above" in reason
    assert reasons["Python Programming Essentials"] == (
        0,
        "Not credited: CSC 151: EQF level 4 is below the level 5 required.",
    )
    assert "1 articulation agreement (6 rules)" in report
    assert "registrar@metro-university.example.edu  registrar — Metropolitan State" in report


def test_the_demo_learner_has_a_published_profile_of_valid_credentials(
    demo_dbs: tuple[Path, Path, str],
) -> None:
    path, _, _ = demo_dbs
    with demo_session(path) as session:
        shown = profiles.public_profile(session, DEMO_PROFILE, "https://demo.example")
        lee = session.scalar(select(User).where(User.email == DEMO_LOGINS[5].email))
        assert lee is not None
        assert accounts.has_consent(session, lee.id, profiles.PUBLIC_NAME_CONSENT)
    assert shown.name == "Lee Learner"
    assert len(shown.entries) >= 5 and all(e.kind == "earned" for e in shown.entries)
    assert shown.skills, "the profile lists the skills Lee's credentials attest"


def test_demo_issuers_see_outcome_kpis_from_synthetic_employment_reports(
    demo_dbs: tuple[Path, Path, str],
) -> None:
    from datetime import date

    from microcred.outcomes import kpis
    from microcred.outcomes import service as outcomes
    from microcred.outcomes.models import EmploymentReport

    path, _, _ = demo_dbs
    with demo_session(path) as session:
        reports = session.scalar(select(func.count()).select_from(EmploymentReport))
        staff = session.scalar(select(User).where(User.email == DEMO_LOGINS[1].email))
        assert staff is not None
        found = outcomes.outcome_report(
            session, accounts.principal_for(session, staff), "northbridge-college",
            kpis.default_period(date.today()), _settings(path),
        )  # fmt: skip
    assert reports and reports >= 50
    assert found.overall.completed >= 5 and found.programmes
    assert not found.overall.employment.breakdown_suppressed


def test_the_assessed_programme_has_learners_who_finish_fail_drop_out_and_answer_the_survey(
    demo_dbs: tuple[Path, Path, str],
) -> None:
    from microcred.assessment.models import AssessmentResult, SurveyResponse
    from microcred.demo.activity import COHORT_SIZE

    path, _, _ = demo_dbs
    with demo_session(path) as session:
        results = session.scalars(select(AssessmentResult)).all()
        surveys = session.scalars(select(SurveyResponse)).all()
    learners = {r.learner_id for r in results}
    assert len(learners) == COHORT_SIZE
    assert any(not r.passed for r in results), "some fail"
    assert 5 <= len(surveys) < COHORT_SIZE, "some finish and answer; not everyone finishes"
    assert {s.learner_id for s in surveys} <= learners


def test_demo_issuers_see_synthetic_engagement_with_their_credentials(
    demo_dbs: tuple[Path, Path, str],
) -> None:
    from datetime import date, timedelta

    from microcred.outcomes import engagement

    path, _, _ = demo_dbs
    with demo_session(path) as session:
        staff = session.scalar(select(User).where(User.email == DEMO_LOGINS[1].email))
        assert staff is not None
        [organisation_id] = accounts.principal_for(session, staff).roles
        today = date.today()
        seen = engagement.organisation_engagement(
            session, organisation_id, today - timedelta(days=365), today
        )
    assert seen.totals[engagement.VIEW] >= 50 and seen.totals[engagement.VERIFY] >= 10
    assert len(seen.monthly) >= 3 and seen.viewed_share is not None


def test_the_demo_association_endorses_a_college_credential_its_badges_carry(
    demo_dbs: tuple[Path, Path, str],
) -> None:
    path, _, _ = demo_dbs
    with demo_session(path) as session:
        [endorsement] = session.scalars(select(Endorsement)).all()
        assert endorsement.state.value == "accepted"
        assert endorsements.public_document(session, endorsement.id) == endorsement.document
        carrying = [
            c
            for c in session.scalars(
                select(IssuedCredential).where(
                    IssuedCredential.definition_id == endorsement.definition_id
                )
            )
            if c.state.value == "active"
        ]
        assert carrying
        report = verify(session, carrying[0].document, _settings(path), allow_remote=False)
    achievement = carrying[0].document["credentialSubject"]["achievement"]
    assert achievement["endorsement"] == [endorsement.document]
    assert [c.status for c in report.check(ENDORSEMENTS)] == ["pass"]

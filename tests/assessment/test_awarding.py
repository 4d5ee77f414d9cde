"""End to end through the services: a learner passes a quiz and a reviewed project and is
awarded a credential that verifies; dry runs, idempotency, withdrawal and revocation."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microcred.accounts.models import AuditEvent
from microcred.assessment import attempts, awards, reviews
from microcred.assessment.awards import CredentialAwarder
from microcred.assessment.models import Award, AwardStatus
from microcred.assessment.reviews import EvidenceStore, UploadedFile
from microcred.credentials import service as credentials
from microcred.credentials.models import CredentialState
from microcred.credentials.resolvers import verify
from microcred.settings import Settings
from tests.assessment.conftest import Course, principal_of, right_answers
from tests.conftest import World

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
GOOD_LEVELS = {"analysis": "excellent", "presentation": "clear"}


def pass_quiz(session: Session, world: World, course: Course, awarder: CredentialAwarder) -> None:
    learner = principal_of(session, world.learner)
    attempt = attempts.start_attempt(session, learner, course.quiz_id, awarder=awarder)
    attempts.save_answers(
        session, learner, attempt.id, right_answers(session, attempt.id), finish=True,
        awarder=awarder,
    )  # fmt: skip


def submit_project(session: Session, world: World, course: Course, store: EvidenceStore) -> str:
    learner = principal_of(session, world.learner)
    submission = reviews.submit_evidence(
        session, learner, course.project_id, text="My analysis of bike rentals.",
        links=["https://example.org/notebook"], files=[UploadedFile("report.pdf", PDF)],
        store=store,
    )  # fmt: skip
    return submission.id


def test_a_learner_who_passes_everything_is_awarded_a_credential_that_verifies(
    session: Session, settings: Settings, world: World, course: Course,
    awarder: CredentialAwarder, store: EvidenceStore,
) -> None:  # fmt: skip
    pass_quiz(session, world, course, awarder)
    assert awards.existing_award(session, course.definition_id, world.learner.id) is None
    submission_id = submit_project(session, world, course, store)
    assessor = principal_of(session, world.assessor)
    reviews.score_submission(
        session, assessor, submission_id, levels=GOOD_LEVELS,
        feedback={"analysis": "Clear method."}, awarder=awarder,
    )  # fmt: skip

    award = awards.existing_award(session, course.definition_id, world.learner.id)
    assert award is not None and award.status is AwardStatus.issued
    credential = credentials.get_credential(session, str(award.credential_id))
    subject = credential.document["credentialSubject"]
    achieved = {r.get("achievedLevel", "") for r in subject["result"]}
    assert any(level.endswith("#criterion-analysis-level-excellent") for level in achieved)
    assert any(level.endswith("#level-2") for level in achieved)  # the definition's Competent
    [evidence] = credential.document["evidence"]
    assert evidence["id"].startswith(f"{settings.base_url}/evidence/")
    report = verify(session, credential.document, settings, allow_remote=False)
    assert report.valid, report.checks
    evaluations = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "assessment.award.evaluate")
    ).all()
    assert [e.details["met"] for e in evaluations] == [False, True]

    again = awards.run_awards(session, None, course.definition_id, awarder=awarder)
    assert [d.award.id if d.award else None for d in again] == [award.id]
    assert session.scalar(select(func.count()).select_from(Award)) == 1


def test_the_dry_run_says_who_would_be_awarded_without_issuing(
    session: Session, world: World, course: Course, awarder: CredentialAwarder,
    store: EvidenceStore,
) -> None:  # fmt: skip
    pass_quiz(session, world, course, awarder)
    staff = principal_of(session, world.staff)
    [row] = awards.dry_run(session, staff, course.definition_id)
    assert not row.would_award and row.evaluation.reason == "Not yet met: Data project"
    assert (
        session.scalar(select(func.count()).where(AuditEvent.action == "assessment.award.dry_run"))
        == 1
    )


def test_withdrawing_a_result_for_misconduct_revokes_the_credential(
    session: Session, settings: Settings, world: World, course: Course,
    awarder: CredentialAwarder, store: EvidenceStore,
) -> None:  # fmt: skip
    pass_quiz(session, world, course, awarder)
    submission_id = submit_project(session, world, course, store)
    reviews.score_submission(
        session, principal_of(session, world.assessor), submission_id, levels=GOOD_LEVELS,
        awarder=awarder,
    )  # fmt: skip
    award = awards.existing_award(session, course.definition_id, world.learner.id)
    assert award is not None and award.credential_id
    submission = reviews.get_submission(session, submission_id)
    assert (
        reviews.submission_by_evidence_token(session, submission.evidence_token).id == submission_id
    )

    staff = principal_of(session, world.staff)
    assert submission.result_id
    awards.withdraw_result(
        session, staff, submission.result_id, reason="Plagiarised report", awarder=awarder
    )
    credential = credentials.get_credential(session, award.credential_id)
    assert credential.state is CredentialState.revoked
    assert award.status is AwardStatus.revoked
    report = verify(session, credential.document, settings, allow_remote=False)
    assert not report.valid
    evaluation = awards.evaluate_learner(session, world.learner.id, course.definition_id)
    assert not evaluation.met

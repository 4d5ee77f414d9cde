"""Results and award rules: record results, evaluate requirements, issue automatically.

Every evaluation is audited with its inputs and outcome. When a learner meets every requirement
of a definition, a credential is issued through an :class:`Awarder` (the credentials capability in
production) with OB 3.0 ``result`` entries (the rubric levels achieved) and ``evidence`` (an
access-controlled link to the reviewed submission). An award is keyed on (learner, definition
version), so it is never issued twice. Withdrawing a result for misconduct revokes the credential.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from microcred.accounts.models import User
from microcred.accounts.service import Principal, record_audit
from microcred.assessment.errors import AssessmentError
from microcred.assessment.models import (
    Assessment,
    AssessmentKind,
    AssessmentResult,
    AttemptStatus,
    Award,
    AwardStatus,
    QuizAttempt,
    ResultSource,
    Submission,
    SubmissionStatus,
    SurveyResponse,
)
from microcred.assessment.requirements import Evaluation, Progress, Requirement, evaluate
from microcred.assessment.rubrics import format_points
from microcred.assessment.service import (
    assessments_for_definition,
    aware,
    get_assessment,
    require_staff,
    rubric_of,
)
from microcred.catalogue import service as catalogue
from microcred.catalogue.models import CredentialDefinition
from microcred.db.base import utcnow
from microcred.errors import MicrocredError, NotFound
from microcred.i18n import L_
from microcred.notifications import service as notifications
from microcred.settings import Settings

MAX_REASON = 1000


class Awarder(Protocol):
    """Issues and revokes credentials; the credentials capability in production."""

    base_url: str

    def issue(
        self,
        session: Session,
        *,
        definition_id: str,
        learner_id: str,
        results: Sequence[Mapping[str, Any]],
        evidence: Sequence[Mapping[str, Any]],
        idempotency_key: str,
    ) -> str:
        """Issue and return the credential id."""
        ...

    def revoke(self, session: Session, credential_id: str, *, reason: str) -> None: ...


class CredentialAwarder:
    """The real awarder: :func:`microcred.credentials.service.issue_credential` as a trusted
    system caller (the award rules have already decided)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")

    def issue(
        self,
        session: Session,
        *,
        definition_id: str,
        learner_id: str,
        results: Sequence[Mapping[str, Any]],
        evidence: Sequence[Mapping[str, Any]],
        idempotency_key: str,
    ) -> str:
        from microcred.credentials.service import issue_credential

        credential = issue_credential(
            session,
            None,
            definition_id=definition_id,
            recipient_user_id=learner_id,
            results=results,
            evidence=evidence,
            idempotency_key=idempotency_key,
            settings=self.settings,
        )
        return str(credential.id)

    def revoke(self, session: Session, credential_id: str, *, reason: str) -> None:
        from microcred.credentials.service import revoke_credential

        revoke_credential(session, None, credential_id, reason=reason, settings=self.settings)


def assessment_url(base_url: str, assessment_id: str) -> str:
    return f"{base_url.rstrip('/')}/assessments/{assessment_id}"


def evidence_url(base_url: str, submission: Submission) -> str:
    return f"{base_url.rstrip('/')}/evidence/{submission.evidence_token}"


def award_key(definition_id: str, version: int, learner_id: str) -> str:
    return f"assessment-award:{definition_id}:v{version}:{learner_id}"


# ---------------------------------------------------------------------------------------------
# Results


def record_result(
    session: Session,
    assessment: Assessment,
    learner_id: str,
    *,
    source: ResultSource,
    score: float,
    max_score: float,
    passed: bool,
    source_id: str | None = None,
    levels: Mapping[str, str] | None = None,
    comment: str = "",
    achieved_at: datetime | None = None,
    recorded_by: str | None = None,
    import_key: str | None = None,
) -> AssessmentResult:
    result = AssessmentResult(
        assessment_id=assessment.id,
        learner_id=learner_id,
        source=source,
        source_id=source_id,
        score=score,
        max_score=max_score,
        passed=passed,
        levels=dict(levels or {}),
        comment=comment,
        achieved_at=achieved_at or utcnow(),
        recorded_by=recorded_by,
        import_key=import_key,
    )
    session.add(result)
    session.flush()
    return result


def results_of(
    session: Session, learner_id: str, assessment_ids: Sequence[str]
) -> list[AssessmentResult]:
    if not assessment_ids:
        return []
    return list(
        session.scalars(
            select(AssessmentResult)
            .where(
                AssessmentResult.learner_id == learner_id,
                AssessmentResult.assessment_id.in_(list(assessment_ids)),
            )
            .order_by(AssessmentResult.achieved_at)
        )
    )


# ---------------------------------------------------------------------------------------------
# Progress and evaluation


def requirements_of(assessments: Sequence[Assessment]) -> list[Requirement]:
    return [Requirement(a.id, a.title, a.attempts_allowed) for a in assessments]


def progress_of(
    session: Session, learner_id: str, assessments: Sequence[Assessment], now: datetime
) -> dict[str, Progress]:
    """What the learner has done on each assessment, read fresh from the database."""
    ids = [a.id for a in assessments]
    if not ids:
        return {}
    results = [r for r in results_of(session, learner_id, ids) if r.withdrawn_at is None]
    attempts = session.scalars(
        select(QuizAttempt).where(
            QuizAttempt.learner_id == learner_id, QuizAttempt.assessment_id.in_(ids)
        )
    ).all()
    submissions = session.scalars(
        select(Submission).where(
            Submission.learner_id == learner_id, Submission.assessment_id.in_(ids)
        )
    ).all()
    progress = {}
    for assessment in assessments:
        mine = [r for r in results if r.assessment_id == assessment.id]
        if assessment.kind is AssessmentKind.quiz:
            tries = [t for t in attempts if t.assessment_id == assessment.id]
            used = len(tries)
            in_progress = any(
                t.status is AttemptStatus.open and (t.deadline is None or aware(t.deadline) > now)
                for t in tries
            )
        else:
            sent = [s for s in submissions if s.assessment_id == assessment.id]
            used = len(sent)
            in_progress = any(s.status is not SubmissionStatus.decided for s in sent)
        progress[assessment.id] = Progress(
            passing_result_ids=tuple(r.id for r in mine if r.passed),
            attempts_used=used,
            in_progress=in_progress,
            has_failed=any(not r.passed for r in mine),
        )
    return progress


def evaluate_learner(
    session: Session, learner_id: str, definition_id: str, now: datetime | None = None
) -> Evaluation:
    """The pure evaluation over fresh data, without auditing (for pages)."""
    assessments = assessments_for_definition(session, definition_id)
    progress = progress_of(session, learner_id, assessments, now or utcnow())
    return evaluate(requirements_of(assessments), progress)


def _audit_evaluation(
    session: Session,
    principal: Principal | None,
    definition: CredentialDefinition,
    learner_id: str,
    evaluation: Evaluation,
    *,
    trigger: str,
    dry_run: bool = False,
) -> None:
    record_audit(
        session,
        principal,
        "assessment.award.dry_run" if dry_run else "assessment.award.evaluate",
        organisation_id=definition.issuer_id,
        object_type="credential_definition",
        object_id=definition.definition_id,
        details={
            "learner_id": learner_id,
            "definition_version": definition.version,
            "trigger": trigger,
            **evaluation.as_dict(),
        },
    )


@dataclass(frozen=True)
class AwardDecision:
    learner_id: str
    evaluation: Evaluation
    award: Award | None

    @property
    def awarded(self) -> bool:
        return self.award is not None and self.award.status is AwardStatus.issued


def existing_award(
    session: Session, definition_id: str, learner_id: str, version: int | None = None
) -> Award | None:
    query = select(Award).where(
        Award.definition_id == definition_id, Award.learner_id == learner_id
    )
    if version is not None:
        query = query.where(Award.definition_version == version)
    return session.scalars(query.order_by(Award.awarded_at.desc())).first()


def award_if_met(
    session: Session,
    learner_id: str,
    definition_id: str,
    *,
    awarder: Awarder,
    principal: Principal | None = None,
    trigger: str,
    now: datetime | None = None,
) -> AwardDecision:
    """Evaluate the learner (audited) and issue the credential when every requirement is met."""
    definition = catalogue.current_published(session, definition_id)
    if definition is None:
        return AwardDecision(learner_id, Evaluation(False, ()), None)
    evaluation = evaluate_learner(session, learner_id, definition_id, now)
    _audit_evaluation(session, principal, definition, learner_id, evaluation, trigger=trigger)
    award = existing_award(session, definition_id, learner_id, definition.version)
    if not evaluation.met or (award is not None and award.status is not AwardStatus.failed):
        return AwardDecision(learner_id, evaluation, award)
    return AwardDecision(
        learner_id, evaluation, _issue(session, definition, learner_id, evaluation, award, awarder)
    )


def _issue(
    session: Session,
    definition: CredentialDefinition,
    learner_id: str,
    evaluation: Evaluation,
    award: Award | None,
    awarder: Awarder,
) -> Award:
    key = award_key(definition.definition_id, definition.version, learner_id)
    results = [session.get(AssessmentResult, rid) for rid in evaluation.result_ids]
    found = [r for r in results if r is not None]
    result_entries, evidence = credential_results(session, definition, found, awarder.base_url)
    if award is None:
        award = Award(
            definition_id=definition.definition_id,
            definition_version=definition.version,
            learner_id=learner_id,
            idempotency_key=key,
            status=AwardStatus.failed,
        )
        session.add(award)
    award.result_ids = list(evaluation.result_ids)
    session.flush()
    try:
        with session.begin_nested():
            credential_id = awarder.issue(
                session,
                definition_id=definition.definition_id,
                learner_id=learner_id,
                results=result_entries,
                evidence=evidence,
                idempotency_key=key,
            )
    except MicrocredError as exc:
        # the learner's result stands; the award is retried on the next evaluation or run
        award.status, award.error = AwardStatus.failed, exc.message
        record_audit(
            session, None, "assessment.award.failed", organisation_id=definition.issuer_id,
            object_type="credential_definition", object_id=definition.definition_id,
            details={"learner_id": learner_id, "error": exc.message},
        )  # fmt: skip
        return award
    award.status, award.credential_id, award.error = AwardStatus.issued, credential_id, None
    award.awarded_at = utcnow()
    record_audit(
        session, None, "assessment.award.issue", organisation_id=definition.issuer_id,
        object_type="credential", object_id=credential_id,
        details={"learner_id": learner_id, "definition_id": definition.definition_id,
                 "definition_version": definition.version, "result_ids": award.result_ids},
    )  # fmt: skip
    _ask_for_survey(session, definition, learner_id, getattr(awarder, "settings", None))
    return award


SURVEY_DUE = "assessment.survey_due"


def survey_link(definition_id: str) -> str:
    return f"/assessments#survey-{definition_id}"


def _ask_for_survey(
    session: Session, definition: CredentialDefinition, learner_id: str, settings: Settings | None
) -> None:
    """Completing is when the satisfaction survey opens: ask once (a notification, e-mailed
    unless the learner muted the surveys group), unless they answered it already."""
    answered = session.scalar(
        select(SurveyResponse.id).where(
            SurveyResponse.learner_id == learner_id,
            SurveyResponse.definition_id == definition.definition_id,
        )
    )
    if answered is not None:
        return
    issuer = definition.issuer.name if definition.issuer else L_("The issuer")
    notifications.notify(
        session,
        [
            notifications.NewNotification(
                learner_id, SURVEY_DUE,
                L_("How was %(name)s? Two quick questions", name=definition.name),
                L_(
                    "Rate it and say whether you would recommend it. %(issuer)s sees only the "
                    "totals and comments, never your name.",
                    issuer=issuer,
                ),
                survey_link(definition.definition_id),
            )
        ],
        settings,
    )  # fmt: skip


def credential_results(
    session: Session,
    definition: CredentialDefinition,
    results: Sequence[AssessmentResult],
    base_url: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """OB 3.0 ``result`` entries (one per assessment, one per rubric criterion with the level
    achieved, and the definition's required level) and ``evidence`` links to reviewed work."""
    entries: list[dict[str, Any]] = []
    evidence: list[dict[str, Any]] = []
    for result in results:
        assessment = get_assessment(session, result.assessment_id)
        url = assessment_url(base_url, assessment.id)
        value = (
            f"{format_points(result.score)}%"
            if assessment.kind is AssessmentKind.quiz
            else f"{format_points(result.score)}/{format_points(result.max_score)}"
        )
        entries.append(
            {"type": ["Result"], "resultDescription": f"{url}#result", "value": value,
             "status": "Completed"}
        )  # fmt: skip
        rubric = rubric_of(assessment)
        if rubric is not None:
            for criterion in rubric.criteria:
                level_id = result.levels.get(criterion.id)
                level = criterion.level(level_id) if level_id else None
                if level is None:
                    continue
                entries.append(
                    {
                        "type": ["Result"],
                        "resultDescription": f"{url}#criterion-{criterion.id}",
                        "achievedLevel": f"{url}#criterion-{criterion.id}-level-{level.id}",
                        "value": level.name,
                        "status": "Completed",
                    }
                )
        if result.source is ResultSource.review and result.source_id:
            submission = session.get(Submission, result.source_id)
            if submission is not None:
                evidence.append(
                    {
                        "type": ["Evidence"],
                        "id": evidence_url(base_url, submission),
                        "name": assessment.title,
                        "description": f"Reviewed {assessment.kind.value} evidence, scored "
                        f"{value} against the published rubric.",
                        "genre": assessment.kind.value.capitalize(),
                    }
                )
    if definition.required_level and any(
        level.get("name") == definition.required_level for level in definition.rubric_levels
    ):
        entries.append({"level": definition.required_level})
    return entries, evidence


# ---------------------------------------------------------------------------------------------
# Dry run, bulk run, withdrawal


def candidate_learners(session: Session, assessments: Sequence[Assessment]) -> list[User]:
    """Everyone who has a result, an attempt or a submission on any of the assessments."""
    ids = [a.id for a in assessments]
    if not ids:
        return []
    learner_ids = {
        *session.scalars(
            select(AssessmentResult.learner_id).where(AssessmentResult.assessment_id.in_(ids))
        ),
        *session.scalars(select(QuizAttempt.learner_id).where(QuizAttempt.assessment_id.in_(ids))),
        *session.scalars(select(Submission.learner_id).where(Submission.assessment_id.in_(ids))),
    }
    return list(
        session.scalars(select(User).where(User.id.in_(learner_ids)).order_by(User.name, User.id))
    )


@dataclass(frozen=True)
class DryRunRow:
    learner: User
    evaluation: Evaluation
    award: Award | None

    @property
    def would_award(self) -> bool:
        return self.evaluation.met and (
            self.award is None or self.award.status is AwardStatus.failed
        )


def dry_run(
    session: Session, principal: Principal | None, definition_id: str, now: datetime | None = None
) -> list[DryRunRow]:
    """Who would be awarded now, without issuing anything; each evaluation is audited."""
    definition = catalogue.get_published(session, definition_id)
    require_staff(principal, definition.issuer_id)
    rows = []
    for learner in candidate_learners(session, assessments_for_definition(session, definition_id)):
        evaluation = evaluate_learner(session, learner.id, definition_id, now)
        _audit_evaluation(
            session, principal, definition, learner.id, evaluation, trigger="dry-run", dry_run=True
        )
        award = existing_award(session, definition_id, learner.id, definition.version)
        rows.append(DryRunRow(learner, evaluation, award))
    return rows


def run_awards(
    session: Session,
    principal: Principal | None,
    definition_id: str,
    *,
    awarder: Awarder,
    now: datetime | None = None,
) -> list[AwardDecision]:
    """Evaluate every candidate and issue to those who meet every requirement."""
    definition = catalogue.get_published(session, definition_id)
    require_staff(principal, definition.issuer_id)
    return [
        award_if_met(
            session,
            learner.id,
            definition_id,
            awarder=awarder,
            principal=principal,
            trigger="run",
            now=now,
        )
        for learner in candidate_learners(
            session, assessments_for_definition(session, definition_id)
        )
    ]


def withdraw_result(
    session: Session,
    principal: Principal | None,
    result_id: str,
    *,
    reason: str,
    awarder: Awarder,
) -> AssessmentResult:
    """Withdraw a result (misconduct); a credential awarded on it is revoked (status list)."""
    result = session.get(AssessmentResult, result_id)
    if result is None:
        raise NotFound(f"No result '{result_id}'.")
    assessment = get_assessment(session, result.assessment_id)
    require_staff(principal, assessment.issuer_id)
    cleaned = " ".join(reason.split())
    if not cleaned or len(cleaned) > MAX_REASON:
        raise AssessmentError(f"Give a reason of 1 to {MAX_REASON} characters.", field="reason")
    if result.withdrawn_at is not None:
        raise AssessmentError("This result is already withdrawn.", field="result", status_code=409)
    result.withdrawn_at = utcnow()
    result.withdrawn_reason = cleaned
    result.withdrawn_by = principal.user_id if principal else None
    revoked = []
    for award in _awards_resting_on(session, result):
        if award.status is AwardStatus.issued and award.credential_id:
            awarder.revoke(
                session, award.credential_id, reason=f"Assessment result withdrawn: {cleaned}"
            )
            revoked.append(award.credential_id)
        award.status = AwardStatus.revoked
        award.revoked_at = utcnow()
    record_audit(
        session, principal, "assessment.result.withdraw", organisation_id=assessment.issuer_id,
        object_type="assessment_result", object_id=result.id,
        details={"reason": cleaned, "learner_id": result.learner_id,
                 "assessment_id": assessment.id, "revoked_credentials": revoked},
    )  # fmt: skip
    return result


def _awards_resting_on(session: Session, result: AssessmentResult) -> Iterable[Award]:
    assessment = get_assessment(session, result.assessment_id)
    awards = session.scalars(
        select(Award).where(
            Award.definition_id == assessment.definition_id,
            Award.learner_id == result.learner_id,
            or_(Award.status == AwardStatus.issued, Award.status == AwardStatus.failed),
        )
    )
    return [award for award in awards if result.id in award.result_ids]


def awards_of_learner(session: Session, learner_id: str) -> dict[str, Award]:
    """The newest award per definition lineage."""
    awards: dict[str, Award] = {}
    for award in session.scalars(
        select(Award).where(Award.learner_id == learner_id).order_by(Award.awarded_at)
    ):
        awards[award.definition_id] = award
    return awards

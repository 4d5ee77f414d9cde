"""Evidence submissions and their review: files, links and text; marking against the rubric,
optional second marking and moderation; the assessor's queue; access to evidence files.

Files are checked (size, extension and magic bytes) before anything is written, then stored under
``data_dir/evidence`` with a random name. They are served only to the learner, the issuer's
assessors and staff, and through the evidence link of a credential awarded on the submission.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.accounts.models import Role, User
from microcred.accounts.service import Principal, record_audit
from microcred.assessment.awards import Awarder, award_if_met, record_result
from microcred.assessment.errors import AssessmentError, AttemptRefused, InvalidAssessment
from microcred.assessment.evidence_files import (
    MAX_EVIDENCE_FILE_BYTES,
    MAX_FILES_PER_SUBMISSION,
    check_evidence_file,
    safe_display_name,
)
from microcred.assessment.models import (
    Assessment,
    AssessmentKind,
    AssessmentResult,
    Award,
    AwardStatus,
    EvidenceItem,
    Mark,
    MarkStage,
    ResultSource,
    Submission,
    SubmissionStatus,
)
from microcred.assessment.rubrics import markers_disagree, passes, score_rubric
from microcred.assessment.service import (
    can_review,
    get_assessment,
    is_published,
    require_enrolled,
    rubric_of,
)
from microcred.db.base import utcnow
from microcred.errors import NotFound, PermissionDenied

MAX_TEXT = 20_000
MAX_LINKS = 10
MAX_FEEDBACK = 4000
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    data: bytes


class EvidenceStore:
    """Evidence files on disk under random names (never the learner's file name)."""

    def __init__(self, data_dir: Path):
        self.root = Path(data_dir) / "evidence"

    def save(self, data: bytes) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(16)
        (self.root / name).write_bytes(data)
        return name

    def read(self, stored_name: str) -> bytes:
        if not re.fullmatch(r"[0-9a-f]{32}", stored_name):
            raise NotFound("No such file.")
        path = self.root / stored_name
        if not path.is_file():
            raise NotFound("The file is no longer stored.")
        return path.read_bytes()

    def remove(self, stored_name: str) -> None:
        (self.root / stored_name).unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# Submitting


def _check_links(links: Sequence[str]) -> list[str]:
    cleaned = [link.strip() for link in links if link.strip()]
    if len(cleaned) > MAX_LINKS:
        raise AssessmentError(f"At most {MAX_LINKS} links per submission.", field="links")
    for link in cleaned:
        if len(link) > 1000 or not URL_RE.match(link):
            raise AssessmentError(
                f"'{link[:80]}' is not a web address (http:// or https://).", field="links"
            )
    return cleaned


def submit_evidence(
    session: Session,
    principal: Principal,
    assessment_id: str,
    *,
    text: str = "",
    links: Sequence[str] = (),
    files: Sequence[UploadedFile] = (),
    store: EvidenceStore,
    max_file_bytes: int = MAX_EVIDENCE_FILE_BYTES,
    now: datetime | None = None,
) -> Submission:
    """A new submission for review; everything is checked before a byte is stored."""
    assessment = get_assessment(session, assessment_id)
    if assessment.kind is AssessmentKind.quiz:
        raise AssessmentError("A quiz is answered in an attempt, not by submitting evidence.")
    if assessment.archived_at is not None or not is_published(session, assessment):
        raise AttemptRefused("This assessment is not offered at the moment.")
    require_enrolled(principal, assessment)
    previous = submissions_of(session, principal.user_id, assessment.id)
    if any(s.status is not SubmissionStatus.decided for s in previous):
        raise AttemptRefused("Your previous submission is still being reviewed.")
    if any(s.passed for s in previous if s.result_id and not _withdrawn(session, s.result_id)):
        raise AttemptRefused("You have already passed this assessment.")
    if len(previous) >= assessment.attempts_allowed:
        raise AttemptRefused(
            f"You have used all {assessment.attempts_allowed} submission(s) allowed for this "
            "assessment."
        )
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise AssessmentError(f"The text has at most {MAX_TEXT:,} characters.", field="text")
    cleaned_links = _check_links(links)
    files = [f for f in files if f.filename or f.data]
    if len(files) > MAX_FILES_PER_SUBMISSION:
        raise AssessmentError(
            f"At most {MAX_FILES_PER_SUBMISSION} files per submission.", field="files"
        )
    types = [check_evidence_file(f.filename, f.data, max_file_bytes) for f in files]
    if not (text or cleaned_links or files):
        raise AssessmentError("Add some evidence: a text, a link or a file.", field="text")
    submission = Submission(
        assessment_id=assessment.id,
        learner_id=principal.user_id,
        number=len(previous) + 1,
        text=text,
        status=SubmissionStatus.submitted,
        submitted_at=now or utcnow(),
        evidence_token=secrets.token_urlsafe(32),
    )
    stored: list[str] = []
    try:
        for position, (upload, file_type) in enumerate(zip(files, types, strict=True)):
            name = store.save(upload.data)
            stored.append(name)
            submission.items.append(
                EvidenceItem(
                    kind="file",
                    name=safe_display_name(upload.filename),
                    stored_name=name,
                    content_type=file_type.content_type,
                    size=len(upload.data),
                    sha256=hashlib.sha256(upload.data).hexdigest(),
                    position=position,
                )
            )
        for position, link in enumerate(cleaned_links, start=len(files)):
            submission.items.append(
                EvidenceItem(kind="link", name=link[:200], url=link, position=position)
            )
        session.add(submission)
        session.flush()
    except BaseException:
        for name in stored:
            store.remove(name)
        raise
    return submission


def _withdrawn(session: Session, result_id: str) -> bool:
    result = session.get(AssessmentResult, result_id)
    return result is None or result.withdrawn_at is not None


def submissions_of(session: Session, learner_id: str, assessment_id: str) -> list[Submission]:
    return list(
        session.scalars(
            select(Submission)
            .where(Submission.learner_id == learner_id, Submission.assessment_id == assessment_id)
            .order_by(Submission.number)
        )
    )


# ---------------------------------------------------------------------------------------------
# Reading and access


def get_submission(session: Session, submission_id: str) -> Submission:
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound("No such submission.")
    return submission


def can_see(principal: Principal | None, submission: Submission, assessment: Assessment) -> bool:
    if principal is None:
        return False
    return submission.learner_id == principal.user_id or principal.can(
        assessment.issuer_id, Role.assessor, Role.issuer_staff
    )


def visible_submission(session: Session, principal: Principal, submission_id: str) -> Submission:
    """The submission for its learner and the issuer's assessors and staff; others: not found."""
    submission = get_submission(session, submission_id)
    if not can_see(principal, submission, get_assessment(session, submission.assessment_id)):
        raise NotFound("No such submission.")
    return submission


def submission_by_evidence_token(session: Session, token: str) -> Submission:
    """The evidence behind a credential: only while a credential awarded on it is not revoked."""
    submission = session.scalar(select(Submission).where(Submission.evidence_token == token))
    if (
        submission is None
        or submission.result_id is None
        or _withdrawn(session, submission.result_id)
    ):
        raise NotFound("No such evidence.")
    awards = session.scalars(
        select(Award).where(
            Award.learner_id == submission.learner_id, Award.status == AwardStatus.issued
        )
    )
    if not any(submission.result_id in award.result_ids for award in awards):
        raise NotFound("No such evidence.")
    return submission


def evidence_file(
    session: Session,
    principal: Principal | None,
    item_id: str,
    store: EvidenceStore,
    *,
    evidence_token: str | None = None,
) -> tuple[EvidenceItem, bytes]:
    item = session.get(EvidenceItem, item_id)
    if item is None or item.kind != "file" or item.stored_name is None:
        raise NotFound("No such file.")
    submission = get_submission(session, item.submission_id)
    if evidence_token is not None:
        if submission_by_evidence_token(session, evidence_token).id != submission.id:
            raise NotFound("No such file.")
    elif not can_see(principal, submission, get_assessment(session, submission.assessment_id)):
        raise NotFound("No such file.")
    return item, store.read(item.stored_name)


# ---------------------------------------------------------------------------------------------
# Marking


def next_stage(submission: Submission) -> MarkStage | None:
    return {
        SubmissionStatus.submitted: MarkStage.first,
        SubmissionStatus.awaiting_second: MarkStage.second,
        SubmissionStatus.in_moderation: MarkStage.moderation,
    }.get(submission.status)


def _check_marker(
    principal: Principal, submission: Submission, assessment: Assessment, stage: MarkStage
) -> None:
    if not principal.can(assessment.issuer_id, Role.assessor, Role.issuer_staff):
        raise PermissionDenied(
            "This submission belongs to another organisation; you can only score submissions "
            "of organisations you assess for."
        )
    if submission.learner_id == principal.user_id:
        raise PermissionDenied("You cannot score your own submission.")
    if not can_review(principal, assessment):
        raise PermissionDenied("You are not assigned to assess this assessment.")
    if any(mark.assessor_id == principal.user_id for mark in submission.marks):
        raise PermissionDenied(
            "You have already marked this submission; a second mark or moderation needs "
            "another assessor."
        )


def may_mark(
    principal: Principal, submission: Submission, assessment: Assessment, stage: MarkStage
) -> bool:
    try:
        _check_marker(principal, submission, assessment, stage)
    except PermissionDenied:
        return False
    return True


def score_submission(
    session: Session,
    principal: Principal,
    submission_id: str,
    *,
    levels: Mapping[str, str],
    feedback: Mapping[str, str] | None = None,
    comment: str = "",
    awarder: Awarder,
    now: datetime | None = None,
) -> Submission:
    """Record a mark at the submission's current stage and decide when the rules say so."""
    now = now or utcnow()
    submission = get_submission(session, submission_id)
    assessment = get_assessment(session, submission.assessment_id)
    stage = next_stage(submission)
    if stage is None:
        if not principal.can(assessment.issuer_id, Role.assessor, Role.issuer_staff):
            raise PermissionDenied("This submission belongs to another organisation.")
        raise AttemptRefused("This submission has already been decided.")
    _check_marker(principal, submission, assessment, stage)
    rubric = rubric_of(assessment)
    if rubric is None:
        raise InvalidAssessment("This assessment has no rubric to score against.", field="rubric")
    score = score_rubric(rubric, levels)
    feedback = {k: v.strip() for k, v in (feedback or {}).items() if v and v.strip()}
    for criterion_id, text in feedback.items():
        if rubric.criterion(criterion_id) is None:
            raise AssessmentError(
                f"The rubric has no criterion '{criterion_id}'.", field=f"feedback.{criterion_id}"
            )
        if len(text) > MAX_FEEDBACK:
            raise AssessmentError(
                f"Feedback has at most {MAX_FEEDBACK} characters.", field=f"feedback.{criterion_id}"
            )
    comment = comment.strip()
    if len(comment) > MAX_FEEDBACK:
        raise AssessmentError(f"At most {MAX_FEEDBACK} characters.", field="comment")
    if stage is MarkStage.moderation and not comment:
        raise AssessmentError("A moderator records why the final mark is right.", field="comment")
    mark = Mark(
        submission_id=submission.id,
        assessor_id=principal.user_id,
        stage=stage,
        levels=score.levels(),
        feedback=feedback,
        comment=comment,
        total=score.total,
        created_at=now,
    )
    submission.marks.append(mark)
    session.flush()
    if stage is MarkStage.first and assessment.second_marking:
        submission.status = SubmissionStatus.awaiting_second
    elif stage is MarkStage.second:
        first = next(m for m in submission.marks if m.stage is MarkStage.first)
        if markers_disagree(first.total, mark.total, assessment.moderation_threshold):
            submission.status = SubmissionStatus.in_moderation
        else:
            final = min((first, mark), key=lambda m: m.total)
            note = (
                f"The two markers agreed within {assessment.moderation_threshold:g} points "
                f"({first.total:g} and {mark.total:g}); the lower mark counts."
            )
            _decide(session, principal, submission, assessment, final, note, awarder, now)
    else:
        note = comment if stage is MarkStage.moderation else "Single marking."
        _decide(session, principal, submission, assessment, mark, note, awarder, now)
    record_audit(
        session, principal, "assessment.submission.mark", organisation_id=assessment.issuer_id,
        object_type="submission", object_id=submission.id,
        details={"stage": stage.value, "total": score.total, "status": submission.status.value},
    )  # fmt: skip
    return submission


def _decide(
    session: Session,
    principal: Principal,
    submission: Submission,
    assessment: Assessment,
    mark: Mark,
    note: str,
    awarder: Awarder,
    now: datetime,
) -> None:
    rubric = rubric_of(assessment)
    assert rubric is not None
    score = score_rubric(rubric, mark.levels)
    outcome = passes(rubric, score, assessment.min_total)
    submission.status = SubmissionStatus.decided
    submission.total, submission.passed = score.total, outcome.passed
    submission.final_mark_id = mark.id
    submission.decided_at, submission.decided_by = now, principal.user_id
    submission.decision_note = (
        note if outcome.passed else f"{note} Not passed: " + "; ".join(outcome.reasons)
    )
    result = record_result(
        session, assessment, submission.learner_id, source=ResultSource.review,
        source_id=submission.id, score=score.total, max_score=score.max_total,
        passed=outcome.passed, levels=score.levels(), comment=mark.comment, achieved_at=now,
        recorded_by=principal.user_id,
    )  # fmt: skip
    submission.result_id = result.id
    if outcome.passed:
        award_if_met(
            session, submission.learner_id, assessment.definition_id, awarder=awarder,
            trigger=f"submission {submission.id}", now=now,
        )  # fmt: skip


def final_mark(submission: Submission) -> Mark | None:
    return next((m for m in submission.marks if m.id == submission.final_mark_id), None)


# ---------------------------------------------------------------------------------------------
# Queue


@dataclass(frozen=True)
class QueueItem:
    submission: Submission
    assessment: Assessment
    learner: User
    stage: MarkStage | None  # None: decided (when listing decided work)
    can_mark: bool


QUEUE_STATUSES = ("waiting", "decided", "all")


def review_queue(
    session: Session,
    principal: Principal,
    *,
    definition_id: str | None = None,
    status: str = "waiting",
    limit: int = 200,
) -> list[QueueItem]:
    """Submissions of the principal's organisations, oldest first; ``can_mark`` says whether
    this principal may mark it at its current stage."""
    if status not in QUEUE_STATUSES:
        raise AssessmentError(f"status must be one of {', '.join(QUEUE_STATUSES)}.", field="status")
    organisations = principal.organisations_with(Role.assessor, Role.issuer_staff)
    if not organisations and not principal.is_platform_admin:
        raise PermissionDenied("Only assessors and staff have a review queue.")
    query = (
        select(Submission, Assessment, User)
        .join(Assessment, Assessment.id == Submission.assessment_id)
        .join(User, User.id == Submission.learner_id)
    )
    if not principal.is_platform_admin:
        query = query.where(Assessment.issuer_id.in_(organisations))
    if definition_id:
        query = query.where(Assessment.definition_id == definition_id)
    if status == "waiting":
        query = query.where(Submission.status != SubmissionStatus.decided)
    elif status == "decided":
        query = query.where(Submission.status == SubmissionStatus.decided)
    items = []
    for submission, assessment, learner in session.execute(
        query.order_by(Submission.submitted_at).limit(limit)
    ).all():
        stage = next_stage(submission)
        allowed = stage is not None and may_mark(principal, submission, assessment, stage)
        items.append(QueueItem(submission, assessment, learner, stage, allowed))
    return items

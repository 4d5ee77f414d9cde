"""Bulk results from an LMS gradebook CSV.

All or nothing by default: any bad row and nothing is written (the report lists every problem by
line). With ``partial`` the valid rows are imported and the bad ones listed. The natural key of a
row is (assessment, learner, date): importing the same file again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from microcred.accounts.models import User
from microcred.accounts.service import Principal, record_audit
from microcred.assessment.awards import Awarder, award_if_met, record_result
from microcred.assessment.errors import AssessmentError
from microcred.assessment.gradebook import GradeRow, RowProblem, parse_gradebook
from microcred.assessment.models import Assessment, AssessmentResult, ResultSource
from microcred.assessment.rubrics import format_points
from microcred.assessment.service import assessments_for_definition, max_score, require_staff
from microcred.catalogue import service as catalogue


@dataclass
class ImportReport:
    total_rows: int = 0
    imported: list[int] = field(default_factory=list)  # line numbers
    unchanged: list[int] = field(default_factory=list)  # already imported earlier
    problems: list[RowProblem] = field(default_factory=list)
    awarded: list[str] = field(default_factory=list)  # learner ids newly awarded
    written: bool = False

    def summary(self) -> str:
        return (
            f"{len(self.imported)} result(s) imported, {len(self.unchanged)} already present, "
            f"{len(self.problems)} problem(s), {len(self.awarded)} credential(s) awarded."
        )


class ImportRejected(AssessmentError):
    """Nothing was imported because some rows are invalid (see ``report``)."""

    status_code = 422

    def __init__(self, report: ImportReport):
        first = report.problems[0]
        super().__init__(
            f"Nothing imported: {len(report.problems)} problem(s); line {first.line}, "
            f"{first.field}: {first.message}",
            field=first.field,
        )
        self.report = report


def natural_key(assessment_id: str, learner_id: str, row: GradeRow) -> str:
    return f"gradebook:{assessment_id}:{learner_id}:{row.achieved_on or 'undated'}"


def import_results(
    session: Session,
    principal: Principal | None,
    definition_id: str,
    text: str,
    *,
    partial: bool = False,
    awarder: Awarder,
) -> ImportReport:
    definition = catalogue.get_definition(session, definition_id, principal=principal)
    require_staff(principal, definition.issuer_id)
    parsed = parse_gradebook(text)
    report = ImportReport(total_rows=parsed.total_rows, problems=list(parsed.problems))
    by_code = {a.code.lower(): a for a in assessments_for_definition(session, definition_id)}
    emails = {row.email for row in parsed.rows}
    users = {
        u.email: u
        for u in session.scalars(select(User).where(func.lower(User.email).in_(list(emails))))
    }
    seen: dict[str, int] = {}
    accepted: list[tuple[GradeRow, Assessment, User, str]] = []
    for row in parsed.rows:
        assessment = by_code.get(row.assessment_code.lower())
        user = users.get(row.email)
        problems = []
        if assessment is None:
            problems.append(RowProblem(row.line, "assessment",
                f"'{row.assessment_code}' is not an assessment code of this definition "
                f"(codes: {', '.join(a.code for a in by_code.values()) or 'none'})."))  # fmt: skip
        if user is None:
            problems.append(RowProblem(row.line, "email", f"No account for {row.email}."))
        if assessment is not None and row.score > max_score(assessment):
            problems.append(RowProblem(row.line, "score",
                f"{format_points(row.score)} is more than the maximum "
                f"{format_points(max_score(assessment))} of {assessment.code}."))  # fmt: skip
        if problems or assessment is None or user is None:
            report.problems.extend(problems)
            continue
        key = natural_key(assessment.id, user.id, row)
        if key in seen:
            report.problems.append(
                RowProblem(
                    row.line, "email", f"Same learner, assessment and date as line {seen[key]}."
                )
            )
            continue
        seen[key] = row.line
        existing = session.scalar(
            select(AssessmentResult).where(AssessmentResult.import_key == key)
        )
        if existing is not None:
            if existing.score == row.score:
                report.unchanged.append(row.line)
            else:
                report.problems.append(RowProblem(row.line, "score",
                    f"Already imported with score {format_points(existing.score)}; give a new "
                    "date for a new grade, or withdraw the earlier result."))  # fmt: skip
            continue
        accepted.append((row, assessment, user, key))
    report.problems.sort(key=lambda p: p.line)
    if report.problems and not partial:
        raise ImportRejected(report)
    learners: dict[str, str] = {}
    for row, assessment, user, key in accepted:
        achieved = (
            datetime.combine(row.achieved_on, time(12), tzinfo=UTC) if row.achieved_on else None
        )
        passed = row.score >= (assessment.min_total or 0.0)
        record_result(
            session, assessment, user.id, source=ResultSource.gradebook, score=row.score,
            max_score=max_score(assessment), passed=passed, comment=row.comment,
            achieved_at=achieved, recorded_by=principal.user_id if principal else None,
            import_key=key,
        )  # fmt: skip
        report.imported.append(row.line)
        if passed:
            learners[user.id] = assessment.definition_id
    report.written = True
    for learner_id, lineage in learners.items():
        decision = award_if_met(
            session, learner_id, lineage, awarder=awarder, principal=principal,
            trigger="gradebook import",
        )  # fmt: skip
        if decision.awarded and decision.award and decision.award.result_ids:
            report.awarded.append(learner_id)
    record_audit(
        session, principal, "assessment.results.import", organisation_id=definition.issuer_id,
        object_type="credential_definition", object_id=definition_id,
        details={"imported": len(report.imported), "unchanged": len(report.unchanged),
                 "problems": len(report.problems), "partial": partial},
    )  # fmt: skip
    return report

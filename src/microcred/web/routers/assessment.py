"""Assessment pages and JSON API: learners (my assessments, quizzes, evidence, feedback, survey),
assessors (queue, scoring), staff (assessments, question banks, dry-run awards, withdrawal,
gradebook import)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from microcred.accounts.models import Role
from microcred.accounts.service import Principal
from microcred.assessment import attempts, awards, imports, learners, reviews, service, surveys
from microcred.assessment.awards import CredentialAwarder
from microcred.assessment.errors import AssessmentError
from microcred.assessment.models import (
    ASSESSMENT_KINDS,
    Assessment,
    AssessmentKind,
    AssessmentResult,
    Submission,
)
from microcred.assessment.quizzes import QUESTION_KINDS
from microcred.assessment.requirements import STATE_LABELS
from microcred.assessment.reviews import EvidenceStore, UploadedFile
from microcred.assessment.rubrics import format_rubric_text
from microcred.assessment.schemas import (
    AnswersIn,
    AssessmentIn,
    AssessmentOut,
    AttemptOut,
    AwardOut,
    CriterionFeedbackOut,
    DryRunRowOut,
    ImportOut,
    MarkIn,
    MyDefinitionOut,
    QuestionIn,
    QuestionOut,
    QueueItemOut,
    RequirementOut,
    ResultOut,
    RowProblemOut,
    SubmissionOut,
    SurveyIn,
    SurveySummaryOut,
    WithdrawIn,
)
from microcred.errors import NotFound
from microcred.i18n import gettext as _
from microcred.spreadsheet import NotText, decode_text
from microcred.web.deps import CurrentPrincipal, DbSession, OptionalPrincipal
from microcred.web.downloads import attachment
from microcred.web.form_errors import FieldErrors, errors_on_inputs, is_bad_input
from microcred.web.rendering import render
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["assessment"])

ASSESSMENT_INPUTS = (
    "title", "code", "kind", "description", "rubric_text", "min_total", "attempts_allowed",
    "time_limit_minutes", "questions_per_attempt", "moderation_threshold", "assessor_ids",
)  # fmt: skip

FIELD_LABELS = {
    "title": "Title", "code": "Code", "kind": "Type", "description": "Instructions",
    "rubric_text": "Rubric", "min_total": "Pass mark", "attempts_allowed": "Attempts allowed",
    "time_limit_minutes": "Time limit", "questions_per_attempt": "Questions drawn per attempt",
    "second_marking": "Second marking", "moderation_threshold": "Moderation threshold",
    "assessor_ids": "Assigned assessors", "q-kind": "Question type", "prompt": "Question",
    "points": "Points", "options": "Options", "correct": "Correct option numbers",
    "answer": "Answer", "tolerance": "Tolerance", "accepted": "Accepted answers",
    "text": "Description of your work", "links": "Links", "files": "Files",
    "comment": "Comment", "file": "Gradebook CSV",
}  # fmt: skip
"""How the error summary names an input (by id)."""


def _settings(request: Request) -> Any:
    return request.app.state.context.settings


def _awarder(request: Request) -> CredentialAwarder:
    return CredentialAwarder(_settings(request))


def _store(request: Request) -> EvidenceStore:
    return EvidenceStore(_settings(request).data_dir)


def _base(request: Request) -> str:
    return str(_settings(request).base_url)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _form(request: Request) -> FormData:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    return form


def _feedback(session: Session, submission: Submission) -> list[CriterionFeedbackOut]:
    """Per-criterion level, points and feedback of the final mark (once decided)."""
    mark = reviews.final_mark(submission)
    rubric = service.rubric_of(service.get_assessment(session, submission.assessment_id))
    if mark is None or rubric is None:
        return []
    rows = []
    for criterion in rubric.criteria:
        level = criterion.level(mark.levels.get(criterion.id, ""))
        if level is not None:
            rows.append(
                CriterionFeedbackOut(
                    criterion=criterion.name,
                    level=level.name,
                    points=level.points,
                    feedback=mark.feedback.get(criterion.id, ""),
                )
            )
    return rows


def _requirements(evaluation: Any) -> list[RequirementOut]:
    return [
        RequirementOut(
            assessment_id=s.assessment_id,
            title=s.title,
            state=s.state.value,
            attempts_left=s.attempts_left,
        )
        for s in evaluation.statuses
    ]


# ---------------------------------------------------------------------------------------------
# JSON API: staff


@api.get(
    "/definitions/{definition_id}/assessments", response_model=list[AssessmentOut],
    summary="The assessments (and published rubrics) of a definition",
)  # fmt: skip
def api_list(
    definition_id: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> list[AssessmentOut]:
    definition = service.definition_for(session, definition_id, principal)
    if not service.published_status(definition) and not service.is_staff(
        principal, definition.issuer_id
    ):
        raise NotFound(f"No credential definition '{definition_id}'.")
    return [
        AssessmentOut.of(a, _base(request))
        for a in service.assessments_for_definition(session, definition_id)
    ]


@api.post(
    "/definitions/{definition_id}/assessments", response_model=AssessmentOut, status_code=201,
    summary="Define an assessment (issuer staff, assessment:write)",
)  # fmt: skip
def api_create(
    definition_id: str, body: AssessmentIn, request: Request, session: DbSession,
    principal: CurrentPrincipal,
) -> AssessmentOut:  # fmt: skip
    assessment = service.create_assessment(session, principal, definition_id, body.changes())
    return AssessmentOut.of(assessment, _base(request))


@api.get("/assessments/{assessment_id}", response_model=AssessmentOut, summary="One assessment")
def api_get(assessment_id: str, request: Request, session: DbSession) -> AssessmentOut:
    return AssessmentOut.of(service.get_assessment(session, assessment_id), _base(request))


@api.patch(
    "/assessments/{assessment_id}", response_model=AssessmentOut, summary="Change an assessment"
)
def api_update(
    assessment_id: str, body: AssessmentIn, request: Request, session: DbSession,
    principal: CurrentPrincipal,
) -> AssessmentOut:  # fmt: skip
    assessment = service.update_assessment(session, principal, assessment_id, body.changes())
    return AssessmentOut.of(assessment, _base(request))


@api.delete(
    "/assessments/{assessment_id}", response_model=AssessmentOut,
    summary="Archive an assessment (its results stay)",
)  # fmt: skip
def api_archive(
    assessment_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> AssessmentOut:
    return AssessmentOut.of(
        service.archive_assessment(session, principal, assessment_id), _base(request)
    )


@api.get(
    "/assessments/{assessment_id}/questions", response_model=list[QuestionOut],
    summary="The question bank with answers (issuer staff)",
)  # fmt: skip
def api_questions(
    assessment_id: str, session: DbSession, principal: CurrentPrincipal
) -> list[QuestionOut]:
    assessment = service.get_assessment(session, assessment_id)
    service.require_staff(principal, assessment.issuer_id)
    return [
        QuestionOut(
            id=q.id,
            kind=q.kind,
            prompt=q.prompt,
            points=q.points,
            options=q.options,
            correct=q.correct,
            answer=q.answer,
            tolerance=q.tolerance,
            accepted=q.accepted,
        )
        for q in service.active_questions(assessment)
    ]


@api.post(
    "/assessments/{assessment_id}/questions", response_model=QuestionOut, status_code=201,
    summary="Add a question to a quiz's bank",
)  # fmt: skip
def api_add_question(
    assessment_id: str, body: QuestionIn, session: DbSession, principal: CurrentPrincipal
) -> QuestionOut:
    question = service.add_question(session, principal, assessment_id, body.model_dump())
    return QuestionOut(id=question.id, **body.model_dump())


@api.delete("/questions/{question_id}", status_code=204, summary="Remove a question from a bank")
def api_remove_question(
    question_id: str, session: DbSession, principal: CurrentPrincipal
) -> Response:
    service.remove_question(session, principal, question_id)
    return Response(status_code=204)


# ---------------------------------------------------------------------------------------------
# JSON API: learners


@api.get(
    "/me/assessments", response_model=list[MyDefinitionOut],
    summary="Your definitions with assessments, requirements and award",
)  # fmt: skip
def api_mine(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> list[MyDefinitionOut]:
    return [
        MyDefinitionOut(
            definition_id=row.definition.definition_id,
            name=row.definition.name,
            met=row.evaluation.met,
            award_status=row.award.status.value if row.award else None,
            credential_id=row.award.credential_id if row.award else None,
            requirements=_requirements(row.evaluation),
        )
        for row in learners.my_definitions(session, principal, awarder=_awarder(request))
    ]


def _attempt_out(session: Session, attempt: Any) -> AttemptOut:
    return AttemptOut.of(
        attempt, attempts.attempt_questions(session, attempt), attempts.seconds_left(attempt)
    )


@api.post(
    "/assessments/{assessment_id}/attempts", response_model=AttemptOut, status_code=201,
    summary="Start a quiz attempt (or get the one in progress)",
)  # fmt: skip
def api_start(
    assessment_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> AttemptOut:
    attempt = attempts.start_attempt(session, principal, assessment_id, awarder=_awarder(request))
    return _attempt_out(session, attempt)


@api.get("/attempts/{attempt_id}", response_model=AttemptOut, summary="Your attempt")
def api_attempt(
    attempt_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> AttemptOut:
    attempts.close_overdue_attempts(session, principal.user_id, awarder=_awarder(request))
    return _attempt_out(session, attempts.get_attempt(session, principal, attempt_id))


@api.post(
    "/attempts/{attempt_id}/answers", response_model=AttemptOut,
    summary="Save answers; finish=true submits for scoring (refused after the time limit)",
)  # fmt: skip
def api_answer(
    attempt_id: str, body: AnswersIn, request: Request, session: DbSession,
    principal: CurrentPrincipal,
) -> AttemptOut:  # fmt: skip
    attempt = attempts.save_answers(
        session, principal, attempt_id, body.answers, finish=body.finish,
        awarder=_awarder(request),
    )  # fmt: skip
    return _attempt_out(session, attempt)


async def _uploads(files: list[UploadFile] | list[StarletteUpload]) -> list[UploadedFile]:
    return [UploadedFile(f.filename or "", await f.read()) for f in files if f.filename]


@api.post(
    "/assessments/{assessment_id}/submissions", response_model=SubmissionOut, status_code=201,
    summary="Submit evidence (multipart: text, links, files)",
)  # fmt: skip
async def api_submit(
    assessment_id: str, request: Request, session: DbSession, principal: CurrentPrincipal,
    text: Annotated[str, Form()] = "",
    links: Annotated[list[str] | None, Form()] = None,
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> SubmissionOut:  # fmt: skip
    submission = reviews.submit_evidence(
        session, principal, assessment_id, text=text, links=links or [],
        files=await _uploads(files or []), store=_store(request),
    )  # fmt: skip
    return SubmissionOut.of(submission, [])


@api.get("/submissions/{submission_id}", response_model=SubmissionOut, summary="A submission")
def api_submission(
    submission_id: str, session: DbSession, principal: CurrentPrincipal
) -> SubmissionOut:
    submission = reviews.visible_submission(session, principal, submission_id)
    return SubmissionOut.of(submission, _feedback(session, submission))


@api.post(
    "/definitions/{definition_id}/survey", status_code=201, response_model=dict[str, str],
    summary="Answer the satisfaction survey (once, on completion)",
)  # fmt: skip
def api_survey(
    definition_id: str, body: SurveyIn, session: DbSession, principal: CurrentPrincipal
) -> dict[str, str]:
    response = surveys.submit_survey(
        session, principal, definition_id, rating=body.rating,
        would_recommend=body.would_recommend, comment=body.comment,
    )  # fmt: skip
    return {"id": response.id}


# ---------------------------------------------------------------------------------------------
# JSON API: assessors and staff


@api.get(
    "/review/queue", response_model=list[QueueItemOut], summary="Submissions to review",
)  # fmt: skip
def api_queue(
    session: DbSession, principal: CurrentPrincipal,
    definition_id: Annotated[str | None, Query()] = None,
    status: Annotated[str, Query(description="waiting, decided or all")] = "waiting",
) -> list[QueueItemOut]:  # fmt: skip
    return [
        QueueItemOut(
            submission_id=i.submission.id,
            assessment_id=i.assessment.id,
            assessment_title=i.assessment.title,
            definition_id=i.assessment.definition_id,
            learner_name=i.learner.name,
            submitted_at=i.submission.submitted_at,
            status=i.submission.status.value,
            stage=i.stage.value if i.stage else None,
            can_mark=i.can_mark,
        )
        for i in reviews.review_queue(
            session, principal, definition_id=definition_id, status=status
        )
    ]


@api.post(
    "/submissions/{submission_id}/marks", response_model=SubmissionOut, status_code=201,
    summary="Score a submission against the rubric (assessor)",
)  # fmt: skip
def api_mark(
    submission_id: str, body: MarkIn, request: Request, session: DbSession,
    principal: CurrentPrincipal,
) -> SubmissionOut:  # fmt: skip
    submission = reviews.score_submission(
        session, principal, submission_id, levels=body.levels, feedback=body.feedback,
        comment=body.comment, awarder=_awarder(request),
    )  # fmt: skip
    return SubmissionOut.of(submission, _feedback(session, submission))


def _dry_run_rows(rows: list[awards.DryRunRow]) -> list[DryRunRowOut]:
    return [
        DryRunRowOut(
            learner_id=r.learner.id,
            learner_name=r.learner.name,
            learner_email=r.learner.email,
            met=r.evaluation.met,
            reason=r.evaluation.reason,
            would_award=r.would_award,
            award_status=r.award.status.value if r.award else None,
            requirements=_requirements(r.evaluation),
        )
        for r in rows
    ]


@api.get(
    "/definitions/{definition_id}/awards/dry-run", response_model=list[DryRunRowOut],
    summary="Who would be awarded now (nothing is issued; audited)",
)  # fmt: skip
def api_dry_run(
    definition_id: str, session: DbSession, principal: CurrentPrincipal
) -> list[DryRunRowOut]:
    return _dry_run_rows(awards.dry_run(session, principal, definition_id))


@api.post(
    "/definitions/{definition_id}/awards/run", response_model=list[AwardOut],
    summary="Evaluate everyone and issue to those who meet every requirement",
)  # fmt: skip
def api_run(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> list[AwardOut]:
    decisions = awards.run_awards(session, principal, definition_id, awarder=_awarder(request))
    return [
        AwardOut(
            learner_id=d.learner_id,
            met=d.evaluation.met,
            award_status=d.award.status.value if d.award else None,
            credential_id=d.award.credential_id if d.award else None,
        )
        for d in decisions
    ]


def _result_out(result: AssessmentResult) -> ResultOut:
    return ResultOut(
        id=result.id, assessment_id=result.assessment_id, learner_id=result.learner_id,
        source=result.source.value, score=result.score, max_score=result.max_score,
        passed=result.passed, withdrawn=result.withdrawn_at is not None,
    )  # fmt: skip


@api.post(
    "/results/{result_id}/withdraw", response_model=ResultOut,
    summary="Withdraw a result for misconduct (revokes a credential awarded on it)",
)  # fmt: skip
def api_withdraw(
    result_id: str, body: WithdrawIn, request: Request, session: DbSession,
    principal: CurrentPrincipal,
) -> ResultOut:  # fmt: skip
    result = awards.withdraw_result(
        session, principal, result_id, reason=body.reason, awarder=_awarder(request)
    )
    return _result_out(result)


def _import_out(report: imports.ImportReport) -> ImportOut:
    return ImportOut(
        written=report.written, imported=report.imported, unchanged=report.unchanged,
        problems=[RowProblemOut(line=p.line, field=p.field, message=p.message)
                  for p in report.problems],
        awarded=report.awarded, summary=report.summary() if report.written else "Nothing imported.",
    )  # fmt: skip


@api.post(
    "/definitions/{definition_id}/results/import", response_model=ImportOut,
    summary="Import an LMS gradebook CSV (body text/csv); all or nothing unless partial=true",
    responses={422: {"description": "Nothing imported; the problems by line"}},
)  # fmt: skip
async def api_import(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal,
    partial: Annotated[bool, Query()] = False,
) -> Response | ImportOut:  # fmt: skip
    body = await request.body()
    try:
        text = decode_text(body)
    except NotText as error:
        raise AssessmentError(str(error), field="file") from None
    try:
        report = imports.import_results(
            session, principal, definition_id, text, partial=partial, awarder=_awarder(request)
        )
    except imports.ImportRejected as exc:
        from fastapi.responses import JSONResponse

        session.rollback()
        detail = exc.as_dict() | _import_out(exc.report).model_dump()
        return JSONResponse(detail, status_code=422)
    return _import_out(report)


@api.get(
    "/definitions/{definition_id}/survey/summary", response_model=SurveySummaryOut,
    summary="Satisfaction KPIs (issuer staff)",
)  # fmt: skip
def api_survey_summary(
    definition_id: str, session: DbSession, principal: CurrentPrincipal
) -> SurveySummaryOut:
    definition = service.definition_for(session, definition_id, principal)
    service.require_staff(principal, definition.issuer_id)
    summary = surveys.survey_summary(session, definition_id)
    return SurveySummaryOut(**vars(summary))


# ---------------------------------------------------------------------------------------------
# Pages: learners


@pages.get("/assessments")
def my_assessments_page(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    return _render_mine(request, session, principal)


def _render_mine(
    request: Request, session: Session, principal: Principal, *, survey_for: str = "",
    survey: dict[str, str] | None = None, errors: FieldErrors | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    """My assessments; ``survey`` is the refused survey form of definition ``survey_for``."""
    rows = learners.my_definitions(session, principal, awarder=_awarder(request))
    return render(
        request, "assessment/mine.html", principal, rows=rows, kinds=ASSESSMENT_KINDS,
        labels=STATE_LABELS, survey_for=survey_for, survey=survey or {}, errors=errors or {},
        field_labels=FIELD_LABELS | {f"rating-{survey_for}": _("Rating"),
                                     f"comment-{survey_for}": _("Comment")},
        status_code=status_code,
    )  # fmt: skip


@pages.get("/assessments/{assessment_id}")
def assessment_page(
    assessment_id: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> Response:
    return _render_assessment(request, session, principal, assessment_id)


def _render_assessment(
    request: Request, session: Session, principal: Principal | None, assessment_id: str, *,
    evidence: dict[str, str] | None = None, errors: FieldErrors | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    """The assessment page; ``evidence`` is the text and links typed into a refused submission."""
    assessment = service.get_assessment(session, assessment_id)
    definition = service.definition_for(session, assessment.definition_id, principal)
    staff = service.is_staff(principal, assessment.issuer_id)
    if not service.published_status(definition) and not staff:
        raise NotFound("No such assessment.")
    tries: list[Any] = []
    sent: list[Submission] = []
    evaluation = None
    if principal is not None:
        attempts.close_overdue_attempts(session, principal.user_id, awarder=_awarder(request))
        tries = attempts.attempts_of(session, principal.user_id, assessment.id)
        sent = reviews.submissions_of(session, principal.user_id, assessment.id)
        evaluation = awards.evaluate_learner(session, principal.user_id, assessment.definition_id)
    status = next(
        (
            s
            for s in (evaluation.statuses if evaluation else ())
            if s.assessment_id == assessment.id
        ),
        None,
    )
    return render(
        request, "assessment/assessment.html", principal, a=assessment, d=definition,
        rubric=service.rubric_of(assessment), kinds=ASSESSMENT_KINDS, attempts=tries,
        submissions=sent, status=status, staff=staff,
        enrolled=principal is not None and principal.can(assessment.issuer_id, Role.learner),
        evidence=evidence or {}, errors=errors or {}, labels=FIELD_LABELS,
        status_code=status_code,
    )  # fmt: skip


@pages.post("/assessments/{assessment_id}/attempts")
async def start_attempt_page(
    assessment_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    await _form(request)
    attempt = attempts.start_attempt(session, principal, assessment_id, awarder=_awarder(request))
    return _see_other(f"/attempts/{attempt.id}")


@pages.get("/attempts/{attempt_id}")
def attempt_page(
    attempt_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    attempts.close_overdue_attempts(session, principal.user_id, awarder=_awarder(request))
    return _render_attempt(request, session, principal, attempt_id)


def _shown_answers(attempt: Any, questions: list[Any]) -> dict[str, list[str]]:
    """The saved answers as the form's values (option numbers as text)."""
    shown: dict[str, list[str]] = {}
    for question in questions:
        saved = attempt.answers.get(question.id)
        if saved is not None:
            shown[question.id] = [str(v) for v in (saved if isinstance(saved, list) else [saved])]
    return shown


def _render_attempt(
    request: Request, session: Session, principal: Principal, attempt_id: str, *,
    typed: dict[str, list[str]] | None = None, errors: FieldErrors | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    """The attempt page; ``typed`` are the answers of a refused form, by question id."""
    attempt = attempts.get_attempt(session, principal, attempt_id)
    assessment = service.get_assessment(session, attempt.assessment_id)
    questions = attempts.attempt_questions(session, attempt)
    return render(
        request, "assessment/attempt.html", principal, attempt=attempt, a=assessment,
        questions=questions, seconds_left=attempts.seconds_left(attempt),
        shown=typed if typed is not None else _shown_answers(attempt, questions),
        errors=errors or {},
        labels=FIELD_LABELS | {f"question-{q.id}": f"Question {n}"
                               for n, q in enumerate(questions, start=1)},
        status_code=status_code,
    )  # fmt: skip


@pages.post("/attempts/{attempt_id}")
async def answer_page(
    attempt_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await _form(request)
    attempt = attempts.get_attempt(session, principal, attempt_id)
    answers: dict[str, Any] = {}
    typed: dict[str, list[str]] = {}
    for question in attempts.attempt_questions(session, attempt):
        values = typed[question.id] = [str(v) for v in form.getlist(f"q-{question.id}")]
        if question.kind.value == "multiple":
            answers[question.id] = values
        elif values:
            answers[question.id] = values[0]
    try:
        with session.begin_nested():
            attempts.save_answers(
                session, principal, attempt_id, answers, finish=form.get("action") != "save",
                awarder=_awarder(request),
            )  # fmt: skip
    except AssessmentError as exc:
        if not is_bad_input(exc):
            raise
        return _render_attempt(
            request, session, principal, attempt_id, typed=typed,
            errors=errors_on_inputs(exc, {"answers.": "question-"}), status_code=exc.status_code,
        )  # fmt: skip
    return _see_other(f"/attempts/{attempt_id}")


@pages.post("/assessments/{assessment_id}/submissions")
async def submit_page(
    assessment_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await _form(request)
    files = [f for f in form.getlist("files") if isinstance(f, StarletteUpload)]
    typed = {"text": str(form.get("text") or ""), "links": str(form.get("links") or "")}
    try:
        with session.begin_nested():
            submission = reviews.submit_evidence(
                session, principal, assessment_id, text=typed["text"],
                links=typed["links"].split(), files=await _uploads(files), store=_store(request),
            )  # fmt: skip
    except AssessmentError as exc:
        if not is_bad_input(exc):
            raise
        return _render_assessment(
            request, session, principal, assessment_id, evidence=typed,
            errors=errors_on_inputs(exc, {"text": "text", "links": "links", "files": "files"}),
            status_code=exc.status_code,
        )  # fmt: skip
    return _see_other(f"/submissions/{submission.id}")


@pages.post("/definitions/{definition_id}/survey")
async def survey_page(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await _form(request)
    typed = {n: str(form.get(n) or "") for n in ("rating", "would_recommend", "comment")}
    try:
        try:
            rating = int(typed["rating"])
        except ValueError:
            raise AssessmentError("Choose a rating from 1 to 5.", field="rating") from None
        with session.begin_nested():
            surveys.submit_survey(
                session, principal, definition_id, rating=rating,
                would_recommend=typed["would_recommend"] == "yes", comment=typed["comment"],
            )  # fmt: skip
    except AssessmentError as exc:
        if not is_bad_input(exc):
            raise
        inputs = {"rating": f"rating-{definition_id}", "comment": f"comment-{definition_id}"}
        return _render_mine(
            request, session, principal, survey_for=definition_id, survey=typed,
            errors=errors_on_inputs(exc, inputs), status_code=exc.status_code,
        )  # fmt: skip
    return _see_other("/assessments?survey=thanks")


# ---------------------------------------------------------------------------------------------
# Pages: submissions, scoring, queue, evidence


@pages.get("/submissions/{submission_id}")
def submission_page(
    submission_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    return _render_submission(request, session, principal, submission_id)


def _render_submission(
    request: Request, session: Session, principal: Principal, submission_id: str, *,
    mark: dict[str, str] | None = None, errors: FieldErrors | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    """The submission page; ``mark`` is a refused scoring form's input, by input name."""
    submission = reviews.visible_submission(session, principal, submission_id)
    assessment = service.get_assessment(session, submission.assessment_id)
    stage = reviews.next_stage(submission)
    can_mark = False
    if stage is not None:
        can_mark = reviews.may_mark(principal, submission, assessment, stage)
    is_learner = submission.learner_id == principal.user_id
    rubric = service.rubric_of(assessment)
    labels = FIELD_LABELS | {
        f"{prefix}-{c.id}": f"{what}{c.name}"
        for c in (rubric.criteria if rubric else ())
        for prefix, what in (("level", ""), ("feedback", "Feedback on "))
    }  # fmt: skip
    return render(
        request, "assessment/submission.html", principal, s=submission, a=assessment,
        rubric=rubric, stage=stage, can_mark=can_mark,
        is_learner=is_learner, feedback=_feedback(session, submission),
        final=reviews.final_mark(submission),
        staff=service.is_staff(principal, assessment.issuer_id),
        mark=mark or {}, errors=errors or {}, labels=labels, status_code=status_code,
    )  # fmt: skip


MARK_INPUTS = {"levels.": "level-", "feedback.": "feedback-", "comment": "comment"}


@pages.post("/submissions/{submission_id}/marks")
async def mark_page(
    submission_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await _form(request)
    typed = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    levels = {k[6:]: v for k, v in typed.items() if k.startswith("level-")}
    feedback = {k[9:]: v for k, v in typed.items() if k.startswith("feedback-")}
    try:
        with session.begin_nested():
            reviews.score_submission(
                session, principal, submission_id, levels=levels, feedback=feedback,
                comment=typed.get("comment", ""), awarder=_awarder(request),
            )  # fmt: skip
    except AssessmentError as exc:
        if not is_bad_input(exc):
            raise
        return _render_submission(
            request, session, principal, submission_id, mark=typed,
            errors=errors_on_inputs(exc, MARK_INPUTS), status_code=exc.status_code,
        )  # fmt: skip
    return _see_other(f"/submissions/{submission_id}")


@pages.get("/review")
def queue_page(
    request: Request, session: DbSession, principal: CurrentPrincipal,
    definition_id: str | None = None, status: str = "waiting",
) -> Response:  # fmt: skip
    items = reviews.review_queue(session, principal, definition_id=definition_id, status=status)
    return render(
        request, "assessment/queue.html", principal, items=items, status=status,
        definition_id=definition_id or "", statuses=reviews.QUEUE_STATUSES,
    )  # fmt: skip


def _file_response(item: Any, data: bytes) -> Response:
    return Response(
        data,
        media_type=item.content_type or "application/octet-stream",
        headers={
            "Content-Disposition": attachment(item.name),
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@pages.get("/submissions/{submission_id}/files/{item_id}")
def file_page(
    submission_id: str, item_id: str, request: Request, session: DbSession,
    principal: CurrentPrincipal,
) -> Response:  # fmt: skip
    item, data = reviews.evidence_file(session, principal, item_id, _store(request))
    if item.submission_id != submission_id:
        raise NotFound("No such file.")
    return _file_response(item, data)


@pages.get("/evidence/{token}")
def evidence_page(
    token: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> Response:
    submission = reviews.submission_by_evidence_token(session, token)
    assessment = service.get_assessment(session, submission.assessment_id)
    return render(
        request, "assessment/evidence.html", principal, s=submission, a=assessment, token=token,
        feedback=_feedback(session, submission),
    )  # fmt: skip


@pages.get("/evidence/{token}/files/{item_id}")
def evidence_file_page(token: str, item_id: str, request: Request, session: DbSession) -> Response:
    item, data = reviews.evidence_file(
        session, None, item_id, _store(request), evidence_token=token
    )
    return _file_response(item, data)


# ---------------------------------------------------------------------------------------------
# Pages: staff


def _assessment_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {name: str(form.get(name) or "") for name in ASSESSMENT_INPUTS}
    values["second_marking"] = form.get("second_marking") == "on"
    return values


def _assessment_inputs(assessment: Assessment | None) -> dict[str, str]:
    """Service field -> input id on the create form (no assessment) or this assessment's edit
    form, which has no type and only the fields of its kind."""
    names = set(ASSESSMENT_INPUTS) | {"second_marking", "rubric"}
    if assessment is not None:
        names.discard("kind")
        quiz_only = {"time_limit_minutes", "questions_per_attempt"}
        scored = {"rubric_text", "rubric", "second_marking", "moderation_threshold", "assessor_ids"}
        names -= scored if assessment.kind is AssessmentKind.quiz else quiz_only
    return {name: "rubric_text" if name == "rubric" else name for name in names}


@pages.get("/manage/definitions/{definition_id}/assessments")
def manage_page(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    return _render_manage(
        request, session, principal, definition_id,
        values={"attempts_allowed": "1", "kind": "project"},
    )  # fmt: skip


def _render_manage(
    request: Request, session: Session, principal: Principal, definition_id: str, *,
    values: dict[str, Any], errors: FieldErrors | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    definition = service.definition_for(session, definition_id, principal)
    service.require_staff(principal, definition.issuer_id)
    return render(
        request, "assessment/manage.html", principal, d=definition,
        assessments=service.assessments_for_definition(session, definition_id),
        kinds=ASSESSMENT_KINDS, values=values, errors=errors or {}, labels=FIELD_LABELS,
        status_code=status_code,
    )  # fmt: skip


@pages.post("/manage/definitions/{definition_id}/assessments")
async def create_page(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await _form(request)
    typed = _assessment_values(form)
    try:
        with session.begin_nested():
            assessment = service.create_assessment(
                session, principal, definition_id, {k: v for k, v in typed.items() if v != ""}
            )
    except AssessmentError as exc:
        if not is_bad_input(exc):
            raise
        return _render_manage(
            request, session, principal, definition_id, values=typed,
            errors=errors_on_inputs(exc, _assessment_inputs(None)), status_code=exc.status_code,
        )  # fmt: skip
    return _see_other(f"/manage/assessments/{assessment.id}")


def _stored_values(session: Session, assessment: Assessment) -> dict[str, Any]:
    """What the edit form shows for the stored assessment."""
    rubric = service.rubric_of(assessment)
    values = service.assessment_input_of(assessment)
    values["rubric_text"] = format_rubric_text(rubric) if rubric else ""
    values["assessor_ids"] = "\n".join(
        u.email for u in (service.user_of(session, uid) for uid in assessment.assessor_ids) if u
    )
    return values


def _render_edit(
    request: Request, session: Session, principal: Principal, assessment: Assessment, *,
    values: dict[str, Any] | None = None, errors: FieldErrors | None = None,
    question: dict[str, str] | None = None, question_errors: FieldErrors | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    service.require_staff(principal, assessment.issuer_id)
    return render(
        request, "assessment/edit.html", principal, a=assessment,
        values=values if values is not None else _stored_values(session, assessment),
        errors=errors or {}, question=question or {}, question_errors=question_errors or {},
        labels=FIELD_LABELS, kinds=ASSESSMENT_KINDS, question_kinds=QUESTION_KINDS,
        questions=service.active_questions(assessment), status_code=status_code,
    )  # fmt: skip


@pages.get("/manage/assessments/{assessment_id}")
def edit_page(
    assessment_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    return _render_edit(request, session, principal, service.get_assessment(session, assessment_id))


@pages.post("/manage/assessments/{assessment_id}")
async def update_page(
    assessment_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await _form(request)
    typed = _assessment_values(form)
    values: dict[str, Any] = {k: (None if v == "" else v) for k, v in typed.items() if k != "kind"}
    values["description"] = values["description"] or ""
    try:
        with session.begin_nested():
            service.update_assessment(session, principal, assessment_id, values)
    except AssessmentError as exc:
        if not is_bad_input(exc):
            raise
        assessment = service.get_assessment(session, assessment_id)
        return _render_edit(
            request, session, principal, assessment, values=typed,
            errors=errors_on_inputs(exc, _assessment_inputs(assessment)),
            status_code=exc.status_code,
        )  # fmt: skip
    return _see_other(f"/manage/assessments/{assessment_id}")


@pages.post("/manage/assessments/{assessment_id}/questions")
async def add_question_page(
    assessment_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await _form(request)
    names = ("kind", "prompt", "points", "options", "correct", "answer", "tolerance", "accepted")
    typed = {n: str(form.get(n) or "") for n in names}
    try:
        with session.begin_nested():
            service.add_question(session, principal, assessment_id, typed)
    except AssessmentError as exc:
        if not is_bad_input(exc):
            raise
        inputs = {n: n for n in names} | {"kind": "q-kind"}
        return _render_edit(
            request, session, principal, service.get_assessment(session, assessment_id),
            question=typed, question_errors=errors_on_inputs(exc, inputs),
            status_code=exc.status_code,
        )  # fmt: skip
    return _see_other(f"/manage/assessments/{assessment_id}#questions")


@pages.post("/manage/questions/{question_id}/remove")
async def remove_question_page(
    question_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    await _form(request)
    question = service.remove_question(session, principal, question_id)
    return _see_other(f"/manage/assessments/{question.assessment_id}#questions")


@pages.get("/manage/definitions/{definition_id}/awards")
def awards_page(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    return _render_awards(request, session, principal, definition_id)


def _render_awards(
    request: Request, session: Session, principal: Principal, definition_id: str, *,
    errors: FieldErrors | None = None, reasons: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    """The awards page; ``reasons`` are withdrawal reasons typed per result id."""
    rows = awards.dry_run(session, principal, definition_id)
    definition = service.definition_for(session, definition_id, principal)
    assessments = service.assessments_for_definition(session, definition_id)
    results: dict[str, list[AssessmentResult]] = {
        r.learner.id: awards.results_of(session, r.learner.id, [a.id for a in assessments])
        for r in rows
    }
    return render(
        request, "assessment/awards.html", principal, d=definition, rows=rows,
        results=results, titles={a.id: a.title for a in assessments},
        survey=surveys.survey_summary(session, definition_id), errors=errors or {},
        reasons=reasons or {}, status_code=status_code,
        labels=FIELD_LABELS | {f"reason-{result_id}": "Reason" for result_id in reasons or {}},
    )  # fmt: skip


@pages.post("/manage/definitions/{definition_id}/awards/run")
async def run_page(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    await _form(request)
    awards.run_awards(session, principal, definition_id, awarder=_awarder(request))
    return _see_other(f"/manage/definitions/{definition_id}/awards")


def _definition_of_result(session: Session, result_id: str) -> str:
    result = session.get(AssessmentResult, result_id)
    if result is None:
        raise NotFound(f"No result '{result_id}'.")
    return service.get_assessment(session, result.assessment_id).definition_id


@pages.post("/manage/results/{result_id}/withdraw")
async def withdraw_page(
    result_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await _form(request)
    reason = str(form.get("reason") or "")
    try:
        with session.begin_nested():
            result = awards.withdraw_result(
                session, principal, result_id, reason=reason, awarder=_awarder(request)
            )
    except AssessmentError as exc:
        if not is_bad_input(exc):
            raise
        return _render_awards(
            request, session, principal, _definition_of_result(session, result_id),
            reasons={result_id: reason},
            errors=errors_on_inputs(exc, {"reason": f"reason-{result_id}"}),
            status_code=exc.status_code,
        )  # fmt: skip
    assessment: Assessment = service.get_assessment(session, result.assessment_id)
    return _see_other(f"/manage/definitions/{assessment.definition_id}/awards")


async def _gradebook_text(form: FormData) -> str:
    upload = form.get("file")
    if not isinstance(upload, StarletteUpload) or not upload.filename:
        raise AssessmentError("Choose a CSV file.", field="file")
    try:
        return decode_text(await upload.read())
    except NotText as error:
        raise AssessmentError(str(error), field="file") from None


@pages.post("/manage/definitions/{definition_id}/results/import")
async def import_page(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await _form(request)
    try:
        text = await _gradebook_text(form)
    except AssessmentError as exc:
        return _render_awards(
            request, session, principal, definition_id,
            errors=errors_on_inputs(exc, {"file": "file"}), status_code=exc.status_code,
        )  # fmt: skip
    try:
        report = imports.import_results(
            session, principal, definition_id, text, partial=form.get("partial") == "on",
            awarder=_awarder(request),
        )  # fmt: skip
    except imports.ImportRejected as exc:
        session.rollback()
        report = exc.report
        status = 422
    else:
        status = 200
    definition = service.definition_for(session, definition_id, principal)
    return render(
        request, "assessment/import.html", principal, d=definition, report=report,
        status_code=status,
    )  # fmt: skip


routers = [pages, api]


def rubric_context(session: Session, principal: Principal | None, definition_id: str) -> Any:
    """For the definition page's rubric section (catalogue router)."""
    return service.published_assessments(session, definition_id)

"""Assessment forms refused for bad input come back with what was typed, the bad input marked
with its message and a summary at the top; nothing is stored."""

from __future__ import annotations

import re
from html import escape, unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.assessment.models import (
    Assessment,
    AssessmentResult,
    Mark,
    Question,
    QuizAttempt,
    Submission,
    SurveyResponse,
)
from microcred.db.base import Base
from tests.assessment.conftest import PROJECT_RUBRIC, Course
from tests.conftest import World, sign_in_client

pytestmark = pytest.mark.both_databases

BAD_RUBRIC = "Analysis\n- Excellent | lots | Sound method\n"


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    models: tuple[type[Base], ...] = (
        Assessment, Question, Submission, Mark, AssessmentResult, QuizAttempt, SurveyResponse
    )  # fmt: skip
    with sessions() as session:
        counted = {m.__name__: session.scalar(select(func.count()).select_from(m)) or 0
                   for m in models}  # fmt: skip
        counted["withdrawn"] = session.scalar(
            select(func.count()).where(AssessmentResult.withdrawn_at.is_not(None))
        ) or 0  # fmt: skip
    return counted


def assert_marked(page: str, input_id: str, message: str, key: str | None = None) -> None:
    """The input is invalid and described by its message; the summary links to it (or to
    ``key``, the element holding a group of inputs)."""
    key = key or input_id
    tag = re.search(rf'<[a-z]+ [^>]*id="{re.escape(input_id)}"[^>]*>', page)
    assert tag, f"no element with id {input_id}"
    assert 'aria-invalid="true"' in tag.group(0)
    assert f'aria-describedby="{key}-error"' in tag.group(0)
    error = re.search(rf'<p class="field-error" id="{re.escape(key)}-error">([^<]*)</p>', page)
    assert error and message in unescape(error.group(1))
    assert 'id="form-errors"' in page and f'href="#{key}"' in page


def test_a_new_assessment_with_a_bad_rubric_comes_back_with_what_was_typed(
    client: TestClient, sessions: sessionmaker[Session], course: Course
) -> None:
    token = sign_in_client(client, "staff@north.example")
    before = counts(sessions)
    refused = client.post(
        f"/manage/definitions/{course.definition_id}/assessments",
        data={"csrf_token": token, "title": "Capstone", "code": "CAP-1", "kind": "project",
              "rubric_text": BAD_RUBRIC, "min_total": "3", "attempts_allowed": "2"},
    )  # fmt: skip
    assert refused.status_code == 422
    page = refused.text
    assert_marked(page, "rubric_text", "points must be a number")
    assert 'value="Capstone"' in page and 'value="CAP-1"' in page and 'value="2"' in page
    assert escape(BAD_RUBRIC, quote=False) in page
    assert '<option value="project" selected>' in page
    assert counts(sessions) == before


@pytest.mark.parametrize(
    ("field", "value", "input_id", "message"),
    [
        ("code", "QUIZ-1", "code", "already used by another assessment"),
        ("code", "NO SPACES", "code", "no spaces"),
        ("attempts_allowed", "99", "attempts_allowed", "from 1 to 20"),
        ("min_total", "50", "min_total", ""),
        ("assessor_ids", "learner@example.org", "assessor_ids", "is not an assessor"),
        ("time_limit_minutes", "30", "time_limit_minutes", "Only a quiz"),
    ],
)
def test_each_bad_field_of_a_new_assessment_is_marked(
    client: TestClient, sessions: sessionmaker[Session], course: Course,
    field: str, value: str, input_id: str, message: str,
) -> None:  # fmt: skip
    token = sign_in_client(client, "staff@north.example")
    before = counts(sessions)
    data = {"csrf_token": token, "title": "Capstone", "code": "CAP-1", "kind": "project",
            "rubric_text": PROJECT_RUBRIC, "attempts_allowed": "1", field: value}  # fmt: skip
    refused = client.post(f"/manage/definitions/{course.definition_id}/assessments", data=data)
    assert refused.status_code == 422
    assert_marked(refused.text, input_id, message)
    assert escape(value, quote=True) in refused.text
    assert counts(sessions) == before


def test_editing_an_assessment_keeps_the_stored_one_when_refused(
    client: TestClient, sessions: sessionmaker[Session], course: Course
) -> None:
    token = sign_in_client(client, "staff@north.example")
    url = f"/manage/assessments/{course.project_id}"
    before = counts(sessions)
    refused = client.post(
        url,
        data={"csrf_token": token, "title": "Renamed project", "code": "PROJECT-1",
              "rubric_text": PROJECT_RUBRIC, "min_total": "5", "attempts_allowed": "2",
              "assessor_ids": "assessor@north.example\nnobody@example.org"},
    )  # fmt: skip
    assert refused.status_code == 422
    page = refused.text
    assert_marked(page, "assessor_ids", "'nobody@example.org' is not an assessor")
    assert 'value="Renamed project"' in page and "nobody@example.org</textarea>" in page
    assert "<h1>Data project" in page
    with sessions() as session:
        stored = session.get(Assessment, course.project_id)
        assert stored is not None
        assert (stored.title, stored.min_total, stored.assessor_ids) == ("Data project", 4, [])
    assert counts(sessions) == before

    too_high = client.post(
        url,
        data={"csrf_token": token, "title": "Data project", "code": "PROJECT-1",
              "rubric_text": PROJECT_RUBRIC, "min_total": "99", "attempts_allowed": "2"},
    )  # fmt: skip
    assert too_high.status_code == 422
    assert_marked(too_high.text, "min_total", "")
    assert 'value="99"' in too_high.text


def test_a_bad_question_comes_back_on_the_bank_form(
    client: TestClient, sessions: sessionmaker[Session], course: Course
) -> None:
    token = sign_in_client(client, "staff@north.example")
    before = counts(sessions)
    refused = client.post(
        f"/manage/assessments/{course.quiz_id}/questions",
        data={"csrf_token": token, "kind": "single", "prompt": "Which one reads Parquet?",
              "points": "2", "options": "duckdb", "correct": "1"},
    )  # fmt: skip
    assert refused.status_code == 422
    page = refused.text
    assert_marked(page, "options", "needs 2 to")
    assert "Which one reads Parquet?</textarea>" in page and 'id="points"' in page
    assert re.search(r'id="points" name="points" inputmode="decimal" value="2"', page)
    assert '<option value="single" selected>' in page
    assert counts(sessions) == before


def imported_result(client: TestClient, token: str, course: Course, rows: str) -> None:
    imported = client.post(
        f"/api/v1/definitions/{course.definition_id}/results/import",
        content=f"email,assessment,score\n{rows}".encode(),
        headers={"X-CSRF-Token": token, "Content-Type": "text/csv"},
    )  # fmt: skip
    assert imported.status_code == 200, imported.text


def test_withdrawal_without_a_reason_and_an_import_without_a_file_are_marked(
    client: TestClient, sessions: sessionmaker[Session], course: Course
) -> None:
    token = sign_in_client(client, "staff@north.example")
    imported_result(client, token, course, "learner@example.org,PROJECT-1,5\n")
    with sessions() as session:
        result_id = session.scalars(select(AssessmentResult.id)).one()
    before = counts(sessions)
    refused = client.post(
        f"/manage/results/{result_id}/withdraw", data={"csrf_token": token, "reason": "   "}
    )
    assert refused.status_code == 400
    assert_marked(refused.text, f"reason-{result_id}", "Give a reason")
    assert "Awards, results and surveys" in refused.text
    no_file = client.post(
        f"/manage/definitions/{course.definition_id}/results/import",
        data={"csrf_token": token}, files={"file": ("", b"", "text/csv")},
    )  # fmt: skip
    assert no_file.status_code == 400
    assert_marked(no_file.text, "file", "Choose a CSV file")
    assert counts(sessions) == before


def test_refused_evidence_keeps_the_text_and_links(
    client: TestClient, sessions: sessionmaker[Session], course: Course
) -> None:
    token = sign_in_client(client, "learner@example.org")
    before = counts(sessions)
    refused = client.post(
        f"/assessments/{course.project_id}/submissions",
        data={"csrf_token": token, "text": "My bike rental analysis",
              "links": "https://example.org/nb\nftp://example.org/data"},
    )  # fmt: skip
    assert refused.status_code == 400
    page = refused.text
    assert_marked(page, "links", "is not a web address")
    assert "My bike rental analysis</textarea>" in page
    assert "https://example.org/nb\nftp://example.org/data</textarea>" in page
    assert "choose them again" in page
    assert counts(sessions) == before


def test_a_refused_mark_keeps_the_levels_and_feedback_chosen(
    client: TestClient, sessions: sessionmaker[Session], world: World, course: Course
) -> None:
    learner_token = sign_in_client(client, "learner@example.org")
    sent = client.post(
        f"/assessments/{course.project_id}/submissions",
        data={"csrf_token": learner_token, "text": "My report"}, follow_redirects=False,
    )  # fmt: skip
    url = sent.headers["location"]
    assessor = TestClient(client.app)
    token = sign_in_client(assessor, "assessor@north.example")
    before = counts(sessions)
    refused = assessor.post(
        f"{url}/marks",
        data={"csrf_token": token, "level-analysis": "good",
              "feedback-analysis": "Sound, but explain the outliers", "comment": "Nearly there"},
    )  # fmt: skip
    assert refused.status_code == 422
    page = refused.text
    assert_marked(page, "level-presentation", "Choose a level for 'Presentation'")
    assert re.search(r'name="level-analysis" value="good" required checked', page)
    assert "Sound, but explain the outliers</textarea>" in page
    assert "Nearly there</textarea>" in page
    assert counts(sessions) == before


def test_a_quiz_answer_that_is_not_a_number_is_marked_and_nothing_is_saved(
    client: TestClient, sessions: sessionmaker[Session], course: Course
) -> None:
    token = sign_in_client(client, "learner@example.org")
    started = client.post(
        f"/assessments/{course.quiz_id}/attempts", data={"csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    url = started.headers["location"]
    with sessions() as session:
        attempt = session.get(QuizAttempt, url.rsplit("/", 1)[1])
        assert attempt is not None
        numeric = next(q for q in attempt.question_ids if _kind(session, q) == "numeric")
        text = next(q for q in attempt.question_ids if _kind(session, q) == "text")
    refused = client.post(
        url,
        data={"csrf_token": token, "action": "save", f"q-{numeric}": "three and a half",
              f"q-{text}": "groupby"},
    )  # fmt: skip
    assert refused.status_code == 400
    page = refused.text
    assert_marked(page, f"q-{numeric}", "is not a number", key=f"question-{numeric}")
    assert 'value="three and a half"' in page and 'value="groupby"' in page
    with sessions() as session:
        stored = session.get(QuizAttempt, attempt.id)
        assert stored is not None and stored.answers == {}


def _kind(session: Session, question_id: str) -> str:
    question = session.get(Question, question_id)
    assert question is not None
    return str(question.kind)


def test_a_survey_without_a_rating_keeps_the_comment(
    client: TestClient, sessions: sessionmaker[Session], course: Course
) -> None:
    staff = TestClient(client.app)
    staff_token = sign_in_client(staff, "staff@north.example")
    rows = "learner@example.org,QUIZ-1,100\nlearner@example.org,PROJECT-1,5\n"
    imported_result(staff, staff_token, course, rows)
    token = sign_in_client(client, "learner@example.org")
    before = counts(sessions)
    refused = client.post(
        f"/definitions/{course.definition_id}/survey",
        data={"csrf_token": token, "would_recommend": "yes", "comment": "Great projects"},
    )  # fmt: skip
    assert refused.status_code == 400
    page = refused.text
    assert_marked(page, f"rating-{course.definition_id}", "Choose a rating")
    assert "Great projects</textarea>" in page and 'value="yes" required checked' in page
    assert counts(sessions) == before


def test_a_change_refused_after_it_was_applied_is_rolled_back(
    client: TestClient, sessions: sessionmaker[Session], course: Course
) -> None:
    """The bank check runs on the changed quiz; the refused change must not be committed."""
    token = sign_in_client(client, "staff@north.example")
    refused = client.post(
        f"/manage/assessments/{course.quiz_id}",
        data={"csrf_token": token, "title": "Renamed quiz", "code": "QUIZ-1", "min_total": "75",
              "attempts_allowed": "2", "questions_per_attempt": "10"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert_marked(refused.text, "questions_per_attempt", "the bank has 4 question(s)")
    assert 'value="Renamed quiz"' in refused.text and "<h1>Final quiz" in refused.text
    with sessions() as session:
        stored = session.get(Assessment, course.quiz_id)
        assert stored is not None
        assert (stored.title, stored.questions_per_attempt) == ("Final quiz", 4)
    assert "Renamed quiz" not in client.get(f"/assessments/{course.quiz_id}").text

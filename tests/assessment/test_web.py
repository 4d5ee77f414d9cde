"""The assessment API and pages through the real app: CSRF-protected forms, JSON errors, access."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.assessment.models import QuizAttempt
from tests.assessment.conftest import RIGHT_ANSWERS, Course
from tests.conftest import World, sign_in_client

PDF = b"%PDF-1.7\n%%EOF\n"


def csrf(client: TestClient, email: str) -> dict[str, str]:
    return {"X-CSRF-Token": sign_in_client(client, email)}


def test_the_definition_page_shows_the_published_rubric(client: TestClient, course: Course) -> None:
    page = client.get(f"/definitions/{course.definition_id}")
    assert page.status_code == 200
    assert "How it is assessed" in page.text and "Sound method, clearly explained" in page.text
    listed = client.get(f"/api/v1/definitions/{course.definition_id}/assessments").json()
    assert {a["code"] for a in listed} == {"QUIZ-1", "PROJECT-1"}


def test_a_learner_takes_a_quiz_through_the_api(
    client: TestClient, sessions: sessionmaker[Session], world: World, course: Course
) -> None:
    headers = csrf(client, "learner@example.org")
    started = client.post(f"/api/v1/assessments/{course.quiz_id}/attempts", headers=headers)
    assert started.status_code == 201, started.text
    attempt = started.json()
    assert attempt["seconds_left"] > 1000 and len(attempt["questions"]) == 4
    assert all("correct" not in q and "accepted" not in q for q in attempt["questions"])
    answers = {q["id"]: RIGHT_ANSWERS[q["kind"]] for q in attempt["questions"]}
    done = client.post(
        f"/api/v1/attempts/{attempt['id']}/answers",
        json={"answers": answers, "finish": True}, headers=headers,
    )  # fmt: skip
    assert done.status_code == 200 and done.json()["passed"] is True
    again = client.post(
        f"/api/v1/attempts/{attempt['id']}/answers", json={"answers": {}}, headers=headers
    )
    assert again.status_code == 409 and again.json()["error"] == "AttemptRefused"
    mine = client.get("/api/v1/me/assessments").json()
    states = {r["title"]: r["state"] for r in mine[0]["requirements"]}
    assert states == {"Final quiz": "met", "Data project": "not_started"}


def test_json_calls_with_a_session_cookie_need_the_csrf_header(
    client: TestClient, course: Course
) -> None:
    sign_in_client(client, "learner@example.org")
    refused = client.post(f"/api/v1/assessments/{course.quiz_id}/attempts")
    assert refused.status_code == 403


def test_evidence_pages_scoring_form_and_access(
    client: TestClient, world: World, course: Course
) -> None:
    token = sign_in_client(client, "learner@example.org")
    page = client.get(f"/assessments/{course.project_id}")
    assert "Submit evidence" in page.text
    refused = client.post(
        f"/assessments/{course.project_id}/submissions",
        data={"csrf_token": token, "text": "x"},
        files={"files": ("evil.exe", b"MZ\x90", "application/octet-stream")},
    )  # fmt: skip
    assert refused.status_code == 422 and ".exe files are not accepted" in refused.text
    sent = client.post(
        f"/assessments/{course.project_id}/submissions",
        data={"csrf_token": token, "text": "My report", "links": "https://example.org/nb"},
        files={"files": ("report.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303
    submission_url = sent.headers["location"]
    file_link = re.search(
        r'href="(/submissions/[^"]+/files/[^"]+)"', client.get(submission_url).text
    )
    assert file_link and client.get(file_link.group(1)).content == PDF

    other = TestClient(client.app)
    sign_in_client(other, "staff@south.example")
    assert other.get(submission_url).status_code == 404
    assert other.get(file_link.group(1)).status_code == 404

    assessor = TestClient(client.app)
    assessor_token = sign_in_client(assessor, "assessor@north.example")
    queue = assessor.get("/review")
    assert "Lee Learner" in queue.text and "Score" in queue.text
    form = assessor.get(submission_url).text
    assert 'name="level-analysis"' in form and "Sound method, clearly explained" in form
    bad = assessor.post(
        f"{submission_url}/marks",
        data={"csrf_token": assessor_token, "level-analysis": "legendary",
              "level-presentation": "clear"},
    )  # fmt: skip
    assert bad.status_code == 422 and "is not a level of" in bad.text
    no_csrf = assessor.post(
        f"{submission_url}/marks", data={"level-analysis": "good", "level-presentation": "clear"}
    )
    assert no_csrf.status_code == 403
    marked = assessor.post(
        f"{submission_url}/marks",
        data={"csrf_token": assessor_token, "level-analysis": "good",
              "level-presentation": "clear", "feedback-analysis": "Solid work"},
        follow_redirects=False,
    )  # fmt: skip
    assert marked.status_code == 303
    learner_view = client.get(submission_url).text
    assert "Passed" in learner_view and "Solid work" in learner_view


def test_staff_define_an_assessment_and_run_the_dry_run_page(
    client: TestClient, course: Course
) -> None:
    token = sign_in_client(client, "staff@north.example")
    created = client.post(
        f"/manage/definitions/{course.definition_id}/assessments",
        data={"csrf_token": token, "title": "Workshop", "code": "WS-1", "kind": "attendance",
              "attempts_allowed": "1"},
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303
    edit = client.get(created.headers["location"]).text
    assert "Attended | 1" in edit
    awards = client.get(f"/manage/definitions/{course.definition_id}/awards")
    assert awards.status_code == 200 and "No learner has taken an assessment yet" in awards.text
    api = client.get(
        f"/api/v1/definitions/{course.definition_id}/awards/dry-run",
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 200 and api.json() == []
    imported = client.post(
        f"/api/v1/definitions/{course.definition_id}/results/import",
        content=b"email,assessment,score\nlearner@example.org,NOPE,3\n",
        headers={"X-CSRF-Token": token, "Content-Type": "text/csv"},
    )  # fmt: skip
    assert imported.status_code == 422 and imported.json()["problems"][0]["line"] == 2


def test_learners_cannot_reach_staff_pages(client: TestClient, course: Course) -> None:
    sign_in_client(client, "learner@example.org")
    assert client.get(f"/manage/definitions/{course.definition_id}/awards").status_code == 403
    assert client.get("/review").status_code == 403


def test_the_quiz_page_shows_the_countdown_and_closes_after_the_deadline(
    client: TestClient, sessions: sessionmaker[Session], course: Course
) -> None:
    from datetime import timedelta

    token = sign_in_client(client, "learner@example.org")
    started = client.post(
        f"/assessments/{course.quiz_id}/attempts", data={"csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    url = started.headers["location"]
    page = client.get(url).text
    assert 'id="countdown"' in page and "/static/assessment-timer.js" in page
    with sessions.begin() as session:
        attempt = session.get(QuizAttempt, url.rsplit("/", 1)[1])
        assert attempt is not None and attempt.deadline is not None
        attempt.deadline = attempt.deadline - timedelta(hours=1)
    late = client.post(url, data={"csrf_token": token, "action": "finish"})
    assert late.status_code == 409 and "time limit ended" in late.text
    closed = client.get(url).text
    assert "Not passed" in closed and "time limit ended before you submitted" in closed


def test_evidence_with_a_non_latin_file_name_downloads_under_its_name(
    client: TestClient, world: World, course: Course
) -> None:
    token = sign_in_client(client, "learner@example.org")
    sent = client.post(
        f"/assessments/{course.project_id}/submissions",
        data={"csrf_token": token, "text": "My report"},
        files={"files": ("履歴書 report.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303, sent.text
    page = client.get(sent.headers["location"]).text
    file_link = re.search(r'href="(/submissions/[^"]+/files/[^"]+)"', page)
    assert file_link is not None and "履歴書 report.pdf" in page
    download = client.get(file_link.group(1))
    assert download.status_code == 200 and download.content == PDF
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')  # an ASCII fallback for old clients
    assert "filename*=UTF-8''%E5%B1%A5%E6%AD%B4%E6%9B%B8%20report.pdf" in disposition

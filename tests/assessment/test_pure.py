"""The pure core: rubric text round trip and scoring bounds, quiz scoring and tolerance, the
random draw, requirement evaluation, file sniffing and gradebook parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.assessment.errors import EvidenceRejected, InvalidAssessment, ScoreOutOfRubric
from microcred.assessment.evidence_files import check_evidence_file
from microcred.assessment.gradebook import parse_gradebook
from microcred.assessment.quizzes import (
    Question,
    QuestionKind,
    coerce_answer,
    draw_questions,
    normalise_text,
    score_answer,
)
from microcred.assessment.requirements import (
    Progress,
    Requirement,
    RequirementState,
    evaluate,
)
from microcred.assessment.rubrics import (
    build_rubric,
    format_rubric_text,
    parse_rubric_text,
    passes,
    score_rubric,
)

names = (
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="|"
        ),
        min_size=1,
        max_size=30,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(lambda s: s and not s.startswith("-"))
)
points = st.integers(0, 100).map(float) | st.floats(0, 1000, allow_nan=False).map(
    lambda x: round(x, 2)
)
levels = st.lists(
    st.fixed_dictionaries({"name": names, "points": points, "descriptor": st.just("")}),
    min_size=1, max_size=4,
)  # fmt: skip
rubrics = st.lists(
    st.fixed_dictionaries({"name": names, "levels": levels}), min_size=1, max_size=4
).map(build_rubric)


@settings(max_examples=60, deadline=None)
@given(rubrics)
def test_the_rubric_text_format_round_trips(rubric) -> None:  # type: ignore[no-untyped-def]
    assert parse_rubric_text(format_rubric_text(rubric)) == rubric


@settings(max_examples=60, deadline=None)
@given(rubrics, st.data())
def test_a_rubric_score_lies_between_zero_and_the_best_total(rubric, data) -> None:  # type: ignore[no-untyped-def]
    chosen = {c.id: data.draw(st.sampled_from([lv.id for lv in c.levels])) for c in rubric.criteria}
    score = score_rubric(rubric, chosen)
    assert 0 <= score.total <= score.max_total == rubric.max_total
    best = {c.id: max(c.levels, key=lambda lv: lv.points).id for c in rubric.criteria}
    assert score_rubric(rubric, best).total == rubric.max_total


def test_pass_rules_check_the_total_and_each_criterion_minimum() -> None:
    rubric = parse_rubric_text("Code | min 2\n- Good | 3\n- Poor | 1\nTalk\n- Fine | 5\n- Bad | 0")
    high_total_low_code = score_rubric(rubric, {"code": "poor", "talk": "fine"})
    outcome = passes(rubric, high_total_low_code, 4)
    assert not outcome.passed and "'Code' scored 1, below its minimum 2" in outcome.reasons[0]
    assert passes(rubric, score_rubric(rubric, {"code": "good", "talk": "fine"}), 4).passed
    assert not passes(rubric, score_rubric(rubric, {"code": "good", "talk": "bad"}), 4).passed
    with pytest.raises(ScoreOutOfRubric):
        score_rubric(rubric, {"code": "excellent", "talk": "fine"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- Orphan | 1", "must follow a criterion"),
        ("Code\n- Good", "name | points"),
        ("Code\n- Good | lots", "points must be a number"),
        ("Code | min 9\n- Good | 3", "more than its best level"),
        ("Code | whatever\n- Good | 3", "may only say 'min N'"),
        ("", "at least one criterion"),
    ],
)
def test_bad_rubric_text_is_refused_with_the_line(text: str, message: str) -> None:
    with pytest.raises(InvalidAssessment, match=message):
        parse_rubric_text(text)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(0, 100, allow_nan=False),
    st.floats(-200, 200, allow_nan=False),
)
def test_a_numeric_answer_scores_exactly_when_within_the_tolerance(
    answer: float, tolerance: float, offset: float
) -> None:
    question = Question("q", QuestionKind.numeric, "?", 2.0, answer=answer, tolerance=tolerance)
    given_value = coerce_answer(question, repr(answer + offset))
    assert isinstance(given_value, float)
    earned = score_answer(question, given_value)
    assert earned in (0.0, 2.0)
    if abs(given_value - answer) <= tolerance * 0.999:
        assert earned == 2.0
    if abs(given_value - answer) > tolerance * 1.001 + 1e-3:
        assert earned == 0.0


@settings(max_examples=100, deadline=None)
@given(st.sets(st.integers(0, 5), min_size=1), st.sets(st.integers(0, 5)))
def test_multiple_choice_earns_between_nothing_and_full_marks(
    correct: set[int], chosen: set[int]
) -> None:
    options = tuple(f"option {i}" for i in range(6))
    question = Question("q", QuestionKind.multiple, "?", 3.0, options, tuple(sorted(correct)))
    earned = score_answer(question, frozenset(chosen))
    assert 0.0 <= earned <= 3.0
    assert (earned == 3.0) == (chosen == correct)
    assert score_answer(question, frozenset(range(6))) < 3.0 or correct == set(range(6))


def test_short_text_answers_ignore_case_spacing_and_punctuation() -> None:
    question = Question("q", QuestionKind.text, "?", accepted=("group by",))
    assert score_answer(question, "  Group   BY. ") == 1.0
    assert score_answer(question, "order by") == 0.0
    assert normalise_text("Ｇroup") == "group"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=30, unique=True), st.data())
def test_a_draw_has_no_duplicates_and_is_reproducible_from_its_seed(ids, data) -> None:  # type: ignore[no-untyped-def]
    count = data.draw(st.integers(1, len(ids)))
    seed = data.draw(st.integers(0, 2**62))
    drawn = draw_questions(ids, count, seed)
    assert len(drawn) == len(set(drawn)) == count and set(drawn) <= set(ids)
    assert draw_questions(list(reversed(ids)), count, seed) == drawn
    with pytest.raises(InvalidAssessment):
        draw_questions(ids, len(ids) + 1, seed)


def test_requirements_are_met_only_when_every_assessment_is_passed() -> None:
    quiz, project = Requirement("q", "Quiz", 2), Requirement("p", "Project", 1)
    evaluation = evaluate(
        [quiz, project],
        {"q": Progress(("r1",), 1), "p": Progress((), 1, has_failed=True)},
    )
    assert not evaluation.met and evaluation.result_ids == ()
    assert [s.state for s in evaluation.statuses] == [RequirementState.met, RequirementState.failed]
    met = evaluate([quiz, project], {"q": Progress(("r1",), 1), "p": Progress(("r2",), 1)})
    assert met.met and met.result_ids == ("r1", "r2")
    assert not evaluate([], {}).met
    pending = evaluate([quiz], {"q": Progress((), 1, in_progress=True)})
    assert pending.statuses[0].state is RequirementState.pending


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.png", b"\x89PNG\r\n\x1a\n...."),
        ("b.JPG", b"\xff\xd8\xff\xe0...."),
        ("c.docx", b"PK\x03\x04...."),
        ("d.md", "# Reflection — été".encode()),
        ("e.pdf", b"%PDF-1.5 ..."),
    ],
)
def test_allowed_files_pass_when_content_matches_the_extension(name: str, data: bytes) -> None:
    assert check_evidence_file(name, data).extension == name.rsplit(".", 1)[1].lower()


def test_a_png_renamed_to_pdf_is_refused() -> None:
    with pytest.raises(EvidenceRejected, match="does not contain a PDF"):
        check_evidence_file("report.pdf", b"\x89PNG\r\n\x1a\n....")


def test_a_gradebook_reports_each_bad_cell_by_line() -> None:
    text = (
        "Student Email,Assignment,Grade,Date,Comment\n"
        "lee@example.org,QUIZ-1,87.5%,2025-03-01,Well done\n"
        "not-an-email,QUIZ-1,abc,yesterday,\n"
        "\n"
        "ann@example.org,,-3,,\n"
    )
    parsed = parse_gradebook(text)
    assert parsed.total_rows == 3
    [row] = parsed.rows
    assert (row.line, row.email, row.score, str(row.achieved_on)) == (
        2, "lee@example.org", 87.5, "2025-03-01"
    )  # fmt: skip
    assert [(p.line, p.field) for p in parsed.problems] == [
        (3, "email"), (3, "score"), (3, "date"), (5, "assessment"), (5, "score"),
    ]  # fmt: skip
    assert parse_gradebook("name,score\nx,1\n").problems[0].field == "header"


def test_a_gradebook_saved_by_a_comma_decimal_excel_is_read() -> None:
    """Semicolons between cells, decimal commas in them (German, French, Dutch Excel)."""
    text = (
        "Student Email;Assignment;Grade;Date\r\n"
        "lee@example.org;QUIZ-1;87,5;01/03/2025\r\n"
        "ann@example.org;QUIZ-1;92;2025-03-02\r\n"
    )
    parsed = parse_gradebook(text)
    assert parsed.problems == []
    assert [(row.email, row.score) for row in parsed.rows] == [
        ("lee@example.org", 87.5), ("ann@example.org", 92.0)
    ]  # fmt: skip


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=300))
def test_the_gradebook_parser_never_crashes(text: str) -> None:
    parsed = parse_gradebook(text)
    assert len(parsed.rows) <= parsed.total_rows or parsed.total_rows == 0

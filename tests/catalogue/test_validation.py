"""Pure validation of definition input: every bad field is named, good input round-trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcred.catalogue.errors import InvalidFields
from microcred.catalogue.validation import (
    DefinitionData,
    duration_iso8601,
    parse_definition,
    split_list,
)
from microcred.catalogue.vocabularies import is_language_tag
from tests.catalogue.factories import definition_input


def problems_of(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidFields) as caught:
        parse_definition(raw)
    return {p.field: p.message for p in caught.value.problems}


def test_valid_input_parses_to_typed_data() -> None:
    data = parse_definition(definition_input())
    assert data.eqf_level == 5
    assert data.workload_hours == 50.0
    assert data.rubric_levels[1].points == "2"
    assert data.price_currency == "EUR"


@pytest.mark.parametrize(
    ("override", "field", "words"),
    [
        ({"eqf_level": 9}, "eqf_level", "EQF level from 1 to 8"),
        ({"eqf_level": "high"}, "eqf_level", "EQF level"),
        ({"workload_hours": -5}, "workload_hours", "negative"),
        ({"ects_credits": -1}, "ects_credits", "negative"),
        ({"price_amount": -0.01}, "price_amount", "negative"),
        ({"price_currency": "EURO"}, "price_currency", "at most 3"),
        ({"price_currency": "XYZ"}, "price_currency", "ISO 4217"),
        ({"price_currency": None}, "price_currency", "required when the price"),
        ({"in_language": "english"}, "in_language", "BCP 47"),
        ({"in_language": "qq"}, "in_language", "BCP 47"),
        ({"participation_form": "remote"}, "participation_form", "online, on-site, blended"),
        ({"participation_form": "on-site"}, "location", "required"),
        ({"achievement_type": "Trophy"}, "achievement_type", "achievement type"),
        ({"assessment_types": ["exam", "vibes"]}, "assessment_types[1]", "assessment type"),
        ({"skills": [definition_input()["skills"][0], "not a uri"]}, "skills[1]", "skill URI"),
        ({"name": "  "}, "name", "required"),
        ({"learning_outcomes": []}, "learning_outcomes", "at least one"),
        ({"duration_weeks": 1000}, "duration_weeks", "at most"),
        ({"required_level": "Master"}, "required_level", "rubric levels"),
        ({"image_url": "javascript:alert(1)"}, "image_url", "http(s) URL"),
        ({"human_code": "has space"}, "human_code", "letters, digits"),
        ({"identity_checked": "maybe"}, "identity_checked", "true or false"),
        ({"colour": "red"}, "colour", "not a field"),
    ],
)
def test_each_bad_field_is_named(override: dict[str, Any], field: str, words: str) -> None:
    problems = problems_of(definition_input(**override))
    assert field in problems, problems
    assert words in problems[field]


def test_all_problems_are_reported_together() -> None:
    problems = problems_of(definition_input(eqf_level=0, workload_hours=-1, name=""))
    assert {"eqf_level", "workload_hours", "name"} <= set(problems)


def test_text_forms_of_lists_and_booleans_are_accepted() -> None:
    data = parse_definition(
        definition_input(
            learning_outcomes="First outcome; second outcome",
            rubric_levels="Novice: needs help\nCompetent: alone",
            tags="a;b;a",
            stackable="yes",
            identity_checked="0",
            eqf_level="4",
        )
    )
    assert data.learning_outcomes == ["First outcome", "second outcome"]
    assert [level.name for level in data.rubric_levels] == ["Novice", "Competent"]
    assert data.tags == ["a", "b"]
    assert data.stackable is True and data.identity_checked is False
    assert data.eqf_level == 4


def test_a_parsed_definition_round_trips_through_its_input_form() -> None:
    data = parse_definition(definition_input())
    assert parse_definition(data.as_input()) == data


def test_iso_durations() -> None:
    assert duration_iso8601(6) == "P6W"
    assert duration_iso8601(1.5) == "P10D" or duration_iso8601(1.5) == "P11D"
    assert duration_iso8601(None) is None


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters=";\n\r"), min_size=1)))
def test_split_list_inverts_joining_with_semicolons(items: list[str]) -> None:
    cleaned = [item.strip() for item in items if item.strip()]
    assert split_list(";".join(items)) == cleaned


@given(
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers()
    | st.text(max_size=12)
    | st.none()
    | st.booleans()
)
def test_workload_is_either_a_finite_non_negative_number_or_a_named_error(value: object) -> None:
    try:
        data = parse_definition(definition_input(workload_hours=value))
    except InvalidFields as exc:
        assert "workload_hours" in {p.field for p in exc.problems}
    else:
        assert isinstance(data, DefinitionData)
        assert 0 <= data.workload_hours <= 20_000


@given(st.text(max_size=12))
def test_language_tags_follow_the_ob3_pattern(tag: str) -> None:
    import re

    if is_language_tag(tag):
        assert re.fullmatch(r"[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?", tag)


def test_common_language_tags() -> None:
    assert all(is_language_tag(t) for t in ("en", "pt-BR", "zh-Hant-TW", "es-419", "fil"))
    assert not any(is_language_tag(t) for t in ("EN", "en_GB", "english", "xx"))

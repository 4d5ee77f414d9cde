from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcred.skills.extraction.errors import ExtractionError
from microcred.skills.extraction.text import (
    MAX_TEXT_CHARS,
    check_text,
    decode_bytes,
    guess_language,
    tokenise,
)


def test_tokens_keep_offsets_and_programming_language_names() -> None:
    text = "Strong C++ and C# skills; Node.js"
    tokens = tokenise(text)
    assert [text[t.start : t.end] for t in tokens] == [
        "Strong",
        "C++",
        "and",
        "C#",
        "skills",
        "Node",
        "js",
    ]
    assert [t.key for t in tokens][:2] == ["strong", "c++"]


def test_keys_fold_case_accents_and_inflection() -> None:
    assert [t.key for t in tokenise("Managing PROJECTS café")] == ["manag", "project", "cafe"]


@given(st.text(max_size=300))
def test_tokens_are_ordered_non_overlapping_slices(text: str) -> None:
    previous_end = 0
    for token in tokenise(text):
        assert previous_end <= token.start < token.end <= len(text)
        assert token.key
        previous_end = token.end


@pytest.mark.parametrize("bad", ["", "   \n\t", "PK\x03\x04\x00\x00binary"])
def test_empty_and_binary_text_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(ExtractionError) as error:
        check_text(bad, field="text")
    assert error.value.field == "text"


def test_huge_text_is_cut_not_refused() -> None:
    assert len(check_text("python " * 2_000_000)) == MAX_TEXT_CHARS


def test_bytes_decode_with_fallback_and_binary_refusal() -> None:
    assert decode_bytes("\ufeffdéjà vu".encode()) == "déjà vu"
    assert decode_bytes("caf\xe9".encode("cp1252")) == "café"
    with pytest.raises(ExtractionError):
        decode_bytes(b"\x00\x01\x02")


def test_language_guess() -> None:
    english = (
        "We are looking for a developer with experience in Python and you will work in our team"
    )
    german = (
        "Wir suchen eine Entwicklerin mit Erfahrung in Python und die Arbeit im Team ist uns "
        "wichtig für das Projekt"
    )
    french = (
        "Nous recherchons un développeur avec une expérience de Python pour notre équipe et "
        "vous serez dans le projet"
    )
    assert guess_language(english) == "en"
    assert guess_language(german) == "de"
    assert guess_language(french) == "fr"
    assert guess_language("Python SQL") is None

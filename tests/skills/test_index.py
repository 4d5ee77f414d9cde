"""The pure label index: normaliser properties and exact / prefix / fuzzy behaviour."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from microcred.skills.index import IndexEntry, LabelIndex, match_key, normalise

words = st.text(alphabet=string.ascii_letters + "éèàüñ", min_size=1, max_size=12)
labels = st.lists(words, min_size=1, max_size=6).map(" ".join)


@given(st.text(max_size=60))
def test_normalise_is_idempotent(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)


@given(st.text(max_size=60))
def test_match_key_ignores_what_was_already_normalised(text: str) -> None:
    assert match_key(normalise(text)) == match_key(text)


@given(
    labels,
    st.sampled_from([str.upper, str.title, str.lower]),
    st.sampled_from(["-", ",", "  ", "/"]),
)
def test_match_key_ignores_case_punctuation_and_spacing(label: str, case, separator: str) -> None:  # type: ignore[no-untyped-def]
    assert match_key(case(label).replace(" ", separator)) == match_key(label)


@given(st.text(max_size=60))
def test_normalised_text_has_no_edge_or_double_spaces(text: str) -> None:
    result = normalise(text)
    assert result == result.strip()
    assert "  " not in result


def test_normalise_keeps_programming_language_symbols_and_drops_accents() -> None:
    assert normalise("C++") != normalise("C#") != normalise("C")
    assert normalise("Café  Management!") == "cafe management"


def test_match_key_tolerates_plurals_and_ing_forms() -> None:
    assert match_key("managing projects") == match_key("manage project")
    assert match_key("Technologies") == match_key("technology")
    assert match_key("nurses") == match_key("nurse")


def _index() -> LabelIndex:
    return LabelIndex.build(
        [
            IndexEntry("u:python", "Python (computer programming)", ["Python"], "knowledge"),
            IndexEntry("u:pm", "project management", ["manage projects"], "skill/competence"),
            IndexEntry("u:pmp", "project management principles", [], "knowledge"),
            IndexEntry("u:excel", "Microsoft Excel", [], "technology"),
            IndexEntry("u:ict", "Information and Communication Technologies", [], None, True),
        ]
    )


def test_exact_match_on_preferred_label_scores_one() -> None:
    hits = _index().search("Project Management")
    assert hits[0].uri == "u:pm"
    assert (hits[0].match, hits[0].score) == ("exact", 1.0)


def test_exact_match_on_alternative_label_names_the_label_that_matched() -> None:
    hit = _index().search("python")[0]
    assert (hit.uri, hit.matched_label, hit.match) == ("u:python", "Python", "exact")
    assert hit.label == "Python (computer programming)"
    assert hit.score < 1.0


def test_prefix_ranks_the_closest_completion_first() -> None:
    hits = _index().search("project manag")
    assert [h.uri for h in hits[:2]] == ["u:pm", "u:pmp"]
    assert all(h.match == "prefix" for h in hits[:2])
    assert hits[0].score > hits[1].score


def test_prefix_of_a_later_word_finds_the_label() -> None:
    hits = _index().search("excel")
    assert hits[0].uri == "u:excel"
    assert hits[0].match == "prefix"


def test_fuzzy_finds_misspellings_and_scores_below_exact() -> None:
    hits = _index().search("pyhton")
    assert hits and hits[0].uri == "u:python"
    assert hits[0].match == "fuzzy"
    assert 0 < hits[0].score < 0.9


def test_groups_are_left_out_unless_asked_for() -> None:
    index = _index()
    assert not index.search("information and communication technologies")
    assert index.search("information and communication technologies", include_groups=True)


def test_kind_filter_and_limit() -> None:
    index = _index()
    assert {h.uri for h in index.search("project", kind="knowledge")} == {"u:pmp"}
    assert len(index.search("project", limit=1)) == 1
    assert index.search("   ") == []

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.market.dedup import DuplicateIndex, exact_key, minhash, similarity

POSTING = (
    "We are hiring a data analyst in Hamburg with SQL and Python experience to build dashboards "
    "for our sales team, maintain the data warehouse and report to the head of analytics weekly"
)


def test_exact_key_ignores_case_spacing_and_punctuation() -> None:
    assert exact_key("Data Analyst", POSTING) == exact_key("data  analyst", POSTING.upper() + "!")
    assert exact_key("Data Analyst", POSTING) != exact_key("Data Engineer", POSTING)


def test_small_edits_are_near_duplicates_and_other_postings_are_not() -> None:
    index = DuplicateIndex()
    assert index.check(exact_key(POSTING), minhash(POSTING)) is None
    edited = POSTING.replace("weekly", "every week")
    assert similarity(minhash(POSTING), minhash(edited)) >= 0.8
    assert index.check(exact_key(edited), minhash(edited)) == "near"
    assert index.check(exact_key(POSTING), minhash(POSTING)) == "exact"
    other = "Forklift driver for night shifts in our warehouse; a valid licence is required."
    assert index.check(exact_key(other), minhash(other)) is None


@given(st.text(max_size=200))
def test_signature_is_deterministic_and_self_similar(text: str) -> None:
    signature = minhash(text)
    assert signature.shape == (64,)
    assert similarity(signature, minhash(text)) == 1.0


@settings(max_examples=30)
@given(
    st.lists(
        st.sampled_from(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]),
        min_size=20,
        max_size=60,
    )
)
def test_estimate_tracks_jaccard_of_shingles(words: list[str]) -> None:
    first = " ".join(words)
    second = " ".join(words[: len(words) // 2])

    def shingles(text: str) -> set[str]:
        w = text.split()
        return {" ".join(w[i : i + 3]) for i in range(len(w) - 2)}

    true = len(shingles(first) & shingles(second)) / len(shingles(first) | shingles(second))
    assert abs(similarity(minhash(first), minhash(second)) - true) < 0.3

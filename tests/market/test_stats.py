from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcred.market.stats import benjamini_hochberg, binomial_two_sided


@pytest.mark.parametrize(
    ("k", "n", "p", "expected"),
    [(3, 10, 0.5, 0.34375), (0, 5, 0.3, 0.33115), (12, 20, 0.3, 0.0059361)],
)
def test_exact_binomial_matches_reference_values(k: int, n: int, p: float, expected: float) -> None:
    assert binomial_two_sided(k, n, p) == pytest.approx(expected, rel=1e-4)


def test_large_counts_use_the_normal_approximation() -> None:
    assert binomial_two_sided(40, 100, 0.5) == pytest.approx(0.0569, abs=0.002)
    assert binomial_two_sided(700, 1000, 0.6) < 1e-9


def test_benjamini_hochberg_reference() -> None:
    adjusted = benjamini_hochberg([0.01, 0.04, 0.03, 0.5, 0.002])
    assert adjusted == pytest.approx([0.025, 0.05, 0.05, 0.5, 0.01])


@given(st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=40))
def test_q_values_bound_p_values_and_keep_their_order(p_values: list[float]) -> None:
    q_values = benjamini_hochberg(p_values)
    assert all(p <= q + 1e-12 <= 1 + 1e-12 for p, q in zip(p_values, q_values, strict=True))
    ranked = sorted(range(len(p_values)), key=lambda i: p_values[i])
    assert all(q_values[a] <= q_values[b] + 1e-12 for a, b in itertools.pairwise(ranked))


@given(st.integers(1, 60), st.floats(0.05, 0.95))
def test_p_values_are_probabilities(n: int, p: float) -> None:
    for k in range(n + 1):
        assert 0 <= binomial_two_sided(k, n, p) <= 1

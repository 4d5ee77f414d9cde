"""Tests for rising and falling skills: a two-sided binomial test per skill, BH-corrected.

Conditional on a skill's total mentions n = a + b over two equal-length periods with N₁ and N₂
postings, H₀ "the skill's share of postings did not change" gives a ~ Binomial(n, N₁/(N₁+N₂)).
The exact test is used for small n, the normal approximation with continuity correction when
n·p·(1−p) ≥ 25. Benjamini–Hochberg controls the false discovery rate across all skills tested.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

NORMAL_MIN_VARIANCE = 25.0


def _log_pmf(k: int, n: int, p: float) -> float:
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def binomial_two_sided(k: int, n: int, p: float) -> float:
    """P-value of seeing a count as or less likely than ``k`` under Binomial(n, p)."""
    if n <= 0 or not 0 < p < 1:
        return 1.0
    if not 0 <= k <= n:
        raise ValueError("k must lie in 0..n")
    variance = n * p * (1 - p)
    if variance >= NORMAL_MIN_VARIANCE:
        deviation = max(abs(k - n * p) - 0.5, 0.0) / math.sqrt(variance)
        return min(1.0, math.erfc(deviation / math.sqrt(2)))
    observed = _log_pmf(k, n, p)
    total = sum(
        math.exp(log_p) for i in range(n + 1) if (log_p := _log_pmf(i, n, p)) <= observed + 1e-9
    )
    return min(1.0, total)


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Adjusted p-values (q-values) in the input order."""
    count = len(p_values)
    order = sorted(range(count), key=lambda i: p_values[i])
    adjusted = [1.0] * count
    running = 1.0
    for rank in range(count, 0, -1):
        index = order[rank - 1]
        running = min(running, p_values[index] * count / rank)
        adjusted[index] = min(running, 1.0)
    return adjusted

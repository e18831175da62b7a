"""The exact null of the AUC (Wilcoxon–Mann–Whitney U) and the chance of a PASS (SPEC §5, §3).

The gate of the audit is a quantile of this null, and the PASS-rate is only meaningful next to the
probability that a model with no structural signal PASSes anyway. Both must be exact: a gate off by
one step of ``1/k`` changes verdicts, so counts are Python integers and levels are exact fractions.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from itertools import accumulate

# Levels such as q = 0.95 are read as the decimal the user meant (19/20), not as the binary float
# just below it; denominators up to 1e9 keep every level written with nine decimals exact.
_MAX_DENOMINATOR = 10**9

# Verdicts use ``slack >= -TOLERANCE`` so that 1.0 - 1.0 computed through different float paths
# still PASSes; the chance of a PASS must apply the very same comparison.
TOLERANCE = 1e-12


@lru_cache(maxsize=1024)
def as_fraction(x: float) -> Fraction:
    """The decimal a float literal stands for (0.95 -> 19/20), so ceilings do not slip by one (memoised: a run asks
    for the same few levels once per row)."""
    return Fraction(x).limit_denominator(_MAX_DENOMINATOR)


def nearest_rank(n: int, p: float) -> int:
    """1-based nearest rank of level ``p`` among ``n`` sorted values: the smallest r with r/n >= p."""
    if n < 1:
        raise ValueError(f"nearest rank needs at least one value, got n={n}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"quantile level must lie in [0, 1], got {p!r}")
    return max(1, math.ceil(as_fraction(p) * n))


def _check_sizes(n_pos: int, n_neg: int) -> None:
    if n_pos < 1 or n_neg < 1:
        raise ValueError(f"the AUC needs at least one positive and one negative, got n_pos={n_pos}, n_neg={n_neg}")


def _check_level(q: float) -> Fraction:
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile level q must lie strictly between 0 and 1, got {q!r}")
    return as_fraction(q)


@lru_cache(maxsize=256)
def u_counts(n_pos: int, n_neg: int) -> tuple[int, ...]:
    """Number of label arrangements giving U = 0, 1, ..., n_pos*n_neg (no ties).

    They are the coefficients of the Gaussian binomial [n_pos + n_neg choose n_pos], built as the
    product of (1 - x^(n_neg+i)) / (1 - x^i) for i = 1..min(n_pos, n_neg); every intermediate is
    again a Gaussian binomial, so each division is exact and the counts stay integers.
    """
    _check_sizes(n_pos, n_neg)
    small, large = min(n_pos, n_neg), max(n_pos, n_neg)
    coeffs = [1]
    for i in range(1, small + 1):
        shift = large + i
        # multiply by (1 - x^shift)
        grown = [*coeffs, *([0] * shift)]
        for j, c in enumerate(coeffs):
            grown[j + shift] -= c
        # divide by (1 - x^i): each residue class mod i is a running sum
        quotient = [0] * (len(grown) - i)
        for r in range(i):
            quotient[r::i] = accumulate(grown[r : len(quotient) : i])
        coeffs = quotient
    return tuple(coeffs)


@lru_cache(maxsize=4096)
def null_auc_quantile_exact(n_pos: int, n_neg: int, q: float = 0.95) -> Fraction:
    """``null_auc_quantile`` as an exact fraction, so a gate built on it (null_q + margin) is exact too."""
    _check_sizes(n_pos, n_neg)
    level = _check_level(q)
    if n_pos == 1:
        return Fraction(math.ceil(level * (n_neg + 1)) - 1, n_neg)
    counts = u_counts(n_pos, n_neg)
    needed = level * sum(counts)
    cumulative = 0
    for u, count in enumerate(counts):
        cumulative += count
        if cumulative >= needed:
            return Fraction(u, n_pos * n_neg)
    raise AssertionError("cumulative counts must reach the total")  # pragma: no cover


def null_auc_quantile(n_pos: int, n_neg: int, q: float = 0.95) -> float:
    """Exact q-quantile of AUC = U/(n_pos*n_neg) when every label arrangement is equally likely.

    The smallest u/(n_pos*n_neg) whose cumulative probability is >= q. With one positive and k
    negatives U is uniform on 0..k, hence the closed form (ceil(q*(k+1)) - 1)/k.
    """
    return float(null_auc_quantile_exact(n_pos, n_neg, q))


@lru_cache(maxsize=4096)
def chance_pass_probability(n_pos: int, n_neg: int, gate: float) -> float:
    """P(AUC >= gate) under the null: how often a model with no signal PASSes this molecule.

    The comparison is the verdict's own (``AUC - gate >= -TOLERANCE``), so a gate of 1 computed as
    0.9999999999999999 still means "beats every negative".
    """
    _check_sizes(n_pos, n_neg)
    if not math.isfinite(gate):
        raise ValueError(f"gate must be finite, got {gate!r}")
    pairs = n_pos * n_neg
    threshold = gate - TOLERANCE
    if n_pos == 1:
        passing = sum(1 for u in range(n_neg + 1) if u / pairs >= threshold)
        return passing / (n_neg + 1)
    counts = u_counts(n_pos, n_neg)
    passing = sum(count for u, count in enumerate(counts) if u / pairs >= threshold)
    return passing / sum(counts)

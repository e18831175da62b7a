"""The exact AUC null: checked against brute-force enumeration of label arrangements."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction
from functools import cache
from itertools import combinations

import pytest

from hetero_core.audit._null import (
    as_fraction,
    chance_pass_probability,
    nearest_rank,
    null_auc_quantile,
    null_auc_quantile_exact,
    u_counts,
)

SIZES = [(n_pos, n_neg) for n_pos in range(1, 8) for n_neg in range(1, 8)]
LEVELS = [0.05, 0.5, 0.9, 0.95, 0.975, 0.99]


@cache
def brute_u_counts(n_pos: int, n_neg: int) -> dict[int, int]:
    """U for every choice of which ranked slots hold the positives (slot index = rank, no ties)."""
    counts: Counter[int] = Counter()
    n = n_pos + n_neg
    for positives in combinations(range(n), n_pos):
        chosen = set(positives)
        # a positive at slot s beats every negative in a lower slot
        u = sum(sum(1 for lower in range(slot) if lower not in chosen) for slot in positives)
        counts[u] += 1
    return dict(counts)


def brute_quantile(n_pos: int, n_neg: int, q: Fraction) -> Fraction:
    counts = brute_u_counts(n_pos, n_neg)
    total = sum(counts.values())
    cumulative = 0
    for u in range(n_pos * n_neg + 1):
        cumulative += counts.get(u, 0)
        if Fraction(cumulative, total) >= q:
            return Fraction(u, n_pos * n_neg)
    raise AssertionError("unreachable")


@pytest.mark.parametrize(("n_pos", "n_neg"), SIZES)
def test_u_counts_match_brute_force(n_pos: int, n_neg: int) -> None:
    expected = brute_u_counts(n_pos, n_neg)
    counts = u_counts(n_pos, n_neg)
    assert len(counts) == n_pos * n_neg + 1
    assert {u: c for u, c in enumerate(counts) if c} == expected
    assert sum(counts) == math.comb(n_pos + n_neg, n_pos)


@pytest.mark.parametrize(("n_pos", "n_neg"), SIZES)
def test_null_quantile_matches_brute_force(n_pos: int, n_neg: int) -> None:
    for q in LEVELS:
        expected = brute_quantile(n_pos, n_neg, Fraction(q).limit_denominator(1000))
        assert null_auc_quantile_exact(n_pos, n_neg, q) == expected, q
        assert null_auc_quantile(n_pos, n_neg, q) == float(expected), q


def test_u_counts_larger_case_sums_to_binomial_and_is_symmetric() -> None:
    counts = u_counts(12, 30)
    assert sum(counts) == math.comb(42, 12)
    assert counts == counts[::-1]
    assert counts == u_counts(30, 12)


@pytest.mark.parametrize("q", LEVELS)
def test_single_positive_closed_form_agrees_with_general_dp(q: float) -> None:
    for k in range(1, 61):
        closed = null_auc_quantile(1, k, q)
        # the AUC of (k positives, 1 negative) has the same null and goes through the counting DP
        assert closed == null_auc_quantile(k, 1, q), k
        assert u_counts(1, k) == (1,) * (k + 1)
        assert closed == (math.ceil(Fraction(q).limit_denominator(1000) * (k + 1)) - 1) / k


@pytest.mark.parametrize(("q", "k"), [(0.55, 99), (0.28, 24), (0.07, 99)])
def test_closed_form_does_not_trip_on_float_products(q: float, k: int) -> None:
    # q*(k+1) is e.g. 55.00000000000001 in floating point; a plain ceil would raise the gate a step
    assert math.ceil(q * (k + 1)) == round(q * (k + 1)) + 1
    assert null_auc_quantile(1, k, q) == (round(q * (k + 1)) - 1) / k


def test_spec_single_positive_values() -> None:
    assert null_auc_quantile(1, 1) == 1.0
    assert null_auc_quantile(1, 20) == 0.95
    assert null_auc_quantile(1, 19) == 18 / 19
    assert null_auc_quantile_exact(1, 20) == Fraction(19, 20)


def test_spec_chance_of_passing_by_chance() -> None:
    # SPEC §3: PASS means beating every decoy; a random model does that with probability 1/(k+1)
    assert chance_pass_probability(1, 1, 1.0) == 0.5
    assert chance_pass_probability(1, 20, 1.0) == 1 / 21
    assert round(chance_pass_probability(1, 20, 1.0), 3) == 0.048
    # a gate of 1 that arrived as 0.9999999999999999 still means "beat every decoy"
    assert chance_pass_probability(1, 20, 0.9999999999999999) == 1 / 21


def brute_chance(n_pos: int, n_neg: int, gate: Fraction) -> Fraction:
    counts = brute_u_counts(n_pos, n_neg)
    passing = sum(c for u, c in counts.items() if Fraction(u, n_pos * n_neg) >= gate)
    return Fraction(passing, sum(counts.values()))


@pytest.mark.parametrize(("n_pos", "n_neg"), [(1, 1), (1, 5), (2, 3), (3, 3), (4, 2), (5, 5)])
def test_chance_pass_matches_brute_force_on_and_between_grid_points(n_pos: int, n_neg: int) -> None:
    pairs = n_pos * n_neg
    gates = [Fraction(u, pairs) for u in range(pairs + 1)] + [Fraction(2 * u + 1, 2 * pairs) for u in range(pairs)]
    for gate in gates:
        assert chance_pass_probability(n_pos, n_neg, float(gate)) == pytest.approx(
            float(brute_chance(n_pos, n_neg, gate)), abs=1e-15
        ), gate


def test_chance_pass_outside_the_auc_range() -> None:
    assert chance_pass_probability(3, 4, 0.0) == 1.0
    assert chance_pass_probability(3, 4, -2.0) == 1.0
    assert chance_pass_probability(3, 4, 1.01) == 0.0
    assert chance_pass_probability(1, 4, 1.01) == 0.0


def test_null_quantile_is_where_the_chance_of_passing_drops_to_five_percent() -> None:
    # null_q is the smallest level with CDF >= q: reaching it has chance > 1 - q, one step above <= 1 - q
    for k in (5, 19, 20, 40):
        null_q = null_auc_quantile(1, k, 0.95)
        above = null_q + 1 / k
        assert chance_pass_probability(1, k, above) <= 0.05 + 1e-15
        assert chance_pass_probability(1, k, null_q) > 0.05 - 1e-15


@pytest.mark.parametrize(("n_pos", "n_neg"), [(0, 3), (3, 0), (-1, 2)])
def test_bad_sizes_are_rejected(n_pos: int, n_neg: int) -> None:
    with pytest.raises(ValueError, match="at least one positive"):
        null_auc_quantile(n_pos, n_neg)
    with pytest.raises(ValueError, match="at least one positive"):
        chance_pass_probability(n_pos, n_neg, 0.5)
    with pytest.raises(ValueError, match="at least one positive"):
        u_counts(n_pos, n_neg)


@pytest.mark.parametrize("q", [0.0, 1.0, -0.1, 1.5, math.nan])
def test_bad_levels_are_rejected(q: float) -> None:
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        null_auc_quantile(1, 5, q)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        null_auc_quantile(3, 5, q)


@pytest.mark.parametrize("gate", [math.nan, math.inf, -math.inf])
def test_non_finite_gate_is_rejected(gate: float) -> None:
    with pytest.raises(ValueError, match="gate must be finite"):
        chance_pass_probability(1, 5, gate)


def test_as_fraction_reads_decimals_as_written() -> None:
    assert as_fraction(0.95) == Fraction(19, 20)
    assert as_fraction(0.55) == Fraction(11, 20)
    assert as_fraction(0.5) == Fraction(1, 2)
    assert Fraction(0.95) != Fraction(19, 20)  # why the helper exists


def test_nearest_rank() -> None:
    assert nearest_rank(21, 0.95) == 20
    assert nearest_rank(20, 0.95) == 19
    assert nearest_rank(4, 0.5) == 2
    assert nearest_rank(5, 0.5) == 3
    assert nearest_rank(5, 0.0) == 1
    assert nearest_rank(5, 1.0) == 5
    with pytest.raises(ValueError, match="at least one value"):
        nearest_rank(0, 0.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        nearest_rank(3, 1.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        nearest_rank(3, math.nan)

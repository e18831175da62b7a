"""The audit's unit-weight shortcut gives bit for bit what the general path (numpy, exact fractions) gives.

``audit_molecule`` answers most molecules without numpy (unit weights, no ties); these tests compute every
statistic the general way, as the audit did before the shortcut, and compare with ``==`` on many score sets:
random, with exact ties, with near-ties on both sides of the SPEC's tolerance, huge and tiny magnitudes.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hetero_core.audit import AuditResult, audit_molecule
from hetero_core.audit._molecule import _unit_weight_statistics, permutation_auc_quantile, weighted_auc
from hetero_core.audit._null import (
    TOLERANCE,
    as_fraction,
    chance_pass_probability,
    null_auc_quantile_exact,
)
from hetero_core.records import ScoredItem

LEVELS = (0.5, 0.9, 0.95, 0.99, 0.975, 1 / 3)


def general(original: float, decoys: list[float], q: float, margin: float) -> tuple[float, ...]:
    """The audit's numbers computed the general way: numpy AUC and permutation null, gate from exact fractions."""
    items = [ScoredItem(original), *(ScoredItem(d) for d in decoys)]
    k = len(decoys)
    auc = weighted_auc(items[:1], items[1:])
    exact_null_q = null_auc_quantile_exact(1, k, q)
    gate = float(min(Fraction(1), exact_null_q + as_fraction(margin)))
    perm_q = permutation_auc_quantile([i.score for i in items], [1.0] * len(items), 1, q, seed=0)
    return auc, float(exact_null_q), perm_q, gate, auc - gate, chance_pass_probability(1, k, gate)


def shortcut(original: float, decoys: list[float], q: float, margin: float) -> tuple[float, ...]:
    result: AuditResult = audit_molecule(ScoredItem(original), [ScoredItem(d) for d in decoys], q=q, margin=margin)
    numbers = (result.auc, result.null_q, result.perm_q, result.gate, result.slack, result.chance_pass)
    assert None not in numbers
    assert result.verdict == ("PASS" if (result.slack or 0.0) >= -TOLERANCE else "FAIL")
    return tuple(float(x or 0.0) for x in numbers)


def _same(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Equal as floats, bit for bit (``==`` would let -0.0 equal 0.0)."""
    return all(x.hex() == y.hex() for x, y in zip(a, b, strict=True))


def _near(value: float, rng: random.Random) -> float:
    """A score at, just inside or just outside the tie tolerance of ``value``."""
    scale = max(1.0, abs(value))
    step = rng.choice((0.0, 0.5e-9, 0.999e-9, 1e-9, 1.001e-9, 2e-9, 1e-12, 1e-6))
    return value + rng.choice((-1, 1)) * step * scale


def _score_sets(count: int) -> list[tuple[float, list[float]]]:
    rng = random.Random(20261130)
    out: list[tuple[float, list[float]]] = []
    for case in range(count):
        k = rng.choice((1, 2, 3, 5, 9, 10, 19, 20, 21, 40))
        kind = case % 5
        if kind == 0:  # continuous: almost never a tie
            scores = [rng.gauss(0.0, 1.0) for _ in range(k + 1)]
        elif kind == 1:  # few distinct values: many exact ties, including with the original
            values = [rng.choice((0.0, 0.25, 0.5, 1.0, -3.0)) for _ in range(3)]
            scores = [rng.choice(values) for _ in range(k + 1)]
        elif kind == 2:  # near-ties on both sides of the tolerance
            base = rng.choice((0.0, 0.7, 1.0, -2.5, 12345.678, 1e12))
            scores = [_near(base, rng) for _ in range(k + 1)]
        elif kind == 3:  # huge and tiny magnitudes
            scores = [rng.choice((1.0, -1.0)) * 10.0 ** rng.uniform(-300, 300) for _ in range(k + 1)]
        else:  # a mix: continuous values and copies of some of them
            scores = [rng.uniform(-1, 1) for _ in range(k + 1)]
            for i in rng.sample(range(k + 1), min(k + 1, 3)):
                scores[i] = _near(scores[0], rng)
        out.append((scores[0], scores[1:]))
    return out


@pytest.mark.parametrize("q", LEVELS)
@pytest.mark.parametrize("margin", [0.0, 0.05, 0.1])
def test_the_shortcut_equals_the_general_path_on_many_score_sets(q: float, margin: float) -> None:
    cases = _score_sets(400)
    assert any(len(set(decoys)) < len(decoys) for _, decoys in cases)  # exact ties are among them
    for original, decoys in cases:
        assert _same(shortcut(original, decoys, q, margin), general(original, decoys, q, margin)), (original, decoys)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # numpy, on scores near the float limit
@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=2, max_size=30),
    st.sampled_from(LEVELS),
)
def test_the_shortcut_equals_the_general_path_on_any_finite_scores(scores: list[float], q: float) -> None:
    assert _same(shortcut(scores[0], scores[1:], q, 0.05), general(scores[0], scores[1:], q, 0.05))


def test_distinct_unit_weight_scores_take_the_shortcut_and_ties_do_not() -> None:
    assert _unit_weight_statistics(0.9, [0.1, 0.5, 0.3], 0.95) == (1.0, 1.0)
    assert _unit_weight_statistics(0.9, [0.1, 0.9], 0.95) is None
    assert _unit_weight_statistics(0.9, [0.1, 0.9 + 1e-10], 0.95) is None


def test_ties_and_weights_still_take_the_general_path() -> None:
    tied = audit_molecule(ScoredItem(1.0), [ScoredItem(1.0), ScoredItem(0.0), ScoredItem(1.0 + 1e-12)])
    assert tied.auc == pytest.approx((0.5 + 1 + 0.5) / 3)
    weighted = audit_molecule(ScoredItem(1.0, 2.0), [ScoredItem(0.0), ScoredItem(2.0, 0.5)])
    assert weighted.auc == weighted_auc([ScoredItem(1.0, 2.0)], [ScoredItem(0.0), ScoredItem(2.0, 0.5)])
    assert weighted.warnings


def test_a_non_finite_score_is_refused_as_before() -> None:
    with pytest.raises(ValueError, match="finite"):
        audit_molecule(ScoredItem(math.inf), [ScoredItem(0.0)])
    with pytest.raises(ValueError, match="finite"):
        audit_molecule(ScoredItem(0.0), [ScoredItem(math.nan)])

"""Per-molecule audit: weighted AUC, permutation quantile, verdicts on known-good and known-bad scores."""

from __future__ import annotations

import math
from itertools import combinations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hetero_core import records
from hetero_core.audit import AuditResult, audit_molecule
from hetero_core.audit._molecule import ScoredItem, permutation_auc_quantile, weighted_auc
from hetero_core.audit._null import nearest_rank, null_auc_quantile
from hetero_core.hashing import smiles_hash
from hetero_core.reasons import Verdict, Warning_

# Scores a model might give aspirin (the original) and twenty rewired isomers of C9H8O4.
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
DECOY_SMILES = [f"{ASPIRIN}.decoy{i}" for i in range(20)]  # stand-ins: only their hashes are used


def items(*scores: float) -> list[ScoredItem]:
    return [ScoredItem(s) for s in scores]


def tie(a: float, b: float) -> bool:
    """SPEC §4, written out here rather than imported: equal up to 1e-9 relative."""
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def naive_auc(pos: list[ScoredItem], neg: list[ScoredItem]) -> float:
    num = 0.0
    den = 0.0
    for p in pos:
        for n in neg:
            pair = p.weight * n.weight
            den += pair
            if tie(p.score, n.score):
                num += 0.5 * pair
            elif p.score > n.score:
                num += pair
    return num / den


def test_scored_item_is_the_shared_record() -> None:
    assert ScoredItem is records.ScoredItem


# --- weighted AUC ---------------------------------------------------------------------------


def test_auc_of_perfect_separation_is_one() -> None:
    assert weighted_auc(items(0.9, 0.8), items(0.1, 0.2, 0.3)) == 1.0


def test_auc_of_reversed_ranking_is_zero() -> None:
    assert weighted_auc(items(0.1, 0.2), items(0.8, 0.9, 0.95)) == 0.0


def test_auc_of_all_equal_scores_is_one_half() -> None:
    assert weighted_auc(items(0.5, 0.5), items(0.5, 0.5, 0.5)) == 0.5


def test_auc_counts_a_tie_as_half_a_win() -> None:
    assert weighted_auc(items(0.7), items(0.7, 0.1, 0.9, 0.2)) == (1 + 1 + 0.5) / 4


def test_auc_tie_term_carries_the_pair_weight() -> None:
    # the SPEC prints the tie term without weights; weighted, a heavy tied decoy counts 3 x 0.5
    auc = weighted_auc([ScoredItem(1.0)], [ScoredItem(1.0, weight=3.0), ScoredItem(0.0, weight=1.0)])
    assert auc == (3.0 * 0.5 + 1.0) / 4.0


def test_weight_two_equals_a_duplicated_decoy() -> None:
    weighted = weighted_auc(items(0.6), [ScoredItem(0.9, weight=2.0), ScoredItem(0.3)])
    duplicated = weighted_auc(items(0.6), items(0.9, 0.9, 0.3))
    assert weighted == pytest.approx(duplicated)
    assert weighted == pytest.approx(1 / 3)


def test_zero_weight_decoy_is_ignored() -> None:
    assert weighted_auc(items(0.6), [ScoredItem(0.9, weight=0.0), ScoredItem(0.3)]) == 1.0


scored_items = st.builds(
    ScoredItem,
    score=st.one_of(st.sampled_from([0.0, 0.25, 0.5, 1.0, -3.0]), st.floats(-10, 10, allow_nan=False)),
    weight=st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5]), st.floats(0, 10, allow_nan=False)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(scored_items, min_size=1, max_size=8), st.lists(scored_items, min_size=1, max_size=12))
def test_weighted_auc_matches_naive_double_loop(pos: list[ScoredItem], neg: list[ScoredItem]) -> None:
    assume(sum(p.weight for p in pos) * sum(n.weight for n in neg) > 1e-6)
    assert weighted_auc(pos, neg) == pytest.approx(naive_auc(pos, neg), rel=1e-9, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=6), st.lists(st.integers(0, 5), min_size=1, max_size=10))
def test_unweighted_auc_is_exactly_u_over_pairs(pos: list[int], neg: list[int]) -> None:
    doubled_u = sum(2 * (p > n) + (p == n) for p in pos for n in neg)
    assert weighted_auc(items(*pos), items(*neg)) == doubled_u / (2 * len(pos) * len(neg))


def test_auc_counts_float_noise_as_a_tie() -> None:
    # QED of one molecule from two atom orders can differ in the last bit; that is not a win
    qed = 0.5503793836935493
    assert weighted_auc(items(qed), items(math.nextafter(qed, 0.0), 0.1)) == (0.5 + 1) / 2
    assert weighted_auc(items(1e6), items(1e6 * (1 - 5e-10))) == 0.5  # relative for large scores
    assert weighted_auc(items(1e-12), items(0.0)) == 0.5  # absolute below 1


def test_auc_separates_scores_just_beyond_the_tie_tolerance() -> None:
    assert weighted_auc(items(0.5 + 2e-9), items(0.5)) == 1.0
    assert weighted_auc(items(1e6), items(1e6 * (1 - 2e-9))) == 1.0


def test_permutation_quantile_sees_noise_ties_as_ties() -> None:
    noisy = [0.3, 0.3 + 1e-15, 0.3 - 1e-15]
    assert permutation_auc_quantile(noisy, [1.0] * 3, 1, 0.95, seed=0) == 0.5


def test_original_beating_uneven_weights_gets_exactly_one() -> None:
    decoys = [ScoredItem(0.1 * i, weight=w) for i, w in enumerate([0.1, 0.2, 0.3, 0.7, 1.3, 0.01, 0.1])]
    assert weighted_auc([ScoredItem(5.0, weight=0.3)], decoys) == 1.0


@pytest.mark.parametrize(
    ("pos", "neg", "message"),
    [
        ([], items(0.1), "both sides"),
        (items(0.1), [], "both sides"),
        (items(math.nan), items(0.1), "score must be finite"),
        (items(0.5), items(math.inf), "score must be finite"),
        ([ScoredItem(0.5, weight=-1.0)], items(0.1), "weight must be finite and >= 0"),
        (items(0.5), [ScoredItem(0.1, weight=math.nan)], "weight must be finite and >= 0"),
        (items(0.5), [ScoredItem(0.1, weight=math.inf)], "weight must be finite and >= 0"),
        ([ScoredItem(0.5, weight=0.0)], items(0.1), "all weights of one side are zero"),
        (items(0.5), [ScoredItem(0.1, weight=0.0), ScoredItem(0.2, weight=0.0)], "all weights of one side are zero"),
    ],
)
def test_weighted_auc_rejects_bad_input(pos: list[ScoredItem], neg: list[ScoredItem], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        weighted_auc(pos, neg)


# --- permutation quantile -------------------------------------------------------------------


def brute_permutation_quantile(scores: list[float], weights: list[float], n_pos: int, q: float) -> float:
    values = []
    everything = [ScoredItem(s, w) for s, w in zip(scores, weights, strict=True)]
    for chosen in combinations(range(len(scores)), n_pos):
        pos = [everything[i] for i in chosen]
        neg = [everything[i] for i in range(len(scores)) if i not in chosen]
        if sum(p.weight for p in pos) * sum(n.weight for n in neg) > 0:
            values.append(naive_auc(pos, neg))
    values.sort()
    return values[nearest_rank(len(values), q) - 1]


@pytest.mark.parametrize("q", [0.5, 0.8, 0.95])
def test_permutation_quantile_exact_for_small_sets(q: float) -> None:
    scores = [0.9, 0.4, 0.4, 0.7, 0.1, 0.4, 0.55]
    weights = [1.0, 2.0, 0.5, 1.0, 1.5, 1.0, 0.25]
    for n_pos in (1, 2, 3):
        expected = brute_permutation_quantile(scores, weights, n_pos, q)
        assert permutation_auc_quantile(scores, weights, n_pos, q, seed=0) == pytest.approx(expected), n_pos


def test_permutation_quantile_single_positive_is_exact_beyond_ten_items() -> None:
    scores = [0.3, 0.8, 0.8, 0.1, 0.5, 0.5, 0.5, 0.9, 0.2, 0.7, 0.6, 0.05, 0.8, 0.4]
    weights = [1.0, 0.5, 2.0, 1.0, 1.0, 3.0, 0.0, 1.0, 1.0, 0.1, 1.0, 1.0, 1.0, 2.5]
    for q in (0.5, 0.9, 0.95):
        expected = brute_permutation_quantile(scores, weights, 1, q)
        assert permutation_auc_quantile(scores, weights, 1, q, seed=0) == pytest.approx(expected), q


def test_permutation_quantile_equals_null_quantile_for_distinct_unit_weight_scores() -> None:
    scores = [0.05 * i for i in range(21)]
    value = permutation_auc_quantile(scores, [1.0] * 21, 1, 0.95, seed=0)
    assert value == null_auc_quantile(1, 20, 0.95)


def test_permutation_quantile_leaves_out_arrangements_without_weight() -> None:
    # the zero-weight item as positive has no AUC; the others give 1.0 and 0.0
    assert permutation_auc_quantile([3.0, 2.0, 1.0], [1.0, 1.0, 0.0], 1, 0.5, seed=0) == 0.0
    assert permutation_auc_quantile([3.0, 2.0, 1.0], [1.0, 1.0, 0.0], 1, 0.95, seed=0) == 1.0


def test_permutation_quantile_monte_carlo_is_deterministic_and_picks_real_arrangements() -> None:
    scores = [0.9, 0.4, 0.4, 0.7, 0.1, 0.4, 0.55, 0.3, 0.35, 0.8, 0.65]
    weights = [1.0, 2.0, 0.5, 1.0, 1.5, 1.0, 0.25, 1.0, 1.0, 1.0, 3.0]
    first = permutation_auc_quantile(scores, weights, 3, 0.95, seed=7, reps=50)
    assert permutation_auc_quantile(scores, weights, 3, 0.95, seed=7, reps=50) == first
    everything = [ScoredItem(s, w) for s, w in zip(scores, weights, strict=True)]
    possible = [
        naive_auc([everything[i] for i in chosen], [everything[i] for i in range(11) if i not in chosen])
        for chosen in combinations(range(11), 3)
    ]
    assert any(math.isclose(first, value, abs_tol=1e-12) for value in possible)
    for seed in range(5):
        value = permutation_auc_quantile(scores, weights, 3, 0.5, seed=seed, reps=20)
        assert any(math.isclose(value, v, abs_tol=1e-12) for v in possible)


@pytest.mark.parametrize(
    ("data", "n_pos", "q", "reps", "message"),
    [
        (([0.1, 0.2], [1.0]), 1, 0.95, 200, "2 scores but 1 weights"),
        (([0.1, 0.2], [1.0, 1.0]), 0, 0.95, 200, "n_pos"),
        (([0.1, 0.2], [1.0, 1.0]), 2, 0.95, 200, "n_pos"),
        (([0.1, 0.2], [1.0, 1.0]), 1, 1.0, 200, "strictly between 0 and 1"),
        (([0.1, 0.2], [1.0, 1.0]), 1, 0.95, 0, "reps"),
        (([0.1, math.nan], [1.0, 1.0]), 1, 0.95, 200, "score must be finite"),
        (([0.1, 0.2], [1.0, -1.0]), 1, 0.95, 200, "weight must be finite"),
        (([0.1, 0.2, 0.3], [0.0, 0.0, 1.0]), 1, 0.95, 200, "no label arrangement"),
    ],
)
def test_permutation_quantile_rejects_bad_input(
    data: tuple[list[float], list[float]], n_pos: int, q: float, reps: int, message: str
) -> None:
    scores, weights = data
    with pytest.raises(ValueError, match=message):
        permutation_auc_quantile(scores, weights, n_pos, q, seed=0, reps=reps)


# --- audit_molecule -------------------------------------------------------------------------


def test_good_model_passes_with_twenty_decoys() -> None:
    result = audit_molecule(ScoredItem(1.0), items(*[0.0] * 20))
    assert result.verdict == Verdict.PASS
    assert result.auc == 1.0
    assert result.null_q == 0.95
    assert result.gate == 1.0  # 19/20 + 1/20 summed exactly, not 0.9999999999999999
    assert result.slack == 0.0
    assert result.chance_pass == 1 / 21
    assert (result.n_pos, result.n_neg, result.margin) == (1, 20, 0.05)
    assert result.warnings == ()
    assert result.perm_q == pytest.approx(0.475)  # a tied decoy as "positive" beats none, ties 19


def test_constant_model_fails_at_one_half() -> None:
    result = audit_molecule(ScoredItem(0.5), items(*[0.5] * 20))
    assert result.verdict == Verdict.FAIL
    assert result.auc == 0.5
    assert result.slack == -0.5


def test_mock_like_scores_always_pass() -> None:
    # mock mode: original 1.0, decoys int(hash[:12], 16) / (16**12 - 1) in [0, 1)
    decoys = [ScoredItem(int(smiles_hash(s)[:12], 16) / (16**12 - 1)) for s in DECOY_SMILES]
    assert all(d.score < 1.0 for d in decoys)
    assert audit_molecule(ScoredItem(1.0), decoys).verdict == Verdict.PASS


def test_single_decoy_passes_by_chance_half_the_time() -> None:
    result = audit_molecule(ScoredItem(0.9), items(0.2))
    assert result.verdict == Verdict.PASS
    assert result.gate == 1.0
    assert result.chance_pass == 0.5


def test_original_beaten_by_one_decoy_of_twenty_fails() -> None:
    result = audit_molecule(ScoredItem(0.8), items(0.9, *[0.1] * 19))
    assert result.verdict == Verdict.FAIL
    assert result.auc == 0.95
    assert result.slack == pytest.approx(-0.05)


def test_verdict_at_exactly_zero_slack_below_one() -> None:
    # k = 10, q = 0.5: null_q = (ceil(5.5) - 1)/10 = 0.5, gate 0.6; beating 6 of 10 decoys is exactly the gate
    decoys = items(*[0.1] * 6, *[0.9] * 4)
    result = audit_molecule(ScoredItem(0.5), decoys, q=0.5, margin=0.1)
    assert (result.null_q, result.gate, result.auc) == (0.5, 0.6, 0.6)
    assert result.verdict == Verdict.PASS
    lower = audit_molecule(ScoredItem(0.5), items(*[0.1] * 5, *[0.9] * 5), q=0.5, margin=0.1)
    assert lower.verdict == Verdict.FAIL


def test_gate_is_capped_at_one() -> None:
    result = audit_molecule(ScoredItem(1.0), items(0.0, 0.1, 0.2), margin=0.3)
    assert result.gate == 1.0


def test_beating_every_unevenly_weighted_decoy_passes_with_zero_slack() -> None:
    decoys = [ScoredItem(0.0, weight=w) for w in (0.1, 0.2, 0.3, 0.7, 1.3, 0.01, 0.1, 0.1, 0.1, 0.1)]
    result = audit_molecule(ScoredItem(1.0, weight=0.1), decoys)
    assert result.slack == 0.0
    assert result.verdict == Verdict.PASS


@pytest.mark.parametrize(
    ("original", "decoys", "n_pos", "n_neg"),
    [
        (ScoredItem(1.0), [None, None, None], 1, 0),
        (ScoredItem(1.0), [], 1, 0),
        (None, items(0.1, 0.2), 0, 2),
        (None, [None], 0, 0),
    ],
)
def test_skip_when_nothing_can_be_compared(
    original: ScoredItem | None, decoys: list[ScoredItem | None], n_pos: int, n_neg: int
) -> None:
    result = audit_molecule(original, decoys)
    no_statistics = dict.fromkeys(("auc", "null_q", "perm_q", "gate", "slack", "chance_pass"))
    expected = AuditResult(verdict=Verdict.SKIP, margin=0.05, n_pos=n_pos, n_neg=n_neg, warnings=(), **no_statistics)
    assert result == expected


def test_missing_decoy_scores_shrink_k() -> None:
    result = audit_molecule(ScoredItem(1.0), [ScoredItem(0.2), None, ScoredItem(0.3), None])
    assert result.n_neg == 2
    assert result.null_q == null_auc_quantile(1, 2)
    assert result.chance_pass == pytest.approx(1 / 3)
    assert result.verdict == Verdict.PASS


def test_weights_raise_the_unweighted_null_warning() -> None:
    weighted = audit_molecule(ScoredItem(1.0), [ScoredItem(0.2, weight=2.0), ScoredItem(0.3)])
    assert weighted.warnings == (Warning_.WEIGHTS_UNWEIGHTED_NULL.value,)
    assert weighted.warnings == ("weights_used_in_auc_but_null_q_is_unweighted",)
    weighted_original = audit_molecule(ScoredItem(1.0, weight=0.5), items(0.2, 0.3))
    assert weighted_original.warnings == (Warning_.WEIGHTS_UNWEIGHTED_NULL.value,)
    unit = audit_molecule(ScoredItem(1.0), items(0.2, 0.3))
    assert unit.warnings == ()


def test_weighted_audit_uses_weighted_auc_and_unweighted_null() -> None:
    decoys = [ScoredItem(0.9, weight=0.5), ScoredItem(0.1, weight=3.5)]
    result = audit_molecule(ScoredItem(0.5), decoys)
    assert result.auc == pytest.approx(3.5 / 4.0)
    assert result.null_q == null_auc_quantile(1, 2)


def test_audit_is_deterministic() -> None:
    decoys = [ScoredItem(0.1 * i, weight=1.0 + i % 3) for i in range(15)]
    assert audit_molecule(ScoredItem(0.77), decoys, seed=3) == audit_molecule(ScoredItem(0.77), decoys, seed=3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"q": 0.0}, "strictly between 0 and 1"),
        ({"q": 1.0}, "strictly between 0 and 1"),
        ({"margin": -0.01}, "margin"),
        ({"margin": math.nan}, "margin"),
        ({"margin": math.inf}, "margin"),
    ],
)
def test_audit_rejects_bad_parameters_even_when_it_would_skip(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        audit_molecule(ScoredItem(1.0), items(0.1), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        audit_molecule(None, [None], **kwargs)  # type: ignore[arg-type]


def test_audit_rejects_bad_scores() -> None:
    with pytest.raises(ValueError, match="score must be finite"):
        audit_molecule(ScoredItem(math.nan), items(0.1))
    with pytest.raises(ValueError, match="all weights of one side are zero"):
        audit_molecule(ScoredItem(1.0, weight=0.0), items(0.1))

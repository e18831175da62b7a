"""Dataset statistics: nearest-rank quantiles, PASS-rate significance, decoy realism, accumulators, separation."""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction
from itertools import product
from typing import Any

import pytest

from hetero_core.audit import DatasetAccumulator, RealismAccumulator, audit_molecule, separation
from hetero_core.audit._dataset import (
    BIN_NAMES,
    HARD_MAX,
    HARD_MIN,
    INTERPRETATIONS,
    cluster_bootstrap_interval,
    nearest_rank_quantile,
    pass_rate_lower_tail,
    pass_rate_significance,
    realism_metrics,
    significance_block,
)
from hetero_core.audit._molecule import ScoredItem
from hetero_core.config import RunConfig
from hetero_core.reasons import SkipReason, Status, Verdict

# --- nearest-rank quantile ------------------------------------------------------------------


def test_nearest_rank_quantile_returns_observed_values() -> None:
    assert nearest_rank_quantile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert nearest_rank_quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0  # no interpolation to 2.5
    assert nearest_rank_quantile([1.0, 2.0, 3.0, 4.0], 0.25) == 1.0
    assert nearest_rank_quantile([1.0, 2.0, 3.0, 4.0], 0.75) == 3.0
    assert nearest_rank_quantile([4.0, 1.0, 3.0, 2.0], 0.0) == 1.0
    assert nearest_rank_quantile([4.0, 1.0, 3.0, 2.0], 1.0) == 4.0
    assert nearest_rank_quantile([-0.5], 0.95) == -0.5


def test_nearest_rank_quantile_of_nothing_is_none() -> None:
    assert nearest_rank_quantile([], 0.5) is None


def test_nearest_rank_quantile_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="NaN"):
        nearest_rank_quantile([1.0, math.nan], 0.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        nearest_rank_quantile([1.0], 1.5)


# --- PASS-rate significance -----------------------------------------------------------------


def brute_tail(probs: list[float], n_pass: int) -> float:
    total = 0.0
    for outcome in product((0, 1), repeat=len(probs)):
        if sum(outcome) >= n_pass:
            total += math.prod(p if hit else 1.0 - p for p, hit in zip(probs, outcome, strict=True))
    return total


def exact_binomial_tail(n: int, p: Fraction, n_pass: int) -> Fraction:
    a, b = p.numerator, p.denominator - p.numerator
    return Fraction(sum(math.comb(n, j) * a**j * b ** (n - j) for j in range(n_pass, n + 1)), p.denominator**n)


@pytest.mark.parametrize("seed", range(6))
def test_poisson_binomial_tail_matches_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    probs = [rng.choice([0.0, 1.0, 1 / 21, 0.5, rng.random(), rng.random()]) for _ in range(rng.randint(1, 9))]
    for n_pass in range(len(probs) + 2):
        assert pass_rate_significance(probs, n_pass) == pytest.approx(brute_tail(probs, n_pass), rel=1e-9, abs=1e-15)


def test_poisson_binomial_with_equal_probabilities_is_the_binomial() -> None:
    p = Fraction(1, 8)  # exact in binary, so the float and the fraction are the same number
    for n_pass in (0, 1, 5, 10, 20, 30, 40):
        expected = float(exact_binomial_tail(40, p, n_pass))
        assert pass_rate_significance([float(p)] * 40, n_pass) == pytest.approx(expected, rel=1e-9), n_pass


def test_poisson_binomial_far_tail_at_a_thousand_molecules() -> None:
    p = Fraction(1, 8)
    for n_pass in (130, 150, 200, 250, 300):
        expected = float(exact_binomial_tail(1000, p, n_pass))
        got = pass_rate_significance([float(p)] * 1000, n_pass)
        assert got == pytest.approx(expected, rel=1e-8, abs=1e-25), n_pass


def test_poisson_binomial_mixed_groups_match_a_plain_dynamic_programme() -> None:
    probs = [1 / 21] * 300 + [0.5] * 10 + [0.9] + [1 / 3] * 40 + [0.0] * 5 + [1.0] * 3
    pmf = [1.0]
    for p in probs:
        pmf = [a * (1 - p) + b * p for a, b in zip([*pmf, 0.0], [0.0, *pmf], strict=True)]
    for n_pass in (0, 3, 10, 20, 30, 40, 60, 100):
        assert pass_rate_significance(probs, n_pass) == pytest.approx(sum(pmf[n_pass:]), rel=1e-9, abs=1e-20)


def test_poisson_binomial_does_not_depend_on_input_order() -> None:
    probs = [0.1, 0.5, 0.1, 1 / 21, 0.3, 0.5, 0.1]
    assert pass_rate_significance(probs, 3) == pass_rate_significance(sorted(probs, reverse=True), 3)


def test_poisson_binomial_edges() -> None:
    assert pass_rate_significance([], 0) == 1.0
    assert pass_rate_significance([], 1) == 0.0
    assert pass_rate_significance([0.2, 0.3], 0) == 1.0
    assert pass_rate_significance([0.2, 0.3], 3) == 0.0
    assert pass_rate_significance([1.0, 1.0], 2) == 1.0
    assert pass_rate_significance([0.0, 0.0], 1) == 0.0
    # twenty decoys each, every molecule PASSes: (1/21)^100 is far below anything reportable
    assert pass_rate_significance([1 / 21] * 100, 100) == pytest.approx(0.0, abs=1e-25)


@pytest.mark.parametrize(("probs", "n_pass"), [([0.5, 1.5], 1), ([0.5, -0.1], 1), ([math.nan], 0), ([0.5], -1)])
def test_poisson_binomial_rejects_bad_input(probs: list[float], n_pass: int) -> None:
    with pytest.raises(ValueError, match="must"):
        pass_rate_significance(probs, n_pass)


def brute_lower_tail(probs: list[float], n_pass: int) -> float:
    total = 0.0
    for outcome in product((0, 1), repeat=len(probs)):
        if sum(outcome) <= n_pass:
            total += math.prod(p if hit else 1.0 - p for p, hit in zip(probs, outcome, strict=True))
    return total


@pytest.mark.parametrize("seed", range(6))
def test_lower_tail_matches_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    probs = [rng.choice([0.0, 1.0, 1 / 21, 0.5, rng.random(), rng.random()]) for _ in range(rng.randint(1, 9))]
    for n_pass in range(len(probs) + 2):
        got = pass_rate_lower_tail(probs, n_pass)
        assert got == pytest.approx(brute_lower_tail(probs, n_pass), rel=1e-9, abs=1e-15)


def test_lower_tail_of_qed_on_drugs_like_numbers() -> None:
    # the case: 3 of 268 PASS at k = 20 (chance 1/21): P(X <= 3) = 0.001 (binomial, exact here)
    p = Fraction(1, 21)
    exact = sum(math.comb(268, j) * p**j * (1 - p) ** (268 - j) for j in range(4))
    assert pass_rate_lower_tail([1 / 21] * 268, 3) == pytest.approx(float(exact), rel=1e-9)
    assert round(float(exact), 3) == 0.001


def test_significance_block_names_the_side_that_is_small() -> None:
    chance = [1 / 21] * 268
    below = significance_block(chance, 3)
    assert below["finding"] == "below_chance"
    assert below["p_worse_than_chance"] < 0.05 < below["p_better_than_chance"]
    above = significance_block(chance, 30)
    assert above["finding"] == "above_chance"
    assert above["p_better_than_chance"] < 0.05 < above["p_worse_than_chance"]
    assert significance_block(chance, 13)["finding"] == "consistent_with_chance"
    assert below["expected_pass"] == pytest.approx(268 / 21)


def test_lower_tail_edges() -> None:
    assert pass_rate_lower_tail([], 0) == 1.0
    assert pass_rate_lower_tail([0.2, 0.3], 2) == 1.0
    assert pass_rate_lower_tail([1.0, 1.0], 1) == 0.0
    assert pass_rate_lower_tail([0.0, 0.0], 0) == 1.0
    assert pass_rate_lower_tail([1 / 21] * 100, 0) == pytest.approx((20 / 21) ** 100, rel=1e-9)
    with pytest.raises(ValueError, match="must"):
        pass_rate_lower_tail([0.5], -1)


# --- decoy realism --------------------------------------------------------------------------


def pairs(n: int, similarity: float, wins: int, ties: int = 0) -> list[tuple[float, float, float]]:
    """n pairs at one similarity: the original wins ``wins`` of them, ties ``ties``, loses the rest."""
    out = [(1.0, 0.0, similarity)] * wins + [(0.5, 0.5, similarity)] * ties
    return out + [(0.0, 1.0, similarity)] * (n - wins - ties)


def test_signal_on_hard_decoys() -> None:
    result = realism_metrics(pairs(60, 0.8, wins=50) + pairs(20, 0.3, wins=20))
    assert result["interpretation"] == "HARD_PAIR_AUC_ABOVE_THRESHOLD"
    hard = result["bins"]["hard"]
    assert (hard["range"], hard["n_pairs"], hard["auc"], hard["n_molecules"]) == ([0.65, 0.95], 60, 50 / 60, 60)
    low, high = hard["auc_ci95"]
    assert 0.55 < low < 50 / 60 < high <= 1.0
    assert result["bins"]["easy"]["auc"] == 1.0
    assert result["bins"]["medium"] == {"range": [0.5, 0.65], "n_pairs": 0, "auc": None}
    assert result["bins"]["near_identical"] == {"range": [0.95, 1.0], "n_pairs": 0, "auc": None}
    assert result["easy_only"] is False
    assert result["n_pairs"] == 80
    assert result["auc"] == 70 / 80


def test_illusion_when_only_easy_decoys_are_beaten() -> None:
    result = realism_metrics(pairs(60, 0.8, wins=30) + pairs(40, 0.3, wins=40))
    assert result["interpretation"] == "HARD_PAIR_AUC_NOT_ABOVE_THRESHOLD"
    assert result["easy_only"] is True
    assert result["median_similarity"] == 0.8


def test_illusion_without_an_easy_bin_edge() -> None:
    result = realism_metrics(pairs(60, 0.8, wins=30) + pairs(40, 0.3, wins=28))
    assert result["interpretation"] == "HARD_PAIR_AUC_NOT_ABOVE_THRESHOLD"
    assert result["bins"]["easy"]["auc"] == 0.7  # not > 0.70
    assert result["easy_only"] is False


def test_hard_auc_of_exactly_055_is_not_a_signal() -> None:
    result = realism_metrics(pairs(60, 0.9, wins=33))
    assert result["bins"]["hard"]["auc"] == 0.55
    assert result["interpretation"] == "HARD_PAIR_AUC_NOT_ABOVE_THRESHOLD"


def test_inconclusive_comes_first_when_decoys_are_too_dissimilar() -> None:
    # a real signal on 60 hard pairs, but most decoys are easy: the median rule wins (documented order)
    result = realism_metrics(pairs(60, 0.8, wins=60) + pairs(100, 0.3, wins=100))
    assert result["interpretation"] == "DECOYS_TOO_EASY_TO_JUDGE"
    assert result["easy_only"] is False


def test_inconclusive_with_too_few_hard_pairs() -> None:
    assert realism_metrics(pairs(49, 0.9, wins=49))["interpretation"] == "DECOYS_TOO_EASY_TO_JUDGE"
    assert realism_metrics(pairs(50, 0.9, wins=50))["interpretation"] == "HARD_PAIR_AUC_ABOVE_THRESHOLD"


def test_median_similarity_rule_is_exact_at_055() -> None:
    at_limit = realism_metrics(pairs(50, 0.55, wins=50) + pairs(50, 0.9, wins=50))
    assert at_limit["median_similarity"] == 0.55
    assert at_limit["interpretation"] == "HARD_PAIR_AUC_ABOVE_THRESHOLD"
    just_below = realism_metrics(pairs(51, 0.54999999, wins=51) + pairs(50, 0.9, wins=50))
    assert just_below["interpretation"] == "DECOYS_TOO_EASY_TO_JUDGE"


def test_ties_count_half_in_realism_auc() -> None:
    result = realism_metrics(pairs(4, 0.6, wins=1, ties=2))
    assert result["bins"]["medium"]["auc"] == 0.5


def test_bin_boundaries_are_hard_modes_window() -> None:
    similarities = (0.4999, 0.5, 0.6499, 0.65, 0.95, 0.9501, 1.0)
    result = realism_metrics([(1.0, 0.0, s) for s in similarities])
    assert [result["bins"][name]["n_pairs"] for name in BIN_NAMES] == [1, 2, 2, 2]


def test_hard_is_defined_once_as_run_configs_hard_mode_window() -> None:
    config = RunConfig()
    assert (config.hard_min_similarity, config.hard_max_similarity) == (HARD_MIN, HARD_MAX)
    custom = realism_metrics([(1.0, 0.0, 0.72), (1.0, 0.0, 0.86)], hard_min=0.75, hard_max=0.85)
    assert [custom["bins"][name]["n_pairs"] for name in BIN_NAMES] == [0, 1, 0, 1]
    assert custom["bins"]["hard"]["range"] == [0.75, 0.85]


def test_hard_auc_whose_interval_straddles_the_threshold_is_uncertain() -> None:
    # five molecules with twenty hard pairs each: three beat all their decoys, two lose to all of them.
    # Pooled AUC 0.6 > 0.55, but resampling molecules moves it anywhere from 0.2 to 1.
    accumulator = RealismAccumulator(seed=3)
    for wins in (20, 20, 20, 0, 0):
        accumulator.add_molecule(pairs(20, 0.8, wins=wins))
    result = accumulator.result()
    assert result["bins"]["hard"]["auc"] == 0.6
    low, high = result["bins"]["hard"]["auc_ci95"]
    assert low < 0.55 < high
    assert result["interpretation"] == "HARD_PAIR_AUC_UNCERTAIN"
    assert result["bins"]["hard"]["n_molecules"] == 5


def test_cluster_bootstrap_is_seeded_and_resamples_whole_molecules() -> None:
    won, sizes = [40, 0, 30, 10, 20], [20, 20, 20, 20, 20]
    first = cluster_bootstrap_interval(won, sizes, seed=7)
    assert first == cluster_bootstrap_interval(won, sizes, seed=7)
    assert first is not None
    assert 0.0 <= first[0] < 0.5 < first[1] <= 1.0
    # identical molecules: no spread whatever is resampled
    assert cluster_bootstrap_interval([30, 30, 30], [20, 20, 20], seed=0) == (0.75, 0.75)
    assert cluster_bootstrap_interval([30], [20], seed=0) is None  # one molecule has nothing to resample
    varied = ([(7 * i) % 41 for i in range(60)], [20 + i % 7 for i in range(60)])
    assert cluster_bootstrap_interval(*varied, seed=1) != cluster_bootstrap_interval(*varied, seed=2)
    with pytest.raises(ValueError, match="one entry per molecule"):
        cluster_bootstrap_interval([1, 2], [3], seed=0)


def test_no_realism_label_speaks_of_success() -> None:
    assert all("SUCCESS" not in label and "CONFIRMED" not in label for label in INTERPRETATIONS)


def test_similarity_histogram_has_twenty_fixed_bins() -> None:
    result = realism_metrics([(1.0, 0.0, s) for s in (0.0, 0.05, 0.29, 0.3, 0.57, 0.6, 0.999, 1.0)])
    histogram = result["similarity_histogram"]
    assert histogram["bin_edges"] == [i / 20 for i in range(21)]
    assert len(histogram["counts"]) == 20
    assert histogram["counts"][0] == 1
    assert histogram["counts"][1] == 1  # 0.05 opens the second bin
    assert histogram["counts"][5] == 1  # 0.29
    assert histogram["counts"][6] == 1  # 0.3 opens the seventh
    assert histogram["counts"][11] == 1  # 0.57
    assert histogram["counts"][12] == 1  # 0.6
    assert histogram["counts"][19] == 2  # 1.0 closes the last bin
    assert sum(histogram["counts"]) == 8


def test_median_similarity_is_truncated_to_four_decimals() -> None:
    assert realism_metrics([(1.0, 0.0, 0.123456)])["median_similarity"] == 0.1234
    # 0.57 * 10_000 is 5699.999999999999 in floating point; truncation must still give 0.57
    assert realism_metrics([(1.0, 0.0, 0.57)])["median_similarity"] == 0.57
    assert realism_metrics([(1.0, 0.0, 0.69)])["median_similarity"] == 0.69


def test_realism_of_nothing_is_inconclusive_and_json_safe() -> None:
    result = realism_metrics([])
    assert result["n_pairs"] == 0
    assert result["auc"] is None
    assert result["median_similarity"] is None
    assert result["interpretation"] == "DECOYS_TOO_EASY_TO_JUDGE"
    json.dumps(result, allow_nan=False)


def test_realism_streams_from_a_generator_like_the_accumulator() -> None:
    triples = pairs(60, 0.8, wins=45) + pairs(30, 0.6, wins=10, ties=5)
    accumulator = RealismAccumulator()
    for triple in triples:
        accumulator.add(*triple)
    assert realism_metrics(t for t in triples) == accumulator.result()


@pytest.mark.parametrize(
    ("triple", "message"),
    [
        ((1.0, 0.0, 1.2), "similarity"),
        ((1.0, 0.0, -0.1), "similarity"),
        ((1.0, 0.0, math.nan), "similarity"),
        ((math.nan, 0.0, 0.5), "finite"),
        ((1.0, math.inf, 0.5), "finite"),
    ],
)
def test_realism_rejects_bad_pairs(triple: tuple[float, float, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RealismAccumulator().add(*triple)


# --- dataset accumulator --------------------------------------------------------------------


def test_empty_dataset_is_json_safe() -> None:
    result = DatasetAccumulator(k=20).result()
    json.dumps(result, allow_nan=False)
    assert result["counts"] == {"OK": 0, "SKIP": 0, "ERROR": 0, "total": 0}
    assert result["top_reasons"] == []
    assert result["verdicts"] == {"PASS": 0, "FAIL": 0, "SKIP": 0}
    assert result["pass_rate"] is None
    assert set(result["slack"].values()) == {None}
    assert result["expected_pass_rate_by_chance"] is None
    assert result["pass_rate_p_value"] is None
    assert result["decoys"]["mean_per_molecule"] is None
    assert result["decoys"]["share_reaching_k"] is None


def test_all_skip_rows_are_json_safe() -> None:
    accumulator = DatasetAccumulator(k=20)
    accumulator.add(Status.SKIP, SkipReason.INVALID_SMILES)
    accumulator.add("SKIP", "invalid_smiles")
    accumulator.add(Status.SKIP, SkipReason.NO_DECOYS_GENERATED, verdict=Verdict.SKIP, n_decoys=0)
    result = accumulator.result()
    json.dumps(result, allow_nan=False)
    assert result["counts"] == {"OK": 0, "SKIP": 3, "ERROR": 0, "total": 3}
    assert result["verdicts"] == {"PASS": 0, "FAIL": 0, "SKIP": 3}
    assert result["pass_rate"] is None
    assert result["decoys"] == {
        "k": 20,
        "molecules": 1,
        "total": 0,
        "mean_per_molecule": 0.0,
        "share_reaching_k": 0.0,
        "scored": 0,
    }


def fill(accumulator: DatasetAccumulator) -> None:
    accumulator.add("OK", verdict="PASS", slack=0.0, chance_pass=1 / 21, n_decoys=20, n_decoys_scored=20)
    accumulator.add("OK", verdict="PASS", slack=0.02, chance_pass=0.1, n_decoys=12, n_decoys_scored=12)
    accumulator.add("OK", verdict="FAIL", slack=-0.5, chance_pass=1 / 21, n_decoys=20, n_decoys_scored=18)
    accumulator.add("OK", verdict="FAIL", slack=-0.25, chance_pass=0.5, n_decoys=1, n_decoys_scored=1)
    accumulator.add("SKIP", "missing_scores_for_all_decoys", verdict="SKIP", n_decoys=20, n_decoys_scored=0)
    accumulator.add("SKIP", "invalid_smiles")
    accumulator.add("SKIP", "duplicate_id")
    accumulator.add("SKIP", "duplicate_id")
    accumulator.add("ERROR", "timeout", n_decoys=3)


def test_dataset_accumulator_totals() -> None:
    accumulator = DatasetAccumulator(k=20)
    fill(accumulator)
    result = accumulator.result()
    json.dumps(result, allow_nan=False)
    assert result["counts"] == {"OK": 4, "SKIP": 4, "ERROR": 1, "total": 9}
    assert result["top_reasons"] == [
        {"reason": "duplicate_id", "count": 2},
        {"reason": "invalid_smiles", "count": 1},
        {"reason": "missing_scores_for_all_decoys", "count": 1},
        {"reason": "timeout", "count": 1},
    ]
    assert result["verdicts"] == {"PASS": 2, "FAIL": 2, "SKIP": 5}  # never-judged rows count as SKIP
    assert result["n_judged"] == 4
    assert result["pass_rate"] == 0.5
    assert result["slack"] == {"mean": -0.1825, "median": -0.25, "p25": -0.5, "p75": 0.0, "min": -0.5, "max": 0.02}
    chance = [1 / 21, 0.1, 1 / 21, 0.5]
    assert result["expected_pass_rate_by_chance"] == pytest.approx(sum(chance) / 4)
    assert result["pass_rate_p_value"] == pytest.approx(brute_tail(chance, 2))
    assert result["decoys"] == {
        "k": 20,
        "molecules": 6,
        "total": 76,
        "mean_per_molecule": 76 / 6,
        "share_reaching_k": 3 / 6,
        "scored": 51,
    }


def test_dataset_accumulator_accepts_enums_and_strings_alike() -> None:
    by_enum, by_text = DatasetAccumulator(k=5), DatasetAccumulator(k=5)
    by_enum.add(Status.OK, verdict=Verdict.PASS, slack=0.1, chance_pass=1 / 6, n_decoys=5)
    by_enum.add(Status.SKIP, SkipReason.DISCONNECTED)
    by_text.add("OK", verdict="PASS", slack=0.1, chance_pass=1 / 6, n_decoys=5)
    by_text.add("SKIP", "disconnected")
    assert by_enum.result() == by_text.result()
    json.dumps(by_enum.result(), allow_nan=False)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("MAYBE",), {}, "unknown status"),
        (("SKIP",), {}, "needs a reason"),
        (("ERROR",), {}, "needs a reason"),
        (("OK",), {"verdict": "GOOD"}, "unknown verdict"),
        (("SKIP", "invalid_smiles"), {"verdict": "PASS", "slack": 0.0, "chance_pass": 0.1}, "cannot have verdict"),
        (("OK",), {"verdict": "PASS", "chance_pass": 0.1}, "finite slack"),
        (("OK",), {"verdict": "FAIL", "slack": math.nan, "chance_pass": 0.1}, "finite slack"),
        (("OK",), {"verdict": "FAIL", "slack": math.inf, "chance_pass": 0.1}, "finite slack"),
        (("OK",), {"verdict": "PASS", "slack": 0.0}, "chance_pass in"),
        (("OK",), {"verdict": "PASS", "slack": 0.0, "chance_pass": 1.5}, "chance_pass in"),
        (("OK",), {"verdict": "SKIP", "slack": 0.0}, "PASS/FAIL rows only"),
        (("OK",), {"chance_pass": 0.2}, "PASS/FAIL rows only"),
        (("OK",), {"n_decoys": -1}, "n_decoys must be"),
        (("OK",), {"n_decoys": 3, "n_decoys_scored": 4}, "n_decoys_scored"),
        (("OK",), {"n_decoys_scored": 1}, "n_decoys_scored"),
    ],
)
def test_dataset_accumulator_rejects_inconsistent_rows(
    args: tuple[str, ...], kwargs: dict[str, Any], message: str
) -> None:
    accumulator = DatasetAccumulator(k=20)
    with pytest.raises(ValueError, match=message):
        accumulator.add(*args, **kwargs)
    assert accumulator.result()["counts"]["total"] == 0  # a rejected row leaves no trace


def test_dataset_accumulator_needs_a_positive_k() -> None:
    with pytest.raises(ValueError, match="k"):
        DatasetAccumulator(k=0)


# --- separation -----------------------------------------------------------------------------


def run(original: float, decoy: float, molecules: int = 5, k: int = 20) -> dict[str, Any]:
    accumulator = DatasetAccumulator(k=k)
    for _ in range(molecules):
        result = audit_molecule(ScoredItem(original), [ScoredItem(decoy)] * k)
        accumulator.add("OK", verdict=result.verdict, slack=result.slack, chance_pass=result.chance_pass, n_decoys=k)
    return accumulator.result()


def test_separation_reproduces_the_seed_good_versus_constant_numbers() -> None:
    good, constant = run(1.0, 0.0), run(0.5, 0.5)
    assert separation(good, constant) == {"delta_median_slack": 0.5, "delta_pass_rate": 1.0}
    assert good["pass_rate_p_value"] == pytest.approx((1 / 21) ** 5)
    assert constant["pass_rate_p_value"] == 1.0


def test_separation_is_none_where_a_side_has_no_judged_rows() -> None:
    empty = DatasetAccumulator(k=20).result()
    assert separation(run(1.0, 0.0), empty) == {"delta_median_slack": None, "delta_pass_rate": None}
    assert separation(empty, run(1.0, 0.0)) == {"delta_median_slack": None, "delta_pass_rate": None}

"""Dataset-level statistics for ``metrics.json`` (SPEC §5): PASS-rate and its significance, slack, decoy realism.

A PASS-rate means nothing on its own: with few decoys a model with no signal PASSes often. So the
PASS-rate is reported next to the rate expected by chance and the exact probability of reaching it
by chance, and the realism block says whether the decoys were hard enough to tell anything at all.
Everything here accumulates row by row (1M rows must stream) and returns JSON-safe values: never
NaN or infinity, None where a statistic does not exist.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from hetero_core.audit._null import nearest_rank
from hetero_core.audit._ties import scores_tie
from hetero_core.reasons import Status, Verdict

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "DatasetAccumulator",
    "RealismAccumulator",
    "cluster_bootstrap_interval",
    "nearest_rank_quantile",
    "pass_rate_lower_tail",
    "pass_rate_significance",
    "realism_metrics",
    "separation",
    "significance_block",
]

FloatArray = npt.NDArray[np.float64]


def nearest_rank_quantile(values: Sequence[float], p: float) -> float | None:
    """The smallest value whose cumulative share is >= p (no interpolation: always an observed value)."""
    if not values:
        return None
    if any(math.isnan(v) for v in values):
        raise ValueError("cannot take a quantile of NaN")
    ordered = sorted(values)
    return float(ordered[nearest_rank(len(ordered), p) - 1])


# --- PASS-rate significance -------------------------------------------------------------------

# Probability mass below this is cut from both ends of the running distribution. Each cut loses at
# most (its length) * 1e-40, so even at 1M molecules the tail is exact to an absolute 1e-25; the cut
# keeps the work proportional to the distribution's width (about 27 standard deviations) rather
# than to the number of molecules.
_NEGLIGIBLE_MASS = 1e-40


def _binomial_pmf(count: int, p: float) -> tuple[FloatArray, int]:
    """Binomial(count, p) pmf in log space (no overflow of C(n, k) at 1M), with its offset after trimming."""
    if p == 0.0:
        return np.ones(1), 0
    if p == 1.0:
        return np.ones(1), count
    log_factorials = np.array([math.lgamma(j + 1) for j in range(count + 1)])
    k = np.arange(count + 1)
    log_pmf = (
        log_factorials[count] - log_factorials - log_factorials[::-1] + k * math.log(p) + (count - k) * math.log1p(-p)
    )
    return _trim(np.exp(log_pmf), 0)


def _trim(pmf: FloatArray, offset: int) -> tuple[FloatArray, int]:
    """Drop the negligible ends; a Poisson-binomial is unimodal, so small mass only sits at the ends."""
    kept = np.flatnonzero(pmf >= _NEGLIGIBLE_MASS)
    if len(kept) == 0:  # pragma: no cover - a pmf always has an entry >= 1/len
        return pmf, offset
    return pmf[kept[0] : kept[-1] + 1], offset + int(kept[0])


def _check_chance(chance_probs: Sequence[float], n_pass: int) -> None:
    if n_pass < 0:
        raise ValueError(f"n_pass must be >= 0, got {n_pass}")
    for p in chance_probs:
        if not 0.0 <= p <= 1.0:  # also rejects NaN
            raise ValueError(f"a chance probability must lie in [0, 1], got {p!r}")


def _tails(chance_probs: Sequence[float], n_pass: int) -> tuple[float, float]:
    """(P(X >= n_pass), P(X <= n_pass)) for X the number of chance PASSes, from one Poisson-binomial pmf."""
    pmf, offset = np.ones(1), 0
    for p, count in sorted(Counter(chance_probs).items()):
        group, group_offset = _binomial_pmf(count, p)
        pmf, offset = _trim(np.convolve(pmf, group), offset + group_offset)
    # below: P(X < n_pass); at: P(X == n_pass); above: P(X > n_pass)
    i = n_pass - offset
    below = float(pmf[: max(i, 0)].sum())
    at = float(pmf[i]) if 0 <= i < len(pmf) else 0.0
    above = float(pmf[max(i + 1, 0) :].sum())
    # Sum whichever side is smaller: 1 - (tiny other side) is exact where the direct sum would round.
    upper = at + above if at + above <= below else 1.0 - below
    lower = below + at if below + at <= above else 1.0 - above
    return min(1.0, max(0.0, upper)), min(1.0, max(0.0, lower))


def pass_rate_significance(chance_probs: Sequence[float], n_pass: int) -> float:
    """P(X >= n_pass), X the number of chance PASSes: the exact Poisson-binomial upper tail.

    Molecules that share a chance probability (the usual case: it depends only on the number of
    scored decoys) form one binomial, and the binomials are convolved. Cost: with d distinct
    probabilities and W the width of the result (about 27 standard deviations, at most n + 1) it
    is O(n + d * W * w) for group widths w: well under a second for a few dozen distinct
    probabilities at 1M molecules. The worst case, n distinct probabilities, is the O(n * W)
    dynamic programme: about two seconds at 20k molecules, minutes at 1M. Absolute error below 1e-25.
    """
    _check_chance(chance_probs, n_pass)
    if n_pass == 0:
        return 1.0
    if n_pass > len(chance_probs):
        return 0.0
    return _tails(chance_probs, n_pass)[0]


def pass_rate_lower_tail(chance_probs: Sequence[float], n_pass: int) -> float:
    """P(X <= n_pass): how likely luck alone PASSes this few molecules (``hetero_audit.v3``, "worse than chance").

    A model that prefers the rewired decoys to the real molecules is a finding, not a null result, so the
    lower tail is reported next to the upper one.
    """
    _check_chance(chance_probs, n_pass)
    if n_pass >= len(chance_probs):
        return 1.0
    return _tails(chance_probs, n_pass)[1]


SIGNIFICANCE_ALPHA = 0.05


def significance_block(chance_probs: Sequence[float], n_pass: int, alpha: float = SIGNIFICANCE_ALPHA) -> dict[str, Any]:
    """Both one-sided tails of the PASS count against chance, and which side (if any) is below ``alpha``.

    ``finding``: ``above_chance`` (upper tail < alpha), ``below_chance`` (lower tail < alpha) or
    ``consistent_with_chance``. Each tail is one-sided at ``alpha``; the two cannot both be small.
    """
    upper = pass_rate_significance(chance_probs, n_pass)
    lower = pass_rate_lower_tail(chance_probs, n_pass)
    finding = "above_chance" if upper < alpha else "below_chance" if lower < alpha else "consistent_with_chance"
    return {
        "n_pass": n_pass,
        "expected_pass": math.fsum(chance_probs),
        "p_better_than_chance": upper,
        "p_worse_than_chance": lower,
        "alpha": alpha,
        "finding": finding,
    }


# --- decoy realism ----------------------------------------------------------------------------

EASY_MAX = 0.50
# "Hard" has one definition (SPEC §5, hetero_audit.v3): hard mode's similarity window, RunConfig's defaults.
HARD_MIN = 0.65
HARD_MAX = 0.95
MEDIUM_MAX = HARD_MIN  # kept for callers of hetero_audit.v2's name: medium ends where hard begins
MIN_HARD_PAIRS = 50
HARD_AUC_SIGNAL = 0.55
EASY_AUC_ONLY = 0.70
MEDIAN_SIMILARITY_MIN = 0.55
HISTOGRAM_BINS = 20
BOOTSTRAP_REPS = 1000
BOOTSTRAP_LEVEL = 0.95
# The median similarity is reported truncated to 4 decimals (a 10001-cell count, not every pair);
# the "median < 0.55" rule itself is decided exactly from a separate counter.
_FINE_CELLS = 10_000
_GRID_NUDGE = 1e-9  # 0.57 * 10_000 is 5699.999999999999 in floating point

BIN_NAMES: tuple[str, ...] = ("easy", "medium", "hard", "near_identical")

# Neutral statements of what was measured on the hard pairs (hetero_audit.v3): never "success", since a
# model can win most hard pairs and still PASS no more molecules than chance.
DECOYS_TOO_EASY = "DECOYS_TOO_EASY_TO_JUDGE"
HARD_ABOVE = "HARD_PAIR_AUC_ABOVE_THRESHOLD"
HARD_UNCERTAIN = "HARD_PAIR_AUC_UNCERTAIN"
HARD_NOT_ABOVE = "HARD_PAIR_AUC_NOT_ABOVE_THRESHOLD"
INTERPRETATIONS: tuple[str, ...] = (DECOYS_TOO_EASY, HARD_ABOVE, HARD_UNCERTAIN, HARD_NOT_ABOVE)


def _share_won(wins: int, ties: int, pairs: int) -> float | None:
    return (2 * wins + ties) / (2 * pairs) if pairs else None


def cluster_bootstrap_interval(
    doubled_wins: Sequence[int], pairs: Sequence[int], *, seed: int, reps: int = BOOTSTRAP_REPS
) -> tuple[float, float] | None:
    """95% percentile interval of a pooled pair AUC when whole molecules are resampled (pairs of one molecule
    share its score and are not independent). ``doubled_wins`` is 2·wins + ties per molecule.

    None with fewer than two molecules: one cluster has no spread to resample. Seeded, so a pack is
    reproducible; cost O(reps · molecules).
    """
    if len(doubled_wins) != len(pairs):
        raise ValueError("doubled_wins and pairs must have one entry per molecule")
    m = len(pairs)
    if m < 2 or sum(pairs) == 0:
        return None
    won = np.asarray(doubled_wins, dtype=np.float64)
    size = np.asarray(pairs, dtype=np.float64)
    rng = np.random.default_rng(seed)
    stats = np.empty(reps)
    for r in range(reps):
        counts = np.bincount(rng.integers(0, m, size=m), minlength=m).astype(np.float64)
        total = float(counts @ size)
        stats[r] = float(counts @ won) / (2.0 * total) if total else np.nan
    stats = np.sort(stats[~np.isnan(stats)])
    tail = (1.0 - BOOTSTRAP_LEVEL) / 2.0
    low = float(stats[nearest_rank(len(stats), tail) - 1])
    high = float(stats[nearest_rank(len(stats), 1.0 - tail) - 1])
    return low, high


class RealismAccumulator:
    """Counts of (original, decoy) pairs per similarity bin, kept as integers so 1M rows stream in small memory.

    Bins: easy < 0.50 ≤ medium < hard_min ≤ hard ≤ hard_max < near_identical, with hard mode's window
    (default 0.65–0.95). Per molecule with hard pairs two integers are kept for the cluster bootstrap.

    Interpretation, first rule that applies:
      1. ``DECOYS_TOO_EASY_TO_JUDGE`` when the median similarity is < 0.55 or there are < 50 hard pairs.
      2. ``HARD_PAIR_AUC_ABOVE_THRESHOLD`` when the 95% interval of the hard-bin AUC lies above 0.55.
      3. ``HARD_PAIR_AUC_NOT_ABOVE_THRESHOLD`` when the hard-bin AUC is ≤ 0.55 and its interval does not
         lie above it; ``easy_only`` is then true when the easy-bin AUC is > 0.70.
      4. ``HARD_PAIR_AUC_UNCERTAIN`` otherwise (the interval straddles 0.55, or there is no interval).
    """

    def __init__(self, hard_min: float = HARD_MIN, hard_max: float = HARD_MAX, *, seed: int = 0) -> None:
        if not 0.0 <= hard_min <= hard_max <= 1.0:
            raise ValueError(f"need 0 <= hard_min <= hard_max <= 1, got {hard_min!r}, {hard_max!r}")
        self._easy_max = min(EASY_MAX, hard_min)
        self._hard_min, self._hard_max, self._seed = hard_min, hard_max, seed
        self._pairs = dict.fromkeys(BIN_NAMES, 0)
        self._wins = dict.fromkeys(BIN_NAMES, 0)
        self._ties = dict.fromkeys(BIN_NAMES, 0)
        self._below_median_min = 0
        self._fine: dict[int, int] = {}  # similarity cell -> pairs; sparse (a chunk's state carries a few hundred)
        self._histogram = [0] * HISTOGRAM_BINS
        self._hard_won = array("q")
        self._hard_pairs = array("q")

    def _bin(self, similarity: float) -> str:
        if similarity < self._easy_max:
            return "easy"
        if similarity < self._hard_min:
            return "medium"
        return "hard" if similarity <= self._hard_max else "near_identical"

    def add(self, original: float, decoy: float, similarity: float) -> None:
        """Count one pair as a molecule of its own (for the bootstrap); prefer :meth:`add_molecule`."""
        self.add_molecule([(original, decoy, similarity)])

    def add_molecule(self, pairs: Iterable[tuple[float, float, float]]) -> None:
        """Count the (original score, decoy score, Tanimoto similarity) pairs of one molecule."""
        hard_won = hard_pairs = 0
        for original, decoy, similarity in pairs:
            if not (math.isfinite(original) and math.isfinite(decoy)):
                raise ValueError(f"scores must be finite, got original={original!r}, decoy={decoy!r}")
            if not 0.0 <= similarity <= 1.0:  # also rejects NaN
                raise ValueError(f"a similarity must lie in [0, 1], got {similarity!r}")
            name = self._bin(similarity)
            self._pairs[name] += 1
            doubled = 1 if scores_tie(original, decoy) else 2 if original > decoy else 0
            self._wins[name] += doubled == 2
            self._ties[name] += doubled == 1
            if name == "hard":
                hard_won += doubled
                hard_pairs += 1
            if similarity < MEDIAN_SIMILARITY_MIN:
                self._below_median_min += 1
            cell = min(_FINE_CELLS, math.floor(similarity * _FINE_CELLS + _GRID_NUDGE))
            self._fine[cell] = self._fine.get(cell, 0) + 1
            self._histogram[min(HISTOGRAM_BINS - 1, cell * HISTOGRAM_BINS // _FINE_CELLS)] += 1
        if hard_pairs:
            self._hard_won.append(hard_won)
            self._hard_pairs.append(hard_pairs)

    def state(self) -> dict[str, Any]:
        """Everything :meth:`result` reads, as JSON: a chunk's share, merged exactly by :meth:`absorb`."""
        return {
            "pairs": dict(self._pairs),
            "wins": dict(self._wins),
            "ties": dict(self._ties),
            "below_median_min": self._below_median_min,
            "fine": {str(cell): count for cell, count in sorted(self._fine.items())},
            "histogram": list(self._histogram),
            "hard_won": list(self._hard_won),
            "hard_pairs": list(self._hard_pairs),
        }

    def absorb(self, state: Mapping[str, Any]) -> None:
        """Add a later chunk's :meth:`state` (integers only; the bootstrap's per-molecule lists in row order)."""
        for name in BIN_NAMES:
            self._pairs[name] += int(state["pairs"][name])
            self._wins[name] += int(state["wins"][name])
            self._ties[name] += int(state["ties"][name])
        self._below_median_min += int(state["below_median_min"])
        fine = state["fine"]  # sparse {cell: count}; a dense list of every cell from shares written before
        for cell, count in fine.items() if isinstance(fine, dict) else enumerate(fine):
            if count:
                self._fine[int(cell)] = self._fine.get(int(cell), 0) + int(count)
        self._histogram = [a + int(b) for a, b in zip(self._histogram, state["histogram"], strict=True)]
        self._hard_won.extend(int(v) for v in state["hard_won"])
        self._hard_pairs.extend(int(v) for v in state["hard_pairs"])

    def _median_similarity(self, total: int) -> float | None:
        if total == 0:
            return None
        rank = nearest_rank(total, 0.5)
        seen = 0
        for cell in sorted(self._fine):
            seen += self._fine[cell]
            if seen >= rank:
                return cell / _FINE_CELLS
        raise AssertionError("fine counts must add up to the total")  # pragma: no cover

    def result(self) -> dict[str, Any]:
        """The realism block of ``metrics.json``."""
        total = sum(self._pairs.values())
        aucs = {name: _share_won(self._wins[name], self._ties[name], self._pairs[name]) for name in BIN_NAMES}
        ranges = {
            "easy": [0.0, self._easy_max],
            "medium": [self._easy_max, self._hard_min],
            "hard": [self._hard_min, self._hard_max],
            "near_identical": [self._hard_max, 1.0],
        }
        bins = {name: {"range": ranges[name], "n_pairs": self._pairs[name], "auc": aucs[name]} for name in BIN_NAMES}
        interval = cluster_bootstrap_interval(self._hard_won, self._hard_pairs, seed=self._seed)
        bins["hard"]["auc_ci95"] = list(interval) if interval else None
        bins["hard"]["n_molecules"] = len(self._hard_pairs)
        median_too_low = total == 0 or self._below_median_min >= nearest_rank(total, 0.5)
        hard_auc, easy_auc = aucs["hard"], aucs["easy"]
        easy_only = False
        if median_too_low or self._pairs["hard"] < MIN_HARD_PAIRS or hard_auc is None:
            interpretation = DECOYS_TOO_EASY
        elif interval is not None and interval[0] > HARD_AUC_SIGNAL:
            interpretation = HARD_ABOVE
        elif hard_auc <= HARD_AUC_SIGNAL:
            interpretation = HARD_NOT_ABOVE
            easy_only = easy_auc is not None and easy_auc > EASY_AUC_ONLY
        else:
            interpretation = HARD_UNCERTAIN
        return {
            "n_pairs": total,
            "auc": _share_won(sum(self._wins.values()), sum(self._ties.values()), total),
            "median_similarity": self._median_similarity(total),
            "bins": bins,
            "interpretation": interpretation,
            "easy_only": easy_only,
            "bootstrap": {"reps": BOOTSTRAP_REPS, "level": BOOTSTRAP_LEVEL, "seed": self._seed, "unit": "molecule"},
            "similarity_histogram": {
                "bin_edges": [i / HISTOGRAM_BINS for i in range(HISTOGRAM_BINS + 1)],
                "counts": list(self._histogram),
            },
        }


def realism_metrics(
    pairs: Iterable[tuple[float, float, float]], hard_min: float = HARD_MIN, hard_max: float = HARD_MAX
) -> dict[str, Any]:
    """Realism block from (original_score, decoy_score, similarity) triples, each pair its own molecule."""
    accumulator = RealismAccumulator(hard_min, hard_max)
    for original, decoy, similarity in pairs:
        accumulator.add(original, decoy, similarity)
    return accumulator.result()


# --- dataset accumulator ----------------------------------------------------------------------

_STATUSES = frozenset(s.value for s in Status)
_VERDICTS = frozenset(v.value for v in Verdict)


class DatasetAccumulator:
    """Row-by-row totals for ``metrics.json``; keeps two floats per judged row and nothing per decoy.

    ``k`` is the number of decoys requested per molecule, for the share of molecules that got them all.
    """

    def __init__(self, k: int) -> None:
        if k < 1:
            raise ValueError(f"k (decoys requested per molecule) must be >= 1, got {k}")
        self._k = k
        self._status: Counter[str] = Counter()
        self._reasons: Counter[str] = Counter()
        self._verdicts: Counter[str] = Counter()
        self._slacks = array("d")
        self._chance = array("d")
        self._molecules = 0
        self._decoys = 0
        self._reaching_k = 0
        self._scored = 0

    def add(
        self,
        status: str,
        reason: str | None = None,
        *,
        verdict: str | None = None,
        slack: float | None = None,
        chance_pass: float | None = None,
        n_decoys: int | None = None,
        n_decoys_scored: int | None = None,
    ) -> None:
        """Count one summary row.

        A PASS/FAIL verdict needs status OK, a finite ``slack`` and a ``chance_pass`` in [0, 1]; other
        rows must not carry them. ``n_decoys`` is None for rows that never reached decoy generation
        (invalid SMILES, duplicates, ...), so they do not dilute the decoy yield; a row that reached it
        and got none passes 0.
        """
        if status not in _STATUSES:
            raise ValueError(f"unknown status {status!r}")
        if status != Status.OK and reason is None:
            raise ValueError(f"a {status} row needs a reason")
        if verdict is not None and verdict not in _VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}")
        if n_decoys is not None and n_decoys < 0:
            raise ValueError(f"n_decoys must be >= 0, got {n_decoys}")
        if n_decoys_scored is not None and (n_decoys is None or not 0 <= n_decoys_scored <= n_decoys):
            raise ValueError(f"n_decoys_scored must lie in [0, n_decoys], got {n_decoys_scored} of {n_decoys}")
        judged: tuple[float, float] | None = None
        if verdict in (Verdict.PASS, Verdict.FAIL):
            if status != Status.OK:
                raise ValueError(f"a {status} row cannot have verdict {verdict}")
            if slack is None or not math.isfinite(slack):
                raise ValueError(f"a {verdict} row needs a finite slack, got {slack!r}")
            if chance_pass is None or not 0.0 <= chance_pass <= 1.0:
                raise ValueError(f"a {verdict} row needs a chance_pass in [0, 1], got {chance_pass!r}")
            judged = (slack, chance_pass)
        elif slack is not None or chance_pass is not None:
            raise ValueError("slack and chance_pass belong to PASS/FAIL rows only")

        self._status[str(status)] += 1
        if reason is not None:
            self._reasons[str(reason)] += 1
        self._verdicts[str(verdict) if judged else Verdict.SKIP.value] += 1
        if judged:
            self._slacks.append(judged[0])
            self._chance.append(judged[1])
        if n_decoys is not None:
            self._molecules += 1
            self._decoys += n_decoys
            self._reaching_k += int(n_decoys >= self._k)
            self._scored += n_decoys_scored or 0

    def state(self) -> dict[str, Any]:
        """Everything :meth:`result` reads, as JSON (floats round-trip exactly): merged by :meth:`absorb`."""
        return {
            "status": dict(self._status),
            "reasons": dict(self._reasons),
            "verdicts": dict(self._verdicts),
            "slacks": list(self._slacks),
            "chance": list(self._chance),
            "molecules": self._molecules,
            "decoys": self._decoys,
            "reaching_k": self._reaching_k,
            "scored": self._scored,
        }

    def absorb(self, state: Mapping[str, Any]) -> None:
        """Add a later chunk's :meth:`state`; float lists are appended in row order, so every sum is the serial one."""
        self._status.update({str(k): int(v) for k, v in state["status"].items()})
        self._reasons.update({str(k): int(v) for k, v in state["reasons"].items()})
        self._verdicts.update({str(k): int(v) for k, v in state["verdicts"].items()})
        self._slacks.extend(float(v) for v in state["slacks"])
        self._chance.extend(float(v) for v in state["chance"])
        self._molecules += int(state["molecules"])
        self._decoys += int(state["decoys"])
        self._reaching_k += int(state["reaching_k"])
        self._scored += int(state["scored"])

    def result(self) -> dict[str, Any]:
        """The dataset block of ``metrics.json``.

        ``verdicts`` adds up to ``total``: a row that was never judged (SKIP or ERROR status) counts
        as SKIP. ``pass_rate`` and the slack statistics are over OK rows judged PASS or FAIL.
        """
        judged = len(self._slacks)
        n_pass = self._verdicts[Verdict.PASS.value]
        slacks = np.sort(np.frombuffer(self._slacks, dtype=np.float64)) if judged else np.empty(0)

        def slack_at(p: float) -> float | None:
            return float(slacks[nearest_rank(judged, p) - 1]) if judged else None

        return {
            "counts": {
                Status.OK.value: self._status[Status.OK.value],
                Status.SKIP.value: self._status[Status.SKIP.value],
                Status.ERROR.value: self._status[Status.ERROR.value],
                "total": self._status.total(),
            },
            "top_reasons": [
                {"reason": reason, "count": count}
                for reason, count in sorted(self._reasons.items(), key=lambda item: (-item[1], item[0]))
            ],
            "verdicts": {v.value: self._verdicts[v.value] for v in (Verdict.PASS, Verdict.FAIL, Verdict.SKIP)},
            "n_judged": judged,
            "pass_rate": n_pass / judged if judged else None,
            "slack": {
                "mean": math.fsum(self._slacks) / judged if judged else None,
                "median": slack_at(0.5),
                "p25": slack_at(0.25),
                "p75": slack_at(0.75),
                "min": float(slacks[0]) if judged else None,
                "max": float(slacks[-1]) if judged else None,
            },
            "slack_histogram": slack_histogram(slacks),
            "expected_pass_rate_by_chance": math.fsum(self._chance) / judged if judged else None,
            "pass_rate_p_value": pass_rate_significance(self._chance, n_pass) if judged else None,
            "pass_rate_p_value_lower": pass_rate_lower_tail(self._chance, n_pass) if judged else None,
            "significance": significance_block(self._chance, n_pass) if judged else None,
            "decoys": {
                "k": self._k,
                "molecules": self._molecules,
                "total": self._decoys,
                "mean_per_molecule": self._decoys / self._molecules if self._molecules else None,
                "share_reaching_k": self._reaching_k / self._molecules if self._molecules else None,
                "scored": self._scored,
            },
        }


SLACK_HISTOGRAM_EDGES: tuple[float, ...] = tuple(round(-1.0 + 0.1 * i, 1) for i in range(21))


def slack_histogram(slacks: np.ndarray[Any, Any]) -> dict[str, list[Any]]:
    """Counts of judged slacks in fixed 0.1-wide bins over [-1, 1], so two packs' histograms line up.

    Slack = AUC - gate lies in [-1, 0.5]; the last bin is closed on the right like numpy's.
    """
    counts, _ = np.histogram(np.clip(slacks, -1.0, 1.0), bins=np.array(SLACK_HISTOGRAM_EDGES))
    return {"edges": list(SLACK_HISTOGRAM_EDGES), "counts": [int(c) for c in counts]}


def separation(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, float | None]:
    """How far run ``a`` sits above run ``b`` (e.g. known-good minus known-bad scores on the same input)."""
    median_a, median_b = a["slack"]["median"], b["slack"]["median"]
    rate_a, rate_b = a["pass_rate"], b["pass_rate"]
    return {
        "delta_median_slack": None if median_a is None or median_b is None else median_a - median_b,
        "delta_pass_rate": None if rate_a is None or rate_b is None else rate_a - rate_b,
    }

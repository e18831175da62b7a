"""Per-molecule audit (``hetero_audit.v2``, SPEC §5): does the model rank the real molecule above its decoys?

The original is the one positive, every scored decoy a negative. The verdict compares the AUC with a
gate just above what chance alone reaches (the exact null quantile plus a margin), so a model that
only sees composition FAILs however confident its scores look.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from hetero_core.audit._null import (
    TOLERANCE,
    as_fraction,
    chance_pass_probability,
    nearest_rank,
    null_auc_quantile_exact,
)
from hetero_core.audit._ties import TIE_RELATIVE_TOLERANCE, pair_outcomes
from hetero_core.reasons import Verdict, Warning_
from hetero_core.records import ScoredItem

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "AuditResult",
    "ScoredItem",
    "audit_molecule",
    "permutation_auc_quantile",
    "weighted_auc",
]

FloatArray = npt.NDArray[np.float64]

# Up to this many items every label arrangement is enumerated (at most C(10, 5) = 252).
_EXACT_PERMUTATION_LIMIT = 10


@dataclass(frozen=True, slots=True)
class AuditResult:
    """The audit of one molecule; every field but ``margin``, ``n_pos`` and ``n_neg`` is None on SKIP."""

    verdict: Verdict
    auc: float | None
    null_q: float | None
    perm_q: float | None
    gate: float | None
    slack: float | None
    margin: float
    n_pos: int
    n_neg: int
    chance_pass: float | None
    warnings: tuple[str, ...]

    @classmethod
    def skipped(cls, margin: float, *, n_pos: int, n_neg: int) -> AuditResult:
        """Nothing could be scored: the verdict is SKIP and every statistic is absent (SPEC §5)."""
        return cls(Verdict.SKIP, None, None, None, None, None, margin, n_pos, n_neg, None, ())


def _checked_arrays(scores: Sequence[float], weights: Sequence[float], side: str) -> tuple[FloatArray, FloatArray]:
    s = np.asarray(scores, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{side}: every score must be finite")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"{side}: every weight must be finite and >= 0")
    return s, w


def weighted_auc(pos: Sequence[ScoredItem], neg: Sequence[ScoredItem]) -> float:
    """Tie-aware weighted ROC AUC: the weighted share of (pos, neg) pairs the positive wins, ties counting half.

    Two scores tie when they differ by float noise only (:func:`scores_tie`), so the same molecule scored
    from two atom orders never wins or loses on the last bit. Every pair is compared (one original against
    at most a thousand decoys); with unit weights each term is 0, ½ or 1, so the sum is exact and the
    result is exactly U/(p*n), comparable with the exact null.
    """
    if not pos or not neg:
        raise ValueError(f"the AUC needs both sides, got {len(pos)} positives and {len(neg)} negatives")
    s_pos, w_pos = _checked_arrays([i.score for i in pos], [i.weight for i in pos], "positives")
    s_neg, w_neg = _checked_arrays([i.score for i in neg], [i.weight for i in neg], "negatives")
    if float(w_pos.sum()) * float(w_neg.sum()) <= 0.0:
        raise ValueError("the AUC is undefined when all weights of one side are zero")
    # SPEC §5 prints the tie term as ½·[s_p = s_n] without weights; that is a typo: a tie is half a
    # win, so it carries the pair weight w_p·w_n exactly like a win (otherwise the AUC can leave [0, 1]).
    outcomes = pair_outcomes(s_pos, s_neg)
    # correctly rounded sums: an original that beats every decoy earns exactly the negatives' total
    won = math.fsum(float(wp) * math.fsum(outcomes[i] * w_neg) for i, wp in enumerate(w_pos))
    total = math.fsum(w_pos) * math.fsum(w_neg)
    # with fractional weights the two sums can differ in the last bit; an AUC never exceeds 1
    return min(1.0, won / total)


def _single_positive_aucs(s: FloatArray, w: FloatArray) -> FloatArray:
    """AUC of each item taken as the only positive against all the others (NaN where undefined)."""
    beats = pair_outcomes(s, s)
    np.fill_diagonal(beats, 0.0)  # an item is not its own negative
    won = beats @ w
    rest = float(w.sum()) - w
    defined = (w > 0) & (rest > 0)
    aucs = np.full(s.shape, np.nan)
    aucs[defined] = won[defined] / rest[defined]
    return aucs


def _masked_aucs(s: FloatArray, w: FloatArray, positives: npt.NDArray[np.bool_]) -> FloatArray:
    """AUC for each row of a (arrangements x items) mask of positives (NaN where undefined)."""
    pair_weight = (w[:, None] * w[None, :]) * pair_outcomes(s, s)
    m = positives.astype(np.float64)
    numerators = np.einsum("ri,ij,rj->r", m, pair_weight, 1.0 - m)
    denominators = (m @ w) * ((1.0 - m) @ w)
    aucs = np.full(len(positives), np.nan)
    defined = denominators > 0
    aucs[defined] = numerators[defined] / denominators[defined]
    return aucs


def permutation_auc_quantile(
    scores: Sequence[float],
    weights: Sequence[float],
    n_pos: int,
    q: float,
    *,
    seed: int,
    reps: int = 200,
) -> float:
    """Nearest-rank q-quantile of the weighted AUC when the labels are shuffled over the actual scores.

    Unlike ``null_q`` it sees the real ties and weights, so it shows how far the unweighted, tie-free
    null is from this molecule's own null. Which items are the real positives does not matter: only
    ``n_pos`` does. Exact when len(scores) <= 10 or n_pos == 1, otherwise seeded Monte Carlo.
    Arrangements whose AUC is undefined (a side with zero total weight) are left out.
    """
    s, w = _checked_arrays(scores, weights, "items")
    n = len(s)
    if len(w) != n:
        raise ValueError(f"got {n} scores but {len(w)} weights")
    if not 1 <= n_pos < n:
        raise ValueError(f"need 1 <= n_pos < number of items, got n_pos={n_pos} with {n} items")
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile level q must lie strictly between 0 and 1, got {q!r}")
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    if n_pos == 1:
        aucs = _single_positive_aucs(s, w)
    else:
        if n <= _EXACT_PERMUTATION_LIMIT:
            positives = np.zeros((math.comb(n, n_pos), n), dtype=np.bool_)
            for row, chosen in enumerate(combinations(range(n), n_pos)):
                positives[row, list(chosen)] = True
        else:
            rng = np.random.default_rng(seed)
            ranks = np.argsort(rng.random((reps, n)), axis=1)
            positives = np.zeros((reps, n), dtype=np.bool_)
            np.put_along_axis(positives, ranks[:, :n_pos], True, axis=1)
        aucs = _masked_aucs(s, w, positives)
    # clipped: with fractional weights the subtractions above can leave 1 + 2e-16
    values = np.sort(np.clip(aucs[~np.isnan(aucs)], 0.0, 1.0))
    if len(values) == 0:
        raise ValueError("no label arrangement has a defined AUC (weights are zero)")
    return float(values[nearest_rank(len(values), q) - 1])


def audit_molecule(
    original: ScoredItem | None,
    decoys: Sequence[ScoredItem | None],
    *,
    q: float = 0.95,
    margin: float = 0.05,
    seed: int = 0,
) -> AuditResult:
    """Audit one molecule: PASS when its AUC against the scored decoys clears the chance gate.

    ``None`` means "no score". The verdict is SKIP when the original or every decoy lacks a score;
    which SKIP reason applies is the caller's to say. Raises ValueError on bad scores or weights
    (non-finite, negative, or all zero on one side), as ``weighted_auc`` does.
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile level q must lie strictly between 0 and 1, got {q!r}")
    if not (math.isfinite(margin) and margin >= 0.0):
        raise ValueError(f"margin must be finite and >= 0, got {margin!r}")
    scored = [d for d in decoys if d is not None]
    n_pos = 0 if original is None else 1
    if original is None or not scored:
        return AuditResult.skipped(margin, n_pos=n_pos, n_neg=len(scored))
    k = len(scored)
    items = [original, *scored]
    weighted = any(i.weight != 1.0 for i in items)
    quick = None if weighted else _unit_weight_statistics(original.score, [d.score for d in scored], q)
    if quick is None:
        auc = weighted_auc([original], scored)
        perm_q = permutation_auc_quantile([i.score for i in items], [i.weight for i in items], 1, q, seed=seed)
    else:
        auc, perm_q = quick
    null_q, gate = _gate(k, q, margin)
    slack = auc - gate
    return AuditResult(
        verdict=Verdict.PASS if slack >= -TOLERANCE else Verdict.FAIL,
        auc=auc,
        null_q=null_q,
        perm_q=perm_q,
        gate=gate,
        slack=slack,
        margin=margin,
        n_pos=1,
        n_neg=k,
        chance_pass=chance_pass_probability(1, k, gate),
        warnings=(Warning_.WEIGHTS_UNWEIGHTED_NULL.value,) if weighted else (),
    )


@lru_cache(maxsize=1024)
def _gate(k: int, q: float, margin: float) -> tuple[float, float]:
    """(null_q, gate) of a molecule with k scored decoys: a function of (k, q, margin) alone, so once per run."""
    exact_null_q = null_auc_quantile_exact(1, k, q)
    # Summed as exact fractions: 19/20 + 1/20 must give a gate of exactly 1, not 0.9999999999999999.
    return float(exact_null_q), float(min(Fraction(1), exact_null_q + as_fraction(margin)))


def _unit_weight_statistics(original: float, decoys: Sequence[float], q: float) -> tuple[float, float] | None:
    """The AUC and ``perm_q`` of one original with unit weights, bit for bit what the general path gives; or None
    when the general path must run (a non-finite score, so its error is raised; or two scores that tie).

    With unit weights every term of both sums is 0, ½ or 1, so the sums are exact in any order and only the final
    division rounds, the same division in both paths. Without ties among the items, the item of rank r (from 0)
    wins against exactly r others as the only positive, so the permutation values are 0, 1, ..., n-1 over n-1 and
    their nearest-rank quantile is read off directly. "No ties" is checked on neighbours in sorted order: if two
    neighbours do not tie, no pair further apart can (the gap only grows and the tolerance is relative).
    """
    ordered = sorted([original, *decoys])
    if not all(map(math.isfinite, ordered)):
        return None
    below = ordered[0]
    for above in ordered[1:]:  # scores_tie, inlined: this runs once per row of a run
        if abs(below - above) <= TIE_RELATIVE_TOLERANCE * max(1.0, abs(below), abs(above)):
            return None
        below = above
    won = ordered.index(original)  # no ties: the original beats exactly the decoys sorted below it
    auc = min(1.0, won / len(decoys))
    n = len(ordered)
    perm_q = min(1.0, (nearest_rank(n, q) - 1) / (n - 1))
    return auc, perm_q

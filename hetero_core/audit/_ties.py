"""When two scores count as equal (SPEC §4, "Score handling"): ``|a − b| ≤ 1e-9 · max(1, |a|, |b|)``.

A descriptor such as QED computed from two atom orders of one molecule can differ in the last bit; exact
float equality would turn that noise into a win or a loss and flip verdicts. Every comparison of scores in
the audit (per-molecule AUC, permutation null, realism bins) goes through this one rule.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

TIE_RELATIVE_TOLERANCE = 1e-9

__all__ = ["TIE_RELATIVE_TOLERANCE", "outcome", "pair_outcomes", "scores_tie"]


def scores_tie(a: float, b: float) -> bool:
    """True when ``a`` and ``b`` are equal up to float noise (the SPEC's relative tolerance)."""
    return abs(a - b) <= TIE_RELATIVE_TOLERANCE * max(1.0, abs(a), abs(b))


def outcome(a: float, b: float) -> float:
    """What ``a`` earns against ``b`` in an AUC: 1 for a win, 0.5 for a tie, 0 for a loss."""
    if scores_tie(a, b):
        return 0.5
    return 1.0 if a > b else 0.0


def pair_outcomes(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``outcome(a[i], b[j])`` for every pair, as an (len(a), len(b)) matrix of 1, 0.5 and 0."""
    diff = a[:, None] - b[None, :]
    scale = np.maximum(1.0, np.maximum(np.abs(a)[:, None], np.abs(b)[None, :]))
    tie = np.abs(diff) <= TIE_RELATIVE_TOLERANCE * scale
    return np.where(tie, 0.5, np.where(diff > 0, 1.0, 0.0))

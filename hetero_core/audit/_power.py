"""How much noise a structure-reading model may carry and still be detected on this input (the power curve).

The calibration's known-good oracle ranks every original above every decoy; real models do not. The oracle
with a share ``flip`` of its (original, decoy) pairs flipped at random is a graded stand-in for a model that
reads structure imperfectly. For each molecule the chance that it still PASSes is exact (the number of flipped
pairs is binomial), and so is the chance that the dataset's PASS count clears the significance bar: a
Poisson-binomial tail. No extra audit run is needed, only each judged molecule's number of scored decoys
and gate, so the curve costs milliseconds and is the same on every machine.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from hetero_core.audit._dataset import SIGNIFICANCE_ALPHA, pass_rate_significance
from hetero_core.audit._null import TOLERANCE

if TYPE_CHECKING:
    from collections.abc import Sequence

DEFAULT_FLIP_LEVELS: tuple[float, ...] = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
POWER_TARGET = 0.8

__all__ = ["DEFAULT_FLIP_LEVELS", "POWER_TARGET", "critical_pass_count", "pass_probability_with_flips", "power_curve"]


def pass_probability_with_flips(k: int, gate: float, flip: float) -> float:
    """P(PASS) for a molecule with k scored decoys when each decoy independently beats the original with
    probability ``flip`` (ties aside): the AUC is 1 − F/k with F ~ Binomial(k, flip)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not 0.0 <= flip <= 1.0:
        raise ValueError(f"flip must lie in [0, 1], got {flip!r}")
    allowed = math.floor((1.0 - gate + TOLERANCE) * k + 1e-9)  # flipped pairs a PASS survives
    if allowed < 0:
        return 0.0
    return math.fsum(math.comb(k, f) * flip**f * (1.0 - flip) ** (k - f) for f in range(min(allowed, k) + 1))


def critical_pass_count(chance: Sequence[float], alpha: float = SIGNIFICANCE_ALPHA) -> int | None:
    """The smallest PASS count whose chance of happening by luck is below ``alpha`` (None if none is)."""
    low, high = 0, len(chance) + 1  # the upper tail falls as the count grows
    if pass_rate_significance(chance, len(chance)) >= alpha:
        return None
    while low < high:
        middle = (low + high) // 2
        if pass_rate_significance(chance, middle) < alpha:
            high = middle
        else:
            low = middle + 1
    return low


def power_curve(
    molecules: Sequence[tuple[int, float, float]],
    levels: Sequence[float] = DEFAULT_FLIP_LEVELS,
    alpha: float = SIGNIFICANCE_ALPHA,
) -> dict[str, Any]:
    """For each flip level: the expected PASS-rate and the probability that the PASS-rate is significantly above
    chance (the audit's power). ``molecules`` holds (k scored decoys, gate, chance of a PASS) per judged molecule.
    """
    chance = [c for _, _, c in molecules]
    needed = critical_pass_count(chance, alpha) if molecules else None
    points: list[dict[str, Any]] = []
    detected: list[float] = []
    for flip in levels:
        probabilities = [pass_probability_with_flips(k, gate, flip) for k, gate, _ in molecules]
        power = pass_rate_significance(probabilities, needed) if needed is not None else 0.0
        points.append(
            {
                "flip": flip,
                "expected_pass_rate": math.fsum(probabilities) / len(probabilities) if probabilities else None,
                "power": power,
            }
        )
        if power >= POWER_TARGET:
            detected.append(flip)
    return {
        "alpha": alpha,
        "molecules": len(molecules),
        "expected_chance_pass_rate": math.fsum(chance) / len(chance) if chance else None,
        "pass_count_needed": needed,
        "power_target": POWER_TARGET,
        "max_flip_detected": max(detected) if detected else None,
        "points": points,
    }

"""The calibration's power curve in the report: how noisy a structure-reading model may be and still be caught.

A perfect oracle separating from bad models proves only that the code runs; the power curve says what this
input at this k can detect, so a reviewer knows how much a STOP or an INCONCLUSIVE on it means.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hetero_core.report._markup import _int_text, _map, _number, _pct, _seq, _table

if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_POWER_POINTS = 20


def power_section(calibration: Mapping[str, Any]) -> str:
    """The thresholds used and the power table; empty when the calibration has no power curve."""
    power = _map(calibration.get("power"))
    thresholds = _map(calibration.get("thresholds"))
    parts = []
    if thresholds:
        parts.append(
            f"<p>A known-bad model counts as separated when Δ median slack ≥ "
            f"{_number(thresholds.get('delta_median_slack'))} or Δ PASS-rate ≥ "
            f"{_pct(thresholds.get('delta_pass_rate'))} (the seed's thresholds).</p>"
        )
    points = [_map(p) for p in _seq(power.get("points"), MAX_POWER_POINTS)]
    if not points:
        return "\n".join(parts)
    rows = [[_pct(p.get("flip")), _pct(p.get("expected_pass_rate")), _pct(p.get("power"))] for p in points]
    detected = _number(power.get("max_flip_detected"))
    parts += [
        "<h3>Power on this input</h3>",
        f"<p>The good oracle with a share of its (original, decoy) pairs flipped at random stands in for a model "
        f"that reads structure imperfectly. On these {_int_text(power.get('molecules'))} judged molecules a model "
        f"with no signal PASSes {_pct(power.get('expected_chance_pass_rate'))} of them by chance, and "
        f"{_int_text(power.get('pass_count_needed'))} PASSes are needed for a PASS-rate significantly above chance "
        f"(p &lt; {_number(power.get('alpha'))}). Power is the probability of reaching that count; it is exact "
        "(binomial per molecule, Poisson-binomial over the set).</p>",
        _table(["pairs flipped", "expected PASS-rate", "power"], rows, [True, True, True]),
        "<p>"
        + (
            f"With power of at least {_pct(power.get('power_target'))}, this input detects a structure-reading "
            f"model with up to {_pct(detected)} of its pairs flipped.</p>"
            if detected is not None
            else "Even the oracle is not detected with the target power on this input: too few molecules.</p>"
        ),
    ]
    return "\n".join(parts)

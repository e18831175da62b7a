"""The calibration's power curve: a noisy oracle's exact PASS probabilities, and the PASS count significance needs."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from hetero_core.audit._dataset import pass_rate_significance
from hetero_core.audit._power import critical_pass_count, pass_probability_with_flips, power_curve


def test_with_a_gate_of_one_a_pass_survives_no_flipped_pair() -> None:
    assert pass_probability_with_flips(20, 1.0, 0.05) == pytest.approx(0.95**20)
    assert pass_probability_with_flips(20, 1.0, 0.0) == 1.0
    assert pass_probability_with_flips(20, 1.0, 1.0) == 0.0


def test_a_gate_below_one_lets_a_pass_survive_some_flips() -> None:
    # k = 20, margin 0: gate 19/20, so one flipped pair is allowed
    gate = float(Fraction(19, 20))
    expected = 0.9**20 + 20 * 0.1 * 0.9**19
    assert pass_probability_with_flips(20, gate, 0.1) == pytest.approx(expected)


@pytest.mark.parametrize(("k", "flip"), [(0, 0.1), (5, -0.1), (5, 1.5)])
def test_bad_arguments_are_refused(k: int, flip: float) -> None:
    with pytest.raises(ValueError, match="must"):
        pass_probability_with_flips(k, 1.0, flip)


def test_critical_count_is_the_first_count_below_alpha() -> None:
    chance = [1 / 21] * 59
    needed = critical_pass_count(chance)
    assert needed is not None
    assert pass_rate_significance(chance, needed) < 0.05 <= pass_rate_significance(chance, needed - 1)
    assert critical_pass_count([0.5]) is None  # one coin: even a PASS is not significant


def test_power_curve_on_sixty_molecules_at_k_20() -> None:
    molecules = [(20, 1.0, 1 / 21)] * 59
    curve = power_curve(molecules, levels=(0.0, 0.05, 0.1, 0.5))
    assert curve["pass_count_needed"] == 7
    assert curve["expected_chance_pass_rate"] == pytest.approx(1 / 21)
    powers = [p["power"] for p in curve["points"]]
    assert powers[0] == 1.0
    assert powers == sorted(powers, reverse=True)
    assert curve["points"][2]["expected_pass_rate"] == pytest.approx(0.9**20)
    # exact: P(Binomial(59, 0.9^20) >= 7)
    q = 0.9**20
    exact = math.fsum(math.comb(59, j) * q**j * (1 - q) ** (59 - j) for j in range(7, 60))
    assert curve["points"][2]["power"] == pytest.approx(exact, rel=1e-9)
    assert curve["max_flip_detected"] == 0.05


def test_power_curve_of_nothing_detects_nothing() -> None:
    curve = power_curve([])
    assert curve["max_flip_detected"] is None
    assert curve["expected_chance_pass_rate"] is None

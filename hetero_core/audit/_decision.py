"""The decision a reviewer acts on (SPEC §5, the seed's VALUE-M3): GO, STOP or INCONCLUSIVE, with reasons.

Statistics alone leave the reader to weigh a PASS-rate, two p-values, coverage and realism. The decision
applies written acceptance criteria to them, in a fixed order, and says which rule decided:

1. ``STOP`` when the PASS-rate is significantly *below* chance (the model prefers the decoys), given
   enough judged molecules.
2. ``INCONCLUSIVE`` when there is too little to decide: fewer judged molecules than ``min_judged``.
3. ``STOP`` when the PASS-rate is not significantly above chance and coverage is full: with enough
   molecules, a model that reads structure would have shown it.
4. ``INCONCLUSIVE`` when the PASS-rate is not above chance but scores are missing (partial coverage).
5. Above chance: ``GO`` only with ERROR rows ≤ ``max_errors``, full score coverage and at least
   ``min_hard_pairs`` scored hard pairs; otherwise ``INCONCLUSIVE`` naming each missing condition.

The defaults can be overridden by an ``acceptance.v1`` document (``hetero_core.acceptance``, which parses it for
the CLI, the API and the client alike), whose name and sha256 go into the manifest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hetero_core.acceptance import ACCEPTANCE_SCHEMA, Acceptance, AcceptanceCriteria, load_acceptance

if TYPE_CHECKING:
    from collections.abc import Mapping

GO, STOP, INCONCLUSIVE = "GO", "STOP", "INCONCLUSIVE"
OUTCOMES: tuple[str, ...] = (GO, STOP, INCONCLUSIVE)

__all__ = [
    "ACCEPTANCE_SCHEMA",
    "GO",
    "INCONCLUSIVE",
    "OUTCOMES",
    "STOP",
    "Acceptance",
    "AcceptanceCriteria",
    "decide",
    "load_acceptance",
    "score_coverage",
]


def score_coverage(coverage: Mapping[str, Any]) -> float | None:
    """The share of the audit that has scores: the lower of original coverage and decoy coverage."""
    with_score = coverage.get("molecules_with_original_score") or 0
    missing = coverage.get("molecules_missing_original_score") or 0
    shares = []
    if with_score + missing:
        shares.append(with_score / (with_score + missing))
    if coverage.get("decoy_coverage") is not None:
        shares.append(float(coverage["decoy_coverage"]))
    return min(shares) if shares else None


def _p(value: float | None) -> str:
    """ "p < 0.001" or "p = 0.056": never "p = 0.000" (the report's rule, restated for the engine's sentences)."""
    if value is None:
        return "p n/a"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


def _reason(code: str, text: str) -> dict[str, str]:
    return {"code": code, "text": text}


def decide(metrics: Mapping[str, Any], acceptance: Acceptance | None = None) -> dict[str, Any]:
    """The ``decision`` block of ``metrics.json`` from its other blocks (dataset, coverage, realism)."""
    acceptance = acceptance or Acceptance()
    c = acceptance.criteria
    n_judged = int(metrics.get("n_judged") or 0)
    errors = int(metrics.get("counts", {}).get("ERROR", 0))
    coverage = score_coverage(metrics.get("scores_coverage", {}))
    hard_pairs = int(metrics.get("realism", {}).get("bins", {}).get("hard", {}).get("n_pairs", 0))
    significance = metrics.get("significance") or {}
    upper = significance.get("p_better_than_chance")
    lower = significance.get("p_worse_than_chance")
    n_pass = int(metrics.get("verdicts", {}).get("PASS", 0))
    expected = metrics.get("expected_pass_rate_by_chance")
    pass_text = f"{n_pass} of {n_judged} molecules PASS" + (
        f" where chance alone gives about {expected * n_judged:.1f}" if expected is not None else ""
    )
    full_coverage = coverage is not None and coverage >= c.min_score_coverage
    reasons: list[dict[str, str]] = []

    if n_judged >= c.min_judged and lower is not None and lower < c.alpha:
        outcome = STOP
        reasons.append(_reason("pass_rate_below_chance", f"{pass_text}: fewer than chance ({_p(lower)})"))
    elif n_judged < c.min_judged:
        outcome = INCONCLUSIVE
        reasons.append(_reason("too_few_judged", f"only {n_judged} molecules judged; a decision needs {c.min_judged}"))
    elif upper is None or upper >= c.alpha:
        if full_coverage:
            outcome = STOP
            reasons.append(
                _reason(
                    "pass_rate_not_above_chance", f"{pass_text}: not above chance ({_p(upper)}, needs < {c.alpha:g})"
                )
            )
        else:
            outcome = INCONCLUSIVE
            reasons.append(
                _reason(
                    "pass_rate_not_above_chance", f"{pass_text}: not above chance ({_p(upper)}, needs < {c.alpha:g})"
                )
            )
            reasons.append(_coverage_reason(coverage, c))
    else:
        blockers = []
        if errors > c.max_errors:
            blockers.append(_reason("errors", f"{errors} ERROR rows (at most {c.max_errors} allowed)"))
        if not full_coverage:
            blockers.append(_coverage_reason(coverage, c))
        if hard_pairs < c.min_hard_pairs:
            blockers.append(
                _reason(
                    "too_few_hard_pairs",
                    f"only {hard_pairs} scored hard pairs (at least {c.min_hard_pairs}): "
                    "the decoys may be too easy to show structure",
                )
            )
        outcome = INCONCLUSIVE if blockers else GO
        reasons.append(_reason("pass_rate_above_chance", f"{pass_text}: above chance ({_p(upper)} < {c.alpha:g})"))
        reasons.extend(blockers)
    return {
        "outcome": outcome,
        "sentence": _sentence(outcome, reasons),
        "reasons": reasons,
        "criteria": {**c.to_dict(), "source": "file" if acceptance.path else "default"},
        "measured": {
            "n_judged": n_judged,
            "n_pass": n_pass,
            "errors": errors,
            "score_coverage": coverage,
            "hard_pairs": hard_pairs,
            "p_better_than_chance": upper,
            "p_worse_than_chance": lower,
        },
    }


def _coverage_reason(coverage: float | None, c: AcceptanceCriteria) -> dict[str, str]:
    shown = "no" if coverage is None else f"{coverage:.1%}"
    return _reason("partial_score_coverage", f"{shown} score coverage (a GO needs {c.min_score_coverage:.0%})")


def _sentence(outcome: str, reasons: list[dict[str, str]]) -> str:
    """One plain sentence for the first line of the report and the CLI."""
    first = reasons[0]["text"]
    first = first[0].upper() + first[1:]
    if outcome == GO:
        return f"{first}, so the model ranks real molecules above their rewired decoys more often than luck."
    if outcome == STOP:
        return f"{first}, so there is no evidence that the model reads structure rather than composition."
    rest = "; ".join(r["text"] for r in reasons[1:])
    return first + (f"; and {rest}" if rest else "") + ", so this run cannot decide."

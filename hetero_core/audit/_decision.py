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

The defaults can be overridden by an ``acceptance.v1`` JSON file, whose path and sha256 go into the manifest.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from hetero_core.errors import ConfigError
from hetero_core.hashing import file_sha256

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

ACCEPTANCE_SCHEMA = "acceptance.v1"
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


@dataclass(frozen=True, slots=True)
class AcceptanceCriteria:
    """What a GO needs. Defaults are SPEC §5's: no ERROR rows, full coverage, one-sided p < 0.05."""

    max_errors: int = 0
    min_score_coverage: float = 1.0
    min_judged: int = 30
    alpha: float = 0.05
    min_hard_pairs: int = 50

    def __post_init__(self) -> None:
        checks = (
            ("max_errors", _is_int(self.max_errors) and self.max_errors >= 0, "an integer >= 0"),
            (
                "min_score_coverage",
                _is_number(self.min_score_coverage) and 0.0 < self.min_score_coverage <= 1.0,
                "a number in (0, 1]",
            ),
            ("min_judged", _is_int(self.min_judged) and self.min_judged >= 1, "an integer >= 1"),
            ("alpha", _is_number(self.alpha) and 0.0 < self.alpha <= 0.5, "a number in (0, 0.5]"),
            ("min_hard_pairs", _is_int(self.min_hard_pairs) and self.min_hard_pairs >= 0, "an integer >= 0"),
        )
        for name, ok, expected in checks:
            if not ok:
                raise ConfigError(f"acceptance criterion '{name}' must be {expected}, got {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True, slots=True)
class Acceptance:
    """Criteria plus where they came from: the defaults, or a file (path as given, and its sha256)."""

    criteria: AcceptanceCriteria = AcceptanceCriteria()
    path: str | None = None
    sha256: str | None = None

    def to_manifest(self) -> dict[str, Any]:
        """The manifest's ``acceptance`` block."""
        source = "file" if self.path is not None else "default"
        return {
            "schema_version": ACCEPTANCE_SCHEMA,
            "source": source,
            "path": self.path,
            "sha256": self.sha256,
            "criteria": self.criteria.to_dict(),
        }


def load_acceptance(path: Path) -> Acceptance:
    """Read and validate an ``acceptance.v1`` file; every fault names the file and the field.

    Format: ``{"schema_version": "acceptance.v1", "criteria": {...}}`` where ``criteria`` holds any of
    :class:`AcceptanceCriteria`'s fields; absent fields keep their defaults, unknown ones are refused (a typo
    must not silently leave a default in force).

    Raises:
        ConfigError: the file is unreadable, not JSON, or a field is missing, unknown or out of range.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the acceptance file: {exc.strerror or exc}") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: the acceptance file is not UTF-8 JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the acceptance file must hold a JSON object")
    unknown_top = sorted(set(data) - {"schema_version", "criteria", "description"})
    if unknown_top:
        raise ConfigError(f"{path}: unknown field '{unknown_top[0]}' (expected schema_version, criteria)")
    if data.get("schema_version") != ACCEPTANCE_SCHEMA:
        raise ConfigError(
            f"{path}: field 'schema_version' must be {ACCEPTANCE_SCHEMA!r}, got {data.get('schema_version')!r}"
        )
    criteria = data.get("criteria", {})
    if not isinstance(criteria, dict):
        raise ConfigError(f"{path}: field 'criteria' must be a JSON object")
    known = {f.name for f in fields(AcceptanceCriteria)}
    unknown = sorted(set(criteria) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown field 'criteria.{unknown[0]}' (known: {', '.join(sorted(known))})")
    try:
        parsed = AcceptanceCriteria(**criteria)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return Acceptance(parsed, str(path), file_sha256(path))


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

"""Known-bad vs known-good (the seed's VALUE-M2): proof that the audit reacts to scoring quality.

The same input is audited with the reference scorers ``constant``, ``random`` and ``composition`` (known bad:
the last sees only the molecular formula, the very failure the audit exists to catch) and ``good`` (known
good). A trustworthy audit separates them: Δ median slack and Δ PASS-rate between good and each bad one, each
judged against the seed's thresholds (Δ median slack ≥ 0.05 or Δ PASS-rate ≥ 20 points). Separating a perfect
oracle from bad models follows from arithmetic on any input, so the calibration also gives the power curve: up
to which share of flipped pairs a structure-reading model is still detected on this input at this k.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from hetero_core.audit import chance_pass_probability, null_auc_quantile_exact, power_curve, separation
from hetero_core.audit._null import as_fraction
from hetero_core.io import DEFAULT_COLUMNS, InputColumns
from hetero_core.layout import REPORT, SUMMARY
from hetero_core.pack import Signer, iso
from hetero_core.pipeline._run import RunOutcome, run_audit
from hetero_core.progress import Progress
from hetero_core.scores import make_scorer

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path

    from hetero_core.cache import DecoyCache
    from hetero_core.config import RunConfig

KNOWN_BAD = ("constant", "random", "composition")
# The seed's separation thresholds: a known-bad model is separated when either difference reaches its bar.
MIN_DELTA_MEDIAN_SLACK = 0.05
MIN_DELTA_PASS_RATE = 0.20
KNOWN_GOOD = "good"
CALIBRATION_SCHEMA = "hetero_calibration.v1"
CALIBRATION_REPORT = "calibration_report.html"


def _judged_separation(good: dict[str, Any], bad: dict[str, Any]) -> dict[str, Any]:
    """Δ median slack and Δ PASS-rate, and whether they meet the seed's thresholds (either one suffices)."""
    facts: dict[str, Any] = dict(separation(good, bad))
    slack, rate = facts["delta_median_slack"], facts["delta_pass_rate"]
    facts["meets_threshold"] = bool(
        (slack is not None and slack >= MIN_DELTA_MEDIAN_SLACK) or (rate is not None and rate >= MIN_DELTA_PASS_RATE)
    )
    return facts


def _judged_molecules(summary: Path, config: RunConfig) -> list[tuple[int, float, float]]:
    """(scored decoys, exact gate, chance of a PASS) of every judged molecule of a pack, for the power curve."""
    out = []
    with summary.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["verdict"] not in ("PASS", "FAIL"):
                continue
            k = int(row["n_decoys_scored"])
            gate = float(min(Fraction(1), null_auc_quantile_exact(1, k, config.q) + as_fraction(config.margin)))
            out.append((k, gate, chance_pass_probability(1, k, gate)))
    return out


def _run_summary(name: str, outcome: RunOutcome) -> dict[str, Any]:
    metrics = outcome.metrics
    return {
        "pack": name,
        "zip_sha256": outcome.pack.zip_sha256,
        "pass_rate": metrics["pass_rate"],
        "median_slack": metrics["slack"]["median"],
        "n_judged": metrics["n_judged"],
    }


def run_calibration(
    input_path: Path,
    out_dir: Path,
    *,
    config: RunConfig,
    created_at: datetime,
    workers: int = 1,
    quiet: bool = True,
    columns: InputColumns = DEFAULT_COLUMNS,
    signer: Signer | None = None,
    cache: DecoyCache | None = None,
) -> dict[str, Any]:
    """Audit the input with every reference scorer; the known-good pack, run last, is the calibration pack.

    The known-bad packs come first, so their facts are known when the good pack is assembled: its
    ``metrics.json`` carries the whole calibration (separation judged against the seed's thresholds, the power
    curve, the expected chance PASS-rate) and its report is the calibration report. That pack is sealed and
    signed like any audit pack, so ``hetero2 verify`` checks the calibration too. ``calibration.json`` and
    ``calibration_report.html`` beside the packs are copies for convenience, with the good pack's zip sha256.
    """
    columns.scan(input_path)  # a file-level fault stops here, before any folder is created
    out_dir.mkdir(parents=True, exist_ok=True)
    runs: dict[str, dict[str, Any]] = {}
    bad_metrics: dict[str, dict[str, Any]] = {}

    def audit(name: str, calibration: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> RunOutcome:
        with Progress(f"calibrate:{name}", quiet=quiet) as progress:
            return run_audit(
                input_path,
                out_dir / name,
                config=config,
                scorer=make_scorer(name, seed=config.seed),
                created_at=created_at,
                workers=workers,
                signer=signer,
                columns=columns,
                on_total=progress.set_total,
                on_progress=progress.advance,
                calibration=calibration,
                cache=cache,
            )

    for name in KNOWN_BAD:
        outcome = audit(name)
        runs[name] = _run_summary(name, outcome)
        bad_metrics[name] = outcome.metrics
    # Reference scorers score every decoy, so every run judges the same molecules with the same decoy counts.
    judged = _judged_molecules(out_dir / KNOWN_BAD[0] / SUMMARY, config)

    def calibration_block(good: dict[str, Any]) -> dict[str, Any]:
        good_run = {
            "pack": KNOWN_GOOD,
            "zip_sha256": None,  # this very pack: its zip does not exist yet
            "pass_rate": good["pass_rate"],
            "median_slack": good["slack"]["median"],
            "n_judged": good["n_judged"],
        }
        return {
            "schema_version": CALIBRATION_SCHEMA,
            "created_at": iso(created_at),
            "input": input_path.name,
            "runs": {KNOWN_GOOD: good_run, **runs},
            "separation": {
                f"{KNOWN_GOOD}_minus_{bad}": _judged_separation(good, bad_metrics[bad]) for bad in KNOWN_BAD
            },
            "thresholds": {"delta_median_slack": MIN_DELTA_MEDIAN_SLACK, "delta_pass_rate": MIN_DELTA_PASS_RATE},
            "power": power_curve(judged),
        }

    good = audit(KNOWN_GOOD, calibration_block)
    result: dict[str, Any] = dict(good.metrics["calibration"])
    result["runs"] = {**result["runs"], KNOWN_GOOD: _run_summary(KNOWN_GOOD, good)}
    (out_dir / "calibration.json").write_text(
        json.dumps(result, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8"
    )
    shutil.copyfile(out_dir / KNOWN_GOOD / REPORT, out_dir / CALIBRATION_REPORT)
    return result

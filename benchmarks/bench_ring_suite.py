"""Ring-system coverage at every ladder cap: which ring classes get decoys, and how many, under ``--max-rung``.

Runs the engine (mock scorer) on ``ring_suite/ring_suite.csv`` (457 molecules written from textbook ring
chemistry, one-word class each) once per cap and prints, per class: rows, share of rows with at least one decoy,
share reaching k, and the top SKIP reasons; then ``metrics.json`` → ``decoy_rejections.share_with_decoys`` per
cap. The seed's ring-suite contract is the ``relax_aromatic`` cap: ring systems are never rewired there, so ring
classes with no acyclic single bond to spare (bare ring systems) are expected to get few decoys.

    python benchmarks/bench_ring_suite.py [--k 20] [--workers 2] [--decoy-filter standard] [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hetero_core.config import RunConfig
from hetero_core.decoys import DECOY_FILTERS, LADDER
from hetero_core.layout import EXTRA_COLUMN_PREFIX, METRICS, SUMMARY
from hetero_core.pipeline import run_audit
from hetero_core.scores import make_scorer

SUITE = Path(__file__).resolve().parent / "ring_suite" / "ring_suite.csv"
CLASS_COLUMN = EXTRA_COLUMN_PREFIX + "class"


def run_cap(cap: str, work: Path, *, k: int, workers: int, decoy_filter: str) -> dict[str, Any]:
    """One audit of the suite at ``cap``; per-class yield and the run's share_with_decoys."""
    pack = work / f"pack_{cap}"
    config = RunConfig(k_decoys=k, max_rung=cap, decoy_filter=decoy_filter)  # type: ignore[arg-type]
    run_audit(SUITE, pack, config=config, scorer=make_scorer("mock"), created_at=datetime.now(UTC), workers=workers)
    per_class: dict[str, dict[str, Any]] = defaultdict(lambda: {"rows": 0, "with": 0, "reach": 0, "skips": Counter()})
    with (pack / SUMMARY).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            facts = per_class[row[CLASS_COLUMN]]
            facts["rows"] += 1
            n = int(row["n_decoys"] or 0)
            facts["with"] += n > 0
            facts["reach"] += n >= k
            if row["status"] != "OK":
                facts["skips"][row["reason"]] += 1
    metrics = json.loads((pack / METRICS).read_text(encoding="utf-8"))
    return {
        "cap": cap,
        "share_with_decoys": metrics["decoy_rejections"]["share_with_decoys"],
        "share_reaching_k": metrics["decoys"]["share_reaching_k"],
        "classes": {
            name: {
                "rows": f["rows"],
                "share_with_decoys": f["with"] / f["rows"],
                "share_reaching_k": f["reach"] / f["rows"],
                "top_skip_reasons": dict(f["skips"].most_common(3)),
            }
            for name, f in sorted(per_class.items())
        },
    }


def render(result: dict[str, Any], k: int) -> str:
    lines = [
        f"cap {result['cap']}: share_with_decoys {result['share_with_decoys']:.3f}, "
        f"share reaching k={k} {result['share_reaching_k']:.3f}",
        f"  {'class':<11} {'rows':>4} {'with decoys':>11} {'reach k':>8}  top SKIP reasons",
    ]
    for name, c in result["classes"].items():
        skips = ", ".join(f"{reason} {count}" for reason, count in c["top_skip_reasons"].items()) or "-"
        lines.append(
            f"  {name:<11} {c['rows']:>4} {c['share_with_decoys']:>11.3f} {c['share_reaching_k']:>8.3f}  {skips}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--decoy-filter", choices=DECOY_FILTERS, default="standard")
    parser.add_argument("--caps", default=",".join(LADDER), help="comma-separated caps (default: every rung)")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="ring-suite-") as scratch:
        for cap in args.caps.split(","):
            result = run_cap(cap, Path(scratch), k=args.k, workers=args.workers, decoy_filter=args.decoy_filter)
            results.append(result)
            print(render(result, args.k), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

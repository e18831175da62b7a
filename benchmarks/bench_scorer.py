"""Throughput of a customer's model run in process vs the built-in ``mock`` scorer (issue 16: within 10%).

Both runs audit the same input with the same engine parameters; the only differences are the road the scores
take: ``mock`` is a per-row scorer inside the workers, the callable is batched across rows, its numbers are
written to ``<out>.scores.csv`` and read back for the manifest. The callable is trivial (SMILES length), so the
figure is the overhead of that road, not a model's cost. Runs alternate (mock, callable, mock, ...) so that
load from other work on the machine hits both alike; the median of each is reported, for wall time and for CPU
time (this process and its reaped workers), which other work on a shared machine disturbs far less. Asserts
nothing.

    .venv/bin/python benchmarks/bench_scorer.py --dataset chembl --n 500 --k 20 --workers 2 --repeats 3
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from datasets import DATASETS, DataCache, write_input  # this script's folder, first on sys.path

from hetero_core.chunks import default_workers
from hetero_core.config import RunConfig
from hetero_core.pack import resolve_created_at
from hetero_core.pipeline import audit_callable, run_audit
from hetero_core.scores import make_scorer

if TYPE_CHECKING:
    from collections.abc import Callable


def trivial_model(smiles: list[str]) -> list[float]:
    """The cheapest real callable scorer: one float per molecule, no chemistry (picklable, so it runs in workers)."""
    return [float(len(s)) for s in smiles]


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(run: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of ``run`` (a pool's workers are reaped before it returns, so their CPU counts)."""
    wall, cpu = time.perf_counter(), _cpu()
    run()
    return time.perf_counter() - wall, _cpu() - cpu


def _mock(input_path: Path, out: Path, config: RunConfig, workers: int) -> None:
    run_audit(
        input_path,
        out,
        config=config,
        scorer=make_scorer("mock"),
        created_at=resolve_created_at("2026-11-30T12:00:00Z"),
        workers=workers,
    )


def _callable(input_path: Path, out: Path, config: RunConfig, workers: int, batch_size: int) -> None:
    run = audit_callable(
        input_path,
        out,
        trivial_model,
        config=config,
        created_at=resolve_created_at("2026-11-30T12:00:00Z"),
        workers=workers,
        batch_size=batch_size,
    )
    assert run.scoring == ("workers" if workers > 1 else "main process")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="chembl")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--decoy-descriptors", choices=("full", "fast"), default="fast")
    parser.add_argument("--json", type=Path, help="write the numbers here as JSON as well")
    args = parser.parse_args(argv)

    config = RunConfig(k_decoys=args.k, decoy_descriptors=args.decoy_descriptors)
    with tempfile.TemporaryDirectory(prefix="bench-scorer-") as scratch:
        root = Path(scratch)
        input_path = write_input(args.dataset, args.n, root / "input.csv", cache=DataCache())
        mock: list[tuple[float, float]] = []
        model: list[tuple[float, float]] = []
        for i in range(args.repeats):
            mock.append(_timed(functools.partial(_mock, input_path, root / f"mock{i}", config, args.workers)))
            model.append(
                _timed(
                    functools.partial(_callable, input_path, root / f"model{i}", config, args.workers, args.batch_size)
                )
            )
    mock_s, model_s = statistics.median(w for w, _ in mock), statistics.median(w for w, _ in model)
    mock_cpu, model_cpu = statistics.median(c for _, c in mock), statistics.median(c for _, c in model)
    result = {
        "dataset": args.dataset,
        "n": args.n,
        "k": args.k,
        "workers": args.workers,
        "decoy_descriptors": args.decoy_descriptors,
        "batch_size": args.batch_size,
        "mock_wall_cpu_seconds": mock,
        "callable_wall_cpu_seconds": model,
        "mock_molecules_per_second": args.n / mock_s,
        "callable_molecules_per_second": args.n / model_s,
        "callable_over_mock_time": model_s / mock_s,
        "callable_over_mock_cpu": model_cpu / mock_cpu,
    }
    print(
        f"{args.dataset} n={args.n} k={args.k} workers={args.workers} {args.decoy_descriptors}: "
        f"mock {args.n / mock_s:.1f} mol/s (median {mock_s:.2f} s), "
        f"callable {args.n / model_s:.1f} mol/s (median {model_s:.2f} s); "
        f"callable/mock wall {model_s / mock_s:.3f}, "
        f"CPU {model_cpu:.1f} s / {mock_cpu:.1f} s = {model_cpu / mock_cpu:.3f}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

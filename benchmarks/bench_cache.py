"""Decoy cache benchmark: ``hetero2 run`` as a user runs it, with a cold cache, a warm cache and no cache.

Numbers, not assertions. Each run is the real command line in a process of its own, so its figures are the
whole process's: wall seconds from start to exit (start-up and pack sealing included), CPU seconds and the peak
resident size of the largest process (the main process or a pool worker, ``RUSAGE_CHILDREN`` after it is
reaped, as ``/usr/bin/time -v`` reports it). The engine's own rate (rows over the time ``run_audit`` took,
start-up excluded) is read from the run-statistics file the CLI writes beside the pack, with the cache counts.

    python benchmarks/bench_cache.py --n 2000 --k 20 --workers 2 --repeats 3
    python benchmarks/bench_cache.py --n 10000 --modes warm,off --cache-dir DIR --repeats 3   # steady state, a warm DIR
    python benchmarks/bench_cache.py --sizes 1000,10000,100000 --k 20 --workers 2   # memory: cold then warm

``--cache-dir DIR`` serves the warm runs from a folder a cold run of the same (or a larger) input filled before,
so a steady-state size (10,000 rows and more) needs no cold run per repeat; runs only read it (nothing is written
on a hit). ``--modes`` picks which of cold, warm and off run, in that order, in turn.

``--distinct N`` makes an input of S rows from the first N molecules of the data set, repeated with ids of their own
(``r<row>``): a 100k-row memory point then costs N molecules' decoys instead of 100k (rows stream, so memory
follows the row count; the table's hits/misses say how many rows were served from the cache).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from datasets import DATASETS, DatasetError, write_input  # this script's folder, first on sys.path

_RSS_UNIT_BYTES = 1 if sys.platform == "darwin" else 1024
_MB = 1024 * 1024
MODES = ("cold", "warm", "off")


@dataclass(frozen=True, slots=True)
class CacheRun:
    """One whole ``hetero2 run`` process."""

    mode: str  # cold: empty cache folder; warm: the folder a cold run filled; off: --no-cache
    rows: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    engine_molecules_per_second: float
    hits: int
    misses: int
    corrupt: int

    @property
    def molecules_per_second(self) -> float:
        return self.rows / self.wall_s if self.wall_s > 0 else 0.0


def run_cli(input_path: Path, out: Path, cache_dir: Path | None, *, k: int, workers: int, extra: list[str]) -> CacheRun:
    """``hetero2 run`` in a fresh process; the caller makes one call per process (ru_maxrss never goes down)."""
    command = [sys.executable, "-m", "hetero_core.cli", "run", str(input_path), "--out", str(out)]
    command += ["--scorer", "mock", "--k-decoys", str(k), "--workers", str(workers), "--quiet", *extra]
    command += ["--cache-dir", str(cache_dir)] if cache_dir is not None else ["--no-cache"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, check=False, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"hetero2 run failed ({completed.returncode}): {completed.stderr[-2000:]}")
    stats = json.loads(out.with_name(out.name + ".run.json").read_text(encoding="utf-8"))
    cache = stats["decoy_cache"]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return CacheRun(
        mode="off" if cache_dir is None else ("warm" if cache["hits"] > cache["misses"] else "cold"),
        rows=int(stats["rows"]),
        wall_s=wall,
        cpu_s=cpu,
        peak_rss_mb=after.ru_maxrss * _RSS_UNIT_BYTES / _MB,
        engine_molecules_per_second=float(stats["molecules_per_second"]),
        hits=int(cache.get("hits", 0)),
        misses=int(cache.get("misses", 0)),
        corrupt=int(cache.get("corrupt", 0)),
    )


def measure_in_subprocess(input_path: Path, out: Path, cache_dir: Path | None, args: argparse.Namespace) -> CacheRun:
    """Run :func:`run_cli` in a child of its own, so the peak RSS read belongs to this one run."""
    result = out.with_name(out.name + ".measured.json")
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(input_path), str(out), str(result)]
    command += ["--k", str(args.k), "--workers", str(args.workers), *_engine_flags(args)]
    if cache_dir is not None:
        command += ["--child-cache", str(cache_dir)]
    subprocess.run(command, check=True)
    values = json.loads(result.read_text(encoding="utf-8"))
    return CacheRun(**values)


def _engine_flags(args: argparse.Namespace) -> list[str]:
    return ["--decoy-descriptors", args.decoy_descriptors] if args.decoy_descriptors else []


def _row(size: int, run: CacheRun) -> str:
    return (
        f"| {size:,} | {run.mode} | {run.wall_s:.1f} | **{run.molecules_per_second:.0f}** | "
        f"{run.engine_molecules_per_second:.0f} | {run.cpu_s:.1f} | {1000 * run.cpu_s / max(run.rows, 1):.2f} | "
        f"{run.peak_rss_mb:.1f} | {run.hits}/{run.misses}/{run.corrupt} |"
    )


HEADER = (
    "| rows | cache | wall s | molecules/s (whole process) | molecules/s (engine) | CPU s | CPU ms per row | "
    "peak RSS MB | hits/misses/corrupt |\n|---:|---|---:|---:|---:|---:|---:|---:|---|"
)


def throughput(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """Cold, warm and no-cache runs in turn, ``repeats`` times each; medians per mode."""
    input_path = _input(args, args.n, work)
    runs: dict[str, list[CacheRun]] = {mode: [] for mode in args.modes}
    for repeat in range(args.repeats):
        cache_dir = args.cache_dir or work / f"cache{repeat}"
        for mode in args.modes:
            out = work / f"pack_{mode}{repeat}"
            runs[mode].append(measure_in_subprocess(input_path, out, None if mode == "off" else cache_dir, args))
            shutil.rmtree(out)
        if args.cache_dir is None:
            shutil.rmtree(cache_dir)
    print(HEADER)
    summary = []
    for mode in args.modes:
        median = _median_run(runs[mode])
        print(_row(args.n, median))
        summary.append({"mode": mode, "median": asdict(median), "runs": [asdict(r) for r in runs[mode]]})
    return summary


def _median_run(runs: list[CacheRun]) -> CacheRun:
    """The run with the median wall time (an actual run, so its figures belong together)."""
    ordered = sorted(runs, key=lambda r: r.wall_s)
    chosen = ordered[(len(ordered) - 1) // 2]
    mean_rate = statistics.median(r.engine_molecules_per_second for r in runs)
    return CacheRun(**{**asdict(chosen), "engine_molecules_per_second": mean_rate})


def memory_series(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """Peak memory by input size, cold and warm. Cold runs go largest first, each into an empty cache folder; the
    largest one's folder then serves every warm run (the first N rows of the data set are the same molecules)."""
    print(HEADER, flush=True)
    rows = []
    inputs = {size: _input(args, size, work) for size in args.sizes}
    largest = max(args.sizes)
    for mode, order in (("cold", sorted(args.sizes, reverse=True)), ("warm", sorted(args.sizes))):
        for size in order:
            cache_dir = work / f"cache_n{size if mode == 'cold' else largest}"
            out = work / f"pack_n{size}_{mode}"
            run = measure_in_subprocess(inputs[size], out, cache_dir, args)
            print(_row(size, run), flush=True)
            rows.append({"size": size, **asdict(run)})
            shutil.rmtree(out)
            if mode == "cold" and size != largest:
                shutil.rmtree(cache_dir)
    return rows


def _input(args: argparse.Namespace, size: int, work: Path) -> Path:
    """The first ``size`` molecules, or with ``--distinct N`` the first N repeated to ``size`` rows."""
    if not args.distinct or size <= args.distinct:
        first: Path = write_input(args.dataset, size, work / f"input_n{size}.csv")
        return first
    distinct = write_input(args.dataset, args.distinct, work / f"distinct_n{args.distinct}.csv")
    smiles = [line.split(",", 1)[1] for line in distinct.read_text(encoding="utf-8").splitlines()[1:]]
    path = work / f"input_n{size}_from{args.distinct}.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,smiles\n")
        handle.writelines(f"r{row},{smiles[row % len(smiles)]}\n" for row in range(size))
    return path


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _modes(text: str) -> list[str]:
    modes = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(modes) - set(MODES))
    if unknown or not modes:
        raise argparse.ArgumentTypeError(f"modes are {', '.join(MODES)}; got {text!r}")
    return [mode for mode in MODES if mode in modes]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=DATASETS, default="moses")
    parser.add_argument("--n", type=int, default=2000, help="rows for the throughput table (default 2000)")
    parser.add_argument("--repeats", type=int, default=3, help="cold/warm/off rounds; medians are printed")
    parser.add_argument("--modes", type=_modes, default=list(MODES), help="of cold,warm,off (default all three)")
    parser.add_argument("--cache-dir", type=Path, help="a warm cache folder for the warm runs (no cold run needed)")
    parser.add_argument("--sizes", type=_sizes, help="memory series instead: e.g. 1000,10000,100000")
    parser.add_argument("--distinct", type=int, help="rows repeat the first N molecules (ids of their own)")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--decoy-descriptors", choices=("full", "fast"))
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--json", type=Path, help="also write every run as JSON here")
    parser.add_argument("--child", nargs=3, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-cache", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.cache_dir is not None and "cold" in args.modes and not args.child:
        raise SystemExit("--cache-dir serves warm runs; leave cold out of --modes (a cold run needs an empty folder)")
    if args.child:
        input_path, out, result = args.child
        run = run_cli(input_path, out, args.child_cache, k=args.k, workers=args.workers, extra=_engine_flags(args))
        result.write_text(json.dumps(asdict(run)) + "\n", encoding="utf-8")
        return 0
    os.environ.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    with tempfile.TemporaryDirectory(prefix="hetero2-bench-cache-", dir=args.work) as scratch:
        try:
            report = memory_series(args, Path(scratch)) if args.sizes else throughput(args, Path(scratch))
        except DatasetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("note: numbers from a shared machine are noisy; compare runs made side by side", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

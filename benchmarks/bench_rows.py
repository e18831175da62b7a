"""CPU time of the per-row work (``process_rows``) in one process, and a digest of every result it produced.

No pool, no pack: the same rows through prepare → decoys → mock scores → audit → descriptors, timed with
``time.process_time`` (CPU seconds of this process, which a busy shared machine disturbs far less than wall time).
The digest is the sha256 of every ``RowResult`` as JSON: two engine versions that print the same digest produced
the same decoys, descriptors and audit numbers, row for row, so a speed change can be checked for exactness.

``--cache-dir DIR`` times warm rows: a first, untimed pass fills the folder (a no-op when it is warm already), then
every timed pass takes its decoys from the cache, as a re-audit does. ``--pack`` times the whole ``run_audit`` in this
process instead (rows, ``summary.csv``/``decoys.csv``, metrics, report, zip; no pool), which is a warm run's main
process and its worker in one, and prints the digest of the pack's zip instead of the rows'.

    python benchmarks/bench_rows.py --n 1000 --k 20 [--decoy-descriptors fast] [--profile FILE.pstats]
    python benchmarks/bench_rows.py --n 1000 --k 20 --cache-dir DIR [--pack] [--repeats 3] [--profile FILE.pstats]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from datasets import DATASETS, write_input  # this script's folder, first on sys.path

from hetero_core.cache import CacheStats, DecoyCache, FolderStore
from hetero_core.chunks import RowResult, process_rows
from hetero_core.config import RunConfig
from hetero_core.io import InputColumns
from hetero_core.pipeline import run_audit
from hetero_core.scores import Scorer, make_scorer

if TYPE_CHECKING:
    from hetero_core.records import InputRow

CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)
# a timed pass returns what to call, once the clock has stopped, for the digest of what it produced
Pass = Callable[[], Callable[[], str]]


def _rows_pass(rows: list[InputRow], config: RunConfig, scorer: Scorer, cache: DecoyCache | None) -> Pass:
    """One timed pass over the rows; the digest of its results is taken after the clock stops."""

    def run() -> Callable[[], str]:
        results = list(process_rows(rows, config, scorer, cache))
        return lambda: _results_digest(results, cache)

    return run


def _results_digest(results: list[RowResult], cache: DecoyCache | None) -> str:
    digest = hashlib.sha256()
    for result in results:
        digest.update(json.dumps(result.to_dict(), sort_keys=True).encode())
    looked_up = [r.decoy_cache for r in results if r.decoy_cache]  # SKIPs before decoys never reach the cache
    stats = CacheStats.of(looked_up)
    if cache is not None and stats.hits != len(looked_up):
        print(f"note: not every row was a hit: {stats.sentence()}", file=sys.stderr)
    return digest.hexdigest()


def _pack_pass(input_path: Path, out: Path, config: RunConfig, scorer: Scorer, cache: DecoyCache | None) -> Pass:
    """One whole ``run_audit`` in this process; the pack's zip sha256 once the clock stops."""

    def run() -> Callable[[], str]:
        outcome = run_audit(input_path, out, config=config, scorer=scorer, created_at=CREATED_AT, cache=cache)
        return lambda: outcome.pack.zip_sha256

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="CPU time per molecule of process_row, in one process.")
    parser.add_argument("--dataset", choices=DATASETS, default="moses")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--decoy-descriptors", choices=("full", "fast"), default="full")
    parser.add_argument("--decoy-filter", choices=("standard", "none", "strict"), default="standard")
    parser.add_argument("--repeats", type=int, default=1, help="time the rows this many times; the median is shown")
    parser.add_argument("--dump", type=Path, metavar="FILE", help="write every result as a JSON line here")
    parser.add_argument("--profile", type=Path, metavar="FILE", help="write a cProfile of one pass here (pstats)")
    parser.add_argument("--cache-dir", type=Path, help="warm rows: decoys from this cache folder (filled first)")
    parser.add_argument("--pack", action="store_true", help="time the whole run_audit (pack included), one process")
    args = parser.parse_args(argv)

    config = RunConfig(k_decoys=args.k, decoy_descriptors=args.decoy_descriptors, decoy_filter=args.decoy_filter)
    scorer = make_scorer("mock")
    cache = DecoyCache(FolderStore(args.cache_dir)) if args.cache_dir is not None else None
    with tempfile.TemporaryDirectory() as tmp:
        input_path = write_input(args.dataset, args.n, Path(tmp) / "input.csv")
        rows = list(InputColumns().read(input_path))
        if args.dump is not None:
            results = list(process_rows(rows, config, scorer, cache))
            args.dump.write_text("".join(json.dumps(r.to_dict(), sort_keys=True) + "\n" for r in results), "utf-8")
        one_pass = (
            _pack_pass(input_path, Path(tmp) / "pack", config, scorer, cache)
            if args.pack
            else _rows_pass(rows, config, scorer, cache)
        )
        if cache is not None:
            list(process_rows(rows, config, scorer, cache))  # fills a cold folder; untimed
        times: list[float] = []
        digests: set[str] = set()
        for _ in range(args.repeats):
            start = time.process_time()
            digest_of_pass = one_pass()
            times.append(time.process_time() - start)
            digests.add(digest_of_pass())
        if args.profile is not None:
            profiler = cProfile.Profile(time.process_time)
            profiler.runcall(one_pass)
            profiler.dump_stats(args.profile)

    cpu = sorted(times)[len(times) // 2]
    print(f"rows                  {len(rows)}{' (warm cache)' if cache is not None else ''}")
    print(f"CPU s (median of {len(times)})    {cpu:.3f}")
    print(f"CPU-ms per molecule   {1000 * cpu / len(rows):.2f}")
    print(f"molecules/s per core  {len(rows) / cpu:.1f}")
    label = "pack zip sha256" if args.pack else "result digest"
    print(f"{label:<22}{' '.join(sorted(digests))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

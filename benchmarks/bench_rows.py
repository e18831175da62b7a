"""CPU time of the per-row work (``process_rows``) in one process, and a digest of every result it produced.

No pool, no pack: the same rows through prepare → decoys → mock scores → audit → descriptors, timed with
``time.process_time`` (CPU seconds of this process, which a busy shared machine disturbs far less than wall time).
The digest is the sha256 of every ``RowResult`` as JSON: two engine versions that print the same digest produced
the same decoys, descriptors and audit numbers, row for row, so a speed change can be checked for exactness.

    python benchmarks/bench_rows.py --n 1000 --k 20 [--decoy-descriptors fast] [--profile FILE.pstats]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

from datasets import DATASETS, write_input  # this script's folder, first on sys.path

from hetero_core.chunks import process_rows
from hetero_core.config import RunConfig
from hetero_core.io import InputColumns
from hetero_core.scores import make_scorer


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
    args = parser.parse_args(argv)

    config = RunConfig(k_decoys=args.k, decoy_descriptors=args.decoy_descriptors, decoy_filter=args.decoy_filter)
    scorer = make_scorer("mock")
    with tempfile.TemporaryDirectory() as tmp:
        rows = list(InputColumns().read(write_input(args.dataset, args.n, Path(tmp) / "input.csv")))

    times: list[float] = []
    digests: set[str] = set()
    for _ in range(args.repeats):
        digest = hashlib.sha256()
        start = time.process_time()
        results = list(process_rows(rows, config, scorer))
        times.append(time.process_time() - start)
        for result in results:
            digest.update(json.dumps(result.to_dict(), sort_keys=True).encode())
        digests.add(digest.hexdigest())
        if args.dump is not None:
            args.dump.write_text("".join(json.dumps(r.to_dict(), sort_keys=True) + "\n" for r in results), "utf-8")
    if args.profile is not None:
        profiler = cProfile.Profile(time.process_time)
        profiler.runcall(lambda: list(process_rows(rows, config, scorer)))
        profiler.dump_stats(args.profile)

    cpu = sorted(times)[len(times) // 2]
    print(f"rows                  {len(rows)}")
    print(f"CPU s (median of {len(times)})    {cpu:.3f}")
    print(f"CPU-ms per molecule   {1000 * cpu / len(rows):.2f}")
    print(f"molecules/s per core  {len(rows) / cpu:.1f}")
    print(f"result digest         {' '.join(sorted(digests))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

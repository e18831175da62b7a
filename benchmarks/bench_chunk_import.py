"""The RunChunk Lambda's cold start, the part Python owns: importing the chunk handler in a fresh process, with the
full worker image's packages present and with matplotlib and pyarrow absent (the lean ``chunk`` image), and the
bytes the lean image leaves out. Prints medians of whole fresh processes; nothing is asserted (docs/cost.md).

    .venv/bin/python benchmarks/bench_chunk_import.py --runs 9
    HETERO2_BUCKET=b HETERO2_TABLE=t .venv/bin/python benchmarks/bench_chunk_import.py --once lean   # one import
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HANDLER = "functions.handlers.run_chunk"
# What functions/chunk.requirements.txt prunes (scripts/lock.sh: --prune matplotlib --prune pyarrow).
LEFT_OUT = ("matplotlib", "mpl_toolkits", "pyarrow", "contourpy", "fontTools", "kiwisolver", "cycler", "pyparsing")
ABSENT = (
    "import importlib.abc, sys\n"
    "class Absent(importlib.abc.MetaPathFinder):\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in ('matplotlib', 'pyarrow'):\n"
    "            raise ModuleNotFoundError(name)\n"
    "sys.meta_path.insert(0, Absent())\n"
)


def import_seconds(lean: bool) -> float:
    """Wall seconds of ``import HANDLER`` measured inside a fresh interpreter (its start-up excluded)."""
    code = (ABSENT if lean else "") + (
        f"import time\nstarted = time.perf_counter()\nimport {HANDLER}\nprint(time.perf_counter() - started)\n"
    )
    environment = {**os.environ, "HETERO2_BUCKET": "b", "HETERO2_TABLE": "t"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment)
    return float(out.stdout.strip().splitlines()[-1])


def package_bytes(name: str) -> int:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return 0
    return sum(
        p.stat().st_size for folder in spec.submodule_search_locations for p in Path(folder).rglob("*") if p.is_file()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="fresh processes per variant (alternating)")
    parser.add_argument(
        "--once",
        choices=("full", "lean"),
        help="import the handler once in this process and exit (for timing the whole process from outside)",
    )
    args = parser.parse_args(argv)
    if args.once:
        exec(compile((ABSENT if args.once == "lean" else "") + f"import {HANDLER}\n", "<once>", "exec"), {})
        return 0
    times: dict[str, list[float]] = {"full": [], "lean": []}
    started = time.perf_counter()
    for _ in range(args.runs):
        for variant in ("full", "lean"):
            times[variant].append(import_seconds(variant == "lean"))
    left_out = {name: package_bytes(name) for name in LEFT_OUT}
    report = {
        "runs": args.runs,
        "import_s_median": {variant: round(statistics.median(values), 3) for variant, values in times.items()},
        "import_s_min_max": {variant: [round(min(v), 3), round(max(v), 3)] for variant, v in times.items()},
        "left_out_mb": {name: round(size / 1e6, 1) for name, size in left_out.items()},
        "left_out_total_mb": round(sum(left_out.values()) / 1e6, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Finalize before and after parallel pack assembly, per molecule, as whole processes (for medians of several runs).

``prepare`` makes N rows of real results (200 MOSES molecules at k = 20 through the engine, repeated with new row
numbers and ids, so rows have real sizes) and stores them twice: as the old finalize read them (one JSON line per
row result) and as chunk workers now leave them (a share and a data object per 1,000-row chunk). ``run`` then does
one finalize in a fresh process:

- ``--mode serial``: the old finalize: decode every row result, format every CSV cell, compress, seal, zip;
- ``--mode parallel``: the new one: merge the chunks' partial metrics, stitch their slices, seal the small members,
  join the zip (in memory here; UploadPartCopy in S3) and hash it.

The per-molecule figure is the slope between two sizes (the imports and the report's fixed cost cancel out):

    .venv/bin/python benchmarks/bench_finalize.py prepare --n 2000 8000 --dir /tmp/fin
    farm-bench -n 5 -- .venv/bin/python benchmarks/bench_finalize.py run --mode parallel --n 8000 --dir /tmp/fin
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from datasets import write_input  # this script's folder, first on sys.path

from hetero_core.chunks import RowResult, mark_duplicates, process_rows
from hetero_core.config import RunConfig
from hetero_core.io import DEFAULT_COLUMNS, InputScan
from hetero_core.pack import (
    ChunkShare,
    MemberTables,
    ResultCollector,
    ScorerFacts,
    assemble_pack,
    chunk_share,
    seal_stitched,
    stitch_shares,
)
from hetero_core.scores import make_scorer

SEED_MOLECULES = 200
CHUNK_ROWS = 1000
CONFIG = RunConfig(k_decoys=20)
CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def _scan(n: int) -> InputScan:
    return InputScan(format="csv", rows=n, columns=("smiles", "id"), extra_columns=(), sha256="0" * 64)


def _seed_results(folder: Path) -> list[RowResult]:
    cached = folder / "seed.jsonl"
    if not cached.exists():
        with tempfile.TemporaryDirectory() as tmp:
            path = write_input("moses", SEED_MOLECULES, Path(tmp) / "input.csv")
            rows = list(mark_duplicates(DEFAULT_COLUMNS.read(path)))
            results = process_rows(rows, CONFIG, make_scorer("mock"))
            cached.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in results))
    return [RowResult.from_dict(json.loads(line)) for line in cached.read_text().splitlines()]


def _rows(seeds: list[RowResult], n: int) -> list[RowResult]:
    out = []
    for index in range(1, n + 1):
        seed = seeds[(index - 1) % len(seeds)]
        ident = f"m{index}"
        decoys = [{**d, "molecule_id": ident} for d in seed.decoys]
        out.append(
            dataclasses.replace(seed, index=index, id=ident, summary={**seed.summary, "id": ident}, decoys=decoys)
        )
    return out


def prepare(sizes: list[int], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    seeds = _seed_results(folder)
    tables = MemberTables()
    for n in sizes:
        rows = _rows(seeds, n)
        (folder / f"results-{n}.jsonl").write_text("".join(json.dumps(r.to_dict()) + "\n" for r in rows))
        shares = folder / f"shares-{n}"
        shares.mkdir(exist_ok=True)
        for first in range(0, n, CHUNK_ROWS):
            part = rows[first : first + CHUNK_ROWS]
            share, data, _ = chunk_share(part, first_row=first + 1, total_rows=n, tables=tables, config=CONFIG)
            (shares / f"{first:09d}.json").write_text(json.dumps(share.to_dict()))
            (shares / f"{first:09d}.slices").write_bytes(data)


def run_serial(n: int, folder: Path) -> str:
    lines = (folder / f"results-{n}.jsonl").read_text().splitlines()
    with tempfile.TemporaryDirectory() as tmp:
        assembled = assemble_pack(
            (RowResult.from_dict(json.loads(line)) for line in lines),
            Path(tmp) / "pack",
            input_name="input.csv",
            scan=_scan(n),
            config=CONFIG,
            scorer=ScorerFacts("mock"),
            created_at=CREATED_AT,
        )
        return assembled.pack.zip_sha256


def run_parallel(n: int, folder: Path) -> str:
    shares: list[tuple[ChunkShare, str | bytes]] = []
    collector = ResultCollector.for_config(CONFIG)
    for path in sorted((folder / f"shares-{n}").glob("*.json")):
        share = ChunkShare.from_dict(json.loads(path.read_text()))
        collector.absorb(share.metrics)
        shares.append((share, path.with_suffix(".slices").read_bytes()))
    tables = MemberTables()
    members = stitch_shares(shares, total_rows=n, tables=tables)
    sealed = seal_stitched(
        members,
        collector,
        input_name="input.csv",
        scan=_scan(n),
        config=CONFIG,
        scorer=ScorerFacts("mock"),
        created_at=CREATED_AT,
    )
    return hashlib.sha256(b"".join(p for p in sealed.zip if isinstance(p, bytes))).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    made = sub.add_parser("prepare")
    made.add_argument("--n", type=int, nargs="+", required=True)
    made.add_argument("--dir", type=Path, required=True)
    ran = sub.add_parser("run")
    ran.add_argument("--mode", choices=("serial", "parallel"), required=True)
    ran.add_argument("--n", type=int, required=True)
    ran.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare(args.n, args.dir)
        return 0
    digest = (run_serial if args.mode == "serial" else run_parallel)(args.n, args.dir)
    print(f"{args.mode} {args.n}: zip sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

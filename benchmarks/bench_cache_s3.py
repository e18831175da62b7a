"""A warm chunk served from an org's decoy cache on S3: entries read one row at a time, or read ahead.

The chunk worker's own work (``process_rows`` with the org's cache, then ``chunk_share``: the chunk's pack slices
and partial metrics) over moto S3 in this process, with every GetObject made ``--latency-ms`` slower by a botocore
``before-call`` hook that sleeps in the calling thread, as a round trip to S3 would (10-50 ms on AWS; moto answers
in about a millisecond). The hook lives here only; the product never sleeps.

A first, untimed pass fills the cache (every row a miss); then each repeat times the warm chunk once per mode, in
turn: ``serial`` (``read_ahead`` 0: one GET after another, as before read-ahead), ``ahead`` (``--read-ahead``
GETs at once) and, when asked, ``off`` (no cache: the decoys built, the cost a warm cache must never exceed).
Wall and CPU seconds of the chunk alone (the fill, moto's start and the imports excluded); medians over repeats.
Every warm pass must give the same rows (digest) and all hits; nothing is asserted beyond that, the numbers are
evidence for humans.

    .venv/bin/python benchmarks/bench_cache_s3.py --n 2000 --k 20 --latency-ms 20 --repeats 3
    .venv/bin/python benchmarks/bench_cache_s3.py --n 2000 --latency-ms 50 --modes serial,ahead,off
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from datasets import DATASETS, write_input  # this script's folder, first on sys.path
from moto import mock_aws

from functions.service.artifacts import ArtifactStore
from functions.service.context import s3_client
from functions.service.decoy_cache import CACHE_READ_THREADS, org_decoy_cache
from hetero_core.cache import CacheStats, DecoyCache
from hetero_core.chunks import process_rows
from hetero_core.config import RunConfig
from hetero_core.io import InputColumns
from hetero_core.pack import MemberTables, chunk_share
from hetero_core.scores import make_scorer

if TYPE_CHECKING:
    from hetero_core.records import InputRow

ORG = "org-bench"
BUCKET = "bench-artifacts"
MODES = ("serial", "ahead", "off")


def _latency(seconds: float) -> Any:
    """A ``before-call.s3.GetObject`` hook: the calling thread waits as it would for S3's answer."""

    def hook(**_: Any) -> None:
        time.sleep(seconds)

    return hook


def _warm_chunk(rows: list[InputRow], config: RunConfig, cache: DecoyCache | None) -> tuple[str, CacheStats]:
    """What run_chunk computes between reading its rows and writing its share; the digest of the rows."""
    _share, data, results = chunk_share(
        process_rows(rows, config, make_scorer("mock"), cache),
        first_row=1,
        total_rows=len(rows),
        tables=MemberTables([]),
        config=config,
    )
    digest = hashlib.sha256(data)
    for result in results:
        digest.update(json.dumps({**result.to_dict(), "decoy_cache": ""}, sort_keys=True).encode())
    return digest.hexdigest(), CacheStats.of(r.decoy_cache for r in results if r.decoy_cache)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A warm service chunk on S3 (moto + latency): serial vs read-ahead.")
    parser.add_argument("--dataset", choices=DATASETS, default="moses")
    parser.add_argument("--n", type=int, default=2000, help="rows in the chunk")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--decoy-descriptors", choices=("full", "fast"), default="full")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added to every GetObject")
    parser.add_argument("--read-ahead", type=int, default=CACHE_READ_THREADS, help="GETs at once in mode 'ahead'")
    parser.add_argument("--modes", default="serial,ahead", help=f"comma-separated, of {','.join(MODES)}")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown modes {sorted(unknown)}")

    config = RunConfig(k_decoys=args.k, decoy_descriptors=args.decoy_descriptors)
    with tempfile.TemporaryDirectory() as tmp, mock_aws():
        rows = list(InputColumns().read(write_input(args.dataset, args.n, Path(tmp) / "input.csv")))
        session = boto3.session.Session(region_name="us-east-1")
        s3 = s3_client(session)
        s3.create_bucket(Bucket=BUCKET)
        key_arn = session.client("kms").create_key()["KeyMetadata"]["Arn"]
        store = ArtifactStore(s3, BUCKET, ORG, key_arn)
        caches = {"serial": org_decoy_cache(store, 0), "ahead": org_decoy_cache(store, args.read_ahead), "off": None}
        _, filled = _warm_chunk(rows, config, caches["ahead"])  # untimed, before the latency is on
        s3.meta.events.register("before-call.s3.GetObject", _latency(args.latency_ms / 1000.0))

        wall: dict[str, list[float]] = {m: [] for m in modes}
        cpu: dict[str, list[float]] = {m: [] for m in modes}
        digests: set[str] = set()
        for _ in range(args.repeats):
            for mode in modes:
                started, started_cpu = time.perf_counter(), time.process_time()
                digest, stats = _warm_chunk(rows, config, caches[mode])
                wall[mode].append(time.perf_counter() - started)
                cpu[mode].append(time.process_time() - started_cpu)
                digests.add(digest)
                if mode != "off" and (stats.hits != filled.misses or stats.misses or stats.unwritable):
                    print(f"note: {mode} was not all hits: {stats.sentence()}", file=sys.stderr)

    print(
        f"rows {len(rows)} ({filled.misses} with decoys to look up), k {args.k}, {args.decoy_descriptors} descriptors,"
    )
    print(f"GetObject + {args.latency_ms:g} ms, read-ahead {args.read_ahead} GETs at once; medians of {args.repeats}")
    print(f"{'mode':<8}{'wall s':>10}{'CPU s':>10}{'rows/s':>10}{'ms/row':>10}")
    for mode in modes:
        seconds, cpu_s = statistics.median(wall[mode]), statistics.median(cpu[mode])
        print(f"{mode:<8}{seconds:>10.2f}{cpu_s:>10.2f}{len(rows) / seconds:>10.0f}{1000 * seconds / len(rows):>10.2f}")
    print(f"results identical in every mode and repeat: {'yes' if len(digests) == 1 else 'NO'}")
    return 0 if len(digests) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Measure the pieces of a service job on this machine and turn them into a cost and time model per 1,000,000
molecules (docs/cost.md quotes its output).

The deployed configuration (worker memory, architecture, Fargate size, the Map's concurrency for a 1,000,000-row
job, chunk sizing) is read from ``functions/service/deployment.py`` and ``functions/service/plans.py``, the modules
the CDK app deploys from; ``--json FILE`` writes top-level ``usd_per_million`` and ``wall_s_per_million`` for
that default (full decoy descriptors, k = 20) plus the breakdown.

Measured here, one process (a Lambda with 1,769 MB or more has one vCPU): chunk compute per molecule (the worker
Lambda's work: ``process_rows``, plus writing its share of the pack: formatting, compressing and hashing its
slices), chunk-share bytes per molecule (S3 traffic), finalize CPU per molecule (merge the partial metrics, stitch
the shares, hash the zip: the Finalize step; parallel pack assembly, docs/pack-format.md) and its fixed sealing
time (metrics, report, manifest, signature),
and pack bytes per molecule. The S3 side of finalize (parts copied with UploadPartCopy, the zip read back once for
its sha256) is modelled from S3 throughput assumptions stated below, not measured here. Prices are the us-east-1
list prices of ARCHITECTURE.md. Nothing is asserted; the numbers are evidence for humans.

    .venv/bin/python benchmarks/bench_pipeline.py --n 400 --k 20 --json /tmp/pipeline.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from datasets import write_input  # this script's folder, first on sys.path

from functions.service import deployment as sizing
from functions.service.artifacts import COMPOSE_THREADS
from functions.service.chunk_io import encode_rows
from functions.service.chunk_sizing import choose_executor, chunk_rows_for
from functions.service.settings import DEFAULT_FARGATE_MIN_ROWS, DEFAULT_FINALIZE_LAMBDA_MAX_ROWS
from hetero_core.chunks import mark_duplicates, process_rows
from hetero_core.config import RunConfig
from hetero_core.io import DEFAULT_COLUMNS
from hetero_core.pack import (
    ChunkShare,
    MemberTables,
    ResultCollector,
    ScorerFacts,
    chunk_share,
    seal_stitched,
    stitch_shares,
)
from hetero_core.scores import make_scorer

# us-east-1 list prices (ARCHITECTURE.md)
LAMBDA_GB_S_X86 = 0.0000166667
LAMBDA_GB_S_ARM = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1_000_000
SFN_TRANSITION = 0.025 / 1000
KMS_REQUEST = 0.03 / 10_000
S3_PUT = 0.005 / 1000
S3_GET = 0.0004 / 1000
FARGATE_VCPU_HOUR = 0.04048
FARGATE_GB_HOUR = 0.004445
FARGATE_ARM_VCPU_HOUR = 0.03238  # Graviton Fargate (us-east-1 list price); Fargate Spot runs x86_64 only
FARGATE_ARM_GB_HOUR = 0.00356
# ASSUMPTION: Fargate Spot at 70 % below on-demand Fargate. Source: AWS's Fargate pricing page and the Fargate Spot
# launch ("up to 70% discount off the Fargate price", December 2019); the real discount floats per region and hour,
# so --spot-discount reprices (docs/cost.md shows 50 % too).
FARGATE_SPOT_DISCOUNT = 0.70
# ASSUMPTION: 5 % of Spot chunk tasks are interrupted and run again from the start (AWS publishes no Fargate Spot
# interruption rate); each rerun is billed again in full.
SPOT_RERUN_SHARE = 0.05
# Express child executions: $1 per million, duration billed per GB-second at the 64 MB minimum.
EXPRESS_REQUEST = 1.00 / 1_000_000
EXPRESS_GB_S = 0.00001667
EXPRESS_MEMORY_GB = 64 / 1024
EXPRESS_MAX_SECONDS = 300
FINALIZE_LAMBDA_MAX_ROWS = DEFAULT_FINALIZE_LAMBDA_MAX_ROWS  # larger jobs finalize on Fargate
WORKER_GB = sizing.RUN_CHUNK_MEMORY_MB / 1024
FINALIZE_GB = sizing.FINALIZE_MEMORY_MB / 1024
PLAN_GB = sizing.PLAN_MEMORY_MB / 1024
FARGATE_VCPU = sizing.FARGATE_CPU / 1024
FARGATE_GB = sizing.FARGATE_MEMORY_MIB / 1024
FARGATE_START_S = 60.0  # image pull and start-up, billed (Fargate bills from the pull) and waited for
CHUNK_TASK_VCPU = sizing.FARGATE_CHUNK_CPU / 1024
CHUNK_TASK_GB = sizing.FARGATE_CHUNK_MEMORY_MIB / 1024
DEFAULT_DESCRIPTORS = "full"
TRANSITIONS_PER_CHUNK = 4  # child execution start, RunChunk entered/exited, child end
TRANSITIONS_PER_JOB = 12
# S3 throughput assumptions for finalize's S3 side (not measurable here): one GET stream ~90 MB/s (the zip read back
# for its sha256); an UploadPartCopy part moves ~50 MB/s inside S3, COMPOSE_THREADS parts at once.
S3_STREAM_BYTES_PER_S = 90e6
S3_COPY_BYTES_PER_S = 50e6
BENCH_SLICE_CHUNK_ROWS = 1000  # whole slices per share, as the planner's own chunk sizes give


@dataclass
class Measured:
    molecules: int
    k: int
    descriptors: str
    chunk_s_per_molecule: float
    share_s_per_molecule: float
    result_bytes_per_molecule: float
    rows_bytes_per_molecule: float
    finalize_s_per_molecule: float
    finalize_fixed_s: float
    pack_zip_bytes_per_molecule: float
    pack_csv_bytes_per_molecule: float


def measure(n: int, k: int, descriptors: str) -> Measured:
    with tempfile.TemporaryDirectory() as tmp:
        input_path = write_input("moses", n, Path(tmp) / "input.csv")
        rows = list(mark_duplicates(DEFAULT_COLUMNS.read(input_path)))
        config = RunConfig(k_decoys=k, decoy_descriptors=descriptors)  # type: ignore[arg-type]
        scorer = make_scorer("mock")
        started = time.perf_counter()
        results = list(process_rows(rows, config, scorer))
        chunk_seconds = time.perf_counter() - started
        rows_bytes = len(encode_rows(rows))
        scan = DEFAULT_COLUMNS.scan(input_path)
        tables = MemberTables(scan.extra_columns)

        def shares(count: int) -> tuple[list[tuple[ChunkShare, str | bytes]], float, int]:
            """The workers' side: each 1,000-row chunk's share (format, compress, hash its slices)."""
            started = time.perf_counter()
            out: list[tuple[ChunkShare, str | bytes]] = []
            for first in range(0, count, BENCH_SLICE_CHUNK_ROWS):
                part = results[first : min(count, first + BENCH_SLICE_CHUNK_ROWS)]
                share, data, _ = chunk_share(part, first_row=first + 1, total_rows=count, tables=tables, config=config)
                out.append((share, data))
            seconds = time.perf_counter() - started
            size = sum(len(data) + len(json.dumps(share.to_dict())) for share, data in out)
            return out, seconds, size

        def finalize(count: int) -> tuple[float, float, int, int]:
            """Finalize's CPU: per-row work (merge, stitch, hash the zip) and the sealing (documents, report)."""
            made, _seconds, _size = shares(count)
            counted = scan.__class__(**{**asdict(scan), "rows": count})
            started = time.perf_counter()
            collector = ResultCollector.for_config(config)
            for share, _data in made:
                collector.absorb(share.metrics)
            members = stitch_shares(made, total_rows=count, tables=tables)
            merged = time.perf_counter()
            sealed = seal_stitched(
                members,
                collector,
                input_name="input.csv",
                scan=counted,
                config=config,
                scorer=ScorerFacts("mock"),
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
            sealed_at = time.perf_counter()
            zip_bytes = b"".join(p for p in sealed.zip if isinstance(p, bytes))  # in S3: UploadPartCopy, not here
            hashed = time.perf_counter()
            hashlib.sha256(zip_bytes).hexdigest()  # finalize hashes the joined zip once (read back from S3)
            variable = (merged - started) + (time.perf_counter() - hashed)
            # per-row bytes: the sliced members (the small members and the report are a fixed ~0.5 MB)
            sliced_zip = sum(info.compressed_size for m in members.values() for info in m.slices)
            return variable, sealed_at - merged, sliced_zip, sum(m.size for m in members.values())

        variable_seconds, seal_seconds, zip_bytes, csv_bytes = finalize(n)
        _made, share_seconds, share_bytes = shares(n)
    return Measured(
        molecules=n,
        k=k,
        descriptors=descriptors,
        chunk_s_per_molecule=(chunk_seconds + share_seconds) / n,
        share_s_per_molecule=share_seconds / n,
        result_bytes_per_molecule=share_bytes / n,
        rows_bytes_per_molecule=rows_bytes / n,
        finalize_s_per_molecule=variable_seconds / n,
        finalize_fixed_s=seal_seconds,
        pack_zip_bytes_per_molecule=zip_bytes / n,
        pack_csv_bytes_per_molecule=csv_bytes / n,
    )


def child_execution_costs(child_seconds: float) -> dict[str, float | bool]:
    """One Map child, Standard (transitions) against Express (requests + duration at 64 MB), from a measured
    child duration; Express is feasible only under its 5-minute limit and without ``.sync`` tasks."""
    return {
        "usd_standard": TRANSITIONS_PER_CHUNK * SFN_TRANSITION,
        "usd_express": EXPRESS_REQUEST + EXPRESS_MEMORY_GB * child_seconds * EXPRESS_GB_S,
        "express_within_limit": child_seconds * 2 <= EXPRESS_MAX_SECONDS,  # one retry must still fit
    }


def chunk_workers(
    chunks: int, chunk_seconds: float, executor: str, arm: bool, spot_discount: float = FARGATE_SPOT_DISCOUNT
) -> dict[str, float | str]:
    """What the chunk workers cost and how long one chunk takes from the Map's point of view.

    Lambda: the chunk's GB-seconds. Fargate (large jobs): one task per chunk of the deployed task size, billed for
    its start-up plus the chunk, on Spot (x86_64) with ``SPOT_RERUN_SHARE`` of the tasks run twice.
    """
    if executor == "lambda":
        gb_s_price = LAMBDA_GB_S_ARM if arm else LAMBDA_GB_S_X86
        return {
            "capacity": "lambda",
            "usd": chunks * chunk_seconds * WORKER_GB * gb_s_price,
            "child_seconds": chunk_seconds,
        }
    task_seconds = max(60.0, FARGATE_START_S + chunk_seconds)
    if arm:  # Fargate Spot runs no ARM64 task: on-demand Graviton
        hourly, discount, capacity = (
            CHUNK_TASK_VCPU * FARGATE_ARM_VCPU_HOUR + CHUNK_TASK_GB * FARGATE_ARM_GB_HOUR,
            0.0,
            "fargate",
        )
    else:
        hourly = CHUNK_TASK_VCPU * FARGATE_VCPU_HOUR + CHUNK_TASK_GB * FARGATE_GB_HOUR
        discount, capacity = spot_discount, sizing.CHUNK_CAPACITY_PROVIDERS[0].lower()
    reruns = 1.0 + (SPOT_RERUN_SHARE if discount else 0.0)
    return {
        "capacity": capacity,
        "usd": chunks * reruns * task_seconds / 3600 * hourly * (1.0 - discount),
        "child_seconds": task_seconds,
    }


def cost_model(
    m: Measured,
    molecules: int = 1_000_000,
    concurrency: int = sizing.DEFAULT_JOB_CONCURRENCY,
    arm: bool = sizing.ARCHITECTURE == "arm64",
    spot_discount: float = FARGATE_SPOT_DISCOUNT,
) -> dict[str, float | str]:
    chunk_rows = chunk_rows_for(m.k, m.descriptors)
    chunks = math.ceil(molecules / chunk_rows)
    chunk_seconds = chunk_rows * m.chunk_s_per_molecule
    executor = choose_executor("auto", molecules, DEFAULT_FARGATE_MIN_ROWS)
    workers = chunk_workers(chunks, chunk_seconds, executor, arm, spot_discount)
    child_seconds = float(workers["child_seconds"])
    children = child_execution_costs(child_seconds)
    worker_gb_s = molecules * m.chunk_s_per_molecule * WORKER_GB
    plan_seconds = molecules * 40e-6  # scan + split: measured ~25-40 µs per row for CSV
    # finalize: measured CPU (merge, stitch, seal, sha256 of the zip) + S3: the zip and the loose CSVs copied in
    # parallel parts, the zip read back once for its sha256
    zip_bytes = molecules * m.pack_zip_bytes_per_molecule
    copied_bytes = zip_bytes + molecules * m.pack_csv_bytes_per_molecule
    s3_seconds = zip_bytes / S3_STREAM_BYTES_PER_S + copied_bytes / (COMPOSE_THREADS * S3_COPY_BYTES_PER_S)
    finalize_seconds = molecules * m.finalize_s_per_molecule + m.finalize_fixed_s + s3_seconds
    gb_s_price = LAMBDA_GB_S_ARM if arm else LAMBDA_GB_S_X86
    finalize_on_fargate = molecules > FINALIZE_LAMBDA_MAX_ROWS
    plan_usd = plan_seconds * PLAN_GB * gb_s_price
    if finalize_on_fargate:  # the deployed task size, billed for the (serial) finalize plus its start-up
        task_hours = (finalize_seconds + FARGATE_START_S) / 3600
        finalize_usd = task_hours * (FARGATE_VCPU * FARGATE_VCPU_HOUR + FARGATE_GB * FARGATE_GB_HOUR)
    else:
        finalize_usd = finalize_seconds * FINALIZE_GB * gb_s_price
    worker_compute = float(workers["usd"])
    requests = ((chunks if executor == "lambda" else 0) + 3) * LAMBDA_REQUEST
    child_usd = children["usd_standard"] if sizing.CHILD_EXECUTION_TYPE == "STANDARD" else children["usd_express"]
    transitions = chunks * float(child_usd) + TRANSITIONS_PER_JOB * SFN_TRANSITION
    # ResultWriter: the Map Run's manifest and one results file per status, a few PUTs per job
    result_writer = 3 * S3_PUT if sizing.MAP_RESULT_WRITER else 0.0
    # per chunk: rows PUT, rows + share + data GETs/HEADs, data + share PUTs, ~4 part copies; per job ~20 PUTs
    s3_requests = (
        chunks * (2 * S3_PUT + 2 * S3_GET)
        + chunks * (S3_GET + S3_PUT)
        + chunks * 4 * S3_PUT
        + 20 * S3_PUT
        + result_writer
    )
    # SSE-KMS with S3 Bucket Keys: a data key per bucket/key pair and hour, not per object; without them, ~1 call
    # per object operation. Counted without bucket keys, the worst case.
    kms = chunks * 6 * KMS_REQUEST + 5 * KMS_REQUEST
    waves = math.ceil(chunks / concurrency)
    wall = (
        plan_seconds + waves * child_seconds + 2.0 * waves + finalize_seconds + (60.0 if finalize_on_fargate else 0.0)
    )
    total = worker_compute + plan_usd + finalize_usd + requests + transitions + s3_requests + kms
    return {
        "architecture": "arm64" if arm else "x86_64",
        "worker_memory_mb": sizing.RUN_CHUNK_MEMORY_MB,
        "concurrency": concurrency,
        "waves": waves,
        "chunk_rows": chunk_rows,
        "chunks": chunks,
        "chunk_seconds": round(chunk_seconds, 1),
        "worker_gb_s": round(worker_gb_s),
        "chunk_executor": executor,
        "chunk_capacity": str(workers["capacity"]),
        "spot_discount_assumed": spot_discount if workers["capacity"] == "fargate_spot" else 0.0,
        "usd_chunk_workers": round(worker_compute, 4),
        "child_executions": sizing.CHILD_EXECUTION_TYPE,
        "usd_per_child_standard": round(float(children["usd_standard"]), 7),
        "usd_per_child_express": round(float(children["usd_express"]), 7),
        "express_child_within_5_min": bool(children["express_within_limit"]) and executor == "lambda",
        "usd_plan": round(plan_usd, 4),
        "usd_finalize": round(finalize_usd, 4),
        "finalize_on": "fargate" if finalize_on_fargate else "lambda",
        "usd_lambda_requests": round(requests, 5),
        "usd_state_transitions": round(transitions, 5),
        "usd_s3_requests": round(s3_requests, 5),
        "usd_kms_requests": round(kms, 5),
        "usd_total": round(total, 4),
        "wall_plan_s": round(plan_seconds, 1),
        "wall_chunks_s": round(waves * child_seconds, 1),
        "wall_finalize_s": round(finalize_seconds + (FARGATE_START_S if finalize_on_fargate else 0.0), 1),
        "wall_finalize_s3_s": round(s3_seconds, 1),
        "wall_total_s": round(wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=400, help="molecules to measure on (MOSES)")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument(
        "--spot-discount", type=float, default=FARGATE_SPOT_DISCOUNT, help="Fargate Spot below on-demand (0.70)"
    )
    args = parser.parse_args(argv)
    report: dict[str, object] = {}
    deployed: dict[str, float | str] = {}
    for descriptors in ("full", "fast"):
        measured = measure(args.n, args.k, descriptors)
        model = {
            "x86_64": cost_model(measured, arm=False, spot_discount=args.spot_discount),
            "arm64": cost_model(measured, arm=True, spot_discount=args.spot_discount),
        }
        if descriptors == DEFAULT_DESCRIPTORS:
            deployed = model[sizing.ARCHITECTURE]
        report[descriptors] = {"measured": asdict(measured), "per_1M_molecules": model}
        print(f"== decoy descriptors {descriptors}: measured on {args.n} MOSES molecules, k={args.k}")
        for name, value in asdict(measured).items():
            print(f"  {name:32s} {value:.6g}" if isinstance(value, float) else f"  {name:32s} {value}")
        for arch, numbers in model.items():
            print(f"  -- model per 1,000,000 molecules, {sizing.DEFAULT_JOB_CONCURRENCY} concurrent workers, {arch}")
            for name, value in numbers.items():
                print(f"     {name:28s} {value}")
    summary = {
        "usd_per_million": deployed["usd_total"],
        "wall_s_per_million": deployed["wall_total_s"],
        "deployed": {
            "architecture": sizing.ARCHITECTURE,
            "worker_memory_mb": sizing.RUN_CHUNK_MEMORY_MB,
            "finalize_memory_mb": sizing.FINALIZE_MEMORY_MB,
            "fargate_cpu": sizing.FARGATE_CPU,
            "fargate_memory_mib": sizing.FARGATE_MEMORY_MIB,
            "concurrency": sizing.DEFAULT_JOB_CONCURRENCY,
            "child_executions": sizing.CHILD_EXECUTION_TYPE,
            "chunk_executor_from_rows": DEFAULT_FARGATE_MIN_ROWS,
            "chunk_task_cpu": sizing.FARGATE_CHUNK_CPU,
            "chunk_task_memory_mib": sizing.FARGATE_CHUNK_MEMORY_MIB,
            "chunk_capacity_providers": list(sizing.CHUNK_CAPACITY_PROVIDERS),
            "spot_discount_assumed": args.spot_discount,
            "map_result_writer": sizing.MAP_RESULT_WRITER,
            "decoy_descriptors": DEFAULT_DESCRIPTORS,
            "k": args.k,
        },
        "breakdown": deployed,
    }
    print(f"== deployed default: ${summary['usd_per_million']} and {summary['wall_s_per_million']} s per 1,000,000")
    if args.json:
        args.json.write_text(json.dumps({**summary, **report}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How many molecules go in one chunk, and which executor runs the job.

The per-molecule cost model comes from benchmarks/bench_engine.py on one core (docs/performance.md:
1,000 MOSES molecules at k = 20 take 26 ms each with full decoy descriptors, 17 ms with fast ones); a
Lambda with 1,769 MB has one full vCPU, so the same numbers hold there. A chunk aims at ~45 s: long enough
that start-up, S3 reads and the state transition are noise, short enough that a retry costs little and
the 15-minute Lambda limit is far away.
"""

from __future__ import annotations

import math

TARGET_CHUNK_SECONDS = 45.0
MIN_CHUNK_ROWS = 25
MAX_CHUNK_ROWS = 5_000
SECONDS_PER_DECOY = {"full": 0.0012, "fast": 0.00075}
SECONDS_PER_MOLECULE = 0.002


def seconds_per_molecule(k_decoys: int, decoy_descriptors: str) -> float:
    return SECONDS_PER_MOLECULE + k_decoys * SECONDS_PER_DECOY[decoy_descriptors]


def chunk_rows_for(k_decoys: int, decoy_descriptors: str) -> int:
    rows = math.floor(TARGET_CHUNK_SECONDS / seconds_per_molecule(k_decoys, decoy_descriptors))
    return max(MIN_CHUNK_ROWS, min(MAX_CHUNK_ROWS, rows))


def choose_executor(requested: str, rows: int, fargate_min_rows: int) -> str:
    """``auto`` sends very large jobs to one Fargate task (about half the price per vCPU-second of Lambda,
    worth its minute of start-up only when the job is long anyway); everything else fans out on Lambda."""
    if requested in ("lambda", "fargate"):
        return requested
    return "fargate" if rows >= fargate_min_rows else "lambda"


def choose_finalizer(rows: int, finalize_lambda_max_rows: int) -> str:
    """Where the pack is assembled: the Finalize Lambda, or a Fargate task when the job is too big for 15 minutes."""
    return "fargate" if rows > finalize_lambda_max_rows else "lambda"

"""How many molecules go in one chunk, and which executor runs the job.

The per-molecule cost model is measured with benchmarks/bench_pipeline.py on one core (docs/cost.md, 2026-11-30,
idle machine: 800 MOSES molecules at k = 20 cost 11.5 ms each with full decoy descriptors, 8.8 ms with fast ones,
chunk compute plus writing the chunk's share of the pack); a Lambda with 1,769 MB or more, and a 1-vCPU Fargate
task, has one full vCPU, so the same numbers hold there. The fixed part (2 ms) is kept from the older, slower
engine as a margin; the per-decoy part is today's measurement less that.

Chunks are sized from a deadline: ~150 s of work each. That makes a 1,000,000-molecule job 84 children
(full descriptors; 63 fast) instead of 579, so it runs in one wave of the enterprise plan's 300 workers, pays
few Fargate start-ups and child executions, and a retried chunk still finishes far inside the 870 s Lambda timeout.
"""

from __future__ import annotations

import math

SLICE_ROWS = 1000  # hetero_core.pack's slice (a test keeps them equal; importing it here would load the engine)

TARGET_CHUNK_SECONDS = 150.0
MIN_CHUNK_ROWS = 25
MAX_CHUNK_ROWS = 20_000
SECONDS_PER_DECOY = {"full": 0.0005, "fast": 0.00036}
SECONDS_PER_MOLECULE = 0.002


# The share of a job's chunks that may fail (after all retries) before the job FAILS; the ASL's
# ToleratedFailurePercentage is the same number (tests/service/test_asl_structure.py checks).
TOLERATED_FAILED_CHUNK_PERCENT = 10.0


def too_many_failed(failed: int, total: int) -> bool:
    """Step Functions' rule: the Map fails when the failed share *exceeds* the tolerated percentage."""
    return total > 0 and failed * 100.0 > TOLERATED_FAILED_CHUNK_PERCENT * total


def seconds_per_molecule(k_decoys: int, decoy_descriptors: str) -> float:
    return SECONDS_PER_MOLECULE + k_decoys * SECONDS_PER_DECOY[decoy_descriptors]


def chunk_rows_for(
    k_decoys: int, decoy_descriptors: str, seconds: float = TARGET_CHUNK_SECONDS, min_rows: int = MIN_CHUNK_ROWS
) -> int:
    """Rows for at most ~``seconds`` of work, rounded down to whole pack slices (``SLICE_ROWS``) once a chunk holds
    one or more: then every slice is written whole by one worker and finalize compresses nothing
    (docs/pack-format.md). The local server asks for small chunks so that its progress visibly moves."""
    rows = math.floor(seconds / seconds_per_molecule(k_decoys, decoy_descriptors))
    if rows >= SLICE_ROWS:
        rows -= rows % SLICE_ROWS
    return max(min_rows, min(MAX_CHUNK_ROWS, rows))


def choose_executor(requested: str, rows: int, fargate_min_rows: int) -> str:
    """``auto`` sends very large jobs to one Fargate task (about half the price per vCPU-second of Lambda,
    worth its minute of start-up only when the job is long anyway); everything else fans out on Lambda."""
    if requested in ("lambda", "fargate"):
        return requested
    return "fargate" if rows >= fargate_min_rows else "lambda"


def choose_finalizer(rows: int, finalize_lambda_max_rows: int) -> str:
    """Where the pack is assembled: the Finalize Lambda, or a Fargate task when the job is too big for 15 minutes."""
    return "fargate" if rows > finalize_lambda_max_rows else "lambda"

"""Run one chunk through the engine and store its results: the same function for Lambda and for Fargate.

The worker writes its share of the pack (``hetero_core.pack.chunk_share``): the slices of summary.csv and
decoys.csv it holds, compressed and as text, in one data object, then the share (slice facts and partial metrics)
under ``results_key``. Finalize joins the data objects inside S3 and never decodes a row.

Idempotent by construction: both objects are written whole (one PUT each) under fixed keys, the share last, and
the progress counters count a chunk once (see ``JobRepository.record_chunk``), so a retried chunk costs time,
never a duplicated or missing row.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from functions.service.chunk_io import decode_rows
from functions.service.decoy_cache import cache_counters, org_decoy_cache
from functions.service.job_params import JobParameters
from functions.service.jobs import JobState
from functions.service.observability import logger, metrics
from functions.service.tenancy import JobRef, require_in_job
from hetero_core.chunks import process_rows
from hetero_core.pack import MemberTables, chunk_share
from hetero_core.scores import ExternalScores, Scorer, make_scorer

if TYPE_CHECKING:
    from functions.service.context import ServiceContext


def run_chunk(ctx: ServiceContext, descriptor: dict[str, Any]) -> dict[str, Any]:
    ref = JobRef.from_event(descriptor)
    chunk = int(descriptor["chunk"])
    for name in ("rows_key", "results_key", "data_key", "scores_key"):
        if descriptor.get(name) is not None:
            require_in_job(ref, str(descriptor[name]))
    # Keys go on each line (not append_keys): the local server runs chunks of different jobs in threads.
    where = {**ref.as_dict(), "chunk": chunk}

    job = ctx.jobs.get(ref)
    if job.state != JobState.RUNNING:
        logger.info("chunk not run: job is not running", extra={**where, "state": job.state.value})
        return {"chunk": chunk, "skipped": job.state.value}

    store = ctx.store(ref.org)
    started = time.perf_counter()
    rows = decode_rows(store.get_bytes(descriptor["rows_key"]))
    params = JobParameters.model_validate(descriptor["params"])
    scorer: Scorer
    if descriptor.get("scores_key"):
        scorer = ExternalScores.from_portable(store.get_json(descriptor["scores_key"]))
    else:
        scorer = make_scorer(params.scorer)
    config = params.run_config()
    share, data, results = chunk_share(
        process_rows(rows, config, scorer, org_decoy_cache(store) if params.decoy_cache else None),
        first_row=int(descriptor["first_row"]),
        total_rows=int(descriptor["total_rows"]),
        tables=MemberTables(descriptor["extra_columns"]),
        config=config,
    )
    store.put_bytes(descriptor["data_key"], data)
    store.put_json(descriptor["results_key"], share.to_dict())

    counts = Counter(r.status for r in results)
    seconds = time.perf_counter() - started
    counted = ctx.jobs.record_chunk(
        ref,
        chunk,
        dict(counts),
        worker_seconds=seconds,
        attempt=int(job.get("attempt", 0)),
        extra_counters=cache_counters(r.decoy_cache for r in results),
    )
    metrics.add_metric(name="MoleculesProcessed", unit="Count", value=len(results))
    metrics.add_metric(name="ChunkDuration", unit="Milliseconds", value=round(seconds * 1000.0, 1))
    metrics.add_metric(name="RowErrors", unit="Count", value=counts.get("ERROR", 0))
    logger.info(
        "chunk done", extra={**where, "rows": len(results), "seconds": round(seconds, 3), "first_count": counted}
    )
    return {"chunk": chunk, "rows": len(results), "counts": dict(sorted(counts.items()))}

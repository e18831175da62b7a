"""Plan a job: validate the whole input before any chemistry, split it into chunk objects, pick the executor.

The planner reads the file once, top to bottom, so duplicate ids are found across the whole file (a chunk
alone could not see them) and every row lands in exactly one chunk, in input order.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from functions.service import layout
from functions.service.chunk_io import encode_rows
from functions.service.chunk_sizing import choose_executor, choose_finalizer, chunk_rows_for
from functions.service.clock import utc_now
from functions.service.errors import JobInputError, OrgPlanError
from functions.service.job_params import JobParameters
from functions.service.jobs import JobState
from functions.service.observability import logger, metrics
from functions.service.quotas import QuotaExceededError, reserve_for_job
from functions.service.reproduction_check import original_pack
from hetero_core.chunks import mark_duplicates
from hetero_core.errors import HeteroError
from hetero_core.pack import ScorerFacts, scorer_facts
from hetero_core.scores import ExternalScores, ModelInfo, load_external_scores, make_scorer

if TYPE_CHECKING:
    from functions.service.artifacts import ArtifactStore
    from functions.service.context import ServiceContext
    from functions.service.tenancy import JobRef
    from hetero_core.io import InputScan

PLAN_SCHEMA = "hetero2_plan.v1"


def plan_job(ctx: ServiceContext, ref: JobRef) -> dict[str, Any]:
    """QUEUED → RUNNING, then write chunks and descriptors; returns what the state machine needs."""
    job = ctx.jobs.transition(ref, JobState.RUNNING, started_at=utc_now())
    store = ctx.store(ref.org)
    # A retried job starts clean: no chunk results or progress of an earlier attempt may leak into this one.
    for prefix in layout.attempt_prefixes(ref):
        store.delete_prefix(prefix)
    ctx.jobs.reset_progress(ref)
    try:
        params = JobParameters.model_validate(job.params)
    except ValueError as exc:
        raise JobInputError(f"job parameters are invalid: {exc}") from exc
    input_name = str(job.get("input_name", ""))
    scores_name = job.get("scores_name")
    config = params.run_config()
    columns = params.input_columns()

    for name in filter(None, (input_name, scores_name)):
        if not store.encrypted_with_own_key(layout.input_key(ref, str(name))):
            raise JobInputError(f"{name} was not written under this org's KMS key; upload it with the job's URL")
    with tempfile.TemporaryDirectory(prefix="hetero2-plan-") as tmp:
        input_path = Path(tmp) / input_name
        store.download_file(layout.input_key(ref, input_name), input_path)
        original = original_pack(store, job)
        drift: list[str] = []
        try:
            scan = columns.scan(input_path)
            scores = _load_scores(store, ref, str(scores_name), Path(tmp)) if scores_name else None
            if original is not None:
                drift = original.check_rerun(job, input_path, Path(tmp) / str(scores_name) if scores_name else None)
        except HeteroError as exc:
            raise JobInputError(str(exc)) from exc
        max_workers = job.get("max_workers")
        if job.get("source") == "drop_folder" and not job.get("quota_reserved"):
            max_workers = _reserve_for_drop(ctx, ref, scan.rows)
        else:
            _check_counted_rows(ctx, ref, job.get("quota_rows"), scan.rows)
        try:
            model = ModelInfo(params.model_name, params.model_version, params.model_sha256)
        except HeteroError as exc:
            raise JobInputError(str(exc)) from exc
        facts: ScorerFacts = scorer_facts(scores if scores is not None else make_scorer(params.scorer), model)
        chunk_rows = params.chunk_rows or chunk_rows_for(
            config.k_decoys, config.decoy_descriptors, ctx.settings.chunk_seconds, ctx.settings.min_chunk_rows
        )
        descriptors = _write_chunks(ctx, ref, input_path, params, chunk_rows, scores, scan)

    executor = choose_executor(params.executor, scan.rows, ctx.settings.fargate_min_rows)
    finalizer = choose_finalizer(scan.rows, ctx.settings.finalize_lambda_max_rows)
    plan = {
        "schema_version": PLAN_SCHEMA,
        "job": ref.as_dict(),
        "input_name": input_name,
        "scan": asdict(scan),
        "params": params.model_dump(mode="json"),
        "scorer": facts.to_dict(),
        "chunk_rows": chunk_rows,
        "chunks": len(descriptors),
        "executor": executor,
        "finalizer": finalizer,
    }
    store.put_json(layout.plan_key(ref), plan)
    store.put_json(layout.descriptors_key(ref), descriptors)
    ctx.jobs.update(
        ref,
        rows_total=scan.rows,
        chunks_total=len(descriptors),
        executor=executor,
        finalizer=finalizer,
        chunk_rows=chunk_rows,
        **({"version_drift": drift} if original is not None else {}),
    )
    metrics.add_metric(name="RowsPlanned", unit="Count", value=scan.rows)
    logger.info("job planned", extra={"rows": scan.rows, "chunks": len(descriptors), "executor": executor})
    return {
        "executor": executor,
        "finalizer": finalizer,
        "descriptors_key": layout.descriptors_key(ref),
        "chunks": len(descriptors),
        "rows": scan.rows,
        "max_concurrency": _max_concurrency(ctx, max_workers, len(descriptors)),
        "fargate": {
            "subnets": list(ctx.settings.worker_subnets),
            "security_groups": list(ctx.settings.worker_security_groups),
        },
    }


def _check_counted_rows(ctx: ServiceContext, ref: JobRef, reserved: object, rows: int) -> None:
    """The rows really in the file, against what the job reserved and what the org's plan allows per job.

    A job declares ``expected_rows`` at submit and the quota is reserved for that; a file with more rows (a wrong
    count, or a small gzip that inflates to millions) is refused here, before any chemistry, so the job fails with
    a message saying what to do and its reservation is released (settle_job refunds it, nothing ran).
    """
    try:
        limits = ctx.quotas.limits_of(ref.org)
    except OrgPlanError:  # no org record: nothing was reserved under a plan (the local server's ad-hoc orgs)
        return
    if rows > limits.rows_per_job:
        raise JobInputError(
            f"the input has {rows} rows; the {limits.plan} plan allows at most {limits.rows_per_job} rows per job "
            "(quota rows_per_job): split the file, or ask for a larger plan"
        )
    if isinstance(reserved, int | float | str | Decimal) and rows > int(reserved):
        raise JobInputError(
            f"the input has {rows} rows but the job reserved {int(reserved)} (expected_rows): "
            f"submit it again with expected_rows of at least {rows}"
        )


def _reserve_for_drop(ctx: ServiceContext, ref: JobRef, rows: int) -> int:
    """A dropped file declared no row count, so its quota is taken here, once the rows are counted; the API
    reserves at submit instead. Refused: the job fails with what was exceeded, before any chemistry."""
    try:
        reservation = reserve_for_job(ctx, ref, rows)
    except QuotaExceededError as exc:
        raise JobInputError(
            f"quota {exc.quota} exceeded: limit {exc.limit}, used {exc.used}, this file {exc.requested}"
        ) from exc
    except OrgPlanError as exc:
        raise JobInputError(
            f"{exc}: an org admin creates the org (POST /v1/orgs) before its drop folder is used"
        ) from exc
    return reservation.limits.max_workers


def _max_concurrency(ctx: ServiceContext, plan_max_workers: object, chunks: int) -> int:
    """The Map's concurrency: the deployment's cap, the org plan's max workers, and no more than the chunks."""
    plan_cap = int(plan_max_workers) if isinstance(plan_max_workers, int | float | str) and plan_max_workers else chunks
    return max(1, min(ctx.settings.max_concurrency, plan_cap, chunks))


def _load_scores(store: ArtifactStore, ref: JobRef, scores_name: str, tmp: Path) -> ExternalScores:
    path = tmp / scores_name
    store.download_file(layout.input_key(ref, scores_name), path)
    return load_external_scores(path)


def _write_chunks(
    ctx: ServiceContext,
    ref: JobRef,
    input_path: Path,
    params: JobParameters,
    chunk_rows: int,
    scores: ExternalScores | None,
    scan: InputScan,
) -> list[dict[str, Any]]:
    store = ctx.store(ref.org)
    total_rows, extra_columns = scan.rows, scan.extra_columns
    rows = mark_duplicates(params.input_columns().read(input_path))
    descriptors: list[dict[str, Any]] = []
    while True:
        batch = list(islice(rows, chunk_rows))
        if not batch:
            break
        chunk = len(descriptors)
        descriptor: dict[str, Any] = {
            **ref.as_dict(),
            "chunk": chunk,
            "first_row": batch[0].index,
            "rows": len(batch),
            "rows_key": layout.chunk_rows_key(ref, chunk),
            "results_key": layout.chunk_results_key(ref, chunk),
            "data_key": layout.chunk_data_key(ref, chunk),
            "total_rows": total_rows,
            "extra_columns": list(extra_columns),
            "params": params.model_dump(mode="json"),
            "scores_key": None,
        }
        store.put_bytes(descriptor["rows_key"], encode_rows(batch), "application/x-ndjson")
        if scores is not None:
            subset = scores.restricted_to(row.id for row in batch)
            descriptor["scores_key"] = layout.chunk_scores_key(ref, chunk)
            store.put_json(descriptor["scores_key"], subset.to_portable())
        descriptors.append(descriptor)
    return descriptors

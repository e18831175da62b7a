"""Finalize a job: merge chunk results in input order into the evidence pack, sign it with the org's KMS key,
store it, and close the job.

A chunk whose results object is missing (it failed after all retries) is not lost: each of its rows becomes
``ERROR chunk_failed`` from the chunk's own input rows, and the job ends SUCCEEDED_WITH_ERRORS. When more than
``TOLERATED_FAILED_CHUNK_PERCENT`` of the chunks failed, the job FAILS instead (the Map's ToleratedFailurePercentage
says the same on AWS; moto does not enforce it, so finalize does too), with the failed chunks on the job record.

The commit point is the transition to the final state. Everything after it (slot, metering) is
:func:`settle_job`, which a retried finalize, mark-failed or the reconciler finishes if this one crashed.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from functions.service import layout
from functions.service.chunk_io import decode_results, decode_rows
from functions.service.chunk_sizing import TOLERATED_FAILED_CHUNK_PERCENT, too_many_failed
from functions.service.errors import ChunkResultsMismatchError, ChunksFailedError
from functions.service.job_acceptance import acceptance_of
from functions.service.job_params import JobParameters
from functions.service.jobs import TERMINAL_STATES, JobState
from functions.service.observability import logger, metrics
from functions.service.reproduction_check import original_pack
from functions.service.settlement import settle_job
from functions.service.tenancy import JobRef, require_in_job
from hetero_core.chunks import RowResult, errored_row
from hetero_core.io import InputScan
from hetero_core.pack import ScorerFacts, assemble_pack
from hetero_core.reasons import ErrorReason, Status

if TYPE_CHECKING:
    from collections.abc import Iterator

    from functions.service.artifacts import ArtifactStore
    from functions.service.context import ServiceContext

CHUNK_FAILED_DETAIL = "the chunk holding this row failed after all retries"


def _chunk_results(store: ArtifactStore, ref: JobRef, descriptor: dict[str, Any]) -> tuple[list[RowResult], bool]:
    rows_key = require_in_job(ref, str(descriptor["rows_key"]))
    results_key = require_in_job(ref, str(descriptor["results_key"]))
    if not store.exists(results_key):
        rows = decode_rows(store.get_bytes(rows_key))
        return [errored_row(row, ErrorReason.CHUNK_FAILED, CHUNK_FAILED_DETAIL) for row in rows], True
    results = list(decode_results(store.get_bytes(results_key)))
    first, count = int(descriptor["first_row"]), int(descriptor["rows"])
    if [r.index for r in results] != list(range(first, first + count)):
        raise ChunkResultsMismatchError(f"chunk {descriptor['chunk']}: results do not match rows {first}..")
    return results, False


def finalize_job(ctx: ServiceContext, ref: JobRef) -> dict[str, Any]:
    job = ctx.jobs.get(ref)
    if job.state in TERMINAL_STATES:
        # A retry after the commit point (or a job ended elsewhere): finish what the commit promised, once.
        settle_job(ctx, ref)
        logger.info("finalize after the job ended: settled", extra={"state": job.state.value})
        return {"state": job.state.value, "pack": job.get("pack_prefix"), "zip_sha256": job.get("zip_sha256")}
    if job.state != JobState.RUNNING:
        logger.info("finalize skipped: job is not running", extra={"state": job.state.value})
        return {"state": job.state.value, "pack": None}
    store = ctx.store(ref.org)
    plan = store.get_json(layout.plan_key(ref))
    descriptors: list[dict[str, Any]] = store.get_json(layout.descriptors_key(ref))
    _refuse_too_many_failed(ctx, ref, store, descriptors)
    params = JobParameters.model_validate(plan["params"])
    scan = _scan_from_plan(plan["scan"])
    failed_chunks: list[int] = []

    def results() -> Iterator[RowResult]:
        for descriptor in descriptors:
            chunk_results, failed = _chunk_results(store, ref, descriptor)
            if failed:
                failed_chunks.append(int(descriptor["chunk"]))
            yield from chunk_results

    created_at = datetime.fromisoformat(str(job.get("created_at")).replace("Z", "+00:00"))
    signer = ctx.keys.signer(ref.org)
    service = {
        "org": ref.org,
        "project": ref.project,
        "job": ref.job,
        "signing_key_alias": ctx.keys.signing_alias(ref.org),
    }
    # A reproduce job re-creates its original's pack: the same creation time and service ids, then a comparison.
    original = original_pack(store, job)
    if original is not None:
        created_at, service = original.created_at, original.service
    outcome: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hetero2-finalize-") as tmp:
        out_dir = Path(tmp) / "pack"
        assembled = assemble_pack(
            results(),
            out_dir,
            input_name=str(plan["input_name"]),
            scan=scan,
            config=params.run_config(),
            scorer=ScorerFacts.from_dict(plan["scorer"]),
            created_at=created_at,
            signer=signer,
            service=service,
            columns=params.input_columns(),
            acceptance=acceptance_of(job.item),
        )
        if original is not None:
            outcome["reproduction"] = original.compare(out_dir, list(job.get("version_drift") or []))
        pack_prefix = layout.pack_prefix(ref)
        _upload_pack(store, out_dir, pack_prefix)
        stored_bytes = sum(path.stat().st_size for path in out_dir.iterdir())
        drop_name = job.get("drop_name")
        if drop_name:
            _upload_pack(store, out_dir, layout.outbox_prefix(ref.project_ref, str(drop_name)))

    counts = assembled.metrics["counts"]
    state = JobState.SUCCEEDED_WITH_ERRORS if counts[Status.ERROR.value] else JobState.SUCCEEDED
    ctx.jobs.transition(
        ref,
        state,
        pack_prefix=pack_prefix,
        zip_sha256=assembled.pack.zip_sha256,
        rows_done=assembled.rows,
        rows_ok=counts[Status.OK.value],
        rows_skip=counts[Status.SKIP.value],
        rows_error=counts[Status.ERROR.value],
        failed_chunks=failed_chunks,
        pass_rate=assembled.metrics.get("pass_rate"),
        decision=_decision_summary(assembled.metrics),
        # What settle_job meters: written with the commit so a retry after a crash meters the same numbers.
        decoys_total=int(assembled.metrics["decoys"]["total"]),
        stored_bytes=stored_bytes,
        **outcome,
    )
    settle_job(ctx, ref)
    metrics.add_metric(name="ChunksFailed", unit="Count", value=len(failed_chunks))
    logger.info("job finalized", extra={"state": state.value, "rows": assembled.rows, "failed_chunks": failed_chunks})
    return {"state": state.value, "pack": pack_prefix, "zip_sha256": assembled.pack.zip_sha256}


def _refuse_too_many_failed(
    ctx: ServiceContext, ref: JobRef, store: ArtifactStore, descriptors: list[dict[str, Any]]
) -> None:
    """Fail the job (via the state machine's Catch → MarkFailed) when too many chunks have no results."""
    failed = [int(d["chunk"]) for d in descriptors if not store.exists(require_in_job(ref, str(d["results_key"])))]
    if not too_many_failed(len(failed), len(descriptors)):
        return
    ctx.jobs.update(ref, failed_chunks=failed)
    metrics.add_metric(name="ChunksFailed", unit="Count", value=len(failed))
    raise ChunksFailedError(
        f"{len(failed)} of {len(descriptors)} chunks failed after all retries (more than the tolerated "
        f"{TOLERATED_FAILED_CHUNK_PERCENT:g}%); no pack was sealed. Failed chunks: {failed[:20]}"
    )


def _decision_summary(metrics: dict[str, Any]) -> dict[str, str] | None:
    """What the job record says about the audit's decision: the outcome and its one sentence (SPEC §5)."""
    decision = metrics.get("decision")
    if not isinstance(decision, dict):
        return None
    return {"outcome": str(decision.get("outcome", "")), "sentence": str(decision.get("sentence", ""))}


def _scan_from_plan(data: dict[str, Any]) -> InputScan:
    return InputScan(
        format=str(data["format"]),
        rows=int(data["rows"]),
        columns=tuple(data["columns"]),
        extra_columns=tuple(data["extra_columns"]),
        sha256=str(data["sha256"]),
    )


def _upload_pack(store: ArtifactStore, folder: Path, prefix: str) -> None:
    for path in sorted(folder.iterdir()):
        store.upload_file(prefix + path.name, path, _content_type(path.name))


def _content_type(name: str) -> str:
    for suffix, content_type in (
        (".json", "application/json"),
        (".csv", "text/csv"),
        (".md", "text/markdown"),
        (".html", "text/html"),
        (".zip", "application/zip"),
        (".pem", "application/x-pem-file"),
    ):
        if name.endswith(suffix):
            return content_type
    return "application/octet-stream"

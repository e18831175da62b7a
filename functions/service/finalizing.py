"""Finalize a job: merge the chunks' shares in input order into the evidence pack, sign it with the org's KMS key,
store it, and close the job.

Nothing is decoded row by row: the chunks' partial metrics are merged (exactly, in row order), the small members
(metrics, index, report, manifest, signature, checksums) are written here, and summary.csv, decoys.csv and the zip
are joined from the chunks' data objects with S3 multipart ``UploadPartCopy`` (``ArtifactStore.compose``).

A chunk whose share is missing (it failed after all retries) is not lost: each of its rows becomes
``ERROR chunk_failed`` from the chunk's own input rows, and the job ends SUCCEEDED_WITH_ERRORS. When more than
``TOLERATED_FAILED_CHUNK_PERCENT`` of the chunks failed, the job FAILS instead (the Map's ToleratedFailurePercentage
says the same on AWS; moto does not enforce it, so finalize does too), with the failed chunks on the job record.

The commit point is the transition to the final state. Everything after it (slot, metering) is
:func:`settle_job`, which a retried finalize, mark-failed or the reconciler finishes if this one crashed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from functions.service import layout
from functions.service.artifacts import ComposeStats
from functions.service.chunk_io import decode_rows
from functions.service.chunk_sizing import TOLERATED_FAILED_CHUNK_PERCENT, too_many_failed
from functions.service.errors import ChunkResultsMismatchError, ChunksFailedError
from functions.service.job_acceptance import acceptance_of
from functions.service.job_params import JobParameters
from functions.service.jobs import TERMINAL_STATES, JobState
from functions.service.observability import logger, metrics
from functions.service.reproduction_check import original_pack
from functions.service.settlement import settle_job
from functions.service.tenancy import JobRef, require_in_job
from hetero_core.chunks import errored_row
from hetero_core.io import InputScan
from hetero_core.layout import ZIP
from hetero_core.pack import (
    ChunkShare,
    MemberTables,
    ResultCollector,
    ScorerFacts,
    SealedPack,
    chunk_share,
    seal_stitched,
    stitch_shares,
)
from hetero_core.pack._zipstream import total_length
from hetero_core.reasons import ErrorReason, Status

if TYPE_CHECKING:
    from functions.service.artifacts import ArtifactStore
    from functions.service.context import ServiceContext
    from hetero_core.config import RunConfig

CHUNK_FAILED_DETAIL = "the chunk holding this row failed after all retries"


@dataclass(frozen=True, slots=True)
class _Share:
    share: ChunkShare
    source: str | bytes  # the chunk's data object key, or the bytes of a failed chunk's share made here
    failed: bool


def _chunk_share(
    store: ArtifactStore, ref: JobRef, descriptor: dict[str, Any], tables: MemberTables, config: RunConfig
) -> _Share:
    rows_key = require_in_job(ref, str(descriptor["rows_key"]))
    results_key = require_in_job(ref, str(descriptor["results_key"]))
    first, count = int(descriptor["first_row"]), int(descriptor["rows"])
    if not store.exists(results_key):
        rows = decode_rows(store.get_bytes(rows_key))
        errored = [errored_row(row, ErrorReason.CHUNK_FAILED, CHUNK_FAILED_DETAIL) for row in rows]
        share, data, _ = chunk_share(
            errored, first_row=first, total_rows=int(descriptor["total_rows"]), tables=tables, config=config
        )
        return _Share(share, data, failed=True)
    share = ChunkShare.from_dict(store.get_json(results_key))
    if (share.first_row, share.rows) != (first, count):
        raise ChunkResultsMismatchError(f"chunk {descriptor['chunk']}: results do not match rows {first}..")
    return _Share(share, require_in_job(ref, str(descriptor["data_key"])), failed=False)


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
    config = params.run_config()
    tables = MemberTables(scan.extra_columns)
    collector = ResultCollector.for_config(config)
    shares = [_chunk_share(store, ref, descriptor, tables, config) for descriptor in descriptors]
    for share in shares:
        collector.absorb(share.share.metrics)
    failed_chunks = [int(d["chunk"]) for d, share in zip(descriptors, shares, strict=True) if share.failed]
    members = stitch_shares([(s.share, s.source) for s in shares], total_rows=scan.rows, tables=tables)

    created_at = datetime.fromisoformat(str(job.get("created_at")).replace("Z", "+00:00"))
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
    sealed = seal_stitched(
        members,
        collector,
        input_name=str(plan["input_name"]),
        scan=scan,
        config=config,
        scorer=ScorerFacts.from_dict(plan["scorer"]),
        created_at=created_at,
        signer=ctx.keys.signer(ref.org),
        service=service,
        columns=params.input_columns(),
        acceptance=acceptance_of(job.item),
    )
    pack_prefix = layout.pack_prefix(ref)
    stored_bytes, zip_sha256 = _publish(store, sealed, pack_prefix)
    outcome: dict[str, Any] = {}
    if original is not None:
        outcome["reproduction"] = original.compare(pack_prefix, list(job.get("version_drift") or []))
    drop_name = job.get("drop_name")
    if drop_name:
        outbox = layout.outbox_prefix(ref.project_ref, str(drop_name))
        for name in _member_names(sealed):
            store.copy(pack_prefix + name, outbox + name)
    rows = scan.rows

    counts = sealed.metrics["counts"]
    state = JobState.SUCCEEDED_WITH_ERRORS if counts[Status.ERROR.value] else JobState.SUCCEEDED
    ctx.jobs.transition(
        ref,
        state,
        pack_prefix=pack_prefix,
        zip_sha256=zip_sha256,
        rows_done=rows,
        rows_ok=counts[Status.OK.value],
        rows_skip=counts[Status.SKIP.value],
        rows_error=counts[Status.ERROR.value],
        failed_chunks=failed_chunks,
        pass_rate=sealed.metrics.get("pass_rate"),
        decision=_decision_summary(sealed.metrics),
        # What settle_job meters: written with the commit so a retry after a crash meters the same numbers.
        decoys_total=int(sealed.metrics["decoys"]["total"]),
        stored_bytes=stored_bytes,
        **outcome,
    )
    settle_job(ctx, ref)
    metrics.add_metric(name="ChunksFailed", unit="Count", value=len(failed_chunks))
    logger.info("job finalized", extra={"state": state.value, "rows": rows, "failed_chunks": failed_chunks})
    return {"state": state.value, "pack": pack_prefix, "zip_sha256": zip_sha256}


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


def _member_names(sealed: SealedPack) -> list[str]:
    return sorted([*sealed.small, *sealed.members, ZIP])


def _publish(store: ArtifactStore, sealed: SealedPack, prefix: str) -> tuple[int, str]:
    """Store every member and the zip under ``prefix``; returns the bytes stored and the zip's sha256.

    The sliced members and the zip are joined in S3 from the chunks' data objects; the zip's sha256 (on the job
    record and in the API) is then read back in one sequential stream, the only pass over the pack's bytes.
    """
    for name, data in sorted(sealed.small.items()):
        store.put_bytes(prefix + name, data, _content_type(name))
    stats = ComposeStats()
    for name, member in sorted(sealed.members.items()):
        stats.add(store.compose(prefix + name, member.text, _content_type(name)))
    stats.add(store.compose(prefix + ZIP, sealed.zip, _content_type(ZIP)))
    logger.info("pack joined in S3", extra=asdict(stats))
    stored = sum(map(len, sealed.small.values())) + sum(m.size for m in sealed.members.values())
    stored += total_length(sealed.zip)
    return stored, store.sha256(prefix + ZIP)


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

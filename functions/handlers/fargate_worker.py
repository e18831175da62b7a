"""The Fargate task, on the worker image. Two jobs, chosen by ``HETERO2_TASK`` (or ``--task``):

- ``chunks``: the chunks of one job, writing exactly the chunk results the Lambda path writes (it calls the same
  ``run_chunk``). With ``HETERO2_CHUNK`` (``--chunk``) one chunk: what each Fargate Spot task of a large job runs;
  a failure exits 1, so the Map retries the task (a Spot interruption stops it the same way) and counts the chunk
  against the job's tolerated failures. Without it, every chunk with a process pool; a chunk that raises is logged
  and left without results, so finalize turns its rows into ``ERROR chunk_failed``.
- ``finalize``: assemble, sign and store the pack of a job too large for the 15-minute Finalize Lambda.

Usage: ``python -m functions.handlers.fargate_worker [--task chunks|finalize] [--descriptors-key KEY] [--workers N]``;
the state machine passes the key in ``HETERO2_DESCRIPTORS_KEY``.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from functions.service import env, layout
from functions.service.chunk_work import run_chunk
from functions.service.context import reset_service_context, service_context
from functions.service.finalizing import finalize_job
from functions.service.observability import logger
from functions.service.tenancy import JobRef, require_in_job
from hetero_core.chunks import default_workers

if TYPE_CHECKING:
    from collections.abc import Sequence

TASKS = ("chunks", "finalize")


def job_of_descriptors_key(key: str) -> JobRef:
    match = layout.DESCRIPTORS_KEY.fullmatch(key)
    if match is None:
        raise ValueError(f"not a descriptors key: {key!r}")
    ref = JobRef(match["org"], match["project"], match["job"])
    require_in_job(ref, key)
    return ref


def _run_one(descriptor: dict[str, Any]) -> dict[str, Any]:
    try:
        return run_chunk(service_context(), descriptor)
    except Exception as exc:  # one chunk's failure must not stop the others
        logger.exception("chunk failed", extra={"chunk": descriptor.get("chunk")})
        return {"chunk": descriptor.get("chunk"), "failed": True, "error": type(exc).__name__}


def run_job_chunks(descriptors_key: str, workers: int, only: int | None = None) -> list[dict[str, Any]]:
    ref = job_of_descriptors_key(descriptors_key)
    descriptors: list[dict[str, Any]] = service_context().store(ref.org).get_json(descriptors_key)
    for descriptor in descriptors:
        if JobRef.from_event(descriptor) != ref:
            raise ValueError(f"descriptor of chunk {descriptor.get('chunk')} belongs to another job")
    if only is not None:
        descriptors = [d for d in descriptors if d.get("chunk") == only]
        if not descriptors:
            raise ValueError(f"the job has no chunk {only}")
    logger.info("fargate chunks starting", extra={**ref.as_dict(), "chunks": len(descriptors), "workers": workers})
    if workers <= 1:
        return [_run_one(d) for d in descriptors]
    # Each worker process builds its own AWS clients: boto3 clients are not safe to share across fork.
    with ProcessPoolExecutor(max_workers=workers, initializer=reset_service_context) as pool:
        return list(pool.map(_run_one, descriptors))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions.handlers.fargate_worker", description=__doc__)
    parser.add_argument("--task", choices=TASKS, default=os.environ.get(env.TASK, "chunks"))
    parser.add_argument("--descriptors-key", default=os.environ.get(env.DESCRIPTORS_KEY))
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--chunk", type=int, default=_chunk_from_env(), help="run only this chunk (one task each)")
    args = parser.parse_args(argv)
    if not args.descriptors_key:
        parser.error(f"give --descriptors-key or set {env.DESCRIPTORS_KEY}")
    if args.task == "finalize":
        outcome = finalize_job(service_context(), job_of_descriptors_key(args.descriptors_key))
        logger.info("fargate finalize done", extra=outcome)
        return 0
    outcomes = run_job_chunks(args.descriptors_key, 1 if args.chunk is not None else args.workers, args.chunk)
    failed = [o["chunk"] for o in outcomes if o.get("failed")]
    logger.info("fargate chunks done", extra={"chunks": len(outcomes), "failed_chunks": failed})
    # One chunk per task: a failure exits 1, so the Map retries the task and counts the chunk if it stays failed.
    # Every chunk in one task: exit 0 even with failed chunks (finalize accounts for them row by row).
    return 1 if failed and args.chunk is not None else 0


def _chunk_from_env() -> int | None:
    value = os.environ.get(env.CHUNK, "").strip()
    return int(value) if value else None


if __name__ == "__main__":
    sys.exit(main())

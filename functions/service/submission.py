"""Start and cancel jobs: the job record first (conditional), then the job queue, which starts the execution when
a running slot is free.

The API's start and retry go through :func:`start_submitted` (checks, the month's molecules, queue); the drop folder
queues its jobs with :func:`start_job` and reserves molecules when the planner has counted the rows.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from functions.service import layout
from functions.service.errors import StateConflictError, UploadMissingError, UploadRejectedError
from functions.service.job_queue import enqueue
from functions.service.jobs import TERMINAL_STATES, JobRecord, JobState
from functions.service.observability import logger
from functions.service.quotas import reserve_for_job
from functions.service.settlement import dispatch_quietly, refund_reservation, settle_job

if TYPE_CHECKING:
    from functions.service.context import ServiceContext
    from functions.service.tenancy import JobRef


def new_job_id() -> str:
    return "j" + uuid.uuid4().hex[:20]


def check_uploads(ctx: ServiceContext, job: JobRecord) -> None:
    """The job's input (and scores, if it named one) are uploaded, each under the org's own data key."""
    ref = job.ref
    store = ctx.store(ref.org)
    names = [str(name) for name in (job.get("input_name"), job.get("scores_name")) if name]
    for name in names:
        if not store.exists(layout.input_key(ref, name)):
            raise UploadMissingError(f"upload {name} to the presigned URL first")
    for name in names:
        if not store.encrypted_with_own_key(layout.input_key(ref, name)):
            raise UploadRejectedError(f"{name} was not written under this org's key; upload it again")


def start_submitted(ctx: ServiceContext, ref: JobRef, expected: frozenset[JobState]) -> JobRecord:
    """Start (CREATED) or retry (FAILED, CANCELLED) a job submitted through the API: checks, the month's molecules,
    then the queue, which starts it at once when the org (and the deployment) has a free running slot.

    Raises StateConflictError (wrong state, or a racing start won), UploadMissingError, UploadRejectedError,
    QuotaExceededError (rows per job, molecules per month: refused up front, never queued); in every case the job
    holds no quota afterwards. A job beyond the concurrent-job limit is not refused: it is QUEUED with its position.
    """
    job = ctx.jobs.get(ref)
    if job.state not in expected:
        wanted = " or ".join(sorted(state.value for state in expected))
        raise StateConflictError(f"job {ref.job} is {job.state.value}; it must be {wanted}", job.state.value)
    check_uploads(ctx, job)
    if job.state in TERMINAL_STATES:
        # A retry: the earlier attempt's reservation and slot are given back before this one takes its own, whether
        # or not its ender has settled yet (settle_job is idempotent; a late call then finds the job running again).
        settle_job(ctx, ref)
    reserve_for_job(ctx, ref, int(job.get("expected_rows") or 1))
    try:
        start_job(ctx, ref, job.state)  # the state just checked: the queue's conditional write holds it
    except StateConflictError:
        refund_reservation(ctx, ref)
        raise
    return ctx.jobs.get(ref)


def start_job(ctx: ServiceContext, ref: JobRef, expected: JobState | None = None) -> JobRecord:
    """``expected`` (default: CREATED, FAILED or CANCELLED, whichever the job is) → QUEUED (waiting in the job
    queue), then dispatch: the job starts now if a slot is free.

    The execution is named after the job and attempt, so Step Functions refuses a second one for the same attempt;
    the conditional state write refuses a second start even earlier.
    """
    record = enqueue(ctx, ref, expected)
    dispatch_quietly(ctx)
    return record


def cancel_job(ctx: ServiceContext, ref: JobRef) -> JobRecord:
    """Mark CANCELLED first (workers check it and stop), then stop the execution if one runs."""
    record = ctx.jobs.transition(ref, JobState.CANCELLED)
    settle_job(ctx, ref)
    execution_arn = record.get("execution_arn")
    if isinstance(execution_arn, str) and execution_arn:
        try:
            ctx.sfn.stop_execution(executionArn=execution_arn, cause="cancelled by the customer")
        except ctx.sfn.exceptions.ExecutionDoesNotExist:
            logger.info("execution already gone", extra={"execution_arn": execution_arn})
    logger.info("job cancelled", extra=ref.as_dict())
    return record

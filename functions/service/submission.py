"""Start and cancel jobs: the job record first (conditional), then the state machine execution.

The API's start and retry go through :func:`start_submitted` (checks, quota, start); the drop folder starts its
jobs with :func:`start_job` and reserves quota when the planner has counted the rows.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from functions.service import layout
from functions.service.errors import StateConflictError, UploadMissingError, UploadRejectedError
from functions.service.jobs import JobRecord, JobState
from functions.service.observability import logger
from functions.service.quotas import reserve_for_job
from functions.service.settlement import release_job_slot, settle_job

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
    """Start (CREATED) or retry (FAILED, CANCELLED) a job submitted through the API: checks, quota, the execution.

    Raises StateConflictError (wrong state, or a racing start won), UploadMissingError, UploadRejectedError,
    QuotaExceededError; in every case the job holds no quota afterwards.
    """
    job = ctx.jobs.get(ref)
    if job.state not in expected:
        wanted = " or ".join(sorted(state.value for state in expected))
        raise StateConflictError(f"job {ref.job} is {job.state.value}; it must be {wanted}", job.state.value)
    check_uploads(ctx, job)
    reserve_for_job(ctx, ref, int(job.get("expected_rows") or 1))
    try:
        start_job(ctx, ref)
    except StateConflictError:
        release_job_slot(ctx, ref)
        raise
    return ctx.jobs.get(ref)


def start_job(ctx: ServiceContext, ref: JobRef) -> JobRecord:
    """CREATED (or FAILED or CANCELLED, for a retry) → QUEUED, then start one execution named after the job and attempt.

    Step Functions refuses a second execution with the same name, so a retried start call cannot run a job
    twice; the conditional state write refuses it even earlier.
    """
    current = ctx.jobs.get(ref)
    attempt = int(current.get("attempt", 0)) + 1
    record = ctx.jobs.transition(ref, JobState.QUEUED, attempt=attempt)
    execution = ctx.sfn.start_execution(
        stateMachineArn=ctx.settings.state_machine_arn,
        name=f"{ref.job}-{attempt}",
        input=json.dumps(ref.as_dict()),
    )
    ctx.jobs.update(ref, execution_arn=execution["executionArn"])
    logger.info("job started", extra={**ref.as_dict(), "attempt": attempt})
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

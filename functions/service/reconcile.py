"""Repair a job whose execution ended without telling it: timed out, aborted, or failed past every Catch.

Step Functions skips the Catch on an execution timeout or an abort, so MarkFailed never runs and the job would
stay RUNNING with its quota slot held. An EventBridge rule on the state machine's "Execution Status Change"
(TIMED_OUT, ABORTED, FAILED) calls :func:`reconcile_execution`, which moves the job to FAILED with the reason (a
cancelled job stays CANCELLED) and settles it: slot released and usage metered exactly once, however often the
event is delivered and whoever else already ended the job.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from functions.service.errors import InvalidIdentifierError, JobNotFoundError, StateConflictError
from functions.service.jobs import TERMINAL_STATES, JobState
from functions.service.observability import logger, metrics
from functions.service.reconcile_statuses import RECONCILED_STATUSES
from functions.service.settlement import settle_job
from functions.service.tenancy import JobRef

if TYPE_CHECKING:
    from functions.service.context import ServiceContext

REASONS: Final = {
    "TIMED_OUT": ("ExecutionTimedOut", "the job ran longer than the state machine's TimeoutSeconds and was stopped"),
    "ABORTED": ("ExecutionAborted", "the job's execution was stopped before it finished"),
    "FAILED": ("ExecutionFailed", "the job's execution failed without recording why"),
}


def reconcile_execution(ctx: ServiceContext, detail: dict[str, Any]) -> dict[str, Any]:
    """One "Step Functions Execution Status Change" event's detail → the job ended and settled."""
    status = str(detail.get("status", ""))
    execution_arn = str(detail.get("executionArn", ""))
    if status not in RECONCILED_STATUSES:
        return {"reconciled": False, "reason": "status_not_reconciled", "status": status}
    try:
        ref = JobRef.from_event(json.loads(detail.get("input") or "{}"))
    except (ValueError, TypeError, InvalidIdentifierError) as exc:
        logger.warning("execution input names no job", extra={"execution_arn": execution_arn, "error": str(exc)})
        return {"reconciled": False, "reason": "no_job_in_input"}
    try:
        job = ctx.jobs.get(ref)
    except JobNotFoundError:
        return {"reconciled": False, "reason": "job_gone", **ref.as_dict()}
    if job.get("execution_arn") != execution_arn:
        # An earlier attempt's execution: the job has moved on to a newer one, which this event says nothing about.
        logger.info("event of an earlier attempt ignored", extra={**ref.as_dict(), "execution_arn": execution_arn})
        return {"reconciled": False, "reason": "stale_execution", **ref.as_dict()}
    state = job.state
    if state not in TERMINAL_STATES:
        code, message = REASONS[status]
        cause = str(detail.get("cause") or detail.get("error") or "")
        error = {"code": code, "message": f"{message}{': ' + cause if cause else ''}"[:1000]}
        try:
            state = ctx.jobs.transition(ref, JobState.FAILED, error=error).state
            metrics.add_metric(name="JobsReconciled", unit="Count", value=1)
            logger.warning("job reconciled", extra={**ref.as_dict(), "status": status, "error_code": error["code"]})
        except StateConflictError as exc:  # ended by someone else meanwhile: settle what it owes all the same
            state = JobState(exc.current) if exc.current else state
    settled = settle_job(ctx, ref)
    return {"reconciled": True, "state": state.value, "status": status, **settled, **ref.as_dict()}

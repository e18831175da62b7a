"""EventBridge target for the audit-job state machine's execution status changes (every end: SUCCEEDED, TIMED_OUT,
ABORTED, FAILED) and for a periodic sweep: end and settle the job an execution left behind, then move the job
queue (a freed slot goes to the next waiting job even when the process that freed it died before dispatching)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.service import job_queue
from functions.service.context import service_context
from functions.service.observability import logger, metrics
from functions.service.reconcile import reconcile_execution
from functions.service.transient import transient_as_retryable

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

EXECUTION_EVENT = "Step Functions Execution Status Change"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A transient fault raises: EventBridge retries the delivery, and the dead-letter queue keeps what never worked.
    with transient_as_retryable():
        ctx = service_context()
        if event.get("detail-type") == EXECUTION_EVENT:
            outcome = reconcile_execution(ctx, dict(event.get("detail") or {}))
        else:
            outcome = {"reconciled": False, "reason": "sweep"}
        started = job_queue.dispatch(ctx)
        return {**outcome, "dispatched": [ref.as_dict() for ref in started]}

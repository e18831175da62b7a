"""EventBridge target for the audit-job state machine's execution status changes (TIMED_OUT, ABORTED, FAILED):
end and settle the job the execution left behind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.service.context import service_context
from functions.service.observability import logger, metrics
from functions.service.reconcile import reconcile_execution
from functions.service.transient import transient_as_retryable

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A transient fault raises: EventBridge retries the delivery, and the dead-letter queue keeps what never worked.
    with transient_as_retryable():
        return reconcile_execution(service_context(), dict(event.get("detail") or {}))

"""The shape of a Step Functions task on one job: the job's ids from the event, logged on every line, then one
service call. Plan and finalize are this and nothing else; mark-failed adds its metric around it. A transient
AWS fault leaves as TransientServiceError, the error every task's Retry names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.service.context import ServiceContext, service_context
from functions.service.observability import logger, metrics
from functions.service.tenancy import JobRef
from functions.service.transient import transient_as_retryable

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def job_task(work: Callable[[ServiceContext, JobRef, dict[str, Any]], dict[str, Any]]) -> Handler:
    """A Lambda handler that runs ``work(context, job, event)`` for the job the event names."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        ref = JobRef.from_event(event)
        logger.append_keys(**ref.as_dict())
        with transient_as_retryable():
            return work(service_context(), ref, event)

    return handler

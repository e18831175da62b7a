"""Step Functions Catch target: record the failure on the job (FAILED, with a readable message)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.service.context import service_context
from functions.service.failure import mark_failed
from functions.service.observability import logger, metrics
from functions.service.tenancy import JobRef


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ref = JobRef.from_event(event)
    logger.append_keys(**ref.as_dict())
    metrics.add_metric(name="JobsFailed", unit="Count", value=1)
    return mark_failed(service_context(), ref, event.get("error"))

"""Step Functions task: plan the job (validate input, write chunks, choose the executor)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.service.context import service_context
from functions.service.observability import logger, metrics
from functions.service.planning import plan_job
from functions.service.tenancy import JobRef


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ref = JobRef.from_event(event)
    logger.append_keys(**ref.as_dict())
    return plan_job(service_context(), ref)

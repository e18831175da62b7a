"""Step Functions task: merge chunk results into the signed evidence pack and close the job."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.service.context import service_context
from functions.service.finalizing import finalize_job
from functions.service.observability import logger, metrics
from functions.service.tenancy import JobRef


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ref = JobRef.from_event(event)
    logger.append_keys(**ref.as_dict())
    return finalize_job(service_context(), ref)

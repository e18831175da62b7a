"""Distributed Map item: one chunk through the engine (the worker Lambda, on the RDKit container image)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.service.chunk_work import run_chunk
from functions.service.context import service_context
from functions.service.observability import logger, metrics
from functions.service.transient import transient_as_retryable

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A throttle that outlived botocore's retries is retried by the Map, never caught as a dead chunk.
    with transient_as_retryable():
        return run_chunk(service_context(), event)

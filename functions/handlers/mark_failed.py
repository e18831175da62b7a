"""Step Functions Catch target: record the failure on the job (FAILED, with a readable message)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.handlers.job_task import job_task
from functions.service.failure import mark_failed
from functions.service.observability import metrics

if TYPE_CHECKING:
    from functions.service.context import ServiceContext
    from functions.service.tenancy import JobRef


def _mark_failed(ctx: ServiceContext, ref: JobRef, event: dict[str, Any]) -> dict[str, Any]:
    metrics.add_metric(name="JobsFailed", unit="Count", value=1)
    return mark_failed(ctx, ref, event.get("error"))


handler = job_task(_mark_failed)

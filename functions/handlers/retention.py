"""EventBridge schedule (daily): delete finished jobs past their org's retention, with their objects, audited."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from functions.service import clock
from functions.service.audit_log import AuditLog
from functions.service.context import service_context
from functions.service.errors import RetentionIncompleteError
from functions.service.observability import logger, metrics
from functions.service.retention import expire_jobs

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def _scheduled_time(event: dict[str, Any]) -> datetime:
    """The schedule's own time, so a retried invocation judges ages exactly as the first one did."""
    value = event.get("time")
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            logger.warning("event time unreadable; using the clock", extra={"time": value})
        else:
            if when.tzinfo is not None:
                return when
    return clock.now()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ctx = service_context()
    now = _scheduled_time(event)
    try:
        deleted = expire_jobs(ctx, now, AuditLog.for_context(ctx))
    except RetentionIncompleteError as exc:
        metrics.add_metric(name="RetentionJobsDeleted", unit="Count", value=len(exc.deleted))
        metrics.add_metric(name="RetentionFailures", unit="Count", value=len(exc.failed))
        raise
    metrics.add_metric(name="RetentionJobsDeleted", unit="Count", value=len(deleted))
    logger.info("retention run finished", extra={"now": now.isoformat(), "deleted": len(deleted)})
    return {"now": now.isoformat(), "deleted": [ref.as_dict() for ref in deleted]}

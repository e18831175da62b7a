"""EventBridge target for S3 "Object Created" in the bucket: a file in an inbox starts a job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.service.context import service_context
from functions.service.drop_folder import handle_drop
from functions.service.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event.get("detail") or {}
    key = str((detail.get("object") or {}).get("key", ""))
    etag = str((detail.get("object") or {}).get("etag", ""))
    bucket = str((detail.get("bucket") or {}).get("name", ""))
    ctx = service_context()
    if bucket != ctx.settings.bucket:
        logger.warning("event for another bucket ignored", extra={"bucket": bucket})
        return {"started": False, "reason": "other_bucket"}
    result = handle_drop(ctx, key, etag)
    if result.get("started"):
        metrics.add_metric(name="DropFolderJobsStarted", unit="Count", value=1)
    return result

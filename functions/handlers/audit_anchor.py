"""EventBridge schedule (hourly): sign each org's audit-chain head into the Object Lock bucket.

The orgs are the deployment's tenants (``HETERO2_TENANTS``) or, where none are configured, every org record.
An org whose head is anchored already costs one S3 list. One org failing does not stop the others; the run
then fails at the end so the function's error alarm fires.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.service.audit_anchor import AnchorStore, anchor
from functions.service.context import service_context
from functions.service.observability import logger, metrics
from functions.service.retention import orgs_with_retention

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ctx = service_context()
    store = AnchorStore.from_env(ctx.s3)
    orgs = sorted(ctx.settings.tenants) or sorted(
        org.org for org in orgs_with_retention(ctx.dynamodb.Table(ctx.settings.table))
    )
    anchored, failed = [], []
    for org in orgs:
        try:
            if anchor(ctx.audit, ctx.keys.signer(org), store, org) is not None:
                anchored.append(org)
        except Exception:
            logger.exception("audit anchor failed", extra={"org": org})
            failed.append(org)
    metrics.add_metric(name="AuditAnchorsWritten", unit="Count", value=len(anchored))
    if failed:
        raise RuntimeError(f"audit anchors failed for {len(failed)} org(s): {', '.join(failed)}")
    return {"anchored": anchored}

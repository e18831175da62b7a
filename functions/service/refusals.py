"""Refusals (401, 403, 404 probes) as audit events, rate-limited per org so a flood cannot fill the audit table.

Every refused request on an org's routes is worth a trace (who probed what, from where), but an attacker controls
how many there are. Each org may record at most ``LIMIT_PER_MINUTE`` refusal events per UTC minute; a counter
item in the main table (conditional ``ADD``) decides, and the refusals beyond it are counted in the application
log and a metric only. The counter expires by TTL a day later (DynamoDB TTL is late, which only wastes bytes).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from functions.service import table as keys
from functions.service.conditional import written
from functions.service.errors import NotFoundError, ServiceError
from functions.service.observability import logger, metrics

if TYPE_CHECKING:
    from functions.service.context import ServiceContext

LIMIT_PER_MINUTE = 30
COUNTER_TTL_SECONDS = 24 * 3600
MAX_PATH_LENGTH = 256


def _minute() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")


def take_slot(ctx: ServiceContext, org: str, limit: int = LIMIT_PER_MINUTE) -> bool:
    """True if one more refusal event of ``org`` may be written this minute (and counts it)."""
    item = ctx.dynamodb.Table(ctx.settings.table)
    return written(
        lambda: item.update_item(
            Key=keys.refusals_key(org, _minute()),
            UpdateExpression="ADD n :one SET expires_at = if_not_exists(expires_at, :ttl)",
            ConditionExpression="attribute_not_exists(n) OR n < :limit",
            ExpressionAttributeValues={":one": 1, ":limit": limit, ":ttl": int(time.time()) + COUNTER_TTL_SECONDS},
        )
    )


def org_exists(ctx: ServiceContext, org: str) -> bool:
    try:
        ctx.directory.get_org(org)
    except (NotFoundError, ServiceError):
        return False
    return True


def record_refusal(
    ctx: ServiceContext,
    org: str,
    *,
    actor: str,
    action: str,
    target: str,
    source_ip: str | None,
    request_id: str,
    status: int,
    **details: Any,
) -> bool:
    """One ``denied`` audit event in ``org``'s log, if the org exists and its refusal budget is not spent.

    Never raises: a refusal must be answered whether or not it could be recorded. Returns whether it was.
    """
    try:
        if not org_exists(ctx, org):
            return False
        if not take_slot(ctx, org):
            logger.warning("refusal not audited: rate limit", extra={"org": org, "audit_action": action})
            metrics.add_metric(name="AuditRefusalsSuppressed", unit="Count", value=1)
            return False
        ctx.audit.append(
            org,
            actor=actor,
            action=action,
            target=target[:MAX_PATH_LENGTH] or org,
            outcome="denied",
            source_ip=source_ip,
            details={"request_id": request_id, "status": status, **details},
        )
    except (ClientError, ServiceError):
        logger.exception("refusal could not be audited", extra={"org": org, "audit_action": action})
        return False
    return True

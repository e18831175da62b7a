"""DynamoDB Streams of the audit table: each new event to its org's SIEM export prefix and the audit bus (OCSF),
and every N-th event of an org signed into the Object Lock bucket (functions/service/siem_export.py).

The event source mapping reports partial batch failures, bisects a failing batch and, after its retries, sends
the failed records' positions to the dead-letter queue (whose depth has an alarm).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from functions.service import env
from functions.service.audit_anchor import AnchorStore
from functions.service.context import service_context
from functions.service.observability import logger, metrics
from functions.service.settings import DEFAULT_ANCHOR_EVERY
from functions.service.siem_export import SiemExporter

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


def exporter() -> SiemExporter:
    """The exporter the environment describes (bus, anchor bucket, N), on the service's clients."""
    ctx = service_context()
    bus = os.environ.get(env.AUDIT_BUS, "")
    if not bus:
        raise RuntimeError(f"set {env.AUDIT_BUS}")
    anchors = AnchorStore.from_env(ctx.s3) if os.environ.get(env.ANCHOR_BUCKET) else None
    return SiemExporter(
        ctx.store,
        ctx.events,
        bus,
        anchors=anchors,
        signer_for=ctx.keys.signer,
        anchor_every=int(os.environ.get(env.ANCHOR_EVERY, DEFAULT_ANCHOR_EVERY)),
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    answer = exporter().handle(event)
    metrics.add_metric(name="AuditExportFailures", unit="Count", value=len(answer["batchItemFailures"]))
    return answer

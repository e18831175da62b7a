"""The SIEM export: the audit table's stream → the SiemExport function → each org's export prefix and the audit bus.

The function (functions/handlers/siem_export.py) also anchors every N-th event of an org. Its S3, key and signing
grants are its row in :data:`infra_cdk.access.MATRIX`; this module adds what only it has: the stream, the bus, the
anchor bucket, and a forwarding rule per org whose config names a customer's own event bus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from functions.service.settings import AUDIT_DETAIL_TYPE, AUDIT_EVENT_SOURCE
from infra_cdk import contract, nag

if TYPE_CHECKING:
    from aws_cdk import aws_sqs as sqs

    from infra_cdk.foundation import Foundation

FUNCTION: Final = "SiemExport"
# A batch that keeps failing is retried for a day at most, then its position goes to the dead-letter queue.
STREAM_RETRIES: Final = 10
STREAM_MAX_AGE: Final = cdk.Duration.hours(24)


def org_pattern(org: str) -> events.EventPattern:
    """One org's audit events on the bus: what a customer's rule matches (docs/security.md)."""
    return events.EventPattern(
        source=[AUDIT_EVENT_SOURCE], detail_type=[AUDIT_DETAIL_TYPE], detail={"metadata": {"tenant_uid": [org]}}
    )


class SiemExport(Construct):
    """The audit bus, the stream's event source mapping, and the per-org forwarding rules."""

    def __init__(
        self, scope: Construct, construct_id: str, *, foundation: Foundation, dead_letters: sqs.IQueue
    ) -> None:
        super().__init__(scope, construct_id)
        config, data, compute = foundation.config, foundation.data, foundation.compute
        function, role = compute.functions[FUNCTION], compute.roles[FUNCTION]
        self.bus = events.EventBus(
            self,
            "AuditBus",
            event_bus_name=f"hetero2-{config.customer}-audit",
            description="HETERO-2 audit events as OCSF API Activity records; filter on detail.metadata.tenant_uid",
            kms_key=data.platform_key,
        )
        nag.add_statement(role, actions=["events:PutEvents"], resources=[self.bus.event_bus_arn])
        stream_arn = data.audit_table.table_stream_arn
        if stream_arn is None:
            raise ValueError("the audit table has no stream")
        nag.add_statement(
            role,
            actions=["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            resources=[stream_arn],
        )
        nag.add_statement(role, actions=["dynamodb:ListStreams"], resources=["*"], wildcard_reason="list-streams")
        nag.add_statement(
            role,
            actions=["s3:PutObject"],
            resources=[data.anchor_bucket.arn_for_objects("anchors/*")],
            wildcard_reason="audit-anchors",
        )
        for name, value in (
            (contract.env.AUDIT_BUS, self.bus.event_bus_name),
            (contract.env.ANCHOR_BUCKET, data.anchor_bucket.bucket_name),
            (contract.env.ANCHOR_RETENTION_DAYS, str(config.audit_anchor_retention_days)),
            (contract.env.ANCHOR_EVERY, str(config.audit_anchor_every)),
        ):
            function.add_environment(name, value)
        # One shard is read in order (parallelization 1): an org's events reach its SIEM in chain order.
        self.mapping = lambda_.EventSourceMapping(
            self,
            "AuditStream",
            target=function,
            event_source_arn=stream_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=100,
            bisect_batch_on_error=True,
            report_batch_item_failures=True,
            retry_attempts=STREAM_RETRIES,
            max_record_age=STREAM_MAX_AGE,
            parallelization_factor=1,
        )
        # The on-failure destination, set on the resource itself: CDK's SqsDlq would grant wildcard KMS actions.
        # The role may send to the queue; the queue's key (the platform key) names the role in its policy.
        cfn = self.mapping.node.default_child
        if not isinstance(cfn, lambda_.CfnEventSourceMapping):
            raise TypeError("the audit stream mapping has no CfnEventSourceMapping")
        cfn.destination_config = lambda_.CfnEventSourceMapping.DestinationConfigProperty(
            on_failure=lambda_.CfnEventSourceMapping.OnFailureProperty(destination=dead_letters.queue_arn)
        )
        nag.add_statement(role, actions=["sqs:SendMessage"], resources=[dead_letters.queue_arn])
        self.forwarding: dict[str, events.Rule] = {}
        for tenant in config.tenants:
            if tenant.siem_event_bus_arn is None:
                continue
            rule = events.Rule(
                self,
                f"Forward-{tenant.org}",
                event_bus=self.bus,
                description=f"Org {tenant.org}'s audit events to the customer's own event bus",
                event_pattern=org_pattern(tenant.org),
            )
            customer_bus = events.EventBus.from_event_bus_arn(
                self, f"CustomerBus-{tenant.org}", tenant.siem_event_bus_arn
            )
            rule.add_target(targets.EventBus(customer_bus, dead_letter_queue=dead_letters))
            self.forwarding[tenant.org] = rule

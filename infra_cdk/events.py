"""Event-driven entries: a file landing in a drop folder starts a job; a daily schedule enforces retention.

Both go through EventBridge with retries and an encrypted dead-letter queue, so a lost event is a message
an operator sees (the queue depth has an alarm), never a customer file that silently was not processed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.service.reconcile_statuses import ENDED_STATUSES
from infra_cdk import contract, nag
from infra_cdk.checkov import ASYNC_FUNCTIONS

if TYPE_CHECKING:
    from infra_cdk.foundation import Foundation

DROP_FOLDER_KEYS: Final = "tenants/*/projects/*/inbox/*"
RETENTION_SCHEDULE: Final = events.Schedule.cron(minute="17", hour="3")
# Audit-chain heads are anchored at least hourly: the most a removed or rewritten tail can go unseen.
ANCHOR_SCHEDULE: Final = events.Schedule.rate(cdk.Duration.hours(1))
# The job queue moves on every slot release and every execution end; this sweep starts what a dispatcher that died
# between admitting a job and starting its execution left behind.
QUEUE_SWEEP_SCHEDULE: Final = events.Schedule.rate(cdk.Duration.minutes(5))


class EventRouting(Construct):
    """S3 Object Created (inbox keys) -> DropTrigger; daily cron -> Retention; execution ended (and a 5-minute
    sweep) -> Reconcile, which also dispatches the job queue."""

    def __init__(self, scope: Construct, construct_id: str, *, foundation: Foundation, state_machine_arn: str) -> None:
        super().__init__(scope, construct_id)
        data, compute = foundation.data, foundation.compute
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=data.platform_key,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        nag.acknowledge(self.dead_letters, "AwsSolutions-SQS3", "dlq-is-dlq")
        functions = compute.functions
        functions["DropTrigger"].add_environment(contract.env.STATE_MACHINE_ARN, state_machine_arn)
        self.drop_rule = self._rule(
            "DropFolderFile",
            "A file landed in a tenant's drop-folder inbox",
            functions["DropTrigger"],
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [data.bucket.bucket_name]},
                    "object": {"key": events.Match.wildcard(DROP_FOLDER_KEYS)},
                },
            ),
        )
        self.retention_rule = self._rule(
            "DailyRetention", "Delete data past its retention", functions["Retention"], schedule=RETENTION_SCHEDULE
        )
        # Step Functions skips every Catch on a timeout or an abort: this rule is how such a job still ends. Every end
        # (SUCCEEDED too) also moves the job queue: the slot it freed goes to the next waiting job.
        self.execution_rule = self._rule(
            "ExecutionEnded",
            "An audit-job execution ended: reconcile its job if it was left behind, dispatch the queue",
            functions["Reconcile"],
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": list(ENDED_STATUSES), "stateMachineArn": [state_machine_arn]},
            ),
        )
        self.queue_sweep_rule = self._rule(
            "QueueSweep",
            "Start queued jobs a dead dispatcher left",
            functions["Reconcile"],
            schedule=QUEUE_SWEEP_SCHEDULE,
        )
        self.anchor_rule = self._rule(
            "HourlyAuditAnchor", "Sign each org's audit-chain head", functions["AuditAnchor"], schedule=ANCHOR_SCHEDULE
        )
        # EventBridge invokes these asynchronously; a run that still fails after Lambda's own retries lands in the
        # same dead-letter queue (and its alarm), not nowhere (checkov CKV_AWS_116).
        for name in sorted(ASYNC_FUNCTIONS):
            cfn = functions[name].node.default_child
            if not isinstance(cfn, lambda_.CfnFunction):
                raise TypeError(f"{name} has no CfnFunction")
            cfn.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(
                target_arn=self.dead_letters.queue_arn
            )
            nag.add_statement(compute.roles[name], actions=["sqs:SendMessage"], resources=[self.dead_letters.queue_arn])

    def _rule(
        self,
        construct_id: str,
        description: str,
        target: lambda_.IFunction,
        *,
        event_pattern: events.EventPattern | None = None,
        schedule: events.Schedule | None = None,
    ) -> events.Rule:
        """A rule invoking ``target``: EventBridge retries it for up to six hours, then dead-letters the event."""
        rule = events.Rule(self, construct_id, description=description, event_pattern=event_pattern, schedule=schedule)
        rule.add_target(
            targets.LambdaFunction(
                target, dead_letter_queue=self.dead_letters, retry_attempts=8, max_event_age=cdk.Duration.hours(6)
            )
        )
        return rule

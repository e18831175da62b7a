"""What an operator sees: one dashboard, alarms on failures and slowness, all alarms to one encrypted topic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra_cdk import contract
from infra_cdk.compute import CHUNK_TIMEOUT_SECONDS, Compute

if TYPE_CHECKING:
    from infra_cdk.api import Api
    from infra_cdk.config import CustomerConfig
    from infra_cdk.events import EventRouting
    from infra_cdk.foundation import Foundation
    from infra_cdk.orchestration import Orchestration

PERIOD: Final = cdk.Duration.minutes(5)
# Slow chunks: p95 above two thirds of the Lambda timeout means retries by timeout are near.
CHUNK_P95_ALARM_MS: Final = CHUNK_TIMEOUT_SECONDS * 1000 * 2 // 3
API_P95_LATENCY_ALARM_MS: Final = 3000
API_5XX_ALARM: Final = 5
HALF_WIDTH: Final = 12


@dataclass(frozen=True, slots=True)
class ErrorThresholds:
    errors: int
    throttles: int
    periods: int


# RunChunk is retried by the state machine, and a Map wider than the reserved concurrency throttles by design.
THRESHOLDS: Final = {"RunChunk": ErrorThresholds(errors=5, throttles=100, periods=3)}
DEFAULT_THRESHOLDS: Final = ErrorThresholds(errors=1, throttles=1, periods=1)


# (metric, threshold per 5 minutes, periods, what it means): chunks out of retries, jobs their execution left
# behind (found by the Reconcile function: a stuck job), and AWS throttles that outlived botocore's retries.
SERVICE_ALARMS: Final = (
    ("ChunksFailed", 1, 1, "Chunks failed after all retries (their rows are ERROR chunk_failed, or the job failed)"),
    ("JobsReconciled", 1, 1, "A job was left RUNNING by a timed-out, aborted or failed execution (stuck job)"),
    ("AwsThrottles", 20, 2, "AWS calls keep being throttled past botocore's retries (KMS, DynamoDB or S3)"),
)


def service_metric(name: str) -> cloudwatch.Metric:
    """A metric the functions emit with Powertools (namespace and service from ``contract.POWERTOOLS_ENV``)."""
    return cloudwatch.Metric(
        namespace=contract.POWERTOOLS_ENV["POWERTOOLS_METRICS_NAMESPACE"],
        metric_name=name,
        dimensions_map={"service": contract.POWERTOOLS_ENV["POWERTOOLS_SERVICE_NAME"]},
        statistic="Sum",
        period=PERIOD,
    )


class Observability(Construct):
    """Alarm topic, alarms and the dashboard of one customer deployment."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        foundation: Foundation,
        orchestration: Orchestration,
        api: Api,
        routing: EventRouting,
    ) -> None:
        super().__init__(scope, construct_id)
        config, data, compute = foundation.config, foundation.data, foundation.compute
        self.topic = sns.Topic(
            self,
            "Alarms",
            display_name=f"HETERO-2 {config.customer} alarms",
            master_key=data.platform_key,
            enforce_ssl=True,
        )
        for email in config.alarm_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.alarms: list[cloudwatch.Alarm] = []
        machine = orchestration.state_machine
        self._alarm("JobsFailed", machine.metric_failed(period=PERIOD), 1, "An audit job failed")
        self._alarm("JobsTimedOut", machine.metric_timed_out(period=PERIOD), 1, "An audit job timed out")
        self._alarm("JobsAborted", machine.metric_aborted(period=PERIOD), 1, "An audit job's execution was stopped")
        # One alarm per failure mode the service reports itself (Powertools EMF metrics, dimension service).
        for name, threshold, periods, description in SERVICE_ALARMS:
            self._alarm(name, service_metric(name), threshold, description, periods=periods)
        for name, function in compute.functions.items():
            limits = THRESHOLDS.get(name, DEFAULT_THRESHOLDS)
            for kind, metric, threshold, what in (
                ("Errors", function.metric_errors(period=PERIOD), limits.errors, "raised errors"),
                ("Throttles", function.metric_throttles(period=PERIOD), limits.throttles, "was throttled"),
            ):
                self._alarm(f"{name}{kind}", metric, threshold, f"{name} {what}", periods=limits.periods)
        chunk_p95 = compute.functions["RunChunk"].metric_duration(period=PERIOD, statistic="p95")
        self._alarm("ChunkDurationP95", chunk_p95, CHUNK_P95_ALARM_MS, "Chunks are slow (p95)", periods=3)
        rest_api = api.rest_api
        api_5xx = rest_api.metric_server_error(period=PERIOD, statistic="Sum")
        self._alarm("Api5xx", api_5xx, API_5XX_ALARM, "The API answers 5xx")
        api_p95 = rest_api.metric_latency(period=PERIOD, statistic="p95")
        self._alarm("ApiLatencyP95", api_p95, API_P95_LATENCY_ALARM_MS, "The API is slow (p95)", periods=3)
        dead = routing.dead_letters.metric_approximate_number_of_messages_visible(period=PERIOD)
        self._alarm("DeadLetters", dead, 1, "Drop-folder or retention events could not be delivered")
        self.dashboard = self._dashboard(config, compute, orchestration, api, chunk_p95, api_p95)

    def _alarm(
        self, name: str, metric: cloudwatch.IMetric, threshold: float, description: str, *, periods: int = 1
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            alarm_description=f"HETERO-2: {description}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)

    def _dashboard(
        self,
        config: CustomerConfig,
        compute: Compute,
        orchestration: Orchestration,
        api: Api,
        chunk_p95: cloudwatch.IMetric,
        api_p95: cloudwatch.IMetric,
    ) -> cloudwatch.Dashboard:
        machine = orchestration.state_machine
        functions = compute.functions
        rest_api = api.rest_api
        return cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"hetero2-{config.customer}",
            widgets=[
                [cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24, height=4)],
                [
                    _graph(
                        "Audit jobs",
                        machine.metric_started(period=PERIOD),
                        machine.metric_succeeded(period=PERIOD),
                        machine.metric_failed(period=PERIOD),
                        machine.metric_timed_out(period=PERIOD),
                    ),
                    _graph(
                        "Chunk duration (ms)",
                        functions["RunChunk"].metric_duration(period=PERIOD, statistic="p50"),
                        chunk_p95,
                        line=cloudwatch.HorizontalAnnotation(value=CHUNK_P95_ALARM_MS, label="p95 alarm"),
                    ),
                ],
                [
                    _graph("Function errors", *(f.metric_errors(period=PERIOD, label=n) for n, f in functions.items())),
                    _graph(
                        "Function throttles",
                        *(f.metric_throttles(period=PERIOD, label=n) for n, f in functions.items()),
                    ),
                ],
                [
                    _graph(
                        "API requests and errors",
                        rest_api.metric_count(period=PERIOD),
                        rest_api.metric_client_error(period=PERIOD),
                        rest_api.metric_server_error(period=PERIOD),
                    ),
                    _graph("API latency (ms)", rest_api.metric_latency(period=PERIOD, statistic="p50"), api_p95),
                ],
            ],
        )


def _graph(
    title: str, *metrics: cloudwatch.IMetric, line: cloudwatch.HorizontalAnnotation | None = None
) -> cloudwatch.GraphWidget:
    """A graph half the dashboard's 24 columns wide (two to a row), with an optional alarm line."""
    return cloudwatch.GraphWidget(
        title=title, left=list(metrics), left_annotations=[line] if line else None, width=HALF_WIDTH
    )

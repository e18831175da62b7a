"""The audit-job state machine: ``statemachines/audit_job.asl.json`` inline, with CDK filling its ``${...}``.

Inline (``DefinitionBody.from_string``) rather than an S3 asset so cfn-lint validates the ASL in the
template. Its role is written by hand: a definition from a string gives CDK nothing to derive grants from.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Final

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from functions.service.layout import descriptors_key_pattern, map_results_pattern
from infra_cdk import contract, nag
from infra_cdk.compute import retained_log_group
from infra_cdk.errors import AslSubstitutionError

if TYPE_CHECKING:
    from pathlib import Path

    from infra_cdk.compute import Compute
    from infra_cdk.data import DataStore
    from infra_cdk.foundation import Foundation

__all__ = ["AslSubstitutionError", "Orchestration", "descriptor_pattern", "read_definition"]

_PLACEHOLDER: Final = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def read_definition(path: Path) -> str:
    """The ASL text, checked to be JSON and to use exactly the contract's substitution names."""
    text = path.read_text(encoding="utf-8")
    json.loads(text)
    used = set(_PLACEHOLDER.findall(text))
    expected = set(contract.ASL_SUBSTITUTIONS)
    if used != expected:
        raise AslSubstitutionError(
            f"{path}: substitutions differ from the contract "
            f"(unknown: {sorted(used - expected)}, unused: {sorted(expected - used)})"
        )
    return text


class Orchestration(Construct):
    """The state machine, its log group and its hand-written least-privilege role."""

    def __init__(self, scope: Construct, construct_id: str, *, foundation: Foundation, definition: str) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        data, compute = foundation.data, foundation.compute
        name = f"hetero2-{foundation.config.customer}-audit-job"
        self.state_machine_arn = _states_arn(stack, "stateMachine", name)
        # Its executions, named at run time: the Distributed Map's children, and the jobs the API describes and stops.
        self.executions_arn = _states_arn(stack, "execution", f"{name}/*")
        self.role = nag.service_role(self, "Role", "states.amazonaws.com", "HETERO-2 audit-job state machine")
        self.log_group = retained_log_group(self, "Logs", data.platform_key, name=f"/aws/vendedlogs/states/{name}")
        functions = compute.functions
        self.state_machine = sfn.StateMachine(
            self,
            "AuditJob",
            state_machine_name=name,
            definition_body=sfn.DefinitionBody.from_string(definition),
            definition_substitutions={
                contract.SUB_PLAN: functions["Plan"].function_arn,
                contract.SUB_RUN_CHUNK: functions["RunChunk"].function_arn,
                contract.SUB_FINALIZE: functions["Finalize"].function_arn,
                contract.SUB_MARK_FAILED: functions["MarkFailed"].function_arn,
                contract.SUB_BUCKET: data.bucket.bucket_name,
                contract.SUB_CLUSTER: compute.cluster.cluster_arn,
                contract.SUB_TASK_DEFINITION: compute.task_definition.task_definition_arn,
                contract.SUB_CHUNK_TASK_DEFINITION: compute.chunk_task_definition.task_definition_arn,
                contract.SUB_CONTAINER: contract.WORKER_CONTAINER_NAME,
            },
            role=self.role,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            tracing_enabled=True,
        )
        self._grant(stack, data, compute)

    def _grant(self, stack: cdk.Stack, data: DataStore, compute: Compute) -> None:
        role = self.role
        nag.add_statement(
            role,
            actions=["lambda:InvokeFunction"],
            resources=[compute.functions[name].function_arn for name in ("Plan", "RunChunk", "Finalize", "MarkFailed")],
        )
        # Distributed Map: the state machine starts and watches its own child executions.
        nag.add_statement(role, actions=["states:StartExecution"], resources=[self.state_machine_arn])
        nag.add_statement(
            role,
            actions=["states:DescribeExecution", "states:StopExecution"],
            resources=[self.executions_arn],
            wildcard_reason="distributed-map-children",
        )
        # ItemReader: the plan's descriptor array, of the configured tenants only.
        nag.add_statement(
            role,
            actions=["s3:GetObject"],
            resources=[descriptor_pattern(data.bucket, org) for org in data.tenants],
            wildcard_reason="tenant-objects",
        )
        # ResultWriter: the Map Run's manifest and per-chunk outcomes under each job's map/ prefix (SSE-KMS with the
        # bucket's key: they hold chunk counts and errors, no molecule of the customer's).
        nag.add_statement(
            role,
            actions=["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            resources=[f"{data.bucket.bucket_arn}/{map_results_pattern(org)}" for org in data.tenants],
            wildcard_reason="tenant-objects",
        )
        data.grant_data_keys(role)
        data.grant_platform_key(role)
        # ecs:runTask.sync: run the worker tasks (finalize, chunks), follow them, stop them on abort.
        task_definition = compute.task_definition
        nag.add_statement(
            role,
            actions=["ecs:RunTask"],
            resources=[task_definition.task_definition_arn, compute.chunk_task_definition.task_definition_arn],
            conditions={"ArnEquals": {"ecs:cluster": compute.cluster.cluster_arn}},
        )
        tasks = stack.format_arn(
            service="ecs",
            resource="task",
            resource_name=f"{compute.cluster.cluster_name}/*",
            arn_format=cdk.ArnFormat.SLASH_RESOURCE_NAME,
        )
        nag.add_statement(
            role,
            actions=["ecs:DescribeTasks", "ecs:StopTask"],
            resources=[tasks],
            wildcard_reason="ecs-tasks-of-cluster",
        )
        nag.add_statement(
            role,
            actions=["events:DescribeRule", "events:PutRule", "events:PutTargets"],
            resources=[
                stack.format_arn(
                    service="events", resource="rule", resource_name="StepFunctionsGetEventsForECSTaskRule"
                )
            ],
        )
        passed = [compute.task_role.role_arn]
        if task_definition.execution_role is not None:
            passed.append(task_definition.execution_role.role_arn)
        nag.add_statement(
            role,
            actions=["iam:PassRole"],
            resources=passed,
            conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        )
        # CDK adds the logging and tracing grants for ``logs`` and ``tracing_enabled``; both need Resource '*'.
        nag.acknowledge_wildcard(role, "*", "states-logs-xray")


def _states_arn(stack: cdk.Stack, resource: str, name: str) -> str:
    """``arn:…:states:{region}:{account}:{resource}:{name}``: a state machine, or executions of one."""
    return stack.format_arn(
        service="states", resource=resource, resource_name=name, arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
    )


def descriptor_pattern(bucket: s3.IBucket, org: str) -> str:
    return f"{bucket.bucket_arn}/{descriptors_key_pattern(org)}"

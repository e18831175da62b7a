"""The code that runs: control-plane zip functions, the RDKit worker image as Lambdas and as a Fargate task.

Every function has its own role with no managed policy and its own encrypted log group; the permissions
each role needs are granted in :mod:`infra_cdk.access`, one table of who-may-do-what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.service import deployment as sizing
from infra_cdk import contract, nag

if TYPE_CHECKING:
    from aws_cdk import aws_kms as kms

    from infra_cdk.assets import AssetPaths
    from infra_cdk.config import CustomerConfig
    from infra_cdk.data import DataStore

RUNTIME: Final = lambda_.Runtime.PYTHON_3_12
LOG_RETENTION: Final = logs.RetentionDays.ONE_YEAR
# Lambda must give up before the state machine's 900 s task timeout, so the retry sees a clean timeout.
CHUNK_TIMEOUT_SECONDS: Final = 870
ARCHITECTURE: Final = {"x86_64": lambda_.Architecture.X86_64, "arm64": lambda_.Architecture.ARM_64}[sizing.ARCHITECTURE]


# How the isolated worker subnets reach AWS (no NAT): gateway endpoints for S3 and DynamoDB, interface endpoints
# for the rest. The Fargate code's clients are S3, DynamoDB and KMS (DescribeKey, GetPublicKey, Sign); ECR and
# Logs are the ECS agent's. tests/infra checks that every client the Fargate code path creates has its route.
WORKER_GATEWAY_ENDPOINTS: Final = {
    "s3": ec2.GatewayVpcEndpointAwsService.S3,
    "dynamodb": ec2.GatewayVpcEndpointAwsService.DYNAMODB,
}
WORKER_INTERFACE_ENDPOINTS: Final = (
    ("EcrApi", ec2.InterfaceVpcEndpointAwsService.ECR),
    ("EcrDocker", ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER),
    ("Logs", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS),
    ("Kms", ec2.InterfaceVpcEndpointAwsService.KMS),
)
# Every AWS service the Fargate task's code calls (boto3 service names), recorded by running the task in
# tests/service/test_fargate_worker.py; tests/infra checks each has an endpoint in the worker VPC.
FARGATE_CODE_SERVICES: Final = frozenset({"s3", "dynamodb", "kms"})


def retained_log_group(scope: Construct, construct_id: str, key: kms.IKey, *, name: str | None = None) -> logs.LogGroup:
    """A log group kept for :data:`LOG_RETENTION`, encrypted with ``key``, and kept when the stack is deleted."""
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=LOG_RETENTION,
        encryption_key=key,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    handler: str
    memory_mb: int
    timeout_seconds: int
    description: str


WORKER_FUNCTIONS: Final = (
    FunctionSpec(
        "Plan", contract.PLAN_HANDLER, sizing.PLAN_MEMORY_MB, 900, "Validate the input, write chunks and descriptors"
    ),
    FunctionSpec(
        "RunChunk", contract.RUN_CHUNK_HANDLER, sizing.RUN_CHUNK_MEMORY_MB, CHUNK_TIMEOUT_SECONDS, "Audit one chunk"
    ),
    FunctionSpec(
        "Finalize",
        contract.FINALIZE_HANDLER,
        sizing.FINALIZE_MEMORY_MB,
        900,
        "Aggregate results, build and sign the pack",
    ),
)
CONTROL_PLANE_FUNCTIONS: Final = (
    FunctionSpec("Api", contract.API_HANDLER, 1024, 29, "REST API behind API Gateway"),
    FunctionSpec("Authorizer", contract.AUTHORIZER_HANDLER, 512, 10, "Verify the caller's OIDC JWT"),
    FunctionSpec("ScimAuthorizer", contract.SCIM_AUTHORIZER_HANDLER, 256, 10, "Verify an IdP's SCIM bearer token"),
    FunctionSpec("DropTrigger", contract.DROP_TRIGGER_HANDLER, 512, 60, "Start a job for a drop-folder file"),
    FunctionSpec("MarkFailed", contract.MARK_FAILED_HANDLER, 256, 60, "Record a failed job"),
    FunctionSpec("Retention", contract.RETENTION_HANDLER, 1024, 900, "Delete data past its retention"),
    FunctionSpec("AuditAnchor", contract.AUDIT_ANCHOR_HANDLER, 512, 300, "Sign audit-chain heads into Object Lock"),
    FunctionSpec("Reconcile", contract.RECONCILE_HANDLER, 256, 60, "End and settle a job its execution left behind"),
    FunctionSpec("SiemExport", contract.SIEM_EXPORT_HANDLER, 512, 300, "Audit events to the SIEM export and bus"),
)


@dataclass(frozen=True, slots=True)
class TaskShape:
    """One Fargate task definition of the worker: size, image target, log stream prefix and scratch disk."""

    name: str
    cpu: int
    memory_mib: int
    image_target: str
    log_prefix: str
    storage_gib: int | None = None  # None: Fargate's default (20 GiB)


# The finalize of very large jobs (the full image: the report draws plots; 50 GiB for the pack it assembles) and the
# chunk tasks of large jobs (the lean image RunChunk runs too: 226 MB less to pull at every start-up, docs/cost.md).
FINALIZE_TASK: Final = TaskShape(
    "WorkerTask", sizing.FARGATE_CPU, sizing.FARGATE_MEMORY_MIB, contract.FULL_IMAGE_TARGET, "worker", storage_gib=50
)
CHUNK_TASK: Final = TaskShape(
    "ChunkTask", sizing.FARGATE_CHUNK_CPU, sizing.FARGATE_CHUNK_MEMORY_MIB, contract.CHUNK_IMAGE_TARGET, "chunk"
)


class Compute(Construct):
    """Functions, the worker VPC and the Fargate task; ``functions[name]`` and ``roles[name]`` by spec name."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: CustomerConfig, data: DataStore, assets: AssetPaths
    ) -> None:
        super().__init__(scope, construct_id)
        self._data = data
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        self.vpc = self._worker_vpc(config)
        self.worker_security_group = ec2.SecurityGroup(
            self,
            "WorkerSecurityGroup",
            vpc=self.vpc,
            description="HETERO-2 Fargate worker: HTTPS out to the VPC endpoints only, nothing in",
            allow_all_outbound=False,
        )
        self.worker_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS; isolated subnets route only to VPC endpoints"
        )
        self.endpoint_security_group.add_ingress_rule(
            self.worker_security_group, ec2.Port.tcp(443), "HTTPS from the Fargate worker"
        )
        subnets = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids
        base_env = {
            **contract.POWERTOOLS_ENV,
            contract.env.BUCKET: data.bucket.bucket_name,
            contract.env.TABLE: data.table.table_name,
            contract.env.AUDIT_TABLE: data.audit_table.table_name,
            contract.env.IDEMPOTENCY_TABLE: data.idempotency_table.table_name,
            contract.env.KMS_ALIAS_PREFIX: contract.KMS_ALIAS_PREFIX,
            contract.env.MAX_RUNNING_JOBS: str(config.running_jobs_cap),
        }
        self.worker_env = {
            **base_env,
            contract.env.FARGATE_MIN_ROWS: str(contract.FARGATE_MIN_ROWS),
            contract.env.MAX_CONCURRENCY: str(config.chunk_concurrency),
            contract.env.WORKER_SUBNETS: cdk.Fn.join(",", subnets),
            contract.env.WORKER_SECURITY_GROUPS: self.worker_security_group.security_group_id,
        }
        layer = lambda_.LayerVersion(
            self,
            "ControlPlaneLayer",
            code=assets.layer_code(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.X86_64],
            description="Powertools, pydantic, PyJWT for the control-plane functions (layers/build.sh)",
        )
        if not assets.layer_is_built:
            cdk.Annotations.of(layer).add_warning_v2(
                "hetero2:layer-not-built", "layers/control_plane/build is missing; run layers/build.sh before deploy"
            )
        for spec in WORKER_FUNCTIONS:
            role, log_group = self._role_and_logs(spec)
            self.functions[spec.name] = lambda_.DockerImageFunction(
                self,
                spec.name,
                code=assets.worker_function_code(
                    spec.handler,
                    contract.CHUNK_IMAGE_TARGET if spec.name == "RunChunk" else contract.FULL_IMAGE_TARGET,
                ),
                description=f"HETERO-2 {spec.description}",
                architecture=ARCHITECTURE,
                memory_size=spec.memory_mb,
                ephemeral_storage_size=cdk.Size.gibibytes(2),
                timeout=cdk.Duration.seconds(spec.timeout_seconds),
                role=role,
                log_group=log_group,
                tracing=lambda_.Tracing.ACTIVE,
                environment=self.worker_env,
                reserved_concurrent_executions=config.chunk_concurrency if spec.name == "RunChunk" else None,
            )
        code = assets.control_plane_code()
        for spec in CONTROL_PLANE_FUNCTIONS:
            role, log_group = self._role_and_logs(spec)
            self.functions[spec.name] = lambda_.Function(
                self,
                spec.name,
                code=code,
                handler=spec.handler,
                runtime=RUNTIME,
                layers=[layer],
                description=f"HETERO-2 {spec.description}",
                architecture=lambda_.Architecture.X86_64,
                memory_size=spec.memory_mb,
                timeout=cdk.Duration.seconds(spec.timeout_seconds),
                role=role,
                log_group=log_group,
                tracing=lambda_.Tracing.ACTIVE,
                environment=base_env,
            )
            nag.acknowledge(self.functions[spec.name], "AwsSolutions-L1", "lambda-runtime")
        self.cluster, self.task_definition, self.chunk_task_definition, self.task_role = self._fargate_worker(assets)

    def _role_and_logs(self, spec: FunctionSpec) -> tuple[iam.Role, logs.LogGroup]:
        """A function's own role (no managed policy) and encrypted log group, which it alone may write."""
        role = nag.service_role(self, f"{spec.name}Role", "lambda.amazonaws.com", f"HETERO-2 {spec.name} function")
        log_group = self._log_group(f"{spec.name}Logs")
        nag.add_statement(
            role, actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
        )
        # Lambda adds the X-Ray grant itself, on every role of a traced function.
        nag.acknowledge_wildcard(role, "*", "xray")
        self.roles[spec.name] = role
        self.log_groups[spec.name] = log_group
        return role, log_group

    def _log_group(self, construct_id: str) -> logs.LogGroup:
        return retained_log_group(self, construct_id, self._data.platform_key)

    def _worker_vpc(self, config: CustomerConfig) -> ec2.Vpc:
        """Isolated subnets: the Fargate worker reaches AWS through endpoints and nothing else."""
        flow_logs = self._log_group("VpcFlowLogs")
        vpc = ec2.Vpc(
            self,
            "WorkerVpc",
            ip_addresses=ec2.IpAddresses.cidr(config.vpc_cidr),
            availability_zones=list(config.zones),
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="worker", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)
            ],
            restrict_default_security_group=False,
            flow_logs={
                "All": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=WORKER_GATEWAY_ENDPOINTS["s3"]),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(service=WORKER_GATEWAY_ENDPOINTS["dynamodb"]),
            },
        )
        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=vpc,
            description="HETERO-2 interface endpoints: HTTPS from the worker only",
            allow_all_outbound=False,
        )
        for name, service in WORKER_INTERFACE_ENDPOINTS:
            vpc.add_interface_endpoint(
                name,
                service=service,
                private_dns_enabled=True,
                open=False,
                security_groups=[self.endpoint_security_group],
            )
        return vpc

    def _fargate_worker(
        self, assets: AssetPaths
    ) -> tuple[ecs.Cluster, ecs.FargateTaskDefinition, ecs.FargateTaskDefinition, iam.Role]:
        """The cluster and the two task definitions (``FINALIZE_TASK``, ``CHUNK_TASK``) of one task role."""
        # FARGATE_SPOT and FARGATE on the cluster: large jobs' chunk tasks ask for Spot in the state machine and fall
        # back to on-demand Fargate there (a capacity provider strategy cannot fall back by itself).
        cluster = ecs.Cluster(
            self,
            "WorkerCluster",
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
            enable_fargate_capacity_providers=True,
        )
        task_role = nag.service_role(
            self, "FargateWorkerRole", "ecs-tasks.amazonaws.com", "HETERO-2 Fargate worker task"
        )
        log_group = self._log_group("FargateWorkerLogs")
        self.log_groups["FargateWorker"] = log_group
        task_definition = self._task_definition(FINALIZE_TASK, assets, task_role, log_group)
        execution_role = task_definition.execution_role
        if execution_role is not None:
            nag.acknowledge_wildcard(execution_role, "*", "ecr-auth-token")
        chunk_task = self._task_definition(CHUNK_TASK, assets, task_role, log_group, execution_role=execution_role)
        return cluster, task_definition, chunk_task, task_role

    def _task_definition(
        self,
        shape: TaskShape,
        assets: AssetPaths,
        task_role: iam.Role,
        log_group: logs.LogGroup,
        execution_role: iam.IRole | None = None,
    ) -> ecs.FargateTaskDefinition:
        task_definition = ecs.FargateTaskDefinition(
            self,
            shape.name,
            cpu=shape.cpu,
            memory_limit_mib=shape.memory_mib,
            ephemeral_storage_gib=shape.storage_gib,
            task_role=task_role,
            execution_role=execution_role,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64
                if sizing.ARCHITECTURE == "x86_64"
                else ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        environment = {
            key: value
            for key, value in self.worker_env.items()
            if key not in (contract.env.WORKER_SUBNETS, contract.env.WORKER_SECURITY_GROUPS)
        }
        task_definition.add_container(
            contract.WORKER_CONTAINER_NAME,
            container_name=contract.WORKER_CONTAINER_NAME,
            image=assets.worker_container_image(shape.image_target),
            # The image's ENTRYPOINT is the Lambda runtime bootstrap: replace it, and the CMD, explicitly.
            entry_point=list(contract.FARGATE_WORKER_COMMAND[:1]),
            command=list(contract.FARGATE_WORKER_COMMAND[1:]),
            environment=environment,
            logging=ecs.LogDriver.aws_logs(stream_prefix=shape.log_prefix, log_group=log_group),
        )
        nag.acknowledge(task_definition, "AwsSolutions-ECS2", "ecs-environment")
        return task_definition

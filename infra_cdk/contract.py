"""The names the service code reads (handlers, environment variables, ASL substitutions), spelled once.

They mirror the service contract the lead fixed for ``functions/`` and ``statemachines/``; a rename there is
a rename here and nowhere else in the CDK app.
"""

from __future__ import annotations

from typing import Final

# Handlers (module.function) per function id.
PLAN_HANDLER: Final = "functions.handlers.plan.handler"
RUN_CHUNK_HANDLER: Final = "functions.handlers.run_chunk.handler"
FINALIZE_HANDLER: Final = "functions.handlers.finalize.handler"
MARK_FAILED_HANDLER: Final = "functions.handlers.mark_failed.handler"
DROP_TRIGGER_HANDLER: Final = "functions.handlers.drop_trigger.handler"
API_HANDLER: Final = "functions.handlers.api.handler"
RETENTION_HANDLER: Final = "functions.handlers.retention.handler"
# The REST API's Lambda TOKEN authorizer (see docs/deploy.md, "The API and its authorizer").
AUTHORIZER_HANDLER: Final = "functions.handlers.authorizer.handler"

FARGATE_WORKER_COMMAND: Final = ("python", "-m", "functions.fargate_worker")
WORKER_CONTAINER_NAME: Final = "worker"
WORKER_DOCKERFILE: Final = "functions/worker.Dockerfile"
STATE_MACHINE_FILE: Final = "statemachines/audit_job.asl.json"
CONTROL_PLANE_LAYER_BUILD: Final = "layers/control_plane/build"

# Environment variables read by the functions.
ENV_BUCKET: Final = "HETERO2_BUCKET"
ENV_TABLE: Final = "HETERO2_TABLE"
ENV_AUDIT_TABLE: Final = "HETERO2_AUDIT_TABLE"
ENV_IDEMPOTENCY_TABLE: Final = "HETERO2_IDEMPOTENCY_TABLE"
ENV_STATE_MACHINE_ARN: Final = "HETERO2_STATE_MACHINE_ARN"
ENV_KMS_ALIAS_PREFIX: Final = "HETERO2_KMS_ALIAS_PREFIX"
ENV_FARGATE_MIN_ROWS: Final = "HETERO2_FARGATE_MIN_ROWS"
ENV_MAX_CONCURRENCY: Final = "HETERO2_MAX_CONCURRENCY"
ENV_WORKER_SUBNETS: Final = "HETERO2_WORKER_SUBNETS"
ENV_WORKER_SECURITY_GROUPS: Final = "HETERO2_WORKER_SECURITY_GROUPS"
ENV_JWT_ISSUER: Final = "HETERO2_JWT_ISSUER"
ENV_JWT_AUDIENCE: Final = "HETERO2_JWT_AUDIENCE"
ENV_JWKS_URL: Final = "HETERO2_JWKS_URL"
ENV_USAGE_KEY_PREFIX: Final = "HETERO2_USAGE_KEY_PREFIX"
# The deployment's tenants as JSON {org: {"plan", "retention_days"}}: the API creates only these orgs, so.
ENV_TENANTS: Final = "HETERO2_TENANTS"

KMS_ALIAS_PREFIX: Final = "alias/hetero2"
FARGATE_MIN_ROWS: Final = 2_000_000

POWERTOOLS_ENV: Final = {
    "POWERTOOLS_SERVICE_NAME": "hetero2",
    "POWERTOOLS_METRICS_NAMESPACE": "Hetero2",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}

# ``${...}`` names in the ASL file, substituted by CDK.
SUB_PLAN: Final = "PlanFunctionArn"
SUB_RUN_CHUNK: Final = "RunChunkFunctionArn"
SUB_FINALIZE: Final = "FinalizeFunctionArn"
SUB_MARK_FAILED: Final = "MarkFailedFunctionArn"
SUB_BUCKET: Final = "ArtifactBucket"
SUB_CLUSTER: Final = "EcsClusterArn"
SUB_TASK_DEFINITION: Final = "WorkerTaskDefinitionArn"
SUB_CONTAINER: Final = "WorkerContainerName"
ASL_SUBSTITUTIONS: Final = (
    SUB_PLAN,
    SUB_RUN_CHUNK,
    SUB_FINALIZE,
    SUB_MARK_FAILED,
    SUB_BUCKET,
    SUB_CLUSTER,
    SUB_TASK_DEFINITION,
    SUB_CONTAINER,
)


def data_key_alias(org: str) -> str:
    return f"{KMS_ALIAS_PREFIX}/{org}/data"


def signing_key_alias(org: str) -> str:
    return f"{KMS_ALIAS_PREFIX}/{org}/signing"

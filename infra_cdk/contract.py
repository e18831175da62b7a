"""The names the service code reads (handlers, environment variables, ASL substitutions), spelled once.

The environment variable names are the functions' own module, ``functions/service/env.py`` (light: standard
library only), re-exported here as ``contract.env``; the defaults the CDK sets come from
``functions/service/settings.py``. A rename in ``functions/`` or ``statemachines/`` is a rename here and nowhere else
in the CDK app.
"""

from __future__ import annotations

from typing import Final

from functions.service import env as env  # noqa: PLC0414 - re-exported: the CDK app reads contract.env
from functions.service.settings import DEFAULT_FARGATE_MIN_ROWS, DEFAULT_KMS_ALIAS_PREFIX

# Handlers (module.function) per function id.
PLAN_HANDLER: Final = "functions.handlers.plan.handler"
RUN_CHUNK_HANDLER: Final = "functions.handlers.run_chunk.handler"
FINALIZE_HANDLER: Final = "functions.handlers.finalize.handler"
MARK_FAILED_HANDLER: Final = "functions.handlers.mark_failed.handler"
DROP_TRIGGER_HANDLER: Final = "functions.handlers.drop_trigger.handler"
API_HANDLER: Final = "functions.handlers.api.handler"
RETENTION_HANDLER: Final = "functions.handlers.retention.handler"
AUDIT_ANCHOR_HANDLER: Final = "functions.handlers.audit_anchor.handler"
RECONCILE_HANDLER: Final = "functions.handlers.reconcile.handler"
SIEM_EXPORT_HANDLER: Final = "functions.handlers.siem_export.handler"
# The REST API's Lambda TOKEN authorizer (see docs/deploy.md, "The API and its authorizer").
AUTHORIZER_HANDLER: Final = "functions.handlers.authorizer.handler"
# The TOKEN authorizer of /scim/v2 (the org's SCIM bearer token; docs/api.md, "SCIM 2.0 provisioning").
SCIM_AUTHORIZER_HANDLER: Final = "functions.handlers.scim_authorizer.handler"

FARGATE_WORKER_COMMAND: Final = ("python", "-m", "functions.handlers.fargate_worker")
WORKER_CONTAINER_NAME: Final = "worker"
WORKER_DOCKERFILE: Final = "functions/worker.Dockerfile"
# Its targets: the lean image of the RunChunk Lambda, and the full one (report drawing, parquet) of the rest.
CHUNK_IMAGE_TARGET: Final = "chunk"
FULL_IMAGE_TARGET: Final = "full"
STATE_MACHINE_FILE: Final = "statemachines/audit_job.asl.json"
CONTROL_PLANE_LAYER_BUILD: Final = "layers/control_plane/build"

KMS_ALIAS_PREFIX: Final = DEFAULT_KMS_ALIAS_PREFIX
FARGATE_MIN_ROWS: Final = DEFAULT_FARGATE_MIN_ROWS

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
SUB_CHUNK_TASK_DEFINITION: Final = "ChunkTaskDefinitionArn"  # the lean image, 1 vCPU / 2 GB: chunk tasks
SUB_CONTAINER: Final = "WorkerContainerName"
ASL_SUBSTITUTIONS: Final = (
    SUB_PLAN,
    SUB_RUN_CHUNK,
    SUB_FINALIZE,
    SUB_MARK_FAILED,
    SUB_BUCKET,
    SUB_CLUSTER,
    SUB_TASK_DEFINITION,
    SUB_CHUNK_TASK_DEFINITION,
    SUB_CONTAINER,
)


def data_key_alias(org: str) -> str:
    return f"{KMS_ALIAS_PREFIX}/{org}/data"


def signing_key_alias(org: str) -> str:
    return f"{KMS_ALIAS_PREFIX}/{org}/signing"

"""The whole service on moto, in one process: bucket, tables, Lambda functions and the audit-job state machine
from the real ASL file, with our handlers run in-process.

Used by the pipeline tests (under ``mock_aws``) and by ``hetero2 serve`` (against a moto server). moto runs
Lambda code in Docker, which we do not have, so moto's private ``LambdaFunction._invoke_lambda`` — which
returns ``(payload, errored, logs)`` — is replaced here, and only here, by a call to our handler.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.handlers import api, drop_trigger, finalize, mark_failed, plan, reconcile, retention, run_chunk
from functions.service.settings import Settings

ASL_PATH = Path(__file__).resolve().parents[2] / "statemachines" / "audit_job.asl.json"
ACCOUNT = "123456789012"

Handler = Callable[[dict[str, Any], Any], Any]

HANDLERS: dict[str, Handler] = {
    "hetero2-plan": plan.handler,
    "hetero2-run-chunk": run_chunk.handler,
    "hetero2-finalize": finalize.handler,
    "hetero2-mark-failed": mark_failed.handler,
    "hetero2-drop-trigger": drop_trigger.handler,
    "hetero2-api": api.handler,
    "hetero2-retention": retention.handler,
    "hetero2-reconcile": reconcile.handler,
}


@dataclass(frozen=True)
class LambdaContextData:
    """The Lambda runtime's context object (the handler's second argument)."""

    function_name: str
    memory_limit_in_mb: int = 1769
    invoked_function_arn: str = ""
    aws_request_id: str = "local"
    timeout_ms: int = 900_000

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


@dataclass(frozen=True)
class Names:
    bucket: str = "hetero2-artifacts-local"
    table: str = "hetero2-main"
    audit_table: str = "hetero2-audit"
    idempotency_table: str = "hetero2-idempotency"
    state_machine: str = "hetero2-audit-job"


def _zip_stub() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "# the code runs in-process, see functions/local/stack.py\n")
    return buffer.getvalue()


def _table(dynamodb: Any, name: str, keys: tuple[str, ...]) -> None:
    schema = [{"AttributeName": keys[0], "KeyType": "HASH"}]
    if len(keys) > 1:
        schema.append({"AttributeName": keys[1], "KeyType": "RANGE"})
    dynamodb.create_table(
        TableName=name,
        KeySchema=schema,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        BillingMode="PAY_PER_REQUEST",
    )


def definition_with(substitutions: dict[str, str]) -> str:
    definition = ASL_PATH.read_text()
    for name, value in substitutions.items():
        definition = definition.replace("${" + name + "}", value)
    if "${" in definition:
        raise ValueError("the ASL has substitution variables that were not filled")
    return definition


def provision(session: Any, region: str, names: Names = Names(), max_concurrency: int = 4) -> Settings:
    """Create every resource the service needs; returns the settings that point at them."""
    s3 = session.client("s3")
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=names.bucket, **location)
    s3.put_bucket_versioning(Bucket=names.bucket, VersioningConfiguration={"Status": "Enabled"})
    # As deployed: SSE-KMS under a platform key by default (what the Map's ResultWriter writes with); every object of
    # an org is written under the org's own data key by our code.
    platform_key = session.client("kms").create_key(Description="hetero2 platform key")["KeyMetadata"]["Arn"]
    s3.put_bucket_encryption(
        Bucket=names.bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": platform_key}}
            ]
        },
    )
    dynamodb = session.client("dynamodb")
    _table(dynamodb, names.table, ("pk", "sk"))
    _table(dynamodb, names.audit_table, ("pk", "sk"))
    _table(dynamodb, names.idempotency_table, ("id",))
    role = session.client("iam").create_role(RoleName="hetero2-local", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_client = session.client("lambda")
    arns = {
        name: lambda_client.create_function(
            FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handler", Code={"ZipFile": _zip_stub()}
        )["FunctionArn"]
        for name in HANDLERS
    }
    definition = definition_with(
        {
            "PlanFunctionArn": arns["hetero2-plan"],
            "RunChunkFunctionArn": arns["hetero2-run-chunk"],
            "FinalizeFunctionArn": arns["hetero2-finalize"],
            "MarkFailedFunctionArn": arns["hetero2-mark-failed"],
            "ArtifactBucket": names.bucket,
            "EcsClusterArn": f"arn:aws:ecs:{region}:{ACCOUNT}:cluster/hetero2",
            "WorkerTaskDefinitionArn": f"arn:aws:ecs:{region}:{ACCOUNT}:task-definition/hetero2-worker:1",
            "ChunkTaskDefinitionArn": f"arn:aws:ecs:{region}:{ACCOUNT}:task-definition/hetero2-chunk:1",
            "WorkerContainerName": "worker",
        }
    )
    state_machine_arn = session.client("stepfunctions").create_state_machine(
        name=names.state_machine, definition=definition, roleArn=role
    )["stateMachineArn"]
    return Settings(
        bucket=names.bucket,
        table=names.table,
        audit_table=names.audit_table,
        idempotency_table=names.idempotency_table,
        state_machine_arn=state_machine_arn,
        max_concurrency=max_concurrency,
    )


def invoke_in_process(
    function_name: str, event: Any, before: Callable[[str, dict[str, Any]], None] | None = None
) -> tuple[str, bool, str]:
    """What moto's ``_invoke_lambda`` returns, computed by calling our handler: (payload, errored, logs)."""
    payload = event if isinstance(event, dict) else json.loads(event or "{}")
    try:
        if before is not None:
            before(function_name, payload)
        result = HANDLERS[function_name](payload, LambdaContextData(function_name))
    except Exception as exc:
        return json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}), True, ""
    return json.dumps(result), False, ""


def serialised(call_action: Callable[..., Any]) -> Callable[..., Any]:
    """DynamoDB applies each request atomically (a conditional write is checked and applied as one step); moto
    takes no lock, so two threads can both pass one condition. Wrapping moto's DynamoDB request handler in a
    lock restores per-request atomicity, so races exercise our conditions as AWS would. A read-then-write
    implementation still races under it: only real conditions pass."""
    import threading  # noqa: PLC0415

    lock = threading.RLock()

    def locked(self: Any) -> Any:
        with lock:
            return call_action(self)

    return locked

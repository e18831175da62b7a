"""The pipeline under moto: real S3, DynamoDB, KMS and Step Functions (moto's interpreter runs the real ASL),
with our Lambda handlers running in-process.

moto runs Lambda functions in Docker, which this machine lacks, so ``_invoke_lambda`` — moto's private hook
that returns ``(payload, errored, logs)`` — is replaced here, and only here, by a call to our handler. Every
other AWS call in the run (the state machine's S3 ItemReader, the handlers' S3/DynamoDB/KMS calls) goes
through moto's normal API.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.awslambda.models import LambdaFunction
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from functions.handlers import drop_trigger, finalize, mark_failed, plan, run_chunk
from functions.service.context import ServiceContext, reset_service_context
from functions.service.settings import Settings

REGION = "eu-west-1"
ACCOUNT = "123456789012"
BUCKET = "hetero2-artifacts-test"
TABLE = "hetero2-main"
ASL_PATH = Path(__file__).resolve().parents[2] / "statemachines" / "audit_job.asl.json"

HANDLERS: dict[str, Callable[[dict[str, Any], Any], Any]] = {
    "hetero2-plan": plan.handler,
    "hetero2-run-chunk": run_chunk.handler,
    "hetero2-finalize": finalize.handler,
    "hetero2-mark-failed": mark_failed.handler,
    "hetero2-drop-trigger": drop_trigger.handler,
}

Fault = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class LambdaContextData:
    """The Lambda runtime's context object (what the runtime passes as the handler's second argument)."""

    function_name: str
    memory_limit_in_mb: int = 1769
    invoked_function_arn: str = ""
    aws_request_id: str = "req-0"


@dataclass
class Invocation:
    function: str
    event: dict[str, Any]
    error: str | None = None


@dataclass
class PipelineHarness:
    """What a pipeline test needs: clients, the state machine, fault injection and a record of calls."""

    state_machine_arn: str
    context: ServiceContext
    invocations: list[Invocation] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    retry_sleeps: list[float] = field(default_factory=list)

    @property
    def s3(self) -> Any:
        return self.context.s3

    @property
    def sfn(self) -> Any:
        return self.context.sfn

    def wait(self, execution_arn: str, timeout: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            description: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
            if description["status"] != "RUNNING":
                return description
            time.sleep(0.05)
        raise TimeoutError(f"execution {execution_arn} still running after {timeout} s")

    def calls(self, function: str) -> list[Invocation]:
        return [i for i in self.invocations if i.function == function]


def _zip_stub() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "# code runs in-process in tests\n")
    return buffer.getvalue()


def install(monkeypatch: Any) -> Iterator[PipelineHarness]:
    """Create the bucket, tables, functions and state machine inside an active ``mock_aws``; yield the harness."""
    session = boto3.session.Session(region_name=REGION)
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    dynamodb = session.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    iam = session.client("iam")
    role = iam.create_role(RoleName="hetero2-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_client = session.client("lambda")
    arns = {}
    for name in HANDLERS:
        arns[name] = lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _zip_stub()},
        )["FunctionArn"]
    definition = ASL_PATH.read_text()
    substitutions = {
        "PlanFunctionArn": arns["hetero2-plan"],
        "RunChunkFunctionArn": arns["hetero2-run-chunk"],
        "FinalizeFunctionArn": arns["hetero2-finalize"],
        "MarkFailedFunctionArn": arns["hetero2-mark-failed"],
        "ArtifactBucket": BUCKET,
        "EcsClusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/hetero2",
        "WorkerTaskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/hetero2-worker:1",
        "WorkerContainerName": "worker",
    }
    for name, value in substitutions.items():
        definition = definition.replace("${" + name + "}", value)
    assert "${" not in definition, "every substitution variable of the ASL must be filled"
    sfn = session.client("stepfunctions")
    state_machine_arn = sfn.create_state_machine(name="hetero2-audit-job", definition=definition, roleArn=role)[
        "stateMachineArn"
    ]

    settings = Settings(bucket=BUCKET, table=TABLE, state_machine_arn=state_machine_arn, max_concurrency=4)
    context = ServiceContext(settings, session)
    reset_service_context(context)
    harness = PipelineHarness(state_machine_arn, context)

    def invoke(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        payload = event if isinstance(event, dict) else json.loads(event or "{}")
        call = Invocation(self.function_name, payload)
        harness.invocations.append(call)
        try:
            for fault in harness.faults:
                fault(self.function_name, payload)
            result = HANDLERS[self.function_name](payload, LambdaContextData(self.function_name))
        except Exception as exc:
            call.error = type(exc).__name__
            return json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__}), True, ""
        return json.dumps(result), False, ""

    class _RecordingClock:
        """moto's retrier sleeps for real between attempts; record the backoff instead of waiting it out."""

        @staticmethod
        def sleep(seconds: float) -> None:
            harness.retry_sleeps.append(seconds)

        @staticmethod
        def time() -> float:
            return time.time()

    monkeypatch.setattr(LambdaFunction, "_invoke_lambda", invoke)
    monkeypatch.setattr(retrier_decl, "time", _RecordingClock)
    try:
        yield harness
    finally:
        reset_service_context(None)


def submit(
    harness: PipelineHarness,
    ref: Any,
    input_csv: bytes,
    params: dict[str, Any] | None = None,
    scores: tuple[str, bytes] | None = None,
) -> str:
    """What the API does for a job: record, upload the input (and scores), start. Returns the execution ARN."""
    from functions.service import layout  # noqa: PLC0415 - keeps the harness import light
    from functions.service.submission import start_job  # noqa: PLC0415

    ctx = harness.context
    ctx.jobs.create(ref, params=params or {}, input_name="input.csv", scores_name=scores[0] if scores else None)
    store = ctx.store(ref.org)
    store.put_bytes(layout.input_key(ref, "input.csv"), input_csv, "text/csv")
    if scores is not None:
        store.put_bytes(layout.input_key(ref, scores[0]), scores[1])
    start_job(ctx, ref)
    return str(ctx.jobs.get(ref).get("execution_arn"))

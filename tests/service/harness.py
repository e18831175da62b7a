"""The pipeline under moto for tests: ``functions/local/stack.py`` provisions everything from the real ASL and
runs our handlers in-process; this adds fault injection, a record of every invocation, and recorded (not slept)
retry backoff."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import boto3
from moto.awslambda.models import LambdaFunction
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from functions.local import stack as local_stack
from functions.local.stack import ASL_PATH, LambdaContextData, Names
from functions.service.context import ServiceContext, reset_service_context
from functions.service.jobs import JobState

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.type_defs import DescribeExecutionOutputTypeDef

    from functions.service.jobs import JobRecord
    from functions.service.tenancy import JobRef

REGION: Final = "eu-west-1"
BUCKET = "hetero2-artifacts-test"
TABLE = "hetero2-main"
NAMES = Names(bucket=BUCKET, table=TABLE)
RUN_CHUNK: Final = "hetero2-run-chunk"

__all__ = [
    "ASL_PATH",
    "BUCKET",
    "REGION",
    "RUN_CHUNK",
    "TABLE",
    "LambdaContextData",
    "PipelineHarness",
    "failing_chunks",
    "install",
    "submit",
]

Fault = Callable[[str, dict[str, Any]], None]


def failing_chunks(chunks: Collection[int], error: type[Exception], message: str, *, job: str | None = None) -> Fault:
    """A fault: every attempt at one of ``chunks`` (of ``job`` only, when named) raises ``error(message)``."""

    def fault(function: str, event: dict[str, Any]) -> None:
        if function == RUN_CHUNK and event["chunk"] in chunks and job in (None, event["job"]):
            raise error(message)

    return fault


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

    def wait(self, execution_arn: str, timeout: float = 120.0) -> DescribeExecutionOutputTypeDef:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            description = self.context.sfn.describe_execution(executionArn=execution_arn)
            if description["status"] != "RUNNING":
                return description
            time.sleep(0.05)
        raise TimeoutError(f"execution {execution_arn} still running after {timeout} s")

    def calls(self, function: str) -> list[Invocation]:
        return [i for i in self.invocations if i.function == function]

    def failed_job(self, ref: JobRef, code: str, *phrases: str) -> JobRecord:
        """The job at ``ref``, which must have FAILED with error ``code`` and a message holding each of ``phrases``."""
        job = self.context.jobs.get(ref)
        assert job.state == JobState.FAILED
        error = job.get("error")
        assert error["code"] == code
        assert [phrase for phrase in phrases if phrase not in error["message"]] == [], error["message"]
        return job


def install(monkeypatch: Any) -> Iterator[PipelineHarness]:
    """Provision everything inside an active ``mock_aws``; yield the harness."""
    session = boto3.session.Session(region_name=REGION)
    settings = local_stack.provision(session, REGION, NAMES)
    context = ServiceContext(settings, session)
    reset_service_context(context)
    harness = PipelineHarness(settings.state_machine_arn, context)

    def faults(function: str, payload: dict[str, Any]) -> None:
        for fault in harness.faults:
            fault(function, payload)

    def invoke(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        call = Invocation(self.function_name, event if isinstance(event, dict) else {})
        harness.invocations.append(call)
        payload, errored, logs = local_stack.invoke_in_process(self.function_name, event, before=faults)
        if errored:
            call.error = json.loads(payload)["errorType"]
        return payload, errored, logs

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
    # A concurrent start's dispatch may have admitted this job and still be starting its execution: wait for the ARN.
    return execution_when_started(ctx, ref, 60.0)


def execution_when_started(ctx: ServiceContext, ref: JobRef, timeout: float) -> str:
    """The job's execution ARN once a dispatcher has started it (a queued job waits for its slot first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        arn = ctx.jobs.get(ref).get("execution_arn")
        if arn:
            return str(arn)
        time.sleep(0.05)
    raise TimeoutError(f"job {ref.job} never started")

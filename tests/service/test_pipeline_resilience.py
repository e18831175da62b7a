"""No lost rows, no stuck jobs: throttles are retried (never ERROR rows), a finalize that crashes after its commit
point still releases the slot and meters once, a timed-out or aborted execution is reconciled, and too many
failed chunks fail the job. Everything runs through the real state machine under moto."""

from __future__ import annotations

import csv
import io
import json
import threading
from typing import TYPE_CHECKING, Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from functions.handlers import reconcile as reconcile_handler
from functions.service import clock, finalizing, layout
from functions.service.errors import TransientServiceError
from functions.service.jobs import JobState
from functions.service.submission import start_submitted
from tests.service.conftest import job_ref
from tests.service.harness import RUN_CHUNK, LambdaContextData, PipelineHarness, failing_chunks
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from functions.service.tenancy import JobRef

FAST = {"k_decoys": 4, "decoy_descriptors": "fast", "scorer": "mock"}


def _submit_reserved(
    pipeline: PipelineHarness, ref: JobRef, rows: int, params: dict[str, Any], declared: int | None = None
) -> str:
    """What the API does: a job declaring ``declared`` rows (``rows`` unless given), its input of ``rows`` molecules
    uploaded, then start (quota reserved for what it declared)."""
    ctx = pipeline.context
    ctx.jobs.create(ref, params=params, input_name="input.csv", expected_rows=rows if declared is None else declared)
    ctx.store(ref.org).put_bytes(layout.input_key(ref, "input.csv"), input_csv(distinct_molecules(rows)), "text/csv")
    start_submitted(ctx, ref, frozenset({JobState.CREATED}))
    return str(ctx.jobs.get(ref).get("execution_arn"))


def _quota(pipeline: PipelineHarness, org: str) -> tuple[int, int]:
    status = pipeline.context.quotas.status(org, clock.this_month())
    return status.molecules_used, status.running_jobs


def _metered(pipeline: PipelineHarness, org: str) -> int | float:
    return pipeline.context.metering.usage(org, clock.this_month())["total"]["molecules"]


def _summary(pipeline: PipelineHarness, ref: JobRef) -> list[dict[str, str]]:
    data = pipeline.context.store(ref.org).get_bytes(layout.pack_prefix(ref) + "summary.csv")
    return list(csv.DictReader(io.StringIO(data.decode())))


def _throttle(operation: str, times: int) -> Any:
    """A botocore ``before-call`` hook answering ``operation`` with a KMS throttle ``times`` times (the answer
    botocore gives once its own retries are spent), then letting calls through to moto."""
    left = [times]
    thread = threading.get_ident()  # chunks run in threads sharing one client: throttle this chunk's calls only

    def hook(**kwargs: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if kwargs["model"].name != operation or left[0] <= 0 or threading.get_ident() != thread:
            return None
        left[0] -= 1
        error = {"Code": "ThrottlingException", "Message": "Rate exceeded"}
        return AWSResponse("https://kms", 400, HTTPHeaders(), None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    return hook


def test_service_clients_use_botocore_standard_retries(pipeline: PipelineHarness) -> None:
    ctx = pipeline.context
    for client in (ctx.s3, ctx.kms, ctx.sfn, ctx.dynamodb.meta.client):
        retries = client.meta.config.retries  # type: ignore[attr-defined]  # botocore-stubs omit Config.retries
        assert retries["mode"] == "standard"
        assert retries["total_max_attempts"] >= 4


class _ColdIn(dict[str, Any]):
    """A key cache that is empty for one thread (a cold container) and warm for every other."""

    def __init__(self, cold_thread: int, warm: dict[str, Any]) -> None:
        super().__init__(warm)
        self.cold_thread = cold_thread

    def __contains__(self, key: object) -> bool:
        return threading.get_ident() != self.cold_thread and super().__contains__(key)


def test_a_kms_throttle_in_a_chunk_is_retried_and_leaves_no_error_rows(pipeline: PipelineHarness, org_a: str) -> None:
    ctx = pipeline.context
    cold: list[int] = []

    def cold_container_under_throttling(function: str, event: dict[str, Any]) -> None:
        if function == RUN_CHUNK and event["chunk"] == 1 and not cold:
            cold.append(1)
            # A fresh Lambda container looks the org's keys up in KMS. Other chunks run at the same time in other
            # threads and keep their (warm) cache: clearing a shared cache would race with them refilling it.
            ctx.keys._cache = _ColdIn(threading.get_ident(), ctx.keys._cache)
            ctx.kms.meta.events.register("before-call.kms.DescribeKey", _throttle("DescribeKey", 1))

    pipeline.faults.append(cold_container_under_throttling)
    ref = job_ref(org_a, "kms-throttle")
    arn = _submit_reserved(pipeline, ref, 15, {**FAST, "chunk_rows": 5})
    assert pipeline.wait(arn)["status"] == "SUCCEEDED"

    attempts = [c.error for c in pipeline.calls(RUN_CHUNK) if c.event.get("chunk") == 1]
    assert attempts == ["TransientServiceError", None], "the throttle was retried by the Map, not caught"
    rows = _summary(pipeline, ref)
    assert len(rows) == 15
    assert all(r["status"] != "ERROR" for r in rows)
    job = ctx.jobs.get(ref)
    assert job.state == JobState.SUCCEEDED
    assert job.get("rows_done") == 15
    assert not job.get("failed_chunks")


def test_a_finalize_that_crashes_after_its_commit_is_retried_and_settles_once(
    pipeline: PipelineHarness, org_a: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_settle = finalizing.settle_job  # type: ignore[attr-defined]  # the name finalize calls, replaced below
    crashes: list[int] = []

    def crash_once_after_commit(ctx: Any, ref: JobRef) -> dict[str, bool]:
        if not crashes:
            crashes.append(1)
            raise TransientServiceError("the Lambda was lost right after the job's final write")
        return real_settle(ctx, ref)

    monkeypatch.setattr(finalizing, "settle_job", crash_once_after_commit)
    ref = job_ref(org_a, "finalize-crash")
    arn = _submit_reserved(pipeline, ref, 12, {**FAST, "chunk_rows": 5})
    assert pipeline.wait(arn)["status"] == "SUCCEEDED"

    assert [c.error for c in pipeline.calls("hetero2-finalize")] == ["TransientServiceError", None]
    job = pipeline.context.jobs.get(ref)
    assert job.state == JobState.SUCCEEDED
    assert not job.get("quota_reserved")
    assert _quota(pipeline, org_a) == (12, 0), "slot released once (not twice, not never); rows charged as run"
    assert _metered(pipeline, org_a) == 12, "metered exactly once"


def test_a_finalize_that_dies_after_its_commit_is_settled_by_mark_failed(
    pipeline: PipelineHarness, org_a: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(ctx: Any, ref: JobRef) -> dict[str, bool]:
        raise MemoryError("killed after the commit")

    monkeypatch.setattr(finalizing, "settle_job", die)
    ref = job_ref(org_a, "finalize-dies")
    arn = _submit_reserved(pipeline, ref, 7, {**FAST, "chunk_rows": 5})
    pipeline.wait(arn)
    assert len(pipeline.calls("hetero2-mark-failed")) == 1
    job = pipeline.context.jobs.get(ref)
    assert job.state == JobState.SUCCEEDED, "the pack was sealed: the job keeps its result"
    assert _quota(pipeline, org_a) == (7, 0)
    assert _metered(pipeline, org_a) == 7


def _reconcile(pipeline: PipelineHarness, arn: str, status: str) -> dict[str, Any]:
    """The EventBridge event AWS sends when an execution of the state machine ends with ``status``."""
    description = pipeline.context.sfn.describe_execution(executionArn=arn)
    event = {
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "detail": {
            "executionArn": arn,
            "stateMachineArn": pipeline.state_machine_arn,
            "name": description["name"],
            "status": status,
            "input": description["input"],
        },
    }
    result: dict[str, Any] = reconcile_handler.handler(event, LambdaContextData("hetero2-reconcile"))
    return result


def _hang_in_first_chunk(pipeline: PipelineHarness, ref: JobRef) -> None:
    """Stop the execution from inside its first chunk: the job is left RUNNING, as after a timeout or abort."""

    def stop(function: str, event: dict[str, Any]) -> None:
        if function == RUN_CHUNK and event["chunk"] == 0:
            arn = str(pipeline.context.jobs.get(ref).get("execution_arn"))
            pipeline.context.sfn.stop_execution(executionArn=arn)

    pipeline.faults.append(stop)


@pytest.mark.parametrize(("status", "code"), [("TIMED_OUT", "ExecutionTimedOut"), ("ABORTED", "ExecutionAborted")])
def test_an_execution_that_times_out_or_is_aborted_is_reconciled_and_its_slot_released(
    pipeline: PipelineHarness, org_a: str, status: str, code: str
) -> None:
    ref = job_ref(org_a, f"stuck-{status.lower().replace('_', '-')}")
    _hang_in_first_chunk(pipeline, ref)
    arn = _submit_reserved(pipeline, ref, 10, {**FAST, "chunk_rows": 5})
    assert pipeline.wait(arn)["status"] == "ABORTED"
    assert pipeline.context.jobs.get(ref).state == JobState.RUNNING, "no Catch ran: the job was left behind"
    assert _quota(pipeline, org_a)[1] == 1

    outcome = _reconcile(pipeline, arn, status)
    assert outcome["reconciled"] is True
    job = pipeline.failed_job(ref, code)
    used, running = _quota(pipeline, org_a)
    assert running == 0
    assert used == int(job.get("rows_done", 0)), "only what ran is charged"
    assert _metered(pipeline, org_a) == int(job.get("rows_done", 0))

    again = _reconcile(pipeline, arn, status)  # EventBridge delivers at least once
    assert (again["released"], again["metered"]) == (False, False)
    assert _quota(pipeline, org_a) == (used, 0)


def test_an_earlier_attempts_execution_event_does_not_touch_the_current_attempt(
    pipeline: PipelineHarness, org_a: str
) -> None:
    ref = job_ref(org_a, "stale")
    arn = _submit_reserved(pipeline, ref, 3, FAST)
    assert pipeline.wait(arn)["status"] == "SUCCEEDED"
    pipeline.context.jobs.update(ref, execution_arn=arn + "-newer-attempt")
    assert _reconcile(pipeline, arn, "FAILED")["reason"] == "stale_execution"
    assert pipeline.context.jobs.get(ref).state == JobState.SUCCEEDED


def test_a_few_dead_chunks_become_error_rows_but_too_many_fail_the_job(pipeline: PipelineHarness, org_a: str) -> None:
    tolerated = job_ref(org_a, "one-in-eleven")
    pipeline.faults.append(failing_chunks({3}, ValueError, "a bug in the worker", job=tolerated.job))
    arn = _submit_reserved(pipeline, tolerated, 22, {**FAST, "chunk_rows": 2})  # 11 chunks, 1 dead: 9% <= 10%
    pipeline.wait(arn)
    job = pipeline.context.jobs.get(tolerated)
    assert job.state == JobState.SUCCEEDED_WITH_ERRORS
    rows = _summary(pipeline, tolerated)
    assert [(r["status"], r["reason"]) for r in rows[6:8]] == [("ERROR", "chunk_failed")] * 2
    assert len(rows) == 22

    refused = job_ref(org_a, "two-in-eleven")
    pipeline.faults.append(failing_chunks({3, 7}, ValueError, "a bug in the worker", job=refused.job))
    arn = _submit_reserved(pipeline, refused, 22, {**FAST, "chunk_rows": 2})  # 2 of 11: 18% > 10%
    assert pipeline.wait(arn)["status"] == "FAILED"
    job = pipeline.failed_job(refused, "ChunksFailedError", "2 of 11 chunks failed")
    assert job.get("failed_chunks") == [3, 7], "the failed chunks are reported on the job"
    assert job.get("rows_done") == 18
    assert not pipeline.context.store(org_a).exists(layout.pack_prefix(refused) + "manifest.json")
    assert _quota(pipeline, org_a) == (22 + 18, 0), "charged what ran: the dead chunks' rows are refunded"
    assert json.loads(json.dumps(_metered(pipeline, org_a))) == 22 + 18


def test_a_file_with_more_rows_than_reserved_is_refused_and_nothing_is_charged(
    pipeline: PipelineHarness, org_a: str
) -> None:
    ref = job_ref(org_a, "under-declared")
    arn = _submit_reserved(pipeline, ref, 30, FAST, declared=1)
    assert _quota(pipeline, org_a) == (1, 1)
    assert pipeline.wait(arn)["status"] == "FAILED"

    pipeline.failed_job(ref, "JobInputError", "30 rows but the job reserved 1")
    assert pipeline.calls(RUN_CHUNK) == [], "refused before any chemistry"
    assert _quota(pipeline, org_a) == (0, 0), "reservation released and refunded: nothing ran, nothing charged"
    assert _metered(pipeline, org_a) == 0


def test_a_file_beyond_the_plans_rows_per_job_is_refused_even_if_it_reserved_that_many(
    pipeline: PipelineHarness, org_a: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.service import plans  # noqa: PLC0415

    ref = job_ref(org_a, "too-big")
    arn = _submit_reserved(pipeline, ref, 12, FAST)
    # The plan changed after the reservation (or the reservation predates a smaller limit): the planner decides.
    small = plans.PLANS["standard"].__class__(**{**plans.PLANS["standard"].as_dict(), "rows_per_job": 10})
    monkeypatch.setitem(plans.PLANS, "standard", small)
    assert pipeline.wait(arn)["status"] == "FAILED"
    message = pipeline.context.jobs.get(ref).get("error")["message"]
    assert "12 rows" in message
    assert "rows_per_job" in message
    assert _quota(pipeline, org_a) == (0, 0)

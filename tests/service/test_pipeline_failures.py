"""What goes wrong in a job, and that every row is still accounted for: bad rows, flaky and dead chunks,
unusable inputs, cancellation."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from functions.service import layout
from functions.service.errors import StateConflictError, TransientServiceError
from functions.service.jobs import JobState
from functions.service.submission import cancel_job, start_job
from tests.service.conftest import job_ref
from tests.service.harness import RUN_CHUNK, PipelineHarness, failing_chunks, submit
from tests.service.molecules import distinct_molecules, input_csv

FAST = {"k_decoys": 4, "decoy_descriptors": "fast", "scorer": "mock"}


def _summary(pipeline: PipelineHarness, ref: Any) -> list[dict[str, str]]:
    data = pipeline.context.store(ref.org).get_bytes(layout.pack_prefix(ref) + "summary.csv")
    return list(csv.DictReader(io.StringIO(data.decode())))


def _chunk_calls(pipeline: PipelineHarness, chunk: int) -> list[Any]:
    return [c for c in pipeline.calls(RUN_CHUNK) if c.event.get("chunk") == chunk]


def test_bad_rows_are_all_accounted_for_in_input_order(pipeline: PipelineHarness, org_a: str) -> None:
    good = distinct_molecules(12)
    smiles = [*good[:4], "not-a-smiles", "", *good[4:8], "C1CC", "CCO.CCN", *good[8:]]
    ids = [f"r{i}" for i in range(len(smiles))]
    ids[14] = "r2"  # a duplicate id in a later chunk than its first use
    ref = job_ref(org_a, "bad-rows")
    arn = submit(pipeline, ref, input_csv(smiles, ids), {**FAST, "chunk_rows": 5})
    assert pipeline.wait(arn)["status"] == "SUCCEEDED"

    rows = _summary(pipeline, ref)
    assert [r["id"] for r in rows] == ids
    by_index = {i: (r["status"], r["reason"]) for i, r in enumerate(rows)}
    assert by_index[4] == ("SKIP", "invalid_smiles")
    assert by_index[5] == ("SKIP", "missing_smiles")
    assert by_index[10] == ("SKIP", "invalid_smiles")
    assert by_index[11] == ("SKIP", "disconnected")
    assert by_index[14] == ("SKIP", "duplicate_id")
    job = pipeline.context.jobs.get(ref)
    assert job.state == JobState.SUCCEEDED  # SKIP rows are data, not errors
    assert job.get("rows_total") == job.get("rows_done") == len(smiles)
    assert job.get("rows_skip") == 5


def test_chunk_that_fails_once_succeeds_on_retry_with_backoff(pipeline: PipelineHarness, org_a: str) -> None:
    failed: set[int] = set()

    def flaky(function: str, event: dict[str, Any]) -> None:
        if function == RUN_CHUNK and event["chunk"] == 1 and 1 not in failed:
            failed.add(1)
            raise TransientServiceError("S3 SlowDown")

    pipeline.faults.append(flaky)
    ref = job_ref(org_a, "flaky")
    arn = submit(pipeline, ref, input_csv(distinct_molecules(15)), {**FAST, "chunk_rows": 5})
    assert pipeline.wait(arn)["status"] == "SUCCEEDED"

    assert [c.error for c in _chunk_calls(pipeline, 1)] == ["TransientServiceError", None]
    assert len(_chunk_calls(pipeline, 0)) == len(_chunk_calls(pipeline, 2)) == 1
    assert pipeline.retry_sleeps, "the retry waited (backoff) before the second attempt"
    job = pipeline.context.jobs.get(ref)
    assert job.state == JobState.SUCCEEDED
    assert {r["status"] for r in _summary(pipeline, ref)} <= {"OK", "SKIP"}


def test_chunk_that_always_fails_becomes_chunk_failed_rows_and_nothing_is_lost(
    pipeline: PipelineHarness, org_a: str
) -> None:
    pipeline.faults.append(failing_chunks({1}, TransientServiceError, "worker keeps dying"))
    ref = job_ref(org_a, "dead-chunk")
    smiles = distinct_molecules(22)  # 11 chunks of 2: one dead chunk is 9%, within the tolerated 10%
    arn = submit(pipeline, ref, input_csv(smiles), {**FAST, "chunk_rows": 2})
    pipeline.wait(arn)

    assert len(_chunk_calls(pipeline, 1)) == 5  # first attempt + MaxAttempts 4 retries
    sleeps = pipeline.retry_sleeps
    assert len(sleeps) == 4
    assert all(0 <= s <= 60 for s in sleeps)
    rows = _summary(pipeline, ref)
    assert len(rows) == 22
    assert [r["id"] for r in rows] == [f"m{i:05d}" for i in range(1, 23)]
    assert [(r["status"], r["reason"]) for r in rows[2:4]] == [("ERROR", "chunk_failed")] * 2
    assert all(r["status"] != "ERROR" for r in rows[:2] + rows[4:])
    job = pipeline.context.jobs.get(ref)
    assert job.state == JobState.SUCCEEDED_WITH_ERRORS
    assert job.get("failed_chunks") == [1]
    assert job.get("rows_error") == 2


def test_non_retryable_chunk_error_is_not_retried_and_too_many_failed_chunks_fail_the_job(
    pipeline: PipelineHarness, org_a: str
) -> None:
    pipeline.faults.append(failing_chunks({0}, ValueError, "a bug in the worker"))
    ref = job_ref(org_a, "buggy")
    arn = submit(pipeline, ref, input_csv(distinct_molecules(8)), {**FAST, "chunk_rows": 5})
    assert pipeline.wait(arn)["status"] == "FAILED"  # 1 of 2 chunks: 50% > 10% tolerated
    assert len(_chunk_calls(pipeline, 0)) == 1
    job = pipeline.context.jobs.get(ref)
    assert job.state == JobState.FAILED
    assert job.get("failed_chunks") == [0]
    assert "1 of 2 chunks failed" in job.get("error")["message"]


def test_unusable_input_fails_the_job_with_a_message_naming_the_problem(pipeline: PipelineHarness, org_a: str) -> None:
    ref = job_ref(org_a, "bad-header")
    arn = submit(pipeline, ref, b"name,structure\naspirin,CC(=O)Oc1ccccc1C(=O)O\n", FAST)
    assert pipeline.wait(arn)["status"] == "FAILED"
    pipeline.failed_job(ref, "JobInputError", "input.csv", "smiles")
    assert pipeline.calls(RUN_CHUNK) == []
    assert not pipeline.context.store(org_a).exists(layout.pack_prefix(ref) + "manifest.json")


def test_invalid_parameters_fail_the_job_before_any_chemistry(pipeline: PipelineHarness, org_a: str) -> None:
    ref = job_ref(org_a, "bad-params")
    arn = submit(pipeline, ref, input_csv(distinct_molecules(3)), {"k_decoys": 0})
    assert pipeline.wait(arn)["status"] == "FAILED"
    job = pipeline.context.jobs.get(ref)
    assert job.state == JobState.FAILED
    assert "k_decoys" in job.get("error")["message"]


def test_cancel_while_running_stops_the_work_and_leaves_no_pack(pipeline: PipelineHarness, org_a: str) -> None:
    ref = job_ref(org_a, "cancelled")

    def cancel_during_first_chunk(function: str, event: dict[str, Any]) -> None:
        if function == RUN_CHUNK and event["chunk"] == 0 and pipeline.context.jobs.get(ref).state == JobState.RUNNING:
            cancel_job(pipeline.context, ref)

    pipeline.faults.append(cancel_during_first_chunk)
    arn = submit(pipeline, ref, input_csv(distinct_molecules(20)), {**FAST, "chunk_rows": 5})
    status = pipeline.wait(arn)["status"]
    assert status == "ABORTED"
    job = pipeline.context.jobs.get(ref)
    assert job.state == JobState.CANCELLED
    store = pipeline.context.store(org_a)
    assert not store.exists(layout.pack_prefix(ref) + "manifest.json")
    # chunks that were reached after the cancel did no work
    assert not store.exists(layout.chunk_results_key(ref, 0))
    with pytest.raises(StateConflictError):
        cancel_job(pipeline.context, ref)


def test_a_finished_job_cannot_be_cancelled_or_restarted(pipeline: PipelineHarness, org_a: str) -> None:
    ref = job_ref(org_a, "done")
    arn = submit(pipeline, ref, input_csv(distinct_molecules(3)), FAST)
    assert pipeline.wait(arn)["status"] == "SUCCEEDED"
    with pytest.raises(StateConflictError) as caught:
        cancel_job(pipeline.context, ref)
    assert caught.value.current == "SUCCEEDED"
    with pytest.raises(StateConflictError):
        pipeline.context.jobs.transition(ref, JobState.RUNNING)


def test_a_failed_job_retried_starts_clean_and_succeeds(pipeline: PipelineHarness, org_a: str) -> None:
    attempts: list[int] = []

    def finalize_fails_the_first_time(function: str, event: dict[str, Any]) -> None:
        if function == "hetero2-finalize":
            attempts.append(1)
            if len(attempts) == 1:
                raise ValueError("disk full")

    pipeline.faults.append(finalize_fails_the_first_time)
    ref = job_ref(org_a, "retried")
    first = submit(pipeline, ref, input_csv(distinct_molecules(12)), {**FAST, "chunk_rows": 5})
    assert pipeline.wait(first)["status"] == "FAILED"
    failed = pipeline.context.jobs.get(ref)
    assert failed.state == JobState.FAILED
    assert failed.get("error")["message"] == "disk full"
    assert failed.get("rows_done") == 12

    start_job(pipeline.context, ref)  # FAILED → QUEUED, a new execution named for attempt 2
    second = str(pipeline.context.jobs.get(ref).get("execution_arn"))
    assert second != first
    assert pipeline.wait(second)["status"] == "SUCCEEDED"
    job = pipeline.context.jobs.get(ref)
    assert job.state == JobState.SUCCEEDED
    assert job.get("attempt") == 2
    assert job.get("error") is None
    assert job.get("rows_done") == 12  # counted once for this attempt, not added to the first
    assert job.get("chunks_counted") == 3
    assert pipeline.context.jobs.counted_chunks(ref, 2) == [0, 1, 2]
    assert len(_summary(pipeline, ref)) == 12

"""Job records: every transition conditional, no backwards moves, one winner in a race, progress counted once."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from functions.service.errors import JobNotFoundError, StateConflictError
from functions.service.jobs import ALLOWED_FROM, JobRepository, JobState
from functions.service.tenancy import JobRef
from tests.service.conftest import pk_sk_table
from tests.service.harness import REGION, TABLE

if TYPE_CHECKING:
    from collections.abc import Iterator

REF = JobRef("org-a", "proj", "job-1")


@pytest.fixture
def jobs(aws_env: None) -> Iterator[JobRepository]:
    with mock_aws():
        yield JobRepository(pk_sk_table(boto3.resource("dynamodb", region_name=REGION), TABLE))


def _at(jobs: JobRepository, state: JobState) -> None:
    """Walk a fresh job to ``state`` along allowed transitions."""
    path = {
        JobState.CREATED: [],
        JobState.QUEUED: [JobState.QUEUED],
        JobState.RUNNING: [JobState.QUEUED, JobState.RUNNING],
        JobState.SUCCEEDED: [JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED],
        JobState.SUCCEEDED_WITH_ERRORS: [JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED_WITH_ERRORS],
        JobState.FAILED: [JobState.FAILED],
        JobState.CANCELLED: [JobState.CANCELLED],
    }[state]
    jobs.create(REF)
    for step in path:
        jobs.transition(REF, step)


@pytest.mark.parametrize("source", list(JobState))
@pytest.mark.parametrize("target", [s for s in JobState if s != JobState.CREATED])
def test_transition_matrix(jobs: JobRepository, source: JobState, target: JobState) -> None:
    _at(jobs, source)
    if source in ALLOWED_FROM[target]:
        assert jobs.transition(REF, target).state == target
    else:
        with pytest.raises(StateConflictError) as caught:
            jobs.transition(REF, target)
        assert caught.value.current == source.value
        assert jobs.get(REF).state == source


def test_a_job_id_is_created_once(jobs: JobRepository) -> None:
    jobs.create(REF, input_name="a.csv")
    with pytest.raises(StateConflictError):
        jobs.create(REF, input_name="b.csv")
    assert jobs.get(REF).get("input_name") == "a.csv"


def test_missing_job(jobs: JobRepository) -> None:
    with pytest.raises(JobNotFoundError):
        jobs.get(REF)
    with pytest.raises(JobNotFoundError):
        jobs.transition(REF, JobState.QUEUED)


def test_racing_finalize_and_cancel_have_exactly_one_winner(jobs: JobRepository) -> None:
    _at(jobs, JobState.RUNNING)
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def attempt(target: JobState) -> None:
        barrier.wait()
        try:
            jobs.transition(REF, target)
            outcomes.append(target.value)
        except StateConflictError:
            outcomes.append("conflict")

    targets = [JobState.SUCCEEDED, JobState.CANCELLED] * 4
    threads = [threading.Thread(target=attempt, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o != "conflict"]
    assert len(winners) == 1
    assert jobs.get(REF).state.value == winners[0]


def test_chunk_progress_is_counted_once_even_when_a_chunk_reports_twice(jobs: JobRepository) -> None:
    _at(jobs, JobState.RUNNING)
    assert jobs.record_chunk(REF, 0, {"OK": 3, "SKIP": 1}) is True
    assert jobs.record_chunk(REF, 0, {"OK": 3, "SKIP": 1}) is False
    barrier = threading.Barrier(6)

    def report(chunk: int) -> None:
        barrier.wait()
        jobs.record_chunk(REF, chunk, {"OK": 2, "ERROR": 1})

    threads = [threading.Thread(target=report, args=(c,)) for c in (1, 1, 2, 2, 3, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    job = jobs.get(REF)
    assert job.get("chunks_counted") == 4
    assert jobs.counted_chunks(REF, 0) == [0, 1, 2, 3]
    assert job.get("chunks_done") is None, "the job item holds counters only, never a set that grows per chunk"
    assert job.get("rows_done") == 4 + 3 * 3
    assert (job.get("rows_ok"), job.get("rows_skip"), job.get("rows_error")) == (3 + 6, 1, 3)


def test_attributes_keep_floats_and_nested_values(jobs: JobRepository) -> None:
    jobs.create(REF, params={"q": 0.95, "k_decoys": 20, "tags": ["a"]})
    jobs.update(REF, pass_rate=0.125)
    job = jobs.get(REF)
    assert job.params == {"q": 0.95, "k_decoys": 20, "tags": ["a"]}
    assert job.get("pass_rate") == 0.125


def test_list_jobs_of_a_project_only(jobs: JobRepository) -> None:
    for job in ("j1", "j2"):
        jobs.create(JobRef("org-a", "proj", job))
    jobs.create(JobRef("org-a", "other", "j3"))
    jobs.create(JobRef("org-b", "proj", "j4"))
    listed = jobs.list_jobs(REF.project_ref)
    assert sorted(j.ref.job for j in listed) == ["j1", "j2"]


def test_chunk_markers_are_per_attempt_listed_as_no_job_and_deleted_with_the_job(jobs: JobRepository) -> None:
    _at(jobs, JobState.RUNNING)
    assert jobs.record_chunk(REF, 0, {"OK": 1}, attempt=1) is True
    assert jobs.record_chunk(REF, 0, {"OK": 1}, attempt=2) is True  # a retried job counts its chunks again
    assert jobs.counted_chunks(REF, 1) == jobs.counted_chunks(REF, 2) == [0]
    assert [job.ref for job in jobs.list_jobs(REF.project_ref)] == [REF]
    jobs.delete(REF)
    assert jobs.counted_chunks(REF, 1) == jobs.counted_chunks(REF, 2) == []


def test_a_chunk_of_an_earlier_attempt_does_not_count_towards_the_retry(jobs: JobRepository) -> None:
    """A chunk still running when its job was cancelled and retried finishes late: the new attempt's progress
    must not include it (its own run of that chunk counts instead)."""
    jobs.create(REF)
    jobs.transition(REF, JobState.QUEUED, attempt=1)
    jobs.transition(REF, JobState.CANCELLED)
    jobs.transition(REF, JobState.QUEUED, attempt=2)
    jobs.transition(REF, JobState.RUNNING)
    assert jobs.record_chunk(REF, 0, {"OK": 5}, attempt=1) is False
    assert jobs.get(REF).get("rows_done") == 0
    assert jobs.record_chunk(REF, 0, {"OK": 5}, attempt=2) is True
    assert jobs.get(REF).get("rows_done") == 5

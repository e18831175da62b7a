"""A burst of starts through the real state machine under moto: the job queue holds what does not fit, starts
paid-plan jobs before trial ones, never runs more than the limit at once, and every job ends SUCCEEDED."""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from functions.service import clock, layout, table
from functions.service.context import ServiceContext, reset_service_context
from functions.service.jobs import JobState, job_key
from functions.service.submission import start_submitted
from tests.service.conftest import job_ref, make_org
from tests.service.harness import execution_when_started
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from functions.service.tenancy import JobRef
    from tests.service.harness import PipelineHarness

FAST = {"k_decoys": 4, "decoy_descriptors": "fast", "scorer": "mock", "chunk_rows": 3}
LIMIT = 5


def _when(stamp: object) -> datetime:
    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))


def _watch(ctx: ServiceContext, refs: list[JobRef], snapshots: list[dict[str, int]], stop: threading.Event) -> None:
    """Every 50 ms, one serializable read (TransactGetItems) of every job and the deployment's counter: how many jobs
    hold a slot, how many are RUNNING, and what the counter says, at the same instant."""
    keys = [job_key(ref) for ref in refs] + [table.deployment_running_key()]
    client = ctx.dynamodb.meta.client
    while not stop.wait(0.05):
        answer = client.transact_get_items(
            TransactItems=[{"Get": {"TableName": ctx.settings.table, "Key": key}} for key in keys]
        )
        # the resource's client hands the items over as Python values already
        items: list[dict[str, Any]] = [dict(r.get("Item") or {}) for r in answer["Responses"]]
        jobs, counter = items[:-1], items[-1]
        snapshots.append(
            {
                "slots": sum(1 for item in jobs if item.get("slot_held")),
                "running_state": sum(1 for item in jobs if item.get("state") == JobState.RUNNING.value),
                "counter": int(counter.get("running", 0)),
            }
        )


def test_a_burst_of_twelve_starts_against_five_slots(pipeline: PipelineHarness) -> None:
    ctx = ServiceContext(
        dataclasses.replace(pipeline.context.settings, max_running_jobs=LIMIT), pipeline.context.session
    )
    reset_service_context(ctx)  # the handlers run in-process with the deployment's cap of 5 running jobs
    paid, trial = make_org(pipeline, "org-paid", "standard"), make_org(pipeline, "org-trial", "trial")
    # The first five paid jobs take the five slots (their Plan waits until the whole burst is in); four trial jobs
    # arrive before the last three paid ones, which must still start first.
    burst = [(paid, f"p{i}") for i in range(1, 6)] + [(trial, f"t{i}") for i in range(1, 5)]
    burst += [(paid, f"p{i}") for i in range(6, 9)]
    refs = [job_ref(org, job) for org, job in burst]

    burst_in = threading.Event()

    def hold_plans_until_the_burst_is_in(function: str, event: dict[str, Any]) -> None:
        if function == "hetero2-plan":
            burst_in.wait(120)

    pipeline.faults.append(hold_plans_until_the_burst_is_in)
    snapshots: list[dict[str, int]] = []
    watching = threading.Event()
    watcher = threading.Thread(target=_watch, args=(ctx, refs, snapshots, watching))
    watcher.start()
    for ref in refs:
        ctx.jobs.create(ref, params=FAST, input_name="input.csv", expected_rows=6)
        ctx.store(ref.org).put_bytes(layout.input_key(ref, "input.csv"), input_csv(distinct_molecules(6)), "text/csv")
        start_submitted(ctx, ref, frozenset({JobState.CREATED}))
    records = {ref.job: ctx.jobs.get(ref) for ref in refs}
    waiting = {job: record.get("queue_position") for job, record in records.items() if record.get("waiting")}
    assert sorted(waiting) == ["p6", "p7", "p8", "t1", "t2", "t3", "t4"]
    burst_in.set()

    deadline = 600.0
    for ref in refs:
        execution = execution_when_started(ctx, ref, deadline)
        assert pipeline.wait(execution, timeout=deadline)["status"] == "SUCCEEDED", ctx.jobs.get(ref).get("error")
    jobs = {ref.job: ctx.jobs.get(ref) for ref in refs}
    assert {job: record.state for job, record in jobs.items()} == dict.fromkeys(jobs, JobState.SUCCEEDED)

    started = sorted(jobs, key=lambda job: _when(jobs[job].get("admitted_at")))
    assert started == ["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "t1", "t2", "t3", "t4"], (
        "paid before trial, first come first served within a plan"
    )
    watching.set()
    watcher.join()
    assert snapshots, "the watcher took no snapshot"
    assert max(s["slots"] for s in snapshots) == LIMIT, "the limit was reached and never passed"
    assert max(s["running_state"] for s in snapshots) <= LIMIT
    assert all(s["slots"] == s["counter"] for s in snapshots), "the counter is the number of jobs holding a slot"
    for org in (paid, trial):
        assert ctx.quotas.status(org, clock.this_month()).running_jobs == 0
    assert ctx.quotas.status(paid, clock.this_month()).molecules_used == 8 * 6

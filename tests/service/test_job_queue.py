"""The job queue: a start beyond the running limits waits (never refused), waiting jobs start by plan rank then
arrival, every slot goes to exactly one job, and racing dispatchers or releasers cannot overshoot a limit or start a
job twice. Executions are started on moto's Step Functions (not run: the pipeline tests run them)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from functions.local import stack as local_stack
from functions.service import job_queue, layout, table
from functions.service.context import ServiceContext
from functions.service.directory import Directory
from functions.service.errors import StateConflictError
from functions.service.jobs import RETRYABLE_STATES, JobState
from functions.service.plans import PLANS
from functions.service.quotas import QuotaGuard
from functions.service.settlement import settle_job
from functions.service.submission import cancel_job, start_job, start_submitted
from functions.service.tenancy import JobRef
from tests.service.conftest import race
from tests.service.harness import NAMES, REGION

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from functions.service.plans import PlanLimits


@pytest.fixture
def ctx(aws_env: None) -> Iterator[ServiceContext]:
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        settings = local_stack.provision(session, REGION, NAMES)
        yield ServiceContext(settings, session)


def _with_cap(ctx: ServiceContext, cap: int) -> ServiceContext:
    return ServiceContext(dataclasses.replace(ctx.settings, max_running_jobs=cap), ctx.session)


def _org(ctx: ServiceContext, org: str, plan: str) -> str:
    Directory(ctx.dynamodb.Table(ctx.settings.table)).create_org(org, org, "founder", plan=plan)
    return org


def _job(ctx: ServiceContext, org: str, job: str) -> JobRef:
    ref = JobRef(org, "proj", job)
    ctx.jobs.create(ref, input_name="input.csv")
    return ref


def _started(ctx: ServiceContext) -> list[str]:
    """Execution names in the order Step Functions received them."""
    listed = ctx.sfn.list_executions(stateMachineArn=ctx.settings.state_machine_arn)["executions"]
    return [e["name"] for e in sorted(listed, key=lambda e: e["startDate"])]


def _running(ctx: ServiceContext, org: str | None = None) -> int:
    key = table.running_key(org) if org else table.deployment_running_key()
    item: dict[str, Any] = (
        ctx.dynamodb.Table(ctx.settings.table).get_item(Key=key, ConsistentRead=True).get("Item") or {}
    )
    return int(item.get("running", 0))


def _end(ctx: ServiceContext, ref: JobRef) -> None:
    """What finalize does at its commit point, then settlement (which dispatches)."""
    ctx.jobs.transition(ref, JobState.RUNNING)
    ctx.jobs.transition(ref, JobState.SUCCEEDED)
    settle_job(ctx, ref)


def test_a_start_with_a_free_slot_runs_at_once(ctx: ServiceContext) -> None:
    org = _org(ctx, "org-a", "standard")
    ref = _job(ctx, org, "j1")
    start_job(ctx, ref)
    job = ctx.jobs.get(ref)
    assert job.state == JobState.QUEUED  # until the planner moves it to RUNNING
    assert job.get("slot_held") is True
    assert not job.get("waiting")
    assert job_queue.position(ctx, job) is None
    assert str(job.get("execution_arn")).endswith(":j1-1")
    assert _started(ctx) == ["j1-1"]
    assert (_running(ctx, org), _running(ctx)) == (1, 1)
    assert job_queue.entries(ctx) == []


def test_a_start_beyond_the_org_limit_waits_with_its_position(ctx: ServiceContext) -> None:
    org = _org(ctx, "org-t", "trial")  # one running job
    refs = [_job(ctx, org, f"j{i}") for i in range(1, 4)]
    for ref in refs:
        start_job(ctx, ref)
    assert _started(ctx) == ["j1-1"]
    positions = [job_queue.position(ctx, ctx.jobs.get(ref)) for ref in refs]
    assert positions == [None, 1, 2]
    assert [ctx.jobs.get(ref).state for ref in refs] == [JobState.QUEUED] * 3

    _end(ctx, refs[0])  # the slot goes to the next job, once
    assert _started(ctx) == ["j1-1", "j2-1"]
    assert job_queue.position(ctx, ctx.jobs.get(refs[2])) == 1
    assert _running(ctx, org) == 1

    settle_job(ctx, refs[0])  # a second settlement of the same end (a retried finalize) frees nothing
    assert _started(ctx) == ["j1-1", "j2-1"]


def test_positions_count_only_the_orgs_own_jobs(ctx: ServiceContext) -> None:
    busy = _with_cap(ctx, 1)
    a, b = _org(ctx, "org-a", "standard"), _org(ctx, "org-b", "standard")
    start_job(busy, _job(ctx, a, "a0"))
    start_job(busy, _job(ctx, b, "b1"))
    start_job(busy, _job(ctx, a, "a1"))
    assert job_queue.position(busy, ctx.jobs.get(JobRef(a, "proj", "a1"))) == 1
    assert job_queue.position(busy, ctx.jobs.get(JobRef(b, "proj", "b1"))) == 1


def test_paid_jobs_start_before_trial_jobs_first_come_first_served_within_a_plan(ctx: ServiceContext) -> None:
    capped = _with_cap(ctx, 1)
    paid, trial = _org(ctx, "org-paid", "standard"), _org(ctx, "org-trial", "trial")
    assert PLANS["standard"].queue_rank < PLANS["trial"].queue_rank
    blocker = _job(ctx, paid, "blocker")
    start_job(capped, blocker)
    order = [(trial, "t1"), (paid, "p1"), (trial, "t2"), (paid, "p2"), (paid, "p3")]
    refs = {job: _job(ctx, org, job) for org, job in order}
    for _, job in order:
        start_job(capped, refs[job])
    assert _started(ctx) == ["blocker-1"]
    running = blocker
    for _ in order:
        _end(capped, running)
        started = _started(ctx)[-1].removesuffix("-1")
        running = refs[started]
    assert _started(ctx) == ["blocker-1", "p1-1", "p2-1", "p3-1", "t1-1", "t2-1"]
    assert _running(ctx) == 1


def test_cancelling_a_queued_job_frees_its_place_and_its_molecules(ctx: ServiceContext) -> None:
    org = _org(ctx, "org-t", "trial")
    refs = [_job(ctx, org, f"j{i}") for i in range(1, 4)]
    for ref in refs:
        start_job(ctx, ref)
    ctx.quotas.reserve(org, "proj", 40, "2027-01")
    ctx.jobs.update(refs[1], quota_reserved=True, quota_rows=40, quota_month="2027-01")
    cancel_job(ctx, refs[1])
    assert ctx.jobs.get(refs[1]).state == JobState.CANCELLED
    assert job_queue.position(ctx, ctx.jobs.get(refs[2])) == 1
    assert [e.ref.job for e in job_queue.entries(ctx)] == ["j3"]
    assert ctx.quotas.status(org, "2027-01").molecules_used == 0
    assert _running(ctx, org) == 1, "a waiting job held no slot and gave none back"
    _end(ctx, refs[0])
    assert _started(ctx) == ["j1-1", "j3-1"], "the cancelled job never starts"


def test_a_queued_job_cannot_be_started_twice(ctx: ServiceContext) -> None:
    org = _org(ctx, "org-t", "trial")
    start_job(ctx, _job(ctx, org, "j1"))
    ref = _job(ctx, org, "j2")
    start_job(ctx, ref)
    with pytest.raises(StateConflictError):
        start_job(ctx, ref)
    assert len(job_queue.entries(ctx)) == 1


def test_a_dispatcher_that_died_after_admitting_is_finished_by_the_next(ctx: ServiceContext) -> None:
    org = _org(ctx, "org-a", "standard")
    ref = _job(ctx, org, "j1")
    job_queue.enqueue(ctx, ref)
    [entry] = job_queue.entries(ctx)
    assert job_queue.admit(ctx, entry, PLANS["standard"]) == job_queue.ADMITTED  # ...and then the process died
    assert _started(ctx) == []
    assert job_queue.dispatch(ctx) == []  # nothing newly admitted, but the admitted job is started
    assert _started(ctx) == ["j1-1"]
    assert job_queue.entries(ctx) == []
    assert _running(ctx, org) == 1
    assert job_queue.start_admitted(ctx, entry) is None  # a third dispatcher, late: started already, nothing to do
    assert _started(ctx) == ["j1-1"]


def test_a_job_cancelled_between_its_admission_and_its_start_never_starts(ctx: ServiceContext) -> None:
    org = _org(ctx, "org-a", "standard")
    ref = _job(ctx, org, "j1")
    job_queue.enqueue(ctx, ref)
    [entry] = job_queue.entries(ctx)
    assert job_queue.admit(ctx, entry, PLANS["standard"]) == job_queue.ADMITTED
    cancel_job(ctx, ref)  # settles: the slot goes back; the admitted entry is left to the next dispatch
    assert job_queue.dispatch(ctx) == []
    assert _started(ctx) == []
    assert job_queue.entries(ctx) == []
    assert (_running(ctx, org), _running(ctx)) == (0, 0)


def test_racing_dispatchers_fill_the_free_slots_exactly(ctx: ServiceContext) -> None:
    capped = _with_cap(ctx, 3)
    org = _org(ctx, "org-e", "enterprise")
    refs = [_job(ctx, org, f"j{i}") for i in range(8)]
    for ref in refs:
        job_queue.enqueue(capped, ref)
    started = race(6, lambda _: job_queue.dispatch(capped))
    assert sum(len(s) for s in started) == 3
    assert sorted(_started(ctx)) == ["j0-1", "j1-1", "j2-1"], "first come first served, each started once"
    assert (_running(ctx, org), _running(ctx)) == (3, 3)


def _after_the_first_refusal(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]) -> None:
    """Run ``meanwhile`` once, right after dispatch's first admission that is refused for a full org or deployment:
    the moment another job's release lands between two admissions of one pass (what heavy load made happen)."""
    admit = job_queue.admit
    done: list[str] = []

    def admit_then(
        ctx: ServiceContext, entry: job_queue.QueueEntry, limits: PlanLimits | None, *passed: Mapping[str, int]
    ) -> str:
        outcome = admit(ctx, entry, limits, *passed)
        if outcome in (job_queue.ORG_FULL, job_queue.DEPLOYMENT_FULL) and not done:
            done.append(entry.ref.job)
            meanwhile()
        return outcome

    monkeypatch.setattr(job_queue, "admit", admit_then)


@pytest.mark.parametrize(
    ("cap", "newly_started"),
    [(5, ["p6-1"]), (6, ["p6-1", "t1-1"])],
    ids=["the deployment as full as the paid org", "one deployment slot to spare"],
)
def test_a_slot_freed_during_a_dispatch_goes_to_the_paid_job_it_passed_over(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch, cap: int, newly_started: list[str]
) -> None:
    """The paid org is at its limit of 5 when a dispatcher reaches p6 and passes it over; before the dispatcher
    reaches the trial jobs behind it, p1 ends and gives its slot back. That slot is p6's: no trial job may start
    while p6 could (the flake of the burst test under load: t1 started before a paid job)."""
    capped = _with_cap(ctx, cap)
    paid = _org(ctx, "org-paid", "standard")
    running = [_job(ctx, paid, f"p{i}") for i in range(1, 6)]
    for ref in running:
        start_job(capped, ref)
    waiting = [_job(ctx, paid, "p6"), _job(ctx, _org(ctx, "org-t1", "trial"), "t1")]
    waiting.append(_job(ctx, _org(ctx, "org-t2", "trial"), "t2"))
    for ref in waiting:
        job_queue.enqueue(capped, ref)

    def p1_ends() -> None:  # its release lands; its own dispatch comes after
        ctx.jobs.transition(running[0], JobState.RUNNING)
        ctx.jobs.transition(running[0], JobState.SUCCEEDED)
        assert job_queue.release_slot(capped, running[0])

    _after_the_first_refusal(monkeypatch, p1_ends)
    job_queue.dispatch(capped)  # the dispatcher that passed p6 over
    job_queue.dispatch(capped)  # p1's own dispatch, after its release
    assert _started(ctx) == [f"p{i}-1" for i in range(1, 6)] + newly_started
    assert (_running(ctx, paid), _running(ctx)) == (5, cap)


def test_an_admission_cancelled_for_another_reason_than_a_condition_stops_the_pass(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cancellation that is not a failed condition (throttling, say) says nothing about the job: it may still be
    admissible, so the trial job behind it must not start in its place; the next dispatch starts both in order."""
    paid, trial = _org(ctx, "org-paid", "standard"), _org(ctx, "org-trial", "trial")
    first, second = _job(ctx, paid, "p1"), _job(ctx, trial, "t1")
    for ref in (first, second):
        job_queue.enqueue(ctx, ref)
    transact = QuotaGuard.transact
    throttled: list[int] = []

    def throttled_once(guard: QuotaGuard, items: Any) -> Any:
        if not throttled:
            throttled.append(len(items))
            return [{"Code": "None"}, {"Code": "None"}, {"Code": "ThrottlingError"}, {"Code": "None"}]
        return transact(guard, items)

    monkeypatch.setattr(QuotaGuard, "transact", throttled_once)
    assert job_queue.dispatch(ctx) == []
    assert _started(ctx) == []
    assert [e.ref.job for e in job_queue.entries(ctx)] == ["p1", "t1"]
    assert job_queue.dispatch(ctx) == [first, second]
    assert _started(ctx) == ["p1-1", "t1-1"]


def test_racing_enders_release_one_slot_and_start_one_job(ctx: ServiceContext) -> None:
    org = _org(ctx, "org-t", "trial")
    first, second, third = (_job(ctx, org, f"j{i}") for i in range(1, 4))
    for ref in (first, second, third):
        start_job(ctx, ref)
    ctx.jobs.transition(first, JobState.RUNNING)
    ctx.jobs.transition(first, JobState.FAILED)
    outcomes = race(4, lambda _: settle_job(ctx, first))  # mark-failed, a retried finalize, reconcile twice
    assert sum(o["released"] for o in outcomes) == 1
    assert _started(ctx) == ["j1-1", "j2-1"]
    assert _running(ctx, org) == 1
    assert job_queue.position(ctx, ctx.jobs.get(third)) == 1


def test_a_retried_job_queues_again_without_its_old_execution(ctx: ServiceContext) -> None:
    org = _org(ctx, "org-a", "standard")
    ref = _job(ctx, org, "j1")
    start_job(ctx, ref)
    ctx.jobs.transition(ref, JobState.RUNNING)
    ctx.jobs.transition(ref, JobState.FAILED)
    settle_job(ctx, ref)
    start_job(ctx, ref)
    job = ctx.jobs.get(ref)
    assert job.get("attempt") == 2
    assert str(job.get("execution_arn")).endswith(":j1-2")
    assert _started(ctx) == ["j1-1", "j1-2"]


def test_an_entry_whose_job_vanished_is_dropped(ctx: ServiceContext) -> None:
    org = _org(ctx, "org-a", "standard")
    ref = _job(ctx, org, "j1")
    job_queue.enqueue(ctx, ref)
    ctx.jobs.delete(ref)
    assert job_queue.dispatch(ctx) == []
    assert job_queue.entries(ctx) == []
    assert _running(ctx) == 0


def test_a_retry_before_the_failed_attempt_is_settled_is_not_undone_by_its_late_settlement(ctx: ServiceContext) -> None:
    """The dashboard shows FAILED as soon as the ender's transition lands; a customer can retry before that ender has
    settled. The retry settles the first attempt itself, and the late settlement must not take the second attempt's
    queue place, slot or reservation (the job's flags are not per attempt)."""
    org = _org(ctx, "org-a", "trial")  # one running slot
    ctx.keys.create_org_keys(org)
    ref = _job(ctx, org, "j1")
    ctx.store(org).put_bytes(layout.input_key(ref, "input.csv"), b"id,smiles\nm1,CCO\n", "text/csv")
    start_submitted(ctx, ref, frozenset({JobState.CREATED}))
    ctx.jobs.transition(ref, JobState.RUNNING)
    ctx.jobs.transition(ref, JobState.FAILED)  # the ender has not settled yet
    start_submitted(ctx, ref, RETRYABLE_STATES)  # the customer retries at once
    settle_job(ctx, ref)  # the first attempt's ender settles late
    job = ctx.jobs.get(ref)
    assert (job.state, job.get("slot_held"), job.get("waiting"), job.get("quota_reserved")) == (
        JobState.QUEUED,
        True,
        None,
        True,
    )
    assert _started(ctx) == ["j1-1", "j1-2"]
    assert (_running(ctx, org), _running(ctx)) == (1, 1)

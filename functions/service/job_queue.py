"""The job queue: a start beyond the org's concurrent-job limit (or the deployment's) waits here in ``QUEUED``
instead of being refused, and waiting jobs start in plan rank order (paid before trial), first come first served
within a rank, as running slots free up.

DynamoDB-ordered dispatch, not SQS (docs/pipeline.md says why): each waiting job is one item in the ``QUEUE``
partition whose sort key *is* its place (rank, arrival time, ids), so the order is a Query and a position is a
count. A slot is taken by one transaction that moves the job from waiting to holding a slot, marks its entry
admitted and adds one to the org's and the deployment's running counters under their limits; it is given back by
one transaction that takes the job's ``slot_held`` flag and subtracts the same. Every slot release path
(settlement after finalize, mark-failed, cancel, the reconciler) then calls :func:`dispatch`, which any number of
callers may run at once: a slot is taken only under the limits, a job is admitted only while it is waiting, and its
execution is named ``{job}-{attempt}`` so a second start of the same admission is refused by Step Functions. A pass
reads the queue once, so its verdict "that org is full" can be stale by its next admission: each admission also
checks, in its transaction, that every org it passed over is still full, and the pass starts again when one is not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from functions.service import table
from functions.service.clock import utc_now
from functions.service.conditional import flag_taken, transacted, written
from functions.service.errors import JobNotFoundError, OrgPlanError, StateConflictError
from functions.service.jobs import ALLOWED_FROM, JobRecord, JobState, job_key
from functions.service.observability import logger, metrics
from functions.service.plans import DEFAULT_PLAN, PLANS
from functions.service.tenancy import JobRef

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from functions.service.context import ServiceContext
    from functions.service.plans import PlanLimits

# Outcomes of one admission attempt.
ADMITTED: Final = "admitted"
STALE: Final = "stale"  # the job is no longer waiting (cancelled, or admitted by another dispatcher)
ORG_FULL: Final = "org_full"
DEPLOYMENT_FULL: Final = "deployment_full"
# An org passed over as full earlier in the pass has a free slot now: its waiting job comes first, read the queue again.
AHEAD_FREED: Final = "ahead_freed"
# Cancelled for a reason other than a failed condition (throttling, say; conflicts are retried by the quotas): the job
# may still be admissible, so the pass stops rather than let a later entry overtake it.
UNSETTLED: Final = "unsettled"

# DynamoDB's TransactWriteItems limit; an admission takes four items and one check per org passed over.
TRANSACTION_ITEMS: Final = 100
ADMISSION_ITEMS: Final = 4
# A pass restarts when a passed-over org frees a slot mid-pass; more restarts than this are left to the next dispatch
# (every release dispatches, and so does the periodic sweep).
DISPATCH_PASSES: Final = 5


@dataclass(frozen=True, slots=True)
class QueueEntry:
    key: dict[str, str]
    ref: JobRef
    attempt: int
    admitted: bool

    @property
    def execution_name(self) -> str:
        return f"{self.ref.job}-{self.attempt}"


def _limits(ctx: ServiceContext, org: str) -> PlanLimits | None:
    """The org's plan; None for an org without a record (the local server's ad-hoc orgs): no org limit."""
    try:
        return ctx.quotas.limits_of(org)
    except OrgPlanError:
        return None


def enqueue(ctx: ServiceContext, ref: JobRef, expected: JobState | None = None) -> JobRecord:
    """``expected`` (CREATED, or FAILED or CANCELLED for a retry; None: whichever the job is) → QUEUED and waiting,
    with its queue entry, in one transaction.

    The job then holds no slot; :func:`dispatch` gives it one when its turn comes. Raises StateConflictError when the
    job is not in ``expected`` (a racing start won).
    """
    job = ctx.jobs.get(ref)
    if expected is None and job.state in ALLOWED_FROM[JobState.QUEUED]:
        expected = job.state
    if expected not in ALLOWED_FROM[JobState.QUEUED] or job.state != expected:
        wanted = expected.value if expected is not None else "CREATED, FAILED or CANCELLED"
        raise StateConflictError(f"job {ref.job} is {job.state.value}; it must be {wanted}", job.state.value)
    limits = _limits(ctx, ref.org)
    rank = (limits or PLANS[DEFAULT_PLAN]).queue_rank
    attempt = int(job.get("attempt", 0)) + 1
    now = utc_now()
    entry = table.queue_entry_key(rank, now, ref.org, ref.project, ref.job)
    name = ctx.settings.table
    items: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": name,
                "Key": job_key(ref),
                # An earlier attempt's execution ARN goes: a late event of that execution must not end this attempt.
                "UpdateExpression": "SET #state = :queued, #attempt = :attempt, #queued_at = :now, #updated = :now, "
                "#queue_key = :sk, #waiting = :true REMOVE #execution",
                "ConditionExpression": "attribute_exists(pk) AND #state = :expected",
                "ExpressionAttributeNames": {
                    "#state": "state",
                    "#attempt": "attempt",
                    "#queued_at": "queued_at",
                    "#updated": "updated_at",
                    "#queue_key": "queue_key",
                    "#waiting": "waiting",
                    "#execution": "execution_arn",
                },
                "ExpressionAttributeValues": {
                    ":queued": JobState.QUEUED.value,
                    ":attempt": attempt,
                    ":now": now,
                    ":sk": entry["sk"],
                    ":true": True,
                    ":expected": expected.value,
                },
            }
        },
        {
            "Put": {
                "TableName": name,
                "Item": {**entry, **ref.as_dict(), "attempt": attempt, "queued_at": now, "rank": rank},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]
    client = ctx.dynamodb.meta.client
    if not transacted(lambda: client.transact_write_items(TransactItems=items)):
        current = ctx.jobs.get(ref).state.value
        raise StateConflictError(f"job {ref.job} is {current}; it must be {expected.value}", current)
    logger.info("job queued", extra={**ref.as_dict(), "attempt": attempt, "rank": rank})
    return ctx.jobs.get(ref)


def entries(ctx: ServiceContext) -> list[QueueEntry]:
    """Every entry in dispatch order (waiting and admitted-but-not-yet-started)."""
    items = table.all_items(
        ctx.dynamodb.Table(ctx.settings.table).query,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :wait)",
        ExpressionAttributeValues={":pk": table.QUEUE, ":wait": table.QUEUE_WAITING},
        ConsistentRead=True,
    )
    return [
        QueueEntry(
            {"pk": str(item["pk"]), "sk": str(item["sk"])},
            JobRef(str(item["org"]), str(item["project"]), str(item["job"])),
            int(item["attempt"]),
            bool(item.get("admitted")),
        )
        for item in items
    ]


def position(ctx: ServiceContext, job: JobRecord) -> int | None:
    """1 for the org's next job to start, 2 for the one after, ...; None when the job is not waiting.

    Counted among the org's own waiting jobs (never another tenant's); the deployment's cap and other orgs' jobs of
    a higher rank can still hold the first one back.
    """
    key = job.get("queue_key")
    if job.state != JobState.QUEUED or not job.get("waiting") or not isinstance(key, str):
        return None
    ahead = table.all_items(
        ctx.dynamodb.Table(ctx.settings.table).query,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :mine",
        FilterExpression="#org = :org AND attribute_not_exists(#admitted)",
        ExpressionAttributeNames={"#org": "org", "#admitted": "admitted"},
        ExpressionAttributeValues={
            ":pk": table.QUEUE,
            ":first": table.QUEUE_WAITING,
            ":mine": key,
            ":org": job.ref.org,
        },
        ProjectionExpression="sk",
        ConsistentRead=True,
    )
    return max(1, sum(1 for _ in ahead))


def _increment(name: str, key: dict[str, str], limit: int | None) -> TransactWriteItemTypeDef:
    update: dict[str, Any] = {
        "TableName": name,
        "Key": key,
        "UpdateExpression": "ADD #running :one",
        "ExpressionAttributeNames": {"#running": "running"},
        "ExpressionAttributeValues": {":one": 1},
    }
    if limit is not None:
        update["ConditionExpression"] = "attribute_not_exists(#running) OR #running < :limit"
        update["ExpressionAttributeValues"][":limit"] = limit
    return {"Update": update}  # type: ignore[typeddict-item]


def _still_full(name: str, org: str, limit: int) -> TransactWriteItemTypeDef:
    """A check that an org passed over in this pass is still at its limit (else its job would be overtaken)."""
    return {
        "ConditionCheck": {
            "TableName": name,
            "Key": table.running_key(org),
            "ConditionExpression": "#running >= :limit",
            "ExpressionAttributeNames": {"#running": "running"},
            "ExpressionAttributeValues": {":limit": limit},
        }
    }


def _decrement(name: str, key: dict[str, str]) -> TransactWriteItemTypeDef:
    return {
        "Update": {
            "TableName": name,
            "Key": key,
            "UpdateExpression": "ADD #running :minus",
            "ConditionExpression": "#running > :zero",
            "ExpressionAttributeNames": {"#running": "running"},
            "ExpressionAttributeValues": {":minus": -1, ":zero": 0},
        }
    }


def admit(
    ctx: ServiceContext, entry: QueueEntry, limits: PlanLimits | None, passed_over: Mapping[str, int] | None = None
) -> str:
    """Give a waiting job a running slot: one transaction, or nothing. Returns one of the outcomes above.

    ``passed_over`` (org → its limit) names the orgs whose earlier entries this pass skipped as full. The same
    transaction checks that each is still at its limit: a slot such an org freed since goes to its waiting job, never
    to this later one (a pass reads the queue once, and a release may land between two of its admissions).
    """
    passed_over = passed_over or {}
    name = ctx.settings.table
    cap = ctx.settings.max_running_jobs
    items: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": name,
                "Key": job_key(entry.ref),
                "UpdateExpression": "REMOVE #waiting SET #slot = :true, #admitted_at = :now",
                "ConditionExpression": "#state = :queued AND #waiting = :true AND #queue_key = :sk",
                "ExpressionAttributeNames": {
                    "#waiting": "waiting",
                    "#slot": "slot_held",
                    "#admitted_at": "admitted_at",
                    "#state": "state",
                    "#queue_key": "queue_key",
                },
                "ExpressionAttributeValues": {
                    ":true": True,
                    ":now": utc_now(),
                    ":queued": JobState.QUEUED.value,
                    ":sk": entry.key["sk"],
                },
            }
        },
        {
            "Update": {
                "TableName": name,
                "Key": entry.key,
                "UpdateExpression": "SET #admitted = :true",
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#admitted)",
                "ExpressionAttributeNames": {"#admitted": "admitted"},
                "ExpressionAttributeValues": {":true": True},
            }
        },
        _increment(name, table.running_key(entry.ref.org), None if limits is None else limits.concurrent_jobs),
        _increment(name, table.deployment_running_key(), cap if cap > 0 else None),
        *(_still_full(name, org, limit) for org, limit in passed_over.items()),
    ]
    reasons = ctx.quotas.transact(items)
    if reasons is None:
        return ADMITTED
    failed = [r.get("Code") == "ConditionalCheckFailed" for r in reasons]
    if failed[0] or failed[1]:
        _drop_if_abandoned(ctx, entry)
        return STALE
    # The deployment's cap first: when it is full too, no later entry can start, whichever org it is.
    if failed[3]:
        return DEPLOYMENT_FULL
    if any(failed[ADMISSION_ITEMS:]):
        return AHEAD_FREED
    if failed[2]:
        return ORG_FULL
    logger.warning("admission cancelled without a failed condition", extra={**entry.ref.as_dict(), "reasons": reasons})
    return UNSETTLED


def _drop_if_abandoned(ctx: ServiceContext, entry: QueueEntry) -> None:
    """An entry whose job stopped waiting without being admitted (cancelled, deleted, re-queued) is removed."""
    try:
        job: JobRecord | None = ctx.jobs.get(entry.ref)
    except JobNotFoundError:
        job = None
    if job is None or job.get("queue_key") != entry.key["sk"] or not job.get("waiting"):
        written(
            lambda: ctx.dynamodb.Table(ctx.settings.table).delete_item(
                Key=entry.key, ConditionExpression="attribute_exists(pk) AND attribute_not_exists(admitted)"
            )
        )


def start_admitted(ctx: ServiceContext, entry: QueueEntry) -> str | None:
    """Start the execution of an admitted job (again, if a dispatcher died after admitting it), then drop its entry.

    Step Functions refuses a second execution of the same name, so two dispatchers starting one admission run one
    execution; the refused one records the same ARN. A job cancelled (or started) since its admission is not
    started again: its entry is only dropped.
    """
    table_ = ctx.dynamodb.Table(ctx.settings.table)
    try:
        job: JobRecord | None = ctx.jobs.get(entry.ref)
    except JobNotFoundError:
        job = None
    if job is None or job.state != JobState.QUEUED or job.get("attempt") != entry.attempt or job.get("execution_arn"):
        table_.delete_item(Key=entry.key)
        return None
    arn = ctx.settings.state_machine_arn
    try:
        execution_arn = ctx.sfn.start_execution(
            stateMachineArn=arn, name=entry.execution_name, input=json.dumps(entry.ref.as_dict())
        )["executionArn"]
    except ctx.sfn.exceptions.ExecutionAlreadyExists:
        execution_arn = execution_arn_of(arn, entry.execution_name)
    ctx.jobs.update(entry.ref, execution_arn=execution_arn)
    table_.delete_item(Key=entry.key)
    logger.info("job started", extra={**entry.ref.as_dict(), "attempt": entry.attempt})
    return execution_arn


def execution_arn_of(state_machine_arn: str, name: str) -> str:
    """``arn:aws:states:R:A:stateMachine:SM`` → ``arn:aws:states:R:A:execution:SM:NAME``."""
    head, _, machine = state_machine_arn.rpartition(":stateMachine:")
    return f"{head}:execution:{machine}:{name}"


def dispatch(ctx: ServiceContext) -> list[JobRef]:
    """Start waiting jobs while slots are free; returns the jobs this call started. Safe to run concurrently and
    repeatedly: it is how every slot release, the execution-end events and a periodic sweep move the queue."""
    if not ctx.settings.state_machine_arn:
        return []  # the Fargate task cannot reach Step Functions; the Finalize Lambda after it dispatches
    started: list[JobRef] = []
    for _ in range(DISPATCH_PASSES):
        admitted, again = _dispatch_pass(ctx)
        started += admitted
        if not again:
            break
    else:
        logger.info("dispatch left a freed slot to the next dispatch", extra={"passes": DISPATCH_PASSES})
    if started:
        metrics.add_metric(name="JobsDispatched", unit="Count", value=len(started))
    return started


def _dispatch_pass(ctx: ServiceContext) -> tuple[list[JobRef], bool]:
    """One read of the queue, admitted in order: the jobs started, and whether to read the queue again (an org this
    pass had passed over as full freed a slot before a later entry could take it)."""
    queue = entries(ctx)
    for entry in queue:
        if entry.admitted:  # admitted by a dispatcher that did not live to start it
            start_admitted(ctx, entry)
    started: list[JobRef] = []
    full: dict[str, int] = {}  # the orgs passed over as full, with their limits: later admissions check them
    limits: dict[str, PlanLimits | None] = {}
    for entry in queue:
        org = entry.ref.org
        if entry.admitted or org in full:
            continue
        if len(full) > TRANSACTION_ITEMS - ADMISSION_ITEMS:
            break  # more orgs passed over than one transaction can check: the rest waits for the next dispatch
        if org not in limits:
            limits[org] = _limits(ctx, org)
        plan = limits[org]
        outcome = admit(ctx, entry, plan, full)
        if outcome == AHEAD_FREED:
            return started, True
        if outcome in (DEPLOYMENT_FULL, UNSETTLED):
            break
        if outcome == ORG_FULL and plan is not None:  # only an org with a plan has a limit to be full at
            full[org] = plan.concurrent_jobs
        elif outcome == ADMITTED:
            start_admitted(ctx, entry)
            started.append(entry.ref)
    return started, False


def release_slot(ctx: ServiceContext, ref: JobRef) -> bool:
    """Give the job's running slot back, once (its ``slot_held`` flag goes with the counters, in one transaction)."""
    name = ctx.settings.table
    flag = flag_taken(name, job_key(ref), "slot_held", slot_released_at=utc_now())
    counters = [_decrement(name, table.running_key(ref.org)), _decrement(name, table.deployment_running_key())]
    return ctx.quotas.transact_with_flag(flag, counters)


def leave(ctx: ServiceContext, ref: JobRef) -> bool:
    """A job that ended while waiting (cancelled in the queue) gives its place up, once."""
    job = ctx.jobs.get(ref)
    key = job.get("queue_key")
    if not job.get("waiting") or not isinstance(key, str):
        return False
    flag = flag_taken(ctx.settings.table, job_key(ref), "waiting")
    entry: TransactWriteItemTypeDef = {
        "Delete": {"TableName": ctx.settings.table, "Key": {"pk": table.QUEUE, "sk": key}}
    }
    return ctx.quotas.transact_with_flag(flag, [entry])

"""What every ended job owes, paid exactly once whoever ends it (finalize, its retry, mark-failed, cancel, the
reconciler of timed-out or aborted executions): its running slot (or its place in the queue) and unused molecules
back, and one metering record; then the freed slot goes to the next queued job (:mod:`functions.service.job_queue`).

Each part is a DynamoDB transaction that also flips a flag on the job item (``quota_reserved`` and ``slot_held``
off, ``metered`` on), so a crash between "the job ended" (the commit point) and "the job was settled" is repaired
by calling :func:`settle_job` again, and calling it twice changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from functions.service import clock, job_queue, table
from functions.service.conditional import transacted
from functions.service.jobs import TERMINAL_STATES, job_key
from functions.service.metering import COUNTERS
from functions.service.observability import logger, metrics

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from functions.service.context import ServiceContext
    from functions.service.tenancy import JobRef


def refund_reservation(ctx: ServiceContext, ref: JobRef) -> bool:
    """Refund the molecules the job reserved but did not process, once: the monthly quota counts what ran, not
    what was declared."""
    job = ctx.jobs.get(ref)
    if not job.get("quota_reserved"):
        return False
    unused = int(job.get("quota_rows", 0)) - int(job.get("rows_done", 0))
    month = job.get("quota_month")
    return ctx.quotas.release_job(job_key(ref), ref.org, str(month) if month else None, unused)


def meter_job_once(ctx: ServiceContext, ref: JobRef) -> bool:
    """Add what the job used (rows that ran, decoys, worker seconds, stored bytes) to its project's month, once.

    The amounts are read from the job record, where the commit point wrote them, so a retry after a crash meters
    the same numbers. Returns False when the job was metered already.
    """
    job = ctx.jobs.get(ref)
    if job.get("metered"):
        return False
    amounts = {
        "molecules": Decimal(int(job.get("rows_done", 0))),
        "decoys": Decimal(int(job.get("decoys_total", 0))),
        "worker_seconds": Decimal(str(round(float(job.get("worker_seconds", 0.0)), 3))),
        "stored_bytes": Decimal(int(job.get("stored_bytes", 0))),
    }
    month = clock.this_month()
    names: dict[str, str] = {f"#{name}": name for name in COUNTERS}
    names.update({"#org": "org", "#project": "project", "#month": "month"})
    values: dict[str, Any] = {f":{name}": amount for name, amount in amounts.items()}
    values.update({":org": ref.org, ":project": ref.project, ":month": month})
    name = ctx.settings.table
    usage: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": name,
                "Key": table.usage_key(ref.org, month, ref.project),
                "UpdateExpression": "ADD "
                + ", ".join(f"#{c} :{c}" for c in COUNTERS)
                + " SET #org = :org, #project = :project, #month = :month",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }
    ]
    items: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": name,
                "Key": job_key(ref),
                "UpdateExpression": "SET #metered = :month",
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#metered)",
                "ExpressionAttributeNames": {"#metered": "metered"},
                "ExpressionAttributeValues": {":month": month},
            }
        },
        *(usage if any(amounts.values()) else []),  # nothing ran: flag the job, add no usage row
    ]
    return transacted(lambda: ctx.dynamodb.meta.client.transact_write_items(TransactItems=items))


def settle_job(ctx: ServiceContext, ref: JobRef) -> dict[str, bool]:
    """Release and meter an ended job, then start the next queued jobs; safe to call any number of times, from any
    of the job's enders (each release is taken once by its flag; dispatch takes only free slots).

    The flags are the job's, not an attempt's: once a retry has queued the job again (it is no longer ended), a late
    settlement of the earlier attempt would take the new attempt's reservation, queue place or slot. The retry
    settles the earlier attempt itself before it reserves (``submission.start_submitted``), so a late call skips.
    """
    state = ctx.jobs.get(ref).state
    if state not in TERMINAL_STATES:
        logger.info("settlement skipped: the job runs again", extra={**ref.as_dict(), "state": state.value})
        dispatch_quietly(ctx)
        return {"released": False, "refunded": False, "left_queue": False, "metered": False}
    refunded = refund_reservation(ctx, ref)
    released = job_queue.release_slot(ctx, ref)
    left = job_queue.leave(ctx, ref)
    metered = meter_job_once(ctx, ref)
    logger.info("job settled", extra={**ref.as_dict(), "refunded": refunded, "released": released, "metered": metered})
    dispatch_quietly(ctx)
    return {"released": released, "refunded": refunded, "left_queue": left, "metered": metered}


def dispatch_quietly(ctx: ServiceContext) -> list[JobRef]:
    """Move the queue after a release. A fault here must not undo the ending that freed the slot (a cancel that
    answered 500, a finalize retried): the execution-end event and the periodic sweep dispatch again."""
    try:
        return job_queue.dispatch(ctx)
    except Exception:  # logged and counted; the next dispatch finds the same queue
        logger.exception("dispatch after settlement failed; the sweep will retry")
        metrics.add_metric(name="DispatchFailures", unit="Count", value=1)
        return []

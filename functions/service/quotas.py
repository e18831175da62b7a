"""Plans and their limits, enforced at submit by one DynamoDB transaction so racing submits cannot overshoot.

Counters live in the main table next to the org record (keys in :mod:`functions.service.table`): molecules
reserved per month (attribute ``used``), jobs holding a running slot (attribute ``running``) and, when the caller
names the job, that job's slot, so that reserving or releasing the same job twice (a retried handler) changes
nothing the second time. :func:`reserve_for_job` is what the API's start and the drop-folder planner both call.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from functions.service import clock
from functions.service.clock import checked_month, utc_now
from functions.service.conditional import is_condition_failure, written
from functions.service.errors import OrgPlanError, QuotaExceededError, TransientServiceError
from functions.service.ids import checked_id
from functions.service.plans import DEFAULT_PLAN, PLANS, PlanLimits
from functions.service.table import molecules_key, org_key, running_key, slot_key

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

    from functions.service.context import ServiceContext
    from functions.service.tenancy import JobRef

__all__ = [
    "DEFAULT_PLAN",
    "PLANS",
    "OrgPlanError",
    "PlanLimits",
    "QuotaExceededError",
    "QuotaGuard",
    "QuotaStatus",
    "Reservation",
    "plan_limits",
    "read_org",
    "reserve_for_job",
]

TRANSACTION_ATTEMPTS = 5


# The plan table lives in functions/service/plans.py (one table for the service and the CDK app).


def read_org(table: Table, org: str) -> dict[str, Any] | None:
    """The org record (``plan``, ``retention_days`` and whatever the directory keeps), or None if there is none."""
    item: dict[str, Any] | None = table.get_item(Key=org_key(org), ConsistentRead=True).get("Item")
    return item


def plan_limits(plan: object) -> PlanLimits:
    if not isinstance(plan, str) or plan not in PLANS:
        raise OrgPlanError(f"unknown plan {plan!r}; plans are {', '.join(PLANS)}")
    return PLANS[plan]


def _int(value: Any) -> int:
    return int(value) if isinstance(value, Decimal | int) else 0


@dataclass(frozen=True, slots=True)
class Reservation:
    """What a submit was granted; ``limits.max_workers`` is what the state machine's Map may use."""

    org: str
    project: str
    month: str
    rows: int
    limits: PlanLimits
    job: str | None = None
    already_held: bool = False


@dataclass(frozen=True, slots=True)
class QuotaStatus:
    org: str
    month: str
    limits: PlanLimits
    molecules_used: int
    running_jobs: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "org": self.org,
            "month": self.month,
            "limits": self.limits.as_dict(),
            "molecules_used": self.molecules_used,
            "running_jobs": self.running_jobs,
        }


class QuotaGuard:
    def __init__(self, table: Table) -> None:
        self._table = table
        self._deserializer = TypeDeserializer()

    def limits_of(self, org: str) -> PlanLimits:
        """The org's plan limits; an org record without a plan is on the trial plan."""
        record = read_org(self._table, org)
        if record is None:
            raise OrgPlanError(f"org {org} has no record")
        return plan_limits(record.get("plan", DEFAULT_PLAN))

    def set_plan(self, org: str, plan: str) -> str | None:
        """Move an existing org to ``plan``; returns the previous plan (for the quota.change audit event)."""
        plan_limits(plan)
        try:
            response = self._table.update_item(
                Key=org_key(org),
                UpdateExpression="SET #plan = :plan",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#plan": "plan"},
                ExpressionAttributeValues={":plan": plan},
                ReturnValues="UPDATED_OLD",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise OrgPlanError(f"org {org} has no record") from exc
            raise
        old = response.get("Attributes", {}).get("plan")
        return None if old is None else str(old)

    def status(self, org: str, month: str) -> QuotaStatus:
        """Limits and current counters, for showing the org where it stands."""
        limits = self.limits_of(org)
        molecules = self._table.get_item(Key=molecules_key(org, month), ConsistentRead=True).get("Item") or {}
        running = self._table.get_item(Key=running_key(org), ConsistentRead=True).get("Item") or {}
        return QuotaStatus(org, month, limits, _int(molecules.get("used")), _int(running.get("running")))

    def reserve(self, org: str, project: str, rows: int, month: str, *, job: str | None = None) -> Reservation:
        """Take ``rows`` molecules of the month and one running slot, both or neither (one transaction).

        Raises QuotaExceededError naming the first limit that would be exceeded. With ``job`` the reservation is
        idempotent: a job that already holds a slot gets ``already_held=True`` and nothing is counted again.
        """
        checked_id(project, "project")
        checked_month(month)
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise ValueError(f"rows must be a non-negative integer, got {rows!r}")
        limits = self.limits_of(org)
        if rows > limits.rows_per_job:
            raise QuotaExceededError("rows_per_job", limits.rows_per_job, rows, 0)
        if rows > limits.molecules_per_month:
            used = self.status(org, month).molecules_used
            raise QuotaExceededError("molecules_per_month", limits.molecules_per_month, rows, used)
        table = self._table.name
        items: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": table,
                    "Key": molecules_key(org, month),
                    "UpdateExpression": "ADD #used :rows SET #month = :month",
                    "ConditionExpression": "attribute_not_exists(#used) OR #used <= :room",
                    "ExpressionAttributeNames": {"#used": "used", "#month": "month"},
                    "ExpressionAttributeValues": {
                        ":rows": rows,
                        ":room": limits.molecules_per_month - rows,
                        ":month": month,
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": running_key(org),
                    "UpdateExpression": "ADD #running :one",
                    "ConditionExpression": "attribute_not_exists(#running) OR #running < :limit",
                    "ExpressionAttributeNames": {"#running": "running"},
                    "ExpressionAttributeValues": {":one": 1, ":limit": limits.concurrent_jobs},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ]
        if job is not None:
            slot: dict[str, str | int] = {
                **slot_key(org, project, job),
                "month": month,
                "rows": rows,
                "reserved_at": utc_now(),
            }
            items.append({"Put": {"TableName": table, "Item": slot, "ConditionExpression": "attribute_not_exists(pk)"}})
        reasons = self._transact(items)
        if reasons is None:
            return Reservation(org, project, month, rows, limits, job)
        if job is not None and reasons[2].get("Code") == "ConditionalCheckFailed":
            held = self._table.get_item(Key=slot_key(org, project, job), ConsistentRead=True).get("Item") or {}
            held_month = str(held.get("month", month))
            return Reservation(org, project, held_month, _int(held.get("rows")), limits, job, already_held=True)
        if reasons[0].get("Code") == "ConditionalCheckFailed":
            used = self._old_value(reasons[0], "used")
            raise QuotaExceededError("molecules_per_month", limits.molecules_per_month, rows, used)
        if reasons[1].get("Code") == "ConditionalCheckFailed":
            running = self._old_value(reasons[1], "running")
            raise QuotaExceededError("concurrent_jobs", limits.concurrent_jobs, 1, running)
        raise TransientServiceError(f"quota transaction cancelled: {[r.get('Code') for r in reasons]}")

    def release(self, org: str, *, project: str | None = None, job: str | None = None) -> bool:
        """Give a running slot back (never below 0). With ``project`` and ``job``, only that job's slot, once.

        Returns False when there was nothing to give back (counter at 0, or the job's slot already released).
        """
        if job is None:
            return self._decrement_running(org)
        if project is None:
            raise ValueError("release of a job's slot needs its project")
        items: list[TransactWriteItemTypeDef] = [
            {
                "Delete": {
                    "TableName": self._table.name,
                    "Key": slot_key(org, project, job),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": running_key(org),
                    "UpdateExpression": "ADD #running :minus",
                    "ConditionExpression": "#running > :zero",
                    "ExpressionAttributeNames": {"#running": "running"},
                    "ExpressionAttributeValues": {":minus": -1, ":zero": 0},
                }
            },
        ]
        reasons = self._transact(items)
        if reasons is None:
            return True
        if reasons[0].get("Code") == "ConditionalCheckFailed":
            return False
        # The slot exists but the counter is already 0 (it drifted): drop the slot, leave the counter at 0.
        self._table.delete_item(Key=slot_key(org, project, job))
        return True

    def release_job(self, job_key: Mapping[str, str], org: str, month: str | None, unused_rows: int) -> bool:
        """Give back a job's running slot and its unused molecules together with the job's ``quota_reserved`` flag,
        in one transaction: a crash can never leave the flag taken and the slot held (or the slot given twice).

        Returns False when the flag was gone already (someone released it). A counter that drifted (running at 0,
        or fewer molecules counted than the refund) is left alone; the flag is still taken.
        """
        table = self._table.name
        flag: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": table,
                "Key": dict(job_key),
                "UpdateExpression": "REMOVE #flag SET #released = :true",
                "ConditionExpression": "#flag = :true",
                "ExpressionAttributeNames": {"#flag": "quota_reserved", "#released": "quota_released"},
                "ExpressionAttributeValues": {":true": True},
            }
        }
        running: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": table,
                "Key": running_key(org),
                "UpdateExpression": "ADD #running :minus",
                "ConditionExpression": "#running > :zero",
                "ExpressionAttributeNames": {"#running": "running"},
                "ExpressionAttributeValues": {":minus": -1, ":zero": 0},
            }
        }
        optional: list[TransactWriteItemTypeDef] = [running]
        if unused_rows > 0 and month:
            optional.append(
                {
                    "Update": {
                        "TableName": table,
                        "Key": molecules_key(org, month),
                        "UpdateExpression": "ADD #used :minus",
                        "ConditionExpression": "#used >= :rows",
                        "ExpressionAttributeNames": {"#used": "used"},
                        "ExpressionAttributeValues": {":minus": -unused_rows, ":rows": unused_rows},
                    }
                }
            )
        while True:
            reasons = self._transact([flag, *optional])
            if reasons is None:
                return True
            if reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            failed = [i for i, r in enumerate(reasons[1:]) if r.get("Code") == "ConditionalCheckFailed"]
            if not failed:
                raise TransientServiceError(f"quota release cancelled: {[r.get('Code') for r in reasons]}")
            optional = [item for i, item in enumerate(optional) if i not in failed]

    def refund(self, org: str, month: str, rows: int) -> bool:
        """Give back the molecules of a reservation whose job never ran (its start failed).

        Refuses (returns False) rather than take the counter below 0: a refund larger than the count is a bug.
        """
        if rows <= 0:
            return False
        return written(
            lambda: self._table.update_item(
                Key=molecules_key(org, month),
                UpdateExpression="ADD #used :minus",
                ConditionExpression="#used >= :rows",
                ExpressionAttributeNames={"#used": "used"},
                ExpressionAttributeValues={":minus": -rows, ":rows": rows},
            )
        )

    def _decrement_running(self, org: str) -> bool:
        return written(
            lambda: self._table.update_item(
                Key=running_key(org),
                UpdateExpression="ADD #running :minus",
                ConditionExpression="#running > :zero",
                ExpressionAttributeNames={"#running": "running"},
                ExpressionAttributeValues={":minus": -1, ":zero": 0},
            )
        )

    def _transact(self, items: list[TransactWriteItemTypeDef]) -> list[Mapping[str, Any]] | None:
        """Run the transaction; None on success, else the cancellation reasons (one per item, in order).

        A TransactionConflict (another transaction touched the same counter at that instant) is retried.
        """
        client = self._table.meta.client
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                client.transact_write_items(TransactItems=items)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons: list[Mapping[str, Any]] = list(exc.response.get("CancellationReasons") or [])
                if len(reasons) != len(items):
                    raise
                if any(r.get("Code") == "TransactionConflict" for r in reasons):
                    time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
                    continue
                return reasons
            return None
        raise TransientServiceError("quota counters stayed contended; try again")

    def _old_value(self, reason: Mapping[str, Any], name: str) -> int:
        item = reason.get("Item") or {}
        value = item.get(name)
        if isinstance(value, dict):
            value = self._deserializer.deserialize(cast("AttributeValueTypeDef", value))
        return _int(value)


def reserve_for_job(ctx: ServiceContext, ref: JobRef, rows: int) -> Reservation:
    """Reserve a job's rows and a running slot, and record on the job what to give back when it ends.

    The month is read once: the molecules counter charged and the ``quota_month`` that a refund later credits are
    the same month even when the reservation straddles midnight at a month's end. Raises QuotaExceededError or
    OrgPlanError with nothing held.
    """
    month = clock.this_month()
    reservation = ctx.quotas.reserve(ref.org, ref.project, rows, month)
    ctx.jobs.update(
        ref,
        quota_reserved=True,
        quota_month=reservation.month,
        quota_rows=rows,
        max_workers=reservation.limits.max_workers,
    )
    return reservation

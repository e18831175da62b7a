"""Plans and their limits: the molecules of the month, reserved at submit by one conditional write so racing
submits cannot overshoot.

Counters live in the main table next to the org record (keys in :mod:`functions.service.table`): molecules
reserved per month (attribute ``used``) and jobs holding a running slot (attribute ``running``, which the job
queue takes and gives back: :mod:`functions.service.job_queue`). A job's reservation is recorded on the job with a
``quota_reserved`` flag, so refunding it twice (a retried handler) changes nothing the second time.
:func:`reserve_for_job` is what the API's start and the drop-folder planner both call.
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
from functions.service.clock import checked_month
from functions.service.conditional import flag_taken, is_condition_failure, written
from functions.service.errors import OrgPlanError, QuotaExceededError, TransientServiceError
from functions.service.ids import checked_id
from functions.service.plans import DEFAULT_PLAN, PLANS, PlanLimits
from functions.service.table import molecules_key, org_key, running_key

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

    def reserve(self, org: str, project: str, rows: int, month: str) -> Reservation:
        """Take ``rows`` molecules of the month (one conditional write, so racing starts cannot overshoot).

        Raises QuotaExceededError naming the limit (rows per job, molecules per month). The running slot is not
        taken here: a job waits for one in the job queue (:mod:`functions.service.job_queue`) instead of being
        refused, while the monthly quota is still refused up front.
        """
        checked_id(project, "project")
        checked_month(month)
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise ValueError(f"rows must be a non-negative integer, got {rows!r}")
        limits = self.limits_of(org)
        if rows > limits.rows_per_job:
            raise QuotaExceededError("rows_per_job", limits.rows_per_job, rows, 0)
        try:
            self._table.update_item(
                Key=molecules_key(org, month),
                UpdateExpression="ADD #used :rows SET #month = :month",
                ConditionExpression="attribute_not_exists(#used) OR #used <= :room",
                ExpressionAttributeNames={"#used": "used", "#month": "month"},
                ExpressionAttributeValues={":rows": rows, ":room": limits.molecules_per_month - rows, ":month": month},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            old: Any = exc.response.get("Item") or {}
            used = _int(self._deserialized(old).get("used"))
            raise QuotaExceededError("molecules_per_month", limits.molecules_per_month, rows, used) from exc
        return Reservation(org, project, month, rows, limits)

    def release_job(self, job_key: Mapping[str, str], org: str, month: str | None, unused_rows: int) -> bool:
        """Refund a job's unused molecules together with taking its ``quota_reserved`` flag, in one transaction: a
        crash can never leave the flag taken and the molecules kept (or refunded twice).

        Returns False when the flag was gone already (someone refunded it). A counter that drifted (fewer molecules
        counted than the refund) is left alone; the flag is still taken.
        """
        table = self._table.name
        flag = flag_taken(table, job_key, "quota_reserved", quota_released=True)
        refund: list[TransactWriteItemTypeDef] = []
        if unused_rows > 0 and month:
            refund.append(
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
        return self.transact_with_flag(flag, refund)

    def transact_with_flag(self, flag: TransactWriteItemTypeDef, optional: list[TransactWriteItemTypeDef]) -> bool:
        """``flag`` (a conditional write that may happen once) and the counter writes that go with it, together.

        False when the flag's condition did not hold; a counter whose floor condition fails (it drifted) is dropped
        and the rest written, so the flag is never left standing because of a bad counter.
        """
        while True:
            reasons = self._transact([flag, *optional])
            if reasons is None:
                return True
            if reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            failed = [i for i, r in enumerate(reasons[1:]) if r.get("Code") == "ConditionalCheckFailed"]
            if not failed:
                raise TransientServiceError(f"quota transaction cancelled: {[r.get('Code') for r in reasons]}")
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

    def transact(self, items: list[TransactWriteItemTypeDef]) -> list[Mapping[str, Any]] | None:
        """Run a transaction; None on success, else the cancellation reasons (one per item, in order)."""
        return self._transact(items)

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

    def _deserialized(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """An item as ReturnValuesOnConditionCheckFailure gives it (low-level attribute values) in Python values."""
        return {
            name: self._deserializer.deserialize(cast("AttributeValueTypeDef", value))
            if isinstance(value, dict)
            else value
            for name, value in item.items()
        }


def reserve_for_job(ctx: ServiceContext, ref: JobRef, rows: int) -> Reservation:
    """Reserve a job's rows of the month, and record on the job what to give back when it ends.

    The month is read once: the molecules counter charged and the ``quota_month`` that a refund later credits are
    the same month even when the reservation straddles midnight at a month's end. Raises QuotaExceededError or
    OrgPlanError with nothing held. The running slot is the job queue's (:mod:`functions.service.job_queue`).
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

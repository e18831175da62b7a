"""Plans and their limits, enforced at submit by one DynamoDB transaction so racing submits cannot overshoot.

Counters live in the main table next to the org record:
``pk=ORG#{org} sk=QUOTA#MOLECULES#{yyyy-mm}`` (attribute ``used``: rows reserved that month),
``pk=ORG#{org} sk=QUOTA#RUNNING`` (attribute ``running``: jobs holding a slot) and, when the caller names the job,
``pk=ORG#{org} sk=QUOTA#SLOT#{project}#{job}`` so that reserving or releasing the same job twice (a retried
handler) changes nothing the second time.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, cast

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from functions.service.errors import OrgPlanError, QuotaExceededError, TransientServiceError
from functions.service.jobs import utc_now
from functions.service.metering import checked_month
from functions.service.tenancy import checked_id

__all__ = [
    "DEFAULT_PLAN",
    "PLANS",
    "OrgPlanError",
    "PlanLimits",
    "QuotaExceededError",
    "QuotaGuard",
    "QuotaStatus",
    "Reservation",
    "molecules_key",
    "org_key",
    "plan_limits",
    "read_org",
    "running_key",
    "slot_key",
]

ORG_SK = "META"
RUNNING_SK = "QUOTA#RUNNING"
TRANSACTION_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class PlanLimits:
    plan: str
    molecules_per_month: int
    concurrent_jobs: int
    rows_per_job: int
    max_workers: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Sizing (docs/governance.md): a trial fits the 2,000-molecule demo; standard jobs stay on the Lambda path (below the
# 2,000,000-row Fargate threshold); enterprise jobs may go to Fargate and use the default 1,000-way Map.
PLANS: dict[str, PlanLimits] = {
    "trial": PlanLimits("trial", molecules_per_month=10_000, concurrent_jobs=1, rows_per_job=2_000, max_workers=4),
    "standard": PlanLimits(
        "standard", molecules_per_month=1_000_000, concurrent_jobs=5, rows_per_job=250_000, max_workers=100
    ),
    "enterprise": PlanLimits(
        "enterprise", molecules_per_month=20_000_000, concurrent_jobs=20, rows_per_job=5_000_000, max_workers=1000
    ),
}
DEFAULT_PLAN = "trial"


def org_key(org: str) -> dict[str, str]:
    return {"pk": f"ORG#{checked_id(org, 'org')}", "sk": ORG_SK}


def read_org(table: Any, org: str) -> dict[str, Any] | None:
    """The org record (``plan``, ``retention_days`` and whatever the directory keeps), or None if there is none."""
    item: dict[str, Any] | None = table.get_item(Key=org_key(org), ConsistentRead=True).get("Item")
    return item


def plan_limits(plan: object) -> PlanLimits:
    if not isinstance(plan, str) or plan not in PLANS:
        raise OrgPlanError(f"unknown plan {plan!r}; plans are {', '.join(PLANS)}")
    return PLANS[plan]


def molecules_key(org: str, month: str) -> dict[str, str]:
    return {"pk": f"ORG#{checked_id(org, 'org')}", "sk": f"QUOTA#MOLECULES#{checked_month(month)}"}


def running_key(org: str) -> dict[str, str]:
    return {"pk": f"ORG#{checked_id(org, 'org')}", "sk": RUNNING_SK}


def slot_key(org: str, project: str, job: str) -> dict[str, str]:
    return {
        "pk": f"ORG#{checked_id(org, 'org')}",
        "sk": f"QUOTA#SLOT#{checked_id(project, 'project')}#{checked_id(job, 'job')}",
    }


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
    def __init__(self, table: Any) -> None:
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
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
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
        items: list[dict[str, Any]] = [
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
            slot = {**slot_key(org, project, job), "month": month, "rows": rows, "reserved_at": utc_now()}
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
        items = [
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

    def refund(self, org: str, month: str, rows: int) -> bool:
        """Give back the molecules of a reservation whose job never ran (its start failed).

        Refuses (returns False) rather than take the counter below 0: a refund larger than the count is a bug.
        """
        if rows <= 0:
            return False
        try:
            self._table.update_item(
                Key=molecules_key(org, month),
                UpdateExpression="ADD #used :minus",
                ConditionExpression="#used >= :rows",
                ExpressionAttributeNames={"#used": "used"},
                ExpressionAttributeValues={":minus": -rows, ":rows": rows},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _decrement_running(self, org: str) -> bool:
        try:
            self._table.update_item(
                Key=running_key(org),
                UpdateExpression="ADD #running :minus",
                ConditionExpression="#running > :zero",
                ExpressionAttributeNames={"#running": "running"},
                ExpressionAttributeValues={":minus": -1, ":zero": 0},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _transact(self, items: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
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
                reasons: list[dict[str, Any]] = [dict(r) for r in exc.response.get("CancellationReasons") or []]
                if len(reasons) != len(items):
                    raise
                if any(r.get("Code") == "TransactionConflict" for r in reasons):
                    time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
                    continue
                return reasons
            return None
        raise TransientServiceError("quota counters stayed contended; try again")

    def _old_value(self, reason: dict[str, Any], name: str) -> int:
        item = reason.get("Item") or {}
        value = item.get(name)
        if isinstance(value, dict):
            value = self._deserializer.deserialize(cast(Any, value))  # an AttributeValue: {"N": "3"}
        return _int(value)

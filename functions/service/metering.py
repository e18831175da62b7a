"""Usage counters per org, project and calendar month (UTC): molecules, decoys, worker seconds, stored bytes.

Each report is one atomic ADD on the project's usage item of the month (``table.usage_key``), so concurrent
chunks and retried handlers never lose an update (a handler that reports twice does count twice: report once
per fact).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from functions.service import table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

COUNTERS = ("molecules", "decoys", "worker_seconds", "stored_bytes")


def _number(value: Any) -> int | float:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return 0


class UsageReport(TypedDict):
    """Per-project rows (each with org, project, month and the four counters) and their sum over the org."""

    org: str
    month: str | None
    projects: list[dict[str, Any]]
    total: dict[str, int | float]


class Metering:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add(
        self,
        org: str,
        project: str,
        month: str,
        *,
        molecules: int = 0,
        decoys: int = 0,
        worker_seconds: float = 0.0,
        stored_bytes: int = 0,
    ) -> None:
        """Add to the month's counters of one project; counters only grow, so negative amounts are refused."""
        key = table.usage_key(org, month, project)
        # Millisecond resolution keeps the running sum well inside DynamoDB's 38 significant digits.
        amounts: dict[str, Decimal] = {
            "molecules": Decimal(int(molecules)),
            "decoys": Decimal(int(decoys)),
            "worker_seconds": Decimal(str(round(float(worker_seconds), 3))),
            "stored_bytes": Decimal(int(stored_bytes)),
        }
        negative = [name for name, amount in amounts.items() if amount < 0]
        if negative:
            raise ValueError(f"usage counters only grow; negative {', '.join(negative)}")
        if not any(amounts.values()):
            return
        names = {f"#{name}": name for name in COUNTERS}
        names.update({"#org": "org", "#project": "project", "#month": "month"})
        values: dict[str, Any] = {f":{name}": amount for name, amount in amounts.items()}
        values.update({":org": org, ":project": project, ":month": month})
        self._table.update_item(
            Key=key,
            UpdateExpression="ADD "
            + ", ".join(f"#{name} :{name}" for name in COUNTERS)
            + " SET #org = :org, #project = :project, #month = :month",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def usage(self, org: str, month: str | None = None) -> UsageReport:
        """One month (or every month when ``month`` is None) of an org, sorted by month then project."""
        items = table.all_items(
            self._table.query,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :usage)",
            ExpressionAttributeValues={":pk": table.org_pk(org), ":usage": table.usage_prefix(month)},
            ConsistentRead=True,
        )
        rows = []
        total: dict[str, int | float] = dict.fromkeys(COUNTERS, 0)
        for item in sorted(items, key=lambda i: str(i["sk"])):
            item_month, project = table.month_and_project_of_usage_sk(item["sk"])
            row: dict[str, Any] = {"org": org, "project": project, "month": item_month}
            for name in COUNTERS:
                row[name] = _number(item.get(name))
                total[name] += row[name]
            row["worker_seconds"] = float(row["worker_seconds"])
            rows.append(row)
        total["worker_seconds"] = round(float(total["worker_seconds"]), 3)
        return {"org": org, "month": month, "projects": rows, "total": total}

"""Usage counters per org, project and calendar month (UTC): molecules, decoys, worker seconds, stored bytes.

Each report is one atomic ADD on the item ``pk=ORG#{org} sk=USAGE#{yyyy-mm}#{project}``, so concurrent chunks and
retried handlers never lose an update (a handler that reports twice does count twice: report once per fact).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypedDict

from functions.service.tenancy import checked_id

COUNTERS = ("molecules", "decoys", "worker_seconds", "stored_bytes")
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def month_of(when: datetime) -> str:
    """The metering month (``yyyy-mm``, UTC) a moment falls in."""
    if when.tzinfo is None:
        raise ValueError("month_of needs a timezone-aware datetime")
    return when.astimezone(UTC).strftime("%Y-%m")


def checked_month(value: object) -> str:
    if not isinstance(value, str) or not _MONTH.fullmatch(value):
        raise ValueError(f"month must be yyyy-mm, got {value!r}")
    return value


def usage_key(org: str, month: str, project: str) -> dict[str, str]:
    return {
        "pk": f"ORG#{checked_id(org, 'org')}",
        "sk": f"USAGE#{checked_month(month)}#{checked_id(project, 'project')}",
    }


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
    def __init__(self, table: Any) -> None:
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
        key = usage_key(org, month, project)
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
        prefix = "USAGE#" if month is None else f"USAGE#{checked_month(month)}#"
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :usage)",
            "ExpressionAttributeValues": {":pk": f"ORG#{checked_id(org, 'org')}", ":usage": prefix},
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        while True:
            page = self._table.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        rows = []
        total: dict[str, int | float] = dict.fromkeys(COUNTERS, 0)
        for item in sorted(items, key=lambda i: str(i["sk"])):
            _, item_month, project = str(item["sk"]).split("#", 2)
            row: dict[str, Any] = {"org": org, "project": project, "month": item_month}
            for name in COUNTERS:
                row[name] = _number(item.get(name))
                total[name] += row[name]
            row["worker_seconds"] = float(row["worker_seconds"])
            rows.append(row)
        total["worker_seconds"] = round(float(total["worker_seconds"]), 3)
        return {"org": org, "month": month, "projects": rows, "total": total}

"""Jobs shown to another member of the org: a reviewer with no role in a project reads the one job shared with them.

A share is one item in the org's partition keyed by the recipient (so "shared with me" is one query) plus the
recipient's id in the job's ``shared_with`` set (so the job page lists who sees it), written in one transaction.
What a share lets the recipient do is in the permission table (``functions/api/permissions.py``); deleting the
job deletes its shares (``JobRepository.delete``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from functions.service import table
from functions.service.clock import utc_now
from functions.service.conditional import transacted
from functions.service.errors import JobNotFoundError
from functions.service.jobs import job_key
from functions.service.tenancy import JobRef

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


@dataclass(frozen=True, slots=True)
class JobShare:
    ref: JobRef
    user: str
    granted_by: str
    granted_at: str


class JobShares:
    def __init__(self, table: Table) -> None:
        self._table = table

    def grant(self, ref: JobRef, user: str, granted_by: str) -> JobShare:
        """Show the job to ``user``; sharing twice keeps the first grant's author and time. JobNotFoundError."""
        now = utc_now()
        items: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": job_key(ref),
                    "UpdateExpression": "ADD shared_with :user",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":user": {user}},
                }
            },
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": table.share_key(ref.org, user, ref.project, ref.job),
                    "UpdateExpression": (
                        "SET #user = :user, #project = :project, #job = :job, "
                        "#by = if_not_exists(#by, :by), #at = if_not_exists(#at, :now)"
                    ),
                    "ExpressionAttributeNames": {
                        "#user": "user",
                        "#project": "project",
                        "#job": "job",
                        "#by": "granted_by",
                        "#at": "granted_at",
                    },
                    "ExpressionAttributeValues": {
                        ":user": user,
                        ":project": ref.project,
                        ":job": ref.job,
                        ":by": granted_by,
                        ":now": now,
                    },
                }
            },
        ]
        client = self._table.meta.client
        if not transacted(lambda: client.transact_write_items(TransactItems=items)):
            raise JobNotFoundError(f"no job {ref.job} in project {ref.project}")
        share = self.get(ref, user)
        assert share is not None  # written just now, read consistently
        return share

    def revoke(self, ref: JobRef, user: str) -> bool:
        """Stop showing the job to ``user``; False if it was not shared with them."""
        share = self.get(ref, user)
        self._table.delete_item(Key=table.share_key(ref.org, user, ref.project, ref.job))
        self._table.update_item(
            Key=job_key(ref),
            UpdateExpression="DELETE shared_with :user",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":user": {user}},
        )
        return share is not None

    def get(self, ref: JobRef, user: str) -> JobShare | None:
        item = self._table.get_item(Key=table.share_key(ref.org, user, ref.project, ref.job), ConsistentRead=True).get(
            "Item"
        )
        return None if item is None else _share(ref.org, item)

    def shared_with(self, org: str, user: str) -> list[JobShare]:
        """Every job shared with ``user`` in ``org``, by project then job."""
        items = table.all_items(
            self._table.query,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": table.org_pk(org), ":prefix": table.shares_prefix(user)},
        )
        return [_share(org, item) for item in items]


def _share(org: str, item: dict[str, Any]) -> JobShare:
    return JobShare(
        JobRef(org, str(item["project"]), str(item["job"])),
        str(item["user"]),
        str(item["granted_by"]),
        str(item["granted_at"]),
    )

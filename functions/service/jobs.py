"""Job records in DynamoDB: states, conditional transitions and exactly-once progress counters.

Every state change is a conditional write naming the states it may come from, so two writers racing (a
cancel and a finalize, a retried Lambda) can never move a job backwards or lose an update: the loser gets
:class:`StateConflictError` with the state that won.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from functions.service import table
from functions.service.clock import utc_now
from functions.service.conditional import is_condition_failure, transacted, written
from functions.service.dynamo_values import from_dynamo, to_dynamo
from functions.service.errors import JobNotFoundError, StateConflictError
from functions.service.tenancy import JobRef, ProjectRef

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class JobState(StrEnum):
    CREATED = "CREATED"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    SUCCEEDED_WITH_ERRORS = "SUCCEEDED_WITH_ERRORS"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


RETRYABLE_STATES = frozenset({JobState.FAILED, JobState.CANCELLED})
TERMINAL_STATES = frozenset({JobState.SUCCEEDED, JobState.SUCCEEDED_WITH_ERRORS, JobState.FAILED, JobState.CANCELLED})

# Where each state may be entered from. FAILED → QUEUED and CANCELLED → QUEUED are "run it again" (retry).
ALLOWED_FROM: dict[JobState, frozenset[JobState]] = {
    JobState.CREATED: frozenset(),
    JobState.QUEUED: frozenset({JobState.CREATED, JobState.FAILED, JobState.CANCELLED}),
    JobState.RUNNING: frozenset({JobState.QUEUED}),
    JobState.SUCCEEDED: frozenset({JobState.RUNNING}),
    JobState.SUCCEEDED_WITH_ERRORS: frozenset({JobState.RUNNING}),
    JobState.FAILED: frozenset({JobState.CREATED, JobState.QUEUED, JobState.RUNNING}),
    JobState.CANCELLED: frozenset({JobState.CREATED, JobState.QUEUED, JobState.RUNNING}),
}

STATUS_COUNTERS = {"OK": "rows_ok", "SKIP": "rows_skip", "ERROR": "rows_error"}
# What the decoy cache did for the job's rows (hetero_core.cache.CacheStats names → job-record attributes).
CACHE_COUNTERS = {
    "hits": "decoy_cache_hits",
    "misses": "decoy_cache_misses",
    "corrupt": "decoy_cache_corrupt",
    "unwritable": "decoy_cache_unwritable",
}


def job_key(ref: JobRef) -> dict[str, str]:
    return table.job_key(ref.org, ref.project, ref.job)


@dataclass(frozen=True, slots=True)
class JobRecord:
    ref: JobRef
    item: dict[str, Any]

    @property
    def state(self) -> JobState:
        return JobState(self.item["state"])

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.item.get("params", {}))

    def get(self, name: str, default: Any = None) -> Any:
        return self.item.get(name, default)


class JobRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def create(self, ref: JobRef, *, state: JobState = JobState.CREATED, **attributes: Any) -> JobRecord:
        """Put a new job; a job id that exists already is a conflict, never an overwrite."""
        now = utc_now()
        item = {
            **job_key(ref),
            **ref.as_dict(),
            "state": state.value,
            "created_at": now,
            "updated_at": now,
            "rows_total": 0,
            "rows_done": 0,
            **dict.fromkeys(STATUS_COUNTERS.values(), 0),
            **to_dynamo(attributes),
        }
        if not written(lambda: self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")):
            raise StateConflictError(f"job {ref.job} exists already", self._current_state(ref))
        return JobRecord(ref, from_dynamo(item))

    def get(self, ref: JobRef) -> JobRecord:
        item = self._table.get_item(Key=job_key(ref), ConsistentRead=True).get("Item")
        if item is None:
            raise JobNotFoundError(f"no job {ref.job} in project {ref.project}")
        return JobRecord(ref, from_dynamo(item))

    def list_jobs(self, project: ProjectRef) -> list[JobRecord]:
        items = table.all_items(
            self._table.query,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :job)",
            ExpressionAttributeValues={":pk": table.project_pk(project.org, project.project), ":job": table.JOB},
        )
        return [JobRecord(JobRef(project.org, project.project, str(i["job"])), from_dynamo(i)) for i in items]

    def transition(self, ref: JobRef, to: JobState, **attributes: Any) -> JobRecord:
        """Move the job to ``to`` if its current state allows it; otherwise StateConflictError."""
        sources = sorted(ALLOWED_FROM[to])
        names = {"#state": "state", "#updated": "updated_at"}
        values: dict[str, Any] = {":to": to.value, ":now": utc_now()}
        sets = ["#state = :to", "#updated = :now"]
        for i, (name, value) in enumerate(sorted(attributes.items())):
            names[f"#a{i}"] = name
            values[f":a{i}"] = to_dynamo(value)
            sets.append(f"#a{i} = :a{i}")
        placeholders = []
        for i, state in enumerate(sources):
            values[f":from{i}"] = state.value
            placeholders.append(f":from{i}")
        condition = f"attribute_exists(pk) AND #state IN ({', '.join(placeholders)})"
        try:
            response = self._table.update_item(
                Key=job_key(ref),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                current = self._current_state(ref)
                if current is None:
                    raise JobNotFoundError(f"no job {ref.job} in project {ref.project}") from exc
                raise StateConflictError(f"job {ref.job} is {current}; cannot become {to.value}", current) from exc
            raise
        return JobRecord(ref, from_dynamo(response["Attributes"]))

    def update(self, ref: JobRef, **attributes: Any) -> None:
        """Set plain attributes (plan facts, pack keys) without touching the state."""
        names = {"#updated": "updated_at"}
        values: dict[str, Any] = {":now": utc_now()}
        sets = ["#updated = :now"]
        for i, (name, value) in enumerate(sorted(attributes.items())):
            names[f"#a{i}"] = name
            values[f":a{i}"] = to_dynamo(value)
            sets.append(f"#a{i} = :a{i}")
        self._table.update_item(
            Key=job_key(ref),
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def record_chunk(
        self,
        ref: JobRef,
        chunk: int,
        status_counts: dict[str, int],
        worker_seconds: float = 0.0,
        *,
        attempt: int = 0,
        extra_counters: Mapping[str, int] | None = None,
    ) -> bool:
        """Add a finished chunk's rows to the progress counters, once per chunk even when the chunk ran twice.
        ``extra_counters`` (attribute → increment, e.g. the decoy cache's hits) are added in the same transaction.

        One transaction: a small marker item per (attempt, chunk), put only if new, and ADDs to the job's counters.
        The job item never grows with the number of chunks (a set of chunk numbers on it did, and made every one
        of a thousand concurrent writes cost more than the last). Returns False when the chunk had been counted, or
        when it belongs to an earlier attempt: a chunk still running when its job was cancelled and retried must not
        add to the new attempt's progress.
        """
        names = {
            "#attempt": "attempt",
            "#updated": "updated_at",
            "#done": "rows_done",
            "#chunks": "chunks_counted",
            "#worker": "worker_seconds",
        }
        values: dict[str, Any] = {
            ":n": sum(status_counts.values()),
            ":one": 1,
            ":now": utc_now(),
            ":worker": Decimal(f"{worker_seconds:.3f}"),
        }
        adds = ["#done :n", "#chunks :one", "#worker :worker"]
        for status, counter in STATUS_COUNTERS.items():
            names[f"#{counter}"] = counter
            values[f":{counter}"] = status_counts.get(status, 0)
            adds.append(f"#{counter} :{counter}")
        for index, (attribute, increment) in enumerate(sorted((extra_counters or {}).items())):
            names[f"#x{index}"] = attribute
            values[f":x{index}"] = increment
            adds.append(f"#x{index} :x{index}")
        marker = {
            **table.chunk_progress_key(ref.org, ref.project, ref.job, attempt, chunk),
            "chunk": chunk,
            "rows": values[":n"],
            "recorded_at": values[":now"],
        }
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table.name,
                    "Item": to_dynamo(marker),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self._table.name,
                    "Key": job_key(ref),
                    "UpdateExpression": "ADD " + ", ".join(adds) + " SET #updated = :now",
                    "ConditionExpression": (
                        "attribute_exists(pk) AND (attribute_not_exists(#attempt) OR #attempt = :attempt)"
                    ),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": {**values, ":attempt": attempt},
                }
            },
        ]
        client = self._table.meta.client
        return transacted(lambda: client.transact_write_items(TransactItems=items))

    def counted_chunks(self, ref: JobRef, attempt: int) -> list[int]:
        """The chunks of one attempt counted so far, in order (for tests and support, not for progress)."""
        prefix = table.progress_prefix(ref.org, ref.project, ref.job)
        items = table.all_items(
            self._table.query,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
            ExpressionAttributeValues={":pk": prefix["pk"], ":sk": f"{prefix['sk']}{int(attempt):03d}#"},
            ConsistentRead=True,
        )
        return sorted(int(item["chunk"]) for item in items)

    def reset_progress(self, ref: JobRef) -> None:
        """Zero the progress counters: a retried job starts its count again (its chunk markers carry the attempt,
        so an earlier attempt's markers never stop this one's chunks from counting)."""
        self._table.update_item(
            Key=job_key(ref),
            UpdateExpression=(
                "SET rows_done = :zero, rows_ok = :zero, rows_skip = :zero, rows_error = :zero, "
                "worker_seconds = :zero, chunks_counted = :zero "
                "REMOVE chunks_done, failed_chunks, #error, metered, decoys_total, stored_bytes, "
                + ", ".join(CACHE_COUNTERS.values())
            ),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#error": "error"},
            ExpressionAttributeValues={":zero": 0},
        )

    def take_flag(self, ref: JobRef, name: str) -> bool:
        """Remove a true flag attribute; True for the one caller that removed it (release exactly once)."""
        return written(
            lambda: self._table.update_item(
                Key=job_key(ref),
                UpdateExpression="REMOVE #f",
                ConditionExpression="#f = :true",
                ExpressionAttributeNames={"#f": name},
                ExpressionAttributeValues={":true": True},
            )
        )

    def delete(self, ref: JobRef) -> None:
        """The job record, its counted-chunk markers and its shares (retention and project deletion go through here)."""
        item = self._table.get_item(Key=job_key(ref), ConsistentRead=True).get("Item") or {}
        for user in sorted(str(u) for u in item.get("shared_with", set())):  # type: ignore[union-attr]
            self._table.delete_item(Key=table.share_key(ref.org, user, ref.project, ref.job))
        prefix = table.progress_prefix(ref.org, ref.project, ref.job)
        markers = table.all_items(
            self._table.query,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
            ExpressionAttributeValues={":pk": prefix["pk"], ":sk": prefix["sk"]},
            ProjectionExpression="pk, sk",
        )
        for marker in list(markers):  # DeleteItem, not BatchWriteItem: the roles that delete jobs have only this
            self._table.delete_item(Key={"pk": str(marker["pk"]), "sk": str(marker["sk"])})
        self._table.delete_item(Key=job_key(ref))

    def _current_state(self, ref: JobRef) -> str | None:
        item = self._table.get_item(Key=job_key(ref), ConsistentRead=True).get("Item")
        return None if item is None else str(item["state"])

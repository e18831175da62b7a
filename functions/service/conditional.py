"""A DynamoDB conditional write as a yes/no: the condition not holding is an answer, every other error is not.

Conditional writes are how the service stays correct under races (a job's state, a counter's floor, an id that
must be new); callers turn ``False`` into the error or result that the refusal means to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

CONDITION_FAILED = "ConditionalCheckFailedException"
# S3's answers to a put with ``If-None-Match: *`` whose key exists (412), or is being written by another put (409)
S3_OBJECT_EXISTS = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


def is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == CONDITION_FAILED


def is_existing_object(exc: ClientError) -> bool:
    """An S3 conditional put (``IfNoneMatch="*"``) refused because the key is taken: the object exists already."""
    return exc.response.get("Error", {}).get("Code") in S3_OBJECT_EXISTS


def written(write: Callable[[], object]) -> bool:
    """Run one conditional write: True if it happened, False if its condition did not hold."""
    try:
        write()
    except ClientError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def flag_taken(table: str, key: Mapping[str, str], flag: str, **marks: object) -> TransactWriteItemTypeDef:
    """A transaction item that removes the true attribute ``flag`` (and sets ``marks``) only while it is true: the
    first item of a "do this once" transaction, so the one caller that takes the flag does the rest."""
    names = {"#flag": flag, **{f"#m{i}": name for i, name in enumerate(marks)}}
    values = {":true": True, **{f":m{i}": value for i, value in enumerate(marks.values())}}
    sets = ", ".join(f"#m{i} = :m{i}" for i in range(len(marks)))
    return {
        "Update": {
            "TableName": table,
            "Key": dict(key),
            "UpdateExpression": "REMOVE #flag" + (f" SET {sets}" if sets else ""),
            "ConditionExpression": "#flag = :true",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,  # type: ignore[typeddict-item]
        }
    }


def transacted(write: Callable[[], object]) -> bool:
    """Run one transaction: False if a condition of one of its items did not hold (nothing was written)."""
    try:
        write()
    except ClientError as exc:
        reasons = exc.response.get("CancellationReasons") or []
        if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
            return False
        raise
    return True

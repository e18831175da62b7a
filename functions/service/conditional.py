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


def is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == CONDITION_FAILED


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
    """Run one transaction whose first item carries the condition: False if that condition did not hold."""
    try:
        write()
    except ClientError as exc:
        reasons = exc.response.get("CancellationReasons") or []
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            return False
        raise
    return True

"""Between Python values and DynamoDB's: boto3 hands numbers back as Decimal and refuses floats going in."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def from_dynamo(value: Any) -> Any:
    """Decimals back to int (integral) or float; number sets to sorted lists; nested maps and lists too."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    if isinstance(value, set):
        return sorted(from_dynamo(v) for v in value)
    return value


def to_dynamo(value: Any) -> Any:
    """Floats become Decimal (via repr, so 0.1 stays 0.1); nested maps, lists and tuples too."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_dynamo(v) for v in value]
    return value

"""The stage part of an API Gateway method ARN, which both TOKEN authorizers widen into their policy's resource."""

from __future__ import annotations


def stage_prefix(method_arn: str) -> str:
    """``arn:aws:execute-api:region:account:api/stage/VERB/path`` → ``arn:aws:execute-api:region:account:api/stage``.

    Raises ValueError for anything that is not a method ARN (the policy must never allow a guessed resource).
    """
    parts = method_arn.split("/")
    if len(parts) < 2 or not parts[0].startswith("arn:aws"):
        raise ValueError(f"not a method ARN: {method_arn!r}")
    return f"{parts[0]}/{parts[1]}"

"""``Idempotency-Key`` on every POST: the same key with the same body returns the first response; with another
body it is 409. Keys are scoped by org and user, so one tenant's key can never replay another's response.

Backed by Powertools idempotency on DynamoDB (``HETERO2_IDEMPOTENCY_TABLE``); one persistence layer per
operation, as Powertools expects.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from functions.api.deps import Caller, header, services
from functions.api.errors import ApiError

if TYPE_CHECKING:
    from collections.abc import Callable

    import boto3

KEY_HEADER = "Idempotency-Key"
EXPIRES_AFTER_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 200


@cache
def _operation(
    name: str, table: str, session: boto3.session.Session
) -> tuple[Callable[..., dict[str, Any]], IdempotencyConfig]:
    """One persistence layer per (operation, table, AWS session): a new service context gets its own."""
    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_session=session)
    config = IdempotencyConfig(
        event_key_jmespath="scope",
        payload_validation_jmespath="body_sha256",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
    )

    @idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=config, key_prefix=f"hetero2.{name}"
    )
    def run(request: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return action()

    operation: Callable[..., dict[str, Any]] = run
    return operation, config


def idempotent(
    app: Any, name: str, caller: Caller, body: Any, action: Callable[[], tuple[dict[str, Any], int]]
) -> tuple[dict[str, Any], int]:
    """Run ``action`` (which returns body and status) once per (org, user, Idempotency-Key of the request)."""
    key = header(app, KEY_HEADER)
    if key is None:
        return action()
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ApiError(400, "bad_idempotency_key", f"{KEY_HEADER} must be 1-{MAX_KEY_LENGTH} characters")
    body_sha256 = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    request = {"scope": f"{caller.org}#{caller.user}#{name}#{key}", "body_sha256": body_sha256}
    context = services().context
    operation, config = _operation(name, context.settings.idempotency_table, context.session)
    if app.lambda_context is not None:
        # lets Powertools expire an in-progress record when this invocation would time out
        config.register_lambda_context(app.lambda_context)

    def recorded() -> dict[str, Any]:
        response_body, status = action()
        return {"body": response_body, "status": status}

    try:
        result = operation(request=request, action=recorded)
    except IdempotencyValidationError as exc:
        raise ApiError(409, "idempotency_key_reused", f"{KEY_HEADER} {key!r} was used with another body") from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise ApiError(409, "request_in_progress", f"a request with {KEY_HEADER} {key!r} is still running") from exc
    return result["body"], int(result["status"])

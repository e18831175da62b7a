"""Record why a job failed, from the state machine's Catch output, in words a customer can act on."""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from functions.service.errors import StateConflictError
from functions.service.jobs import TERMINAL_STATES, JobState
from functions.service.observability import logger
from functions.service.settlement import settle_job

if TYPE_CHECKING:
    from functions.service.context import ServiceContext
    from functions.service.tenancy import JobRef

MAX_MESSAGE = 1000
# An absolute path on the worker (/tmp/hetero2-plan-abc123/input.csv, /var/task/...): the customer needs the
# file's name, never the server's directory layout. Only filesystem roots: an API path (POST /v1/orgs) stays.
_SERVER_PATH = re.compile(
    r"(?<![\w.:/])/(?:tmp|var|opt|home|root|usr|mnt|srv|app|run|private|Users|work|proc|dev)/(?:[\w.+-]+/)*([\w.+-]+)"
)


def without_server_paths(message: str) -> str:
    """``message`` with every absolute server path cut to its file name."""
    return _SERVER_PATH.sub(lambda match: PurePosixPath(match.group(0)).name, message)


def describe_error(error: Any) -> dict[str, str]:
    """``{"Error": name, "Cause": text}`` from Step Functions; a Lambda's Cause is its JSON error payload."""
    if not isinstance(error, dict):
        return {"code": "Unknown", "message": str(error)[:MAX_MESSAGE]}
    code = str(error.get("Error") or "Unknown")
    cause = error.get("Cause") or ""
    message = str(cause)
    try:
        payload = json.loads(cause) if isinstance(cause, str) else cause
    except ValueError:
        payload = None
    if isinstance(payload, dict) and payload.get("errorMessage"):
        message = str(payload["errorMessage"])
    return {"code": code, "message": without_server_paths(message)[:MAX_MESSAGE]}


def mark_failed(ctx: ServiceContext, ref: JobRef, error: Any) -> dict[str, Any]:
    described = describe_error(error)
    try:
        record = ctx.jobs.transition(ref, JobState.FAILED, error=described)
    except StateConflictError as exc:
        if exc.current in {s.value for s in TERMINAL_STATES}:
            # Ended by someone else (or by a finalize that crashed after its commit point): settle what it owes.
            logger.info(
                "job already finished; failure not recorded",
                extra={"state": exc.current, "error_code": described["code"]},
            )
            settle_job(ctx, ref)
            return {"state": exc.current}
        raise
    settle_job(ctx, ref)
    logger.warning("job failed", extra=described)
    return {"state": record.state.value, "error": described}

"""Named errors of the HETERO-2 client.

The service answers every error with one shape, ``{"error": {"code", "message", "request_id"[, "details"]}}``;
:func:`api_error` turns it into an :class:`ApiError` subclass chosen by the HTTP status, so a notebook can
``except NotFound`` and a support ticket can quote the ``request_id``. Errors derive from the engine's
:class:`~hetero_core.errors.HeteroError`, so ``hetero2`` prints them as one line with exit code 2.
"""

from __future__ import annotations

from typing import Any

from hetero_core.errors import HeteroError

__all__ = [
    "ApiError",
    "ClientError",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "JobFailedError",
    "MissingDependencyError",
    "NotFound",
    "QuotaExceeded",
    "ServerError",
    "TransferError",
    "TransportError",
    "Unauthenticated",
    "ValidationFailed",
    "WaitTimeoutError",
    "api_error",
]


class ClientError(HeteroError):
    """Base class of every error the client raises on purpose."""


class ConfigurationError(ClientError):
    """The client lacks what it needs to call the service: endpoint, token, org, project or the job's input."""


class MissingDependencyError(ClientError, ImportError):
    """An optional package (pandas) is needed for this call and is not installed."""


class TransportError(ClientError):
    """The service could not be reached, even after the one retry."""


class TransferError(ClientError):
    """A presigned upload or download was refused by the storage behind the service."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(f"{status}: {message}")


class ApiError(ClientError):
    """An error answer of the API, with everything its body carried."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        request_id: str = "",
        details: list[dict[str, Any]] | None = None,
    ):
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.details = details
        text = f"{status} {code}: {message}"
        if details:
            text += f" {details}"
        if request_id:
            text += f" (request_id {request_id})"
        super().__init__(text)


class ValidationFailed(ApiError):
    """400/422: the request (a parameter, an identifier, a header) is not valid; ``details`` names the fields."""


class Unauthenticated(ApiError):
    """401: the token is missing, malformed, expired or not trusted by the service."""


class Forbidden(ApiError):
    """403: the token is valid but its user lacks the role for this action."""


class NotFound(ApiError):
    """404: no such org, project or job, or one that belongs to another org (the service does not say which)."""


class Conflict(ApiError):
    """409: the job is in the wrong state, the input is not uploaded, or an idempotency key was reused."""


class QuotaExceeded(ApiError):
    """429: a plan limit (rows per job, molecules per month, concurrent jobs) would be exceeded."""


class ServerError(ApiError):
    """5xx: the service failed; quote the ``request_id`` when reporting it."""


class JobFailedError(ClientError):
    """A job being waited for ended FAILED or CANCELLED; ``job`` is its last record."""

    def __init__(self, job: dict[str, Any]):
        self.job = job
        self.state = str(job.get("state", ""))
        error = job.get("error") or {}
        reason = ": ".join(str(error[k]) for k in ("code", "message") if error.get(k))
        super().__init__(f"job {job.get('job')} ended {self.state}" + (f" ({reason})" if reason else ""))


class WaitTimeoutError(ClientError):
    """A job did not finish within the time given to ``wait``; it keeps running on the service."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationFailed,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: ValidationFailed,
    429: QuotaExceeded,
}


def api_error(status: int, body: Any, fallback_text: str = "") -> ApiError:
    """The typed error for an error answer; a body not in the API's shape (a proxy's page) keeps its status."""
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        details = error.get("details")
        return kind(
            status,
            error["code"],
            str(error.get("message", "")),
            str(error.get("request_id", "")),
            details if isinstance(details, list) else None,
        )
    snippet = " ".join(fallback_text.split())[:200]
    return kind(status, f"http_{status}", snippet or "the service answered with an error and no error body")

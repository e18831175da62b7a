"""Named errors of the HETERO-2 client.

The service answers every error with one shape, ``{"error": {"code", "message", "request_id"[, "details"]}}``;
:func:`api_error` turns it into an :class:`ApiError` subclass chosen by the HTTP status, so a notebook can
``except NotFoundError`` and a support ticket can quote the ``request_id``. Errors derive from the engine's
:class:`~hetero_core.errors.HeteroError`, so ``hetero2`` prints them as one line with exit code 2.
"""

from __future__ import annotations

import warnings
from typing import Any

from hetero_core.errors import HeteroError


class Hetero2ClientError(HeteroError):
    """Base class of every error the client raises on purpose."""


class ConfigurationError(Hetero2ClientError):
    """The client lacks what it needs to call the service: endpoint, token, org, project or the job's input."""


class MissingDependencyError(Hetero2ClientError, ImportError):
    """An optional package (pandas) is needed for this call and is not installed."""


class TransportError(Hetero2ClientError):
    """The service could not be reached, even after the one retry."""


class TransferError(Hetero2ClientError):
    """A presigned upload or download was refused by the storage behind the service."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(f"{status}: {message}")


class ApiError(Hetero2ClientError):
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


class ValidationFailedError(ApiError):
    """400/422: the request (a parameter, an identifier, a header) is not valid; ``details`` names the fields."""


class UnauthenticatedError(ApiError):
    """401: the token is missing, malformed, expired or not trusted by the service."""


class ForbiddenError(ApiError):
    """403: the token is valid but its user lacks the role for this action."""


class NotFoundError(ApiError):
    """404: no such org, project or job, or one that belongs to another org (the service does not say which)."""


class ConflictError(ApiError):
    """409: the job is in the wrong state, the input is not uploaded, or an idempotency key was reused."""


class QuotaExceededError(ApiError):
    """429: a plan limit (rows per job, molecules per month, concurrent jobs) would be exceeded."""


class ServerError(ApiError):
    """5xx: the service failed; quote the ``request_id`` when reporting it."""


class JobFailedError(Hetero2ClientError):
    """A job being waited for ended FAILED or CANCELLED; ``job`` is its last record."""

    def __init__(self, job: dict[str, Any]):
        self.job = job
        self.state = str(job.get("state", ""))
        error = job.get("error") or {}
        reason = ": ".join(str(error[k]) for k in ("code", "message") if error.get(k))
        super().__init__(f"job {job.get('job')} ended {self.state}" + (f" ({reason})" if reason else ""))


class WaitTimeoutError(Hetero2ClientError):
    """A job did not finish within the time given to ``wait``; it keeps running on the service."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: ValidationFailedError,
    401: UnauthenticatedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationFailedError,
    429: QuotaExceededError,
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


# The names before 2026-11, which docs/client.md promised: they still work, with a DeprecationWarning.
DEPRECATED_NAMES: dict[str, str] = {
    "ClientError": "Hetero2ClientError",
    "Conflict": "ConflictError",
    "Forbidden": "ForbiddenError",
    "NotFound": "NotFoundError",
    "QuotaExceeded": "QuotaExceededError",
    "Unauthenticated": "UnauthenticatedError",
    "ValidationFailed": "ValidationFailedError",
}


def deprecated_error(name: str) -> type[Hetero2ClientError] | None:
    """The class an old name stands for (warning the caller once per place), or None for any other name."""
    new = DEPRECATED_NAMES.get(name)
    if new is None:
        return None
    warnings.warn(f"hetero2_client.{name} is deprecated; use {new}", DeprecationWarning, stacklevel=3)
    found: type[Hetero2ClientError] = globals()[new]
    return found


def __getattr__(name: str) -> Any:
    found = deprecated_error(name)
    if found is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return found

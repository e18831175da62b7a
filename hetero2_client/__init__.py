"""HETERO-2 client: submit jobs to a HETERO-2 service, wait, and fetch verified evidence packs.

``Client`` is configured with an endpoint and a bearer token (or ``HETERO2_URL`` / ``HETERO2_TOKEN``);
``Job`` is one job on the service. Errors are the typed classes in :mod:`hetero2_client.errors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hetero2_client.errors import (
    ApiError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    Hetero2ClientError,
    JobFailedError,
    MissingDependencyError,
    NotFoundError,
    QuotaExceededError,
    ServerError,
    TransferError,
    TransportError,
    UnauthenticatedError,
    ValidationFailedError,
    WaitTimeoutError,
    deprecated_error,
)

if TYPE_CHECKING:
    from hetero2_client.client import Client
    from hetero2_client.job import Job


def __getattr__(name: str) -> Any:
    """``Client`` and ``Job`` load requests and tqdm; import them on first use, so ``hetero2`` starts fast."""
    if name == "Client":
        from hetero2_client.client import Client  # noqa: PLC0415

        return Client
    if name == "Job":
        from hetero2_client.job import Job  # noqa: PLC0415

        return Job
    deprecated = deprecated_error(name)
    if deprecated is not None:
        return deprecated
    raise AttributeError(f"module 'hetero2_client' has no attribute {name!r}")


__all__ = [
    "ApiError",
    "Client",
    "ConfigurationError",
    "ConflictError",
    "ForbiddenError",
    "Hetero2ClientError",
    "Job",
    "JobFailedError",
    "MissingDependencyError",
    "NotFoundError",
    "QuotaExceededError",
    "ServerError",
    "TransferError",
    "TransportError",
    "UnauthenticatedError",
    "ValidationFailedError",
    "WaitTimeoutError",
]

"""HETERO-2 client: submit jobs to a HETERO-2 service, wait, and fetch verified evidence packs.

``Client`` is configured with an endpoint and a bearer token (or ``HETERO2_URL`` / ``HETERO2_TOKEN``);
``Job`` is one job on the service. Errors are the typed classes in :mod:`hetero2_client.errors`.
"""

from __future__ import annotations

from hetero2_client.client import Client, Job
from hetero2_client.errors import (
    ApiError,
    ClientError,
    ConfigurationError,
    Conflict,
    Forbidden,
    JobFailedError,
    MissingDependencyError,
    NotFound,
    QuotaExceeded,
    ServerError,
    TransferError,
    TransportError,
    Unauthenticated,
    ValidationFailed,
    WaitTimeoutError,
)

__all__ = [
    "ApiError",
    "Client",
    "ClientError",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "Job",
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
]

"""AWS faults that are worth another try, turned into the one error the state machine retries.

botocore already retries throttles and 5xx a few times (``RETRY_CONFIG``, standard mode with its token bucket); a
fault that outlives those attempts must still not become ``ERROR chunk_failed`` rows: it leaves the handler as
:class:`TransientServiceError`, which every task's ``Retry`` names, so the Map retries the chunk with backoff
instead of catching it as a dead chunk.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Final, ParamSpec, TypeVar

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from functions.service.errors import TransientServiceError
from functions.service.observability import metrics

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# Standard mode: exponential backoff with jitter, retry quota, and the throttling codes of every service.
RETRY_CONFIG: Final = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60)

# Throttling and capacity codes of KMS, DynamoDB and S3 (botocore's standard list plus the S3/DynamoDB ones).
THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "BandwidthLimitExceeded",
        "SlowDown",
        "EC2ThrottledException",
        "KMSInternalException",
        "KeyUnavailableException",
        "DependencyTimeoutException",
        "InternalServerError",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
_NETWORK_ERRORS: Final = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)

P = ParamSpec("P")
R = TypeVar("R")


def is_transient(exc: BaseException) -> bool:
    """A throttle, a 5xx or a dropped connection: the same request may well succeed in a moment."""
    if isinstance(exc, (TransientServiceError, *_NETWORK_ERRORS)):
        return True
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return error.get("Code") in THROTTLING_CODES or status >= 500
    return False


@contextmanager
def transient_as_retryable() -> Iterator[None]:
    """Re-raise a transient AWS fault as TransientServiceError (counted in the ``AwsThrottles`` metric)."""
    try:
        yield
    except TransientServiceError:
        metrics.add_metric(name="AwsThrottles", unit="Count", value=1)
        raise
    except Exception as exc:
        if not is_transient(exc):
            raise
        metrics.add_metric(name="AwsThrottles", unit="Count", value=1)
        raise TransientServiceError(f"transient AWS fault, retried by the state machine: {exc}") from exc


def retryable(function: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`transient_as_retryable` for handlers."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with transient_as_retryable():
            return function(*args, **kwargs)

    return wrapper

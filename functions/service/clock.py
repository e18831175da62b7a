"""The service's one clock: timestamps on records and the metering month (``yyyy-mm``, UTC).

Everything that asks "what time is it" asks :func:`now`, so a test can freeze or step the clock in one place,
and a decision that needs the month reads it once (:func:`functions.service.quotas.reserve_for_job`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def now() -> datetime:
    """This instant, timezone-aware UTC."""
    return datetime.now(UTC)


def utc_now() -> str:
    """This instant as the ISO-8601 text stored on records (microseconds, ``Z``)."""
    return now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def month_of(when: datetime) -> str:
    """The metering month (``yyyy-mm``, UTC) a moment falls in."""
    if when.tzinfo is None:
        raise ValueError("month_of needs a timezone-aware datetime")
    return when.astimezone(UTC).strftime("%Y-%m")


def this_month() -> str:
    return month_of(now())


def checked_month(value: object) -> str:
    if not isinstance(value, str) or not _MONTH.fullmatch(value):
        raise ValueError(f"month must be yyyy-mm, got {value!r}")
    return value

"""Commercial plans and the limits each one buys: API throttling, monthly quota, chunk concurrency.

A tenant's plan sets its API usage plan; the sum over a deployment's tenants sets the worker's reserved
concurrency, so one customer's big job cannot starve the account and a trial cannot run up a bill.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

PlanName = Literal["trial", "standard", "enterprise"]


@dataclass(frozen=True, slots=True)
class PlanLimits:
    api_rate_per_second: int
    api_burst: int
    monthly_requests: int
    chunk_concurrency: int


PLANS: Final[dict[str, PlanLimits]] = {
    "trial": PlanLimits(api_rate_per_second=5, api_burst=10, monthly_requests=20_000, chunk_concurrency=10),
    "standard": PlanLimits(api_rate_per_second=20, api_burst=40, monthly_requests=500_000, chunk_concurrency=100),
    "enterprise": PlanLimits(api_rate_per_second=100, api_burst=200, monthly_requests=5_000_000, chunk_concurrency=300),
}

# Lambda refuses a reservation that leaves fewer than this many unreserved executions in the account.
UNRESERVED_FLOOR: Final = 100

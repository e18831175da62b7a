"""Commercial plans and the limits each one buys: the service's own table (``functions/service/plans.py``), so the
API throttling, monthly quota and chunk concurrency the CDK app deploys are the limits the service enforces.

A tenant's plan sets its API usage plan; the sum over a deployment's tenants sets the worker's reserved
concurrency, so one customer's big job cannot starve the account and a trial cannot run up a bill.
"""

from __future__ import annotations

from typing import Final

from functions.service.plans import PLANS, PlanLimits, PlanName

__all__ = ["PLANS", "UNRESERVED_FLOOR", "PlanLimits", "PlanName"]

# Lambda refuses a reservation that leaves fewer than this many unreserved executions in the account.
UNRESERVED_FLOOR: Final = 100

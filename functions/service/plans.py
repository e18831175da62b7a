"""The one plan table: what each commercial plan buys, read by the service (quotas at submit and plan time) and by
the CDK app (API usage plans, the worker's reserved concurrency). Standard library only, so the CDK app imports it
without boto3 or the engine.

``concurrent_jobs`` is how many of the org's jobs hold a running slot at once; a start beyond it waits in the job
queue, where ``queue_rank`` orders it (paid before trial). ``max_workers`` is both the Map's concurrency cap for one
of the org's jobs and the share of the RunChunk function's reserved concurrency the org's plan pays for
(``chunk_concurrency``): one number, not two that drift.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

PlanName = Literal["trial", "standard", "enterprise"]


@dataclass(frozen=True, slots=True)
class PlanLimits:
    plan: str
    molecules_per_month: int
    concurrent_jobs: int
    rows_per_job: int
    max_workers: int
    api_rate_per_second: int
    api_burst: int
    monthly_requests: int
    # Order in the job queue when slots are short: lower starts first (paid plans before the trial), first come
    # first served within a rank (functions/service/job_queue.py).
    queue_rank: int

    @property
    def chunk_concurrency(self) -> int:
        """Reserved RunChunk concurrency this plan adds to a deployment (the CDK app sums it over tenants)."""
        return self.max_workers

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Sizing (docs/governance.md): a trial fits the 2,000-molecule demo; standard jobs stay on the Lambda path (below the
# 500,000-row Fargate threshold); enterprise jobs may run their chunks on Fargate Spot.
PLANS: Final[dict[str, PlanLimits]] = {
    "trial": PlanLimits(
        "trial",
        molecules_per_month=10_000,
        concurrent_jobs=1,
        rows_per_job=2_000,
        max_workers=10,
        api_rate_per_second=5,
        api_burst=10,
        monthly_requests=20_000,
        queue_rank=1,
    ),
    "standard": PlanLimits(
        "standard",
        molecules_per_month=1_000_000,
        concurrent_jobs=5,
        rows_per_job=250_000,
        max_workers=100,
        api_rate_per_second=20,
        api_burst=40,
        monthly_requests=500_000,
        queue_rank=0,
    ),
    "enterprise": PlanLimits(
        "enterprise",
        molecules_per_month=20_000_000,
        concurrent_jobs=20,
        rows_per_job=5_000_000,
        max_workers=300,
        api_rate_per_second=100,
        api_burst=200,
        monthly_requests=5_000_000,
        queue_rank=0,
    ),
}
DEFAULT_PLAN: Final = "trial"

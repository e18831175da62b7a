"""How the CDK app sizes the compute, in one light module (standard library only, like ``env.py``):
``infra_cdk/compute.py`` deploys these numbers and ``benchmarks/bench_pipeline.py`` prices them, so the cost model
is the deployed configuration.
"""

from __future__ import annotations

from typing import Final, Literal

from functions.service.plans import PLANS

Architecture = Literal["x86_64", "arm64"]

# The worker image is built for x86_64 (functions/worker.Dockerfile pins an x86_64 base); arm64 is priced as an option.
ARCHITECTURE: Final[Architecture] = "x86_64"
PLAN_MEMORY_MB: Final = 3008
# 1,769 MB is where Lambda gives one full vCPU; the chunk worker is one single-threaded process, so more memory
# would be billed and not used (a 5,769-row chunk holds ~40 MB of results). Was 2,048 MB (14 % more per GB-s).
RUN_CHUNK_MEMORY_MB: Final = 1769
FINALIZE_MEMORY_MB: Final = 3008
FARGATE_CPU: Final = 4096  # 4 vCPU
FARGATE_MEMORY_MIB: Final = 16384
# The Map's concurrency for one job is min(deployment cap, the org plan's max_workers, chunks); a 1,000,000-row job
# fits only the enterprise plan's rows_per_job, so its cap is that plan's max_workers.
DEFAULT_JOB_PLAN: Final = "enterprise"
DEFAULT_JOB_CONCURRENCY: Final = PLANS[DEFAULT_JOB_PLAN].max_workers
# Distributed Map children: Standard (see docs/cost.md for the Express comparison).
CHILD_EXECUTION_TYPE: Final = "STANDARD"

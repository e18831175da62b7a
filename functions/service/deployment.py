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
# Distributed Map children: Standard (docs/cost.md compares Express from measured chunk times: an Express child is
# billed for its duration, ~140 s a chunk, which costs more than a Standard child's four transitions; Express caps
# at 5 minutes and cannot run ecs:runTask.sync, which the Fargate chunk tasks need).
CHILD_EXECUTION_TYPE: Final = "STANDARD"
# Large jobs' chunk workers (statemachines/audit_job.asl.json, ProcessChunksOnFargate): one Fargate task per chunk,
# 1 vCPU / 2 GB (the smallest size with a whole vCPU; the ASL's task overrides say the same, a test checks), on
# Fargate Spot first (x86_64 only: Fargate Spot does not run ARM64 tasks), on-demand Fargate when Spot fails.
FARGATE_CHUNK_CPU: Final = 1024
FARGATE_CHUNK_MEMORY_MIB: Final = 2048
CHUNK_CAPACITY_PROVIDERS: Final = ("FARGATE_SPOT", "FARGATE")
# Results of the Map Run go to S3 (ResultWriter) under the job's map/ prefix, not into the execution's state.
MAP_RESULT_WRITER: Final = True

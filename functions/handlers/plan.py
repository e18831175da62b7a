"""Step Functions task: plan the job (validate input, write chunks, choose the executor)."""

from __future__ import annotations

from functions.handlers.job_task import job_task
from functions.service.planning import plan_job

handler = job_task(lambda ctx, ref, event: plan_job(ctx, ref))

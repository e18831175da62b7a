"""Step Functions task: merge chunk results into the signed evidence pack and close the job."""

from __future__ import annotations

from functions.handlers.job_task import job_task
from functions.service.finalizing import finalize_job

handler = job_task(lambda ctx, ref, event: finalize_job(ctx, ref))

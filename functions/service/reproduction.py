"""Reproduce a finished job's pack: a new job that re-runs the same stored input (and scores) with the same
parameters and acceptance criteria, then compares every member with the original (SAAS-E4/M1, the API face of
``hetero2 reproduce``).

This module is the submit side and imports no engine: the API starts the reproduction here. The worker side, which
checks versions and compares bytes, is :mod:`functions.service.reproduction_check`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.service import layout
from functions.service.errors import StateConflictError, UploadMissingError
from functions.service.jobs import JobRecord, JobState
from functions.service.submission import new_job_id, start_submitted
from functions.service.tenancy import JobRef

if TYPE_CHECKING:
    from functions.service.context import ServiceContext

REPRODUCE_SOURCE = "reproduce"
DONE_STATES = frozenset({JobState.SUCCEEDED, JobState.SUCCEEDED_WITH_ERRORS})


class NotReproducibleError(StateConflictError):
    """The job has no pack to reproduce (not finished), or is itself a reproduction."""


def start_reproduction(
    ctx: ServiceContext, original: JobRef, *, allow_version_drift: bool, created_by: str
) -> JobRecord:
    """Create the reproduce job, copy the original's stored inputs to it and start it (quota as for any job).

    Raises:
        JobNotFoundError: no such job.
        NotReproducibleError: the job has not succeeded, or is a reproduction itself.
        UploadMissingError: the original's input is no longer stored (deleted or expired).
        QuotaExceededError: the org's plan does not allow another job now.
    """
    job = ctx.jobs.get(original)
    if job.state not in DONE_STATES:
        raise NotReproducibleError(
            f"job {original.job} is {job.state.value}; only a job that succeeded has a pack to reproduce",
            job.state.value,
        )
    if job.get("reproduce_of"):
        raise NotReproducibleError(
            f"job {original.job} is a reproduction of {job.get('reproduce_of')}; reproduce that job instead",
            job.state.value,
        )
    store = ctx.store(original.org)
    names = [str(name) for name in (job.get("input_name"), job.get("scores_name")) if name]
    for name in names:
        if not store.exists(layout.input_key(original, name)):
            raise UploadMissingError(f"the input {name} of job {original.job} is no longer stored")
    ref = JobRef(original.org, original.project, new_job_id())
    ctx.jobs.create(
        ref,
        params=job.params,
        acceptance=job.get("acceptance"),
        input_name=job.get("input_name"),
        scores_name=job.get("scores_name"),
        expected_rows=int(job.get("rows_total") or job.get("expected_rows") or 1),
        source=REPRODUCE_SOURCE,
        created_by=created_by,
        reproduce_of=original.job,
        allow_version_drift=allow_version_drift,
    )
    for name in names:
        store.copy(layout.input_key(original, name), layout.input_key(ref, name))
    return start_submitted(ctx, ref, frozenset({JobState.CREATED}))

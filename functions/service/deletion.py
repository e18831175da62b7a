"""Deleting what a customer asks to delete: a finished job, or a project with all its jobs, objects and members.

Objects first (every version), then the records: a failure half-way leaves the record, so the same request can be
made again and finishes the job. Retention deletes expired jobs its own way (it audits before the record goes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from functions.service.errors import StateConflictError
from functions.service.jobs import TERMINAL_STATES, JobRecord, JobState

if TYPE_CHECKING:
    from functions.service.context import ServiceContext
    from functions.service.tenancy import JobRef, ProjectRef


@dataclass(frozen=True, slots=True)
class Deleted:
    objects: int
    items: int
    jobs: int = 0


def deletable(job: JobRecord) -> bool:
    """Finished, or never started: a job that may still write results is cancelled first."""
    return job.state in TERMINAL_STATES or job.state == JobState.CREATED


def delete_job(ctx: ServiceContext, ref: JobRef) -> Deleted:
    """Delete one job's objects and its record; StateConflictError while it may still run."""
    job = ctx.jobs.get(ref)
    if not deletable(job):
        raise StateConflictError(f"job {ref.job} is {job.state.value}; cancel it first", job.state.value)
    objects = ctx.store(ref.org).delete_prefix(ref.prefix)
    ctx.jobs.delete(ref)
    return Deleted(objects=objects, items=1)


def delete_project(ctx: ServiceContext, ref: ProjectRef) -> Deleted:
    """Delete a project whose jobs have all finished: objects, job records, members, the project record."""
    jobs = ctx.jobs.list_jobs(ref)
    running = sorted(job.ref.job for job in jobs if not deletable(job))
    if running:
        raise StateConflictError(f"jobs still running: {', '.join(running)}; cancel them first", None)
    objects = ctx.store(ref.org).delete_prefix(ref.prefix)
    for job in jobs:
        ctx.jobs.delete(job.ref)
    ctx.directory.delete_project(ref)
    return Deleted(objects=objects, items=len(jobs) + 1, jobs=len(jobs))

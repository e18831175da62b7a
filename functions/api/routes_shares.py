"""A job shown to another member of the org: share, unshare, who sees it, and the jobs shared with me.

The recipient needs no role in the job's project; they may read that one job (status, results, downloads) and
nothing else of the project (``SHARED_JOB_PERMISSIONS``). Links for people outside the org are the other kind of
sharing (``POST .../jobs/{job}/share`` in routes_jobs, off unless the org allows it).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.api import models
from functions.api.deps import authorize, authorize_job_action, not_found, record, services
from functions.api.errors import ApiError
from functions.api.permissions import Permission
from functions.api.routes_jobs import job_out
from functions.service import audit_log
from functions.service.errors import JobNotFoundError
from functions.service.tenancy import JobRef

router = Router()

SHARES = "/v1/orgs/<org>/projects/<project>/jobs/<job>/shares"


def _share_out(share: Any) -> models.JobShareOut:
    return models.JobShareOut(user=share.user, granted_by=share.granted_by, granted_at=share.granted_at)


@router.post(
    SHARES,
    summary="Show a job to another member of the org",
    responses=models.responses(201, models.JobShareOut, 400, 403),
)
def share_with_member(
    org: models.OrgId, project: models.ProjectId, job: models.JobId, body: models.JobShareCreate
) -> tuple[dict[str, Any], int]:
    ref = JobRef(org, project, job)
    caller, target = authorize_job_action(router, Permission.JOB_SHARE, ref, audit_log.JOB_SHARE)
    if body.user == caller.user:
        raise ApiError(400, "share_with_yourself", "you see this job already; name another member")
    try:
        share = services().context.shares.grant(ref, body.user, caller.user)
    except JobNotFoundError as exc:
        raise not_found(f"job {job}") from exc
    record(caller, audit_log.JOB_SHARE, target, recipient=body.user)
    return _share_out(share).model_dump(), 201


@router.get(SHARES, summary="Who the job is shared with", responses=models.responses(200, models.JobShareList, 403))
def list_shares(org: models.OrgId, project: models.ProjectId, job: models.JobId) -> models.JobShareList:
    authorize(router, Permission.JOB_READ, org, project)
    ref = JobRef(org, project, job)
    try:
        users = services().context.jobs.get(ref).get("shared_with", [])
    except JobNotFoundError as exc:
        raise not_found(f"job {job}") from exc
    shares = [services().context.shares.get(ref, str(user)) for user in sorted(users)]
    return models.JobShareList(shares=[_share_out(s) for s in shares if s is not None])


@router.delete(
    f"{SHARES}/<user>", summary="Stop showing a job to a member", responses=models.responses(200, models.Deleted, 403)
)
def unshare(org: models.OrgId, project: models.ProjectId, job: models.JobId, user: models.UserId) -> models.Deleted:
    ref = JobRef(org, project, job)
    caller, target = authorize_job_action(router, Permission.JOB_SHARE, ref, audit_log.JOB_UNSHARE)
    try:
        services().context.jobs.get(ref)
    except JobNotFoundError as exc:
        raise not_found(f"job {job}") from exc
    if not services().context.shares.revoke(ref, user):
        raise not_found(f"share of job {job} with {user}")
    record(caller, audit_log.JOB_UNSHARE, target, recipient=user)
    return models.Deleted(deleted=f"{target}/shares/{user}", objects_deleted=0, items_deleted=1)


@router.get(
    "/v1/orgs/<org>/shared-jobs",
    summary="Jobs other members shared with you",
    responses=models.responses(200, models.SharedJobList, 403),
)
def shared_with_me(org: models.OrgId) -> models.SharedJobList:
    caller = authorize(router, Permission.ORG_READ, org)
    context = services().context
    found = []
    for share in context.shares.shared_with(org, caller.user):
        try:
            job = context.jobs.get(share.ref)
        except JobNotFoundError:
            continue  # deleted since the share was read (deleting a job deletes its shares)
        found.append(models.SharedJob(job=job_out(job), granted_by=share.granted_by, granted_at=share.granted_at))
    found.sort(key=lambda s: s.granted_at, reverse=True)
    return models.SharedJobList(jobs=found)

"""Jobs: create (with presigned uploads), start, list, get, cancel, retry, reproduce, results, downloads, delete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.api import models
from functions.api.deps import Caller, authorize, authorize_job_action, not_found, record, record_refusal, services
from functions.api.errors import ApiError
from functions.api.idempotency import idempotent
from functions.api.job_filters import JobFilter
from functions.api.permissions import Permission
from functions.service import audit_log, clock, deletion, job_queue, layout, public_keys
from functions.service.artifacts import PRESIGN_SECONDS
from functions.service.errors import (
    JobNotFoundError,
    NotFoundError,
    StateConflictError,
    UploadMissingError,
    UploadRejectedError,
)
from functions.service.job_acceptance import criteria_used, job_acceptance
from functions.service.jobs import CACHE_COUNTERS, RETRYABLE_STATES, JobRecord, JobState
from functions.service.quotas import QuotaExceededError
from functions.service.reproduction import NotReproducibleError, start_reproduction
from functions.service.submission import cancel_job, new_job_id, start_submitted
from functions.service.tenancy import JobRef, ProjectRef
from hetero_core import layout as pack_layout
from hetero_core.errors import ConfigError

if TYPE_CHECKING:
    from functions.service.context import ServiceContext

router = Router()

# What ``download?artifact=`` serves: a member of the job's pack (the public key is the org's, see below).
ARTIFACTS: dict[str, str] = {
    "pack": pack_layout.ZIP,
    "decoys": pack_layout.DECOYS,
    "summary": pack_layout.SUMMARY,
    "report": pack_layout.REPORT,
    "manifest": pack_layout.MANIFEST,
}
DONE = (JobState.SUCCEEDED, JobState.SUCCEEDED_WITH_ERRORS)


def _job(ref: JobRef) -> JobRecord:
    try:
        return services().context.jobs.get(ref)
    except JobNotFoundError as exc:
        raise not_found(f"job {ref.job}") from exc


def _eta(job: JobRecord) -> float | None:
    done, total, started = int(job.get("rows_done", 0)), int(job.get("rows_total", 0)), job.get("started_at")
    if job.state != JobState.RUNNING or not started or done <= 0 or total <= done:
        return None
    elapsed = (clock.now() - datetime.fromisoformat(str(started).replace("Z", "+00:00"))).total_seconds()
    return round(elapsed * (total - done) / done, 1)


def _parameters(item: dict[str, Any]) -> dict[str, Any]:
    """The job's parameters as the pack will record them: a scores-only job's scorer is ``external``."""
    parameters = dict(item.get("params", {}))
    if item.get("scores_name"):
        parameters["scorer"] = "external"
    return parameters


def job_out(job: JobRecord, context: ServiceContext | None = None) -> models.JobOut:
    """The API's view of a job record; ``context`` (default: the API's own) answers its queue position."""
    item = job.item
    progress = models.Progress(
        rows_total=int(item.get("rows_total", 0)),
        rows_done=int(item.get("rows_done", 0)),
        rows_ok=int(item.get("rows_ok", 0)),
        rows_skip=int(item.get("rows_skip", 0)),
        rows_error=int(item.get("rows_error", 0)),
        chunks_total=item.get("chunks_total"),
        chunks_done=int(item.get("chunks_counted", 0)),
        eta_seconds=_eta(job),
        decoy_cache=models.DecoyCacheCounts(
            **{name: int(item.get(attribute, 0)) for name, attribute in CACHE_COUNTERS.items()}
        ),
    )
    return models.JobOut(
        org=job.ref.org,
        project=job.ref.project,
        job=job.ref.job,
        state=job.state.value,
        created_at=str(item["created_at"]),
        updated_at=str(item["updated_at"]),
        input_name=str(item.get("input_name", "")),
        scores_name=item.get("scores_name"),
        expected_rows=item.get("expected_rows"),
        parameters=_parameters(item),
        progress=progress,
        error=item.get("error"),
        zip_sha256=item.get("zip_sha256"),
        source=str(item.get("source", "api")),
        decision=item.get("decision"),
        acceptance=criteria_used(item),
        reproduce_of=item.get("reproduce_of"),
        reproduction=item.get("reproduction"),
        created_by=item.get("created_by"),
        created_by_name=item.get("created_by_name"),
        shared_with=sorted(str(user) for user in item.get("shared_with", [])),
        queue_position=job_queue.position(context or services().context, job),
    )


@router.post(
    "/v1/orgs/<org>/projects/<project>/jobs",
    summary="Create a job; returns presigned upload URLs",
    responses=models.responses(201, models.JobCreated, 400, 403, 409, 429),
)
def create_job(org: models.OrgId, project: models.ProjectId, body: models.JobCreate) -> tuple[dict[str, Any], int]:
    caller = authorize(router, Permission.JOB_SUBMIT, org, project, audit_action=audit_log.JOB_SUBMIT)
    svc = services()
    limit = svc.context.quotas.limits_of(org).rows_per_job
    if body.expected_rows > limit:
        raise ApiError(
            429,
            "quota_exceeded",
            f"rows_per_job: limit {limit}, requested {body.expected_rows}",
            [{"quota": "rows_per_job", "limit": limit, "requested": body.expected_rows}],
        )
    acceptance = _acceptance(body)

    def action() -> tuple[dict[str, Any], int]:
        ref = JobRef(org, project, new_job_id())
        job = svc.context.jobs.create(
            ref,
            params=body.parameters.model_dump(mode="json"),
            acceptance=acceptance,
            input_name=body.input_name,
            scores_name=body.scores_name,
            expected_rows=body.expected_rows,
            source="api",
            created_by=caller.user,
            created_by_name=caller.principal.name,
        )
        store = svc.context.store(org)
        uploads = {"input": store.presign_put(layout.input_key(ref, body.input_name))}
        if body.scores_name:
            uploads["scores"] = store.presign_put(layout.input_key(ref, body.scores_name))
        record(caller, audit_log.JOB_SUBMIT, f"{project}/{ref.job}", rows=body.expected_rows)
        created = models.JobCreated(job=job_out(job), uploads={k: models.UploadUrl(**v) for k, v in uploads.items()})
        return created.model_dump(), 201

    return idempotent(router, "create_job", caller, {"p": project, **body.model_dump()}, action)


def _acceptance(body: models.JobCreate) -> dict[str, str] | None:
    """The body's acceptance document, validated as the CLI validates a file: 422 naming the field."""
    if body.acceptance is None:
        return None
    try:
        return job_acceptance(body.acceptance, body.acceptance_name)
    except ConfigError as exc:
        raise ApiError(422, "invalid_acceptance", str(exc), [{"loc": ["body", "acceptance"], "msg": str(exc)}]) from exc


@router.get(
    "/v1/orgs/<org>/projects/<project>/jobs",
    summary="List jobs, newest first",
    responses=models.responses(200, models.JobList, 403),
)
def list_jobs(
    org: models.OrgId,
    project: models.ProjectId,
    state: Annotated[Literal[tuple(s.value for s in JobState)] | None, Query()] = None,  # type: ignore[valid-type]
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    next_token: Annotated[str | None, Query(max_length=64)] = None,
    model_name: Annotated[str | None, Query(max_length=200, description="exact model name")] = None,
    model_version: Annotated[str | None, Query(max_length=200, description="exact model version")] = None,
    decision: Annotated[models.Outcome | None, Query(description="the audit's decision")] = None,
    created_by: Annotated[str | None, Query(max_length=128, description="user id of the creator")] = None,
    created_from: Annotated[str | None, Query(pattern=models.DATE_PATTERN, description="UTC day, inclusive")] = None,
    created_to: Annotated[str | None, Query(pattern=models.DATE_PATTERN, description="UTC day, inclusive")] = None,
) -> models.JobList:
    authorize(router, Permission.JOB_READ, org, project)
    wanted = JobFilter(state, model_name, model_version, decision, created_by, created_from, created_to)
    jobs = [j for j in services().context.jobs.list_jobs(ProjectRef(org, project)) if wanted.matches(j)]
    jobs.sort(key=lambda j: (str(j.get("created_at")), j.ref.job), reverse=True)
    total = len(jobs)
    if next_token:
        ids = [j.ref.job for j in jobs]
        jobs = jobs[ids.index(next_token) + 1 :] if next_token in ids else []
    page = jobs[:limit]
    token = page[-1].ref.job if len(jobs) > limit else None
    return models.JobList(jobs=[job_out(j) for j in page], next_token=token, total=total)


@router.get(
    "/v1/orgs/<org>/projects/<project>/jobs/<job>",
    summary="Job status, progress and ETA",
    responses=models.responses(200, models.JobOut, 403),
)
def get_job(org: models.OrgId, project: models.ProjectId, job: models.JobId) -> models.JobOut:
    authorize(router, Permission.JOB_READ, org, project, job=job)
    return job_out(_job(JobRef(org, project, job)))


def _begun(caller: Caller, ref: JobRef, action_name: str, begin: Callable[[], JobRecord]) -> JobRecord:
    """The service decides (a start, a retry or a reproduce); the route turns its refusals into answers, and audits a
    quota refusal. ``ref`` is the job the request named."""
    try:
        return begin()
    except JobNotFoundError as exc:
        raise not_found(f"job {ref.job}") from exc
    except NotReproducibleError as exc:
        raise ApiError(409, "not_reproducible", str(exc)) from exc
    except StateConflictError as exc:
        raise ApiError(409, "invalid_state", str(exc)) from exc
    except UploadMissingError as exc:
        raise ApiError(409, "input_missing", str(exc)) from exc
    except UploadRejectedError as exc:
        raise ApiError(409, "input_rejected", str(exc)) from exc
    except QuotaExceededError as exc:
        record(caller, action_name, audit_log.job_target(ref), outcome="refused", quota=exc.quota)
        raise _quota_error(exc) from exc


def _start(caller: Caller, ref: JobRef, action_name: str, expected: frozenset[JobState]) -> tuple[dict[str, Any], int]:
    started = _begun(caller, ref, action_name, lambda: start_submitted(services().context, ref, expected))
    record(caller, action_name, audit_log.job_target(ref))
    return job_out(started).model_dump(), 202


def _quota_error(exc: QuotaExceededError) -> ApiError:
    return ApiError(
        429,
        "quota_exceeded",
        f"{exc.quota}: limit {exc.limit}, used {exc.used}, requested {exc.requested}",
        [{"quota": exc.quota, "limit": exc.limit, "used": exc.used, "requested": exc.requested}],
    )


def _start_route(
    org: str, project: str, job: str, action: str, expected: frozenset[JobState]
) -> tuple[dict[str, Any], int]:
    ref = JobRef(org, project, job)
    caller, _ = authorize_job_action(router, Permission.JOB_SUBMIT, ref, action)
    return idempotent(router, action, caller, {"job": job}, lambda: _start(caller, ref, action, expected))


@router.post(
    "/v1/orgs/<org>/projects/<project>/jobs/<job>/start",
    summary="Start a created job (QUEUED with its position while the running slots are taken)",
    responses=models.responses(202, models.JobOut, 400, 403, 409, 429),
)
def start(org: models.OrgId, project: models.ProjectId, job: models.JobId) -> tuple[dict[str, Any], int]:
    return _start_route(org, project, job, audit_log.JOB_START, frozenset({JobState.CREATED}))


@router.post(
    "/v1/orgs/<org>/projects/<project>/jobs/<job>/retry",
    summary="Run a failed or cancelled job again (queued like a start)",
    responses=models.responses(202, models.JobOut, 400, 403, 409, 429),
)
def retry(org: models.OrgId, project: models.ProjectId, job: models.JobId) -> tuple[dict[str, Any], int]:
    return _start_route(org, project, job, audit_log.JOB_RETRY, RETRYABLE_STATES)


@router.post(
    "/v1/orgs/<org>/projects/<project>/jobs/<job>/reproduce",
    summary="Re-run a succeeded job's stored input with its parameters as a new job, and compare the packs",
    responses=models.responses(202, models.JobOut, 400, 403, 409, 429),
)
def reproduce(
    org: models.OrgId, project: models.ProjectId, job: models.JobId, body: models.ReproduceRequest
) -> tuple[dict[str, Any], int]:
    original = JobRef(org, project, job)
    caller, target = authorize_job_action(router, Permission.JOB_SUBMIT, original, audit_log.JOB_REPRODUCE)

    def action() -> tuple[dict[str, Any], int]:
        started = _begun(
            caller,
            original,
            audit_log.JOB_REPRODUCE,
            lambda: start_reproduction(
                services().context, original, allow_version_drift=body.allow_version_drift, created_by=caller.user
            ),
        )
        record(caller, audit_log.JOB_REPRODUCE, target, reproduction=started.ref.job)
        return job_out(started).model_dump(), 202

    return idempotent(router, "reproduce", caller, {"job": job, **body.model_dump()}, action)


@router.post(
    "/v1/orgs/<org>/projects/<project>/jobs/<job>/cancel",
    summary="Cancel a job that has not finished (a queued job gives up its place)",
    responses=models.responses(200, models.JobOut, 403, 409),
)
def cancel(org: models.OrgId, project: models.ProjectId, job: models.JobId) -> models.JobOut:
    ref = JobRef(org, project, job)
    caller, target = authorize_job_action(router, Permission.JOB_SUBMIT, ref, audit_log.JOB_CANCEL)
    _job(ref)
    try:
        cancel_job(services().context, ref)
    except StateConflictError as exc:
        raise ApiError(409, "invalid_state", str(exc)) from exc
    record(caller, audit_log.JOB_CANCEL, target)
    return job_out(_job(ref))


def _finished(ref: JobRef) -> JobRecord:
    job = _job(ref)
    if job.state not in DONE:
        raise ApiError(409, "not_ready", f"job {ref.job} is {job.state.value}; results exist once it has succeeded")
    return job


@router.get(
    "/v1/orgs/<org>/projects/<project>/jobs/<job>/results",
    summary="The audit's headline numbers",
    responses=models.responses(200, models.JobResults, 403, 409),
)
def results(org: models.OrgId, project: models.ProjectId, job: models.JobId) -> models.JobResults:
    authorize(router, Permission.JOB_READ, org, project, job=job)
    ref = JobRef(org, project, job)
    record_ = _finished(ref)
    metrics = services().context.store(org).get_json(layout.pack_member_key(ref, pack_layout.METRICS))
    return models.JobResults(
        job=job,
        state=record_.state.value,
        counts=metrics["counts"],
        verdicts=metrics["verdicts"],
        pass_rate=metrics["pass_rate"],
        expected_pass_rate_by_chance=metrics["expected_pass_rate_by_chance"],
        pass_rate_p_value=metrics["pass_rate_p_value"],
        realism=metrics["realism"],
        zip_sha256=record_.get("zip_sha256"),
        pass_rate_p_value_lower=metrics.get("pass_rate_p_value_lower"),
        significance=metrics.get("significance"),
        decision=metrics.get("decision"),
    )


@router.get(
    "/v1/orgs/<org>/projects/<project>/jobs/<job>/download",
    summary="Presigned download of an artifact",
    responses=models.responses(200, models.DownloadUrl, 403, 409),
)
def download(
    org: models.OrgId,
    project: models.ProjectId,
    job: models.JobId,
    artifact: Annotated[models.Artifact, Query()] = "pack",
) -> models.DownloadUrl:
    target = f"{audit_log.job_target(JobRef(org, project, job))}/{artifact}"
    caller = authorize(router, Permission.JOB_READ, org, project, audit_action=audit_log.PACK_DOWNLOAD, job=job)
    url = _artifact_url(JobRef(org, project, job), artifact, PRESIGN_SECONDS)
    record(caller, audit_log.PACK_DOWNLOAD, target)
    return models.DownloadUrl(artifact=artifact, url=url, expires_in=PRESIGN_SECONDS)


def _artifact_url(ref: JobRef, artifact: str, expires_in: int) -> str:
    _finished(ref)
    store = services().context.store(ref.org)
    if artifact == "public_key":
        # the key that signed this job's pack, even after the org's signing key was rotated
        try:
            key = public_keys.key_for_job(services().context, ref)
        except NotFoundError as exc:
            raise ApiError(409, "key_not_published", str(exc)) from exc
        name = f"{ref.org}-{layout.PUBLIC_KEY_FILE}"
    else:
        key, name = layout.pack_member_key(ref, ARTIFACTS[artifact]), f"{ref.job}-{ARTIFACTS[artifact]}"
    return store.presign_get(key, download_name=name, expires_in=expires_in)


@router.post(
    "/v1/orgs/<org>/projects/<project>/jobs/<job>/share",
    summary="A longer-lived download link for someone outside the service (e.g. an auditor)",
    responses=models.responses(201, models.DownloadUrl, 400, 403, 409),
)
def share(
    org: models.OrgId, project: models.ProjectId, job: models.JobId, body: models.ShareRequest
) -> tuple[dict[str, Any], int]:
    ref = JobRef(org, project, job)
    caller, target = authorize_job_action(router, Permission.JOB_READ, ref, audit_log.PACK_SHARE, body.artifact)
    if not services().context.directory.get_org(org).external_sharing:
        record_refusal(caller, audit_log.PACK_SHARE, target, 403, recipient=body.recipient)
        raise ApiError(403, "external_sharing_disabled", "links for people outside the org are off for this org")

    def action() -> tuple[dict[str, Any], int]:
        url = _artifact_url(ref, body.artifact, body.expires_in)
        record(caller, audit_log.PACK_SHARE, target, recipient=body.recipient, expires_in=body.expires_in)
        return models.DownloadUrl(artifact=body.artifact, url=url, expires_in=body.expires_in).model_dump(), 201

    return idempotent(router, "share", caller, {"job": job, **body.model_dump()}, action)


@router.delete(
    "/v1/orgs/<org>/projects/<project>/jobs/<job>",
    summary="Delete a finished job and its files",
    responses=models.responses(200, models.Deleted, 403, 409),
)
def delete_job(org: models.OrgId, project: models.ProjectId, job: models.JobId) -> models.Deleted:
    ref = JobRef(org, project, job)
    caller, target = authorize_job_action(router, Permission.JOB_DELETE, ref, audit_log.JOB_DELETE)
    try:
        deleted = deletion.delete_job(services().context, ref)
    except JobNotFoundError as exc:
        raise not_found(f"job {job}") from exc
    except StateConflictError as exc:
        raise ApiError(409, "invalid_state", str(exc)) from exc
    record(caller, audit_log.JOB_DELETE, target, objects_deleted=deleted.objects)
    return models.Deleted(deleted=target, objects_deleted=deleted.objects, items_deleted=deleted.items)


@router.delete(
    "/v1/orgs/<org>/projects/<project>",
    summary="Delete a project, its jobs and files",
    responses=models.responses(200, models.Deleted, 403, 409),
)
def delete_project(org: models.OrgId, project: models.ProjectId) -> models.Deleted:
    caller = authorize(router, Permission.PROJECT_DELETE, org, project, audit_action=audit_log.PROJECT_DELETE)
    target = audit_log.project_target(ProjectRef(org, project))
    try:
        deleted = deletion.delete_project(services().context, ProjectRef(org, project))
    except StateConflictError as exc:
        raise ApiError(409, "invalid_state", str(exc)) from exc
    record(caller, audit_log.PROJECT_DELETE, target, objects_deleted=deleted.objects, jobs_deleted=deleted.jobs)
    return models.Deleted(deleted=target, objects_deleted=deleted.objects, items_deleted=deleted.items)

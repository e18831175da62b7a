"""Request and response bodies of the API (pydantic); the OpenAPI document is generated from these."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, ConfigDict, Field

from functions.service.directory import ProjectRole
from functions.service.ids import FILE_NAME_REGEX, ID_REGEX
from functions.service.job_params import JobParameters

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

ID_PATTERN = f"^{ID_REGEX}$"
FILE_NAME_PATTERN = f"^{FILE_NAME_REGEX}$"
USER_PATTERN = r"^[^#/\\\s]{1,128}$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


OrgId = Annotated[str, Path(pattern=ID_PATTERN, description="org id (must be your token's org)")]
ProjectId = Annotated[str, Path(pattern=ID_PATTERN, description="project id")]
JobId = Annotated[str, Path(pattern=ID_PATTERN, description="job id")]
UserId = Annotated[str, Path(pattern=USER_PATTERN, description="user id (the token's sub)")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class OrgCreate(Strict):
    name: str = Field(min_length=1, max_length=200)


class OrgUpdate(Strict):
    retention_days: int | None = Field(
        None, ge=1, le=3650, description="at most what the deployment's lifecycle rule enforces for the org"
    )
    external_sharing: bool | None = Field(
        None, description="allow links for people outside the org (POST .../share); off by default"
    )


class OrgOut(BaseModel):
    org: str
    name: str
    plan: str
    retention_days: int
    created_at: str
    external_sharing: bool = False
    your_role: str


class ScimTokenOut(BaseModel):
    org: str
    token: str = Field(description="the SCIM bearer token; shown once, stored only as its SHA-256")
    issued_at: str
    scim_path: str = Field(description="the SCIM base path under the API's URL")


class ProjectCreate(Strict):
    project: str = Field(pattern=ID_PATTERN, description="project id: lowercase letters, digits, dashes")
    name: str = Field(min_length=1, max_length=200)


class ProjectOut(BaseModel):
    org: str
    project: str
    name: str
    created_at: str
    created_by: str
    your_role: str | None


class ProjectList(BaseModel):
    projects: list[ProjectOut]


class MemberAdd(Strict):
    user: str = Field(pattern=USER_PATTERN)
    role: ProjectRole


class MemberChange(Strict):
    role: ProjectRole


class MemberOut(BaseModel):
    user: str
    role: ProjectRole


class MemberList(BaseModel):
    members: list[MemberOut]


class JobCreate(Strict):
    input_name: str = Field(pattern=FILE_NAME_PATTERN, description="file name of the molecules (.csv/.tsv/.smi/.sdf)")
    scores_name: str | None = Field(None, pattern=FILE_NAME_PATTERN, description="customer scores file, if any")
    expected_rows: int = Field(ge=1, le=100_000_000, description="rows in the input; counted against the quota")
    parameters: JobParameters = Field(default_factory=JobParameters)
    acceptance: dict[str, Any] | str | None = Field(
        None,
        description=(
            "acceptance.v1 criteria for the decision (as `hetero2 run --acceptance FILE`): the JSON object, or a "
            "file's text (then the manifest records that file's own sha256); left out: the default criteria"
        ),
    )
    acceptance_name: str | None = Field(
        None, pattern=FILE_NAME_PATTERN, description="the acceptance file's name, recorded in the manifest"
    )


class UploadUrl(BaseModel):
    url: str
    method: str
    headers: dict[str, str]
    expires_in: int


class DecoyCacheCounts(BaseModel):
    """What the org's decoy cache did for this job's rows; counted on the job, never in the pack."""

    hits: int = 0
    misses: int = 0
    corrupt: int = Field(0, description="entries that failed their checksum: rebuilt and overwritten, never used")
    unwritable: int = Field(0, description="rows whose cache could not be read or written (built without it)")


class Progress(BaseModel):
    rows_total: int
    rows_done: int
    rows_ok: int
    rows_skip: int
    rows_error: int
    chunks_total: int | None = None
    chunks_done: int = 0
    eta_seconds: float | None = None
    decoy_cache: DecoyCacheCounts = Field(default_factory=DecoyCacheCounts)


class JobOut(BaseModel):
    org: str
    project: str
    job: str
    state: str
    created_at: str
    updated_at: str
    input_name: str
    scores_name: str | None = None
    expected_rows: int | None = None
    parameters: dict[str, Any]
    progress: Progress
    error: dict[str, str] | None = None
    zip_sha256: str | None = None
    source: str = "api"
    decision: dict[str, str] | None = Field(
        None, description="the audit's decision once the job succeeded: outcome (GO, STOP, INCONCLUSIVE), sentence"
    )
    acceptance: dict[str, Any] = Field(
        default_factory=dict,
        description="the decision's criteria: source (default or file), name and sha256 of the document, criteria",
    )
    reproduce_of: str | None = Field(None, description="a reproduce job: the job whose pack it re-creates")
    reproduction: dict[str, Any] | None = Field(
        None,
        description=(
            "a finished reproduce job: outcome (REPRODUCED or DIFFERS), members_compared, the first member that "
            "differs and where, version drift allowed, and `of` (the original job)"
        ),
    )
    created_by: str | None = Field(None, description="user id (the token's sub) of who created the job")
    created_by_name: str | None = Field(None, description="their name, when their token carried a `name` claim")
    shared_with: list[str] = Field(default_factory=list, description="members of the org the job is shared with")
    queue_position: int | None = Field(
        None,
        ge=1,
        description="while QUEUED and waiting for a running slot: 1 for the org's next job to start, 2 for the one "
        "after; null once the job has a slot (or is not queued)",
    )


class ReproduceRequest(Strict):
    allow_version_drift: bool = Field(
        False, description="re-run even when the engine or library versions differ from the pack's (named on the job)"
    )


class JobCreated(BaseModel):
    job: JobOut
    uploads: dict[str, UploadUrl]


class JobList(BaseModel):
    jobs: list[JobOut]
    next_token: str | None = None
    total: int | None = Field(None, description="jobs matching the filters, over all pages")


Outcome = Literal["GO", "STOP", "INCONCLUSIVE"]


class JobShareCreate(Strict):
    user: str = Field(pattern=USER_PATTERN, description="the member of your org to show the job to (their user id)")


class JobShareOut(BaseModel):
    user: str
    granted_by: str
    granted_at: str


class JobShareList(BaseModel):
    shares: list[JobShareOut]


class SharedJob(BaseModel):
    job: JobOut
    granted_by: str
    granted_at: str


class SharedJobList(BaseModel):
    jobs: list[SharedJob]


class JobResults(BaseModel):
    job: str
    state: str
    counts: dict[str, int]
    verdicts: dict[str, int]
    pass_rate: float | None
    expected_pass_rate_by_chance: float | None
    pass_rate_p_value: float | None
    realism: dict[str, Any]
    zip_sha256: str | None
    pass_rate_p_value_lower: float | None = None
    significance: dict[str, Any] | None = None
    decision: dict[str, Any] | None = None


class DownloadUrl(BaseModel):
    artifact: str
    url: str
    expires_in: int


Artifact = Literal["pack", "decoys", "summary", "report", "manifest", "public_key"]

# A presigned URL made with a Lambda role's temporary credentials stops working when they expire; 12 h is the
# longest a link can be promised (docs/api.md).
MAX_SHARE_SECONDS = 12 * 3600


class ShareRequest(Strict):
    artifact: Artifact = "pack"
    expires_in: int = Field(3600, ge=60, le=MAX_SHARE_SECONDS, description="seconds the link stays valid")
    recipient: str = Field(min_length=1, max_length=200, description="who the link is for (kept in the audit log)")


class Deleted(BaseModel):
    deleted: str
    objects_deleted: int
    items_deleted: int


class UsageOut(BaseModel):
    org: str
    month: str
    projects: list[dict[str, Any]]
    total: dict[str, Any]


class AuditEventOut(BaseModel):
    """One event exactly as hashed, so a customer can recompute the chain (docs/governance.md)."""

    v: int
    org: str
    seq: int
    at: str
    actor: str
    action: str
    target: str
    outcome: str
    source_ip: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    events: list[AuditEventOut]
    next_token: str | None = None


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request header (e.g. an Idempotency-Key that is too long)",
    401: "Missing or invalid bearer token",
    403: "Your role does not allow this",
    404: "Not found (also for another org's resources and projects you have no role in)",
    409: "Conflict: wrong job state, already exists, input missing, Idempotency-Key reused",
    422: "The request is not valid; `details` names the fields",
    429: "A quota of your plan would be exceeded; `details` says which",
}


def responses(success: int, model: type[BaseModel] | None, *errors: int) -> dict[int, OpenAPIResponse]:
    """The documented answers of a route: its success body and the one error shape for each error it can give."""
    documented: dict[int, Any] = {
        success: {"description": "Success", "content": {"application/json": {"model": model}}}
        if model is not None
        else {"description": "Success"}
    }
    for code in sorted({401, 404, 422, *errors}):
        documented[code] = {
            "description": ERROR_DESCRIPTIONS[code],
            "content": {"application/json": {"model": ErrorResponse}},
        }
    return documented


class OrgList(BaseModel):
    orgs: list[OrgOut]


class Removed(BaseModel):
    removed: str

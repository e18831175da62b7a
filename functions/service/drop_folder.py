"""The S3 drop folder: an object under ``tenants/{org}/projects/{project}/inbox/NAME.csv`` starts a job.

Companions, read when the input arrives (upload them first): ``NAME.scores.csv`` (scores-only mode) and
``NAME.job.json`` (parameters, same fields as the API). Results land under ``.../outbox/NAME/``.
The job id is derived from the object's key and ETag, and the job record is a conditional put, so the same
object delivered twice (EventBridge is at-least-once) starts one job; a new upload under the same name (new
ETag) is a new job. A job left CREATED by a delivery that died before the start is started by the redelivery
(copies and the start are idempotent; ``start_job``'s conditional CREATED → QUEUED lets one delivery win).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from functions.service import layout
from functions.service.errors import InvalidIdentifierError, StateConflictError
from functions.service.ids import checked_file_name
from functions.service.job_params import JobParameters
from functions.service.jobs import JobState
from functions.service.observability import logger
from functions.service.submission import start_job
from functions.service.tenancy import JobRef, ProjectRef

if TYPE_CHECKING:
    from functions.service.context import ServiceContext

INPUT_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".smi", ".smi.gz", ".sdf", ".sdf.gz")
COMPANION_SUFFIXES = (".scores.csv", ".scores.csv.gz", ".scores.parquet", ".scores.json", ".job.json")


@dataclass(frozen=True, slots=True)
class DropObject:
    project: ProjectRef
    file_name: str
    name: str
    key: str
    etag: str


def parse_drop_key(key: str, etag: str) -> DropObject | None:
    """The dropped input, or None for companions and anything that is not an input under an inbox."""
    match = layout.INBOX_KEY.fullmatch(key)
    if match is None:
        return None
    file_name = match["file"]
    lower = file_name.lower()
    if lower.endswith(COMPANION_SUFFIXES) or not lower.endswith(INPUT_SUFFIXES):
        return None
    checked_file_name(file_name)
    suffix = next(s for s in sorted(INPUT_SUFFIXES, key=len, reverse=True) if lower.endswith(s))
    name = file_name[: -len(suffix)]
    return DropObject(ProjectRef(match["org"], match["project"]), file_name, name, key, etag.strip('"'))


def drop_job_id(drop: DropObject) -> str:
    return "d" + hashlib.sha256(f"{drop.key}\n{drop.etag}".encode()).hexdigest()[:24]


def handle_drop(ctx: ServiceContext, key: str, etag: str) -> dict[str, Any]:
    try:
        drop = parse_drop_key(key, etag)
    except InvalidIdentifierError as exc:
        logger.warning("drop refused: bad name", extra={"key": key, "reason": str(exc)})
        return {"started": False, "reason": "invalid_name"}
    if drop is None:
        return {"started": False, "reason": "not_an_input"}
    ref = JobRef(drop.project.org, drop.project.project, drop_job_id(drop))
    store = ctx.store(ref.org)  # unknown org: TenantAccessError, the event is dropped loudly
    inbox = layout.inbox_prefix(drop.project)
    companions = {
        suffix: inbox + drop.name + suffix for suffix in COMPANION_SUFFIXES if store.exists(inbox + drop.name + suffix)
    }
    params_error = None
    params = JobParameters()
    if ".job.json" in companions:
        try:
            params = JobParameters.model_validate(json.loads(store.get_bytes(companions[".job.json"])))
        except (ValidationError, ValueError) as exc:
            params_error = f"{drop.name}.job.json is invalid: {exc}"
    scores_suffix = next((s for s in companions if s != ".job.json"), None)
    scores_name = f"scores{scores_suffix.removeprefix('.scores')}" if scores_suffix else None

    try:
        ctx.jobs.create(
            ref,
            params=params.model_dump(mode="json"),
            input_name=drop.file_name,
            scores_name=scores_name,
            source="drop_folder",
            drop_name=drop.name,
            drop_key=key,
        )
    except StateConflictError as exc:
        if exc.current != JobState.CREATED.value:
            logger.info("drop already handled", extra={"key": key, "job": ref.job, "state": exc.current})
            return {"started": False, "reason": "duplicate", "job": ref.job}
        # A delivery that died between creating the job and starting it: this redelivery finishes the start.
        logger.warning("drop resumed: job was left CREATED", extra={"key": key, "job": ref.job})

    if params_error is not None:
        ctx.jobs.transition(ref, JobState.FAILED, error={"code": "InvalidParameters", "message": params_error})
        store.put_json(layout.drop_error_key(drop.project, drop.name), {"error": params_error})
        return {"started": False, "reason": "invalid_parameters", "job": ref.job}

    store.copy(key, layout.input_key(ref, drop.file_name))
    if scores_suffix is not None and scores_name is not None:
        store.copy(companions[scores_suffix], layout.input_key(ref, scores_name))
    start_job(ctx, ref)
    return {"started": True, "job": ref.job}

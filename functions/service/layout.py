"""The S3 layout (docs/pipeline.md shows the tree): the only module that spells an S3 key or key pattern.

Everything under one bucket, one prefix per org (the boundary its KMS key and IAM policies follow)::

    tenants/{org}/keys/signing-public-key.pem                the current signing key's public key
    tenants/{org}/keys/{key_id}.pem                          every signing key that ever signed (kept forever)
    tenants/{org}/decoy-cache/{key[:2]}/{key}.entry          decoys by content address, reused by the org's jobs
    tenants/{org}/projects/{project}/inbox/NAME.csv          the drop folder
    tenants/{org}/projects/{project}/outbox/NAME/            its results
    tenants/{org}/projects/{project}/jobs/{job}/input/ plan/ chunks/ results/ map/ pack/
    tenants/{org}/exports/audit/ocsf/{yyyy}/{mm}/{dd}/{seq}.jsonl  the audit log for the org's SIEM (OCSF)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from functions.service.ids import checked_file_name, checked_id

if TYPE_CHECKING:
    from functions.service.tenancy import JobRef, ProjectRef

TENANTS: Final = "tenants/"
PUBLIC_KEY_FILE: Final = "signing-public-key.pem"
PACK_FOLDER: Final = "pack/"
CHUNKS_FOLDER: Final = "chunks/"
RESULTS_FOLDER: Final = "results/"
MAP_RESULTS_FOLDER: Final = "map/"
PLAN_FILE: Final = "plan/plan.json"
DESCRIPTORS_FILE: Final = "plan/descriptors.json"
DROP_ERROR_FILE: Final = "error.json"

# Areas below an org prefix as IAM wildcard patterns: the CDK app grants each role the areas it needs.
JOBS_AREA: Final = "projects/*/jobs/*"
INBOX_AREA: Final = "projects/*/inbox/*"
OUTBOX_AREA: Final = "projects/*/outbox/*"
AUDIT_EXPORT_AREA: Final = "exports/audit/*"
DECOY_CACHE_AREA: Final = "decoy-cache/*"

# The same shapes, read back: what an event or a task argument hands us is parsed, never trusted.
INBOX_KEY: Final = re.compile(rf"{TENANTS}(?P<org>[^/]+)/projects/(?P<project>[^/]+)/inbox/(?P<file>[^/]+)")
DESCRIPTORS_KEY: Final = re.compile(
    rf"{TENANTS}(?P<org>[^/]+)/projects/(?P<project>[^/]+)/jobs/(?P<job>[^/]+)/{re.escape(DESCRIPTORS_FILE)}"
)


def _checked_hex(value: str, shortest: int, longest: int, what: str) -> str:
    """A key part that is a digest in lowercase hex, never user text: anything else is refused, not escaped."""
    if not re.fullmatch(rf"[0-9a-f]{{{shortest},{longest}}}", value):
        raise ValueError(f"not a {what}: {value!r}")
    return value


def org_prefix(org: str) -> str:
    """The boundary of an org's data: its KMS key, IAM grants and the artifact store's checks follow it."""
    return f"{TENANTS}{checked_id(org, 'org')}/"


def projects_prefix(org: str) -> str:
    """Where every project of the org lives (IAM grants and bucket rules name it with a trailing ``*``)."""
    return f"{org_prefix(org)}projects/"


def project_prefix(org: str, project: str) -> str:
    """One project: its jobs, its inbox and outbox."""
    return f"{projects_prefix(org)}{checked_id(project, 'project')}/"


def job_prefix(org: str, project: str, job: str) -> str:
    """Everything one job owns; deleting a job deletes this prefix (every version)."""
    return f"{project_prefix(org, project)}jobs/{checked_id(job, 'job')}/"


def descriptors_key_pattern(org: str) -> str:
    """Every job's descriptors file of the org, as an IAM resource pattern (the Fargate task reads these)."""
    return f"{projects_prefix(org)}*/jobs/*/{DESCRIPTORS_FILE}"


def decoy_cache_prefix(org: str) -> str:
    """The org's decoy cache: outside ``projects/``, so every project of the org shares it and no other org can."""
    return f"{org_prefix(org)}{DECOY_CACHE_AREA.removesuffix('*')}"


def decoy_cache_entry_key(org: str, key: str) -> str:
    """One cache entry; ``key`` is ``hetero_core.cache.decoy_cache_key`` (64 hex digits), never user text."""
    key = _checked_hex(key, 64, 64, "decoy cache key")
    return f"{decoy_cache_prefix(org)}{key[:2]}/{key}.entry"


def org_public_key_key(org: str) -> str:
    """The published public key that verifies the org's packs (the trust anchor customers download)."""
    return f"{org_keys_prefix(org)}{PUBLIC_KEY_FILE}"


def org_keys_prefix(org: str) -> str:
    """The published public keys: outside ``projects/``, so the retention lifecycle rule never expires them."""
    return f"{org_prefix(org)}keys/"


def org_public_key_version_key(org: str, key_id: str) -> str:
    """The public key with id ``key_id`` (hex of its SHA-256), published once and never removed."""
    return f"{org_keys_prefix(org)}{_checked_hex(key_id, 8, 64, 'public key id')}.pem"


def audit_export_prefix(org: str) -> str:
    """The org's audit events as OCSF JSON Lines for its SIEM: outside ``projects/``, so job retention keeps them."""
    return f"{org_prefix(org)}exports/audit/ocsf/"


def audit_export_key(org: str, seq: int, at: str) -> str:
    """One audit event's OCSF record, by the UTC day it happened and its chain position: the same event always
    has the same key, so a stream redelivery finds it written already."""
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        moment = None
    if moment is None or seq < 1:
        raise ValueError(f"not an audit event position: seq {seq!r} at {at!r}")
    return f"{audit_export_prefix(org)}{moment:%Y/%m/%d}/{seq:012d}.jsonl"


def input_key(ref: JobRef, name: str) -> str:
    """A customer upload (presigned PUT, or copied from the drop folder); the planner reads it once."""
    return f"{ref.prefix}input/{checked_file_name(name)}"


def plan_key(ref: JobRef) -> str:
    """The planner's facts (scan, parameters, scorer, executor) that finalize seals into the manifest."""
    return f"{ref.prefix}{PLAN_FILE}"


def descriptors_key(ref: JobRef) -> str:
    """The JSON array the Distributed Map's ItemReader iterates: one item per chunk."""
    return f"{ref.prefix}{DESCRIPTORS_FILE}"


def _chunk_file(ref: JobRef, folder: str, chunk: int, suffix: str) -> str:
    """A per-chunk object of the job; the number is zero-padded so a listing is in chunk order."""
    return f"{ref.prefix}{folder}{chunk:06d}{suffix}"


def chunk_rows_key(ref: JobRef, chunk: int) -> str:
    """One chunk's input rows (JSON lines)."""
    return _chunk_file(ref, CHUNKS_FOLDER, chunk, ".jsonl")


def chunk_scores_key(ref: JobRef, chunk: int) -> str:
    """The customer's scores restricted to one chunk's molecules (scores-only jobs)."""
    return _chunk_file(ref, CHUNKS_FOLDER, chunk, ".scores.json")


def chunk_results_key(ref: JobRef, chunk: int) -> str:
    """A worker's share of the pack for one chunk (slices and partial metrics, ``hetero_chunk_share.v1``), written
    last; its absence is how finalize knows the chunk failed."""
    return _chunk_file(ref, RESULTS_FOLDER, chunk, ".share.json")


def chunk_data_key(ref: JobRef, chunk: int) -> str:
    """The chunk's slices of summary.csv and decoys.csv: deflate segments and text, joined by finalize in S3."""
    return _chunk_file(ref, RESULTS_FOLDER, chunk, ".slices")


def map_results_prefix(ref: JobRef) -> str:
    """Where the Distributed Map's ResultWriter puts the Map Run's manifest and per-chunk outcomes."""
    return f"{ref.prefix}{MAP_RESULTS_FOLDER}"


def map_results_pattern(org: str) -> str:
    """Every job's Map Run results of one org, as an IAM resource pattern (the state machine's role writes them)."""
    return f"{org_prefix(org)}{JOBS_AREA}/{MAP_RESULTS_FOLDER}*"


def attempt_prefixes(ref: JobRef) -> tuple[str, ...]:
    """What one run of a job writes; a retried job deletes these first so nothing of the earlier run leaks in."""
    return tuple(ref.prefix + folder for folder in (CHUNKS_FOLDER, RESULTS_FOLDER, MAP_RESULTS_FOLDER, PACK_FOLDER))


def pack_prefix(ref: JobRef) -> str:
    """The published evidence pack, every member under one folder."""
    return f"{ref.prefix}{PACK_FOLDER}"


def pack_member_key(ref: JobRef, member: str) -> str:
    """One member of the job's pack; ``member`` is a name from ``hetero_core.layout``."""
    return f"{pack_prefix(ref)}{checked_file_name(member, 'pack member')}"


def inbox_prefix(ref: ProjectRef) -> str:
    """The drop folder: an input written here starts a job (EventBridge, functions/service/drop_folder.py)."""
    return f"{ref.prefix}inbox/"


def outbox_prefix(ref: ProjectRef, name: str) -> str:
    """Where a dropped file's pack is copied, named after the file, for uploaders who may not read jobs/."""
    return f"{ref.prefix}outbox/{checked_file_name(name)}/"


def drop_error_key(ref: ProjectRef, name: str) -> str:
    """Why a dropped file did not become a job, next to where its results would have been."""
    return f"{outbox_prefix(ref, name)}{DROP_ERROR_FILE}"

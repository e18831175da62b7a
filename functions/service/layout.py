"""The S3 layout of one job (docs/pipeline.md shows the tree); the only place that spells these keys."""

from __future__ import annotations

from functions.service.tenancy import JobRef, ProjectRef, checked_file_name, org_prefix

PACK_FOLDER = "pack/"


def org_public_key_key(org: str) -> str:
    """The published public key that verifies the org's packs (the trust anchor customers download)."""
    return f"{org_prefix(org)}keys/signing-public-key.pem"


def input_key(ref: JobRef, name: str) -> str:
    return f"{ref.prefix}input/{checked_file_name(name)}"


def plan_key(ref: JobRef) -> str:
    return f"{ref.prefix}plan/plan.json"


def descriptors_key(ref: JobRef) -> str:
    return f"{ref.prefix}plan/descriptors.json"


def chunk_rows_key(ref: JobRef, chunk: int) -> str:
    return f"{ref.prefix}chunks/{chunk:06d}.jsonl"


def chunk_scores_key(ref: JobRef, chunk: int) -> str:
    return f"{ref.prefix}chunks/{chunk:06d}.scores.json"


def chunk_results_key(ref: JobRef, chunk: int) -> str:
    return f"{ref.prefix}results/{chunk:06d}.jsonl"


def pack_prefix(ref: JobRef) -> str:
    return f"{ref.prefix}{PACK_FOLDER}"


def inbox_prefix(ref: ProjectRef) -> str:
    return f"{ref.prefix}inbox/"


def outbox_prefix(ref: ProjectRef, name: str) -> str:
    return f"{ref.prefix}outbox/{checked_file_name(name)}/"

"""Deployment settings, read once from the environment that CDK (or the local server) sets."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from functions.service import env
from functions.service.chunk_sizing import MIN_CHUNK_ROWS, TARGET_CHUNK_SECONDS

DEFAULT_KMS_ALIAS_PREFIX = "alias/hetero2"
# Jobs this large run their chunk workers as Fargate Spot tasks (one per chunk): ~5x cheaper per vCPU-second than
# the RunChunk Lambda, worth a task's minute of start-up once a job takes minutes anyway (docs/cost.md).
DEFAULT_FARGATE_MIN_ROWS = 500_000
# Finalize no longer touches rows (parallel pack assembly: ~14 µs of CPU per molecule plus S3 copies, ~40 s per
# 1,000,000 molecules, docs/cost.md), so the Finalize Lambda's 15 minutes hold the largest job a plan allows
# (5,000,000 rows); the Fargate finalize task, and its minute of start-up, is only for jobs above that.
DEFAULT_FINALIZE_LAMBDA_MAX_ROWS = 5_000_000
DEFAULT_MAX_CONCURRENCY = 1000
# The audit stream anchors every N-th event of an org (functions/service/siem_export.py; customer config).
DEFAULT_ANCHOR_EVERY = 100
# How audit events look on the EventBridge bus: what a customer's rule matches.
AUDIT_EVENT_SOURCE = "hetero2.audit"
AUDIT_DETAIL_TYPE = "OCSF API Activity"


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    bucket: str
    table: str
    audit_table: str = ""
    idempotency_table: str = ""
    state_machine_arn: str = ""
    kms_alias_prefix: str = DEFAULT_KMS_ALIAS_PREFIX
    fargate_min_rows: int = DEFAULT_FARGATE_MIN_ROWS
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    # The deployment's cap on jobs running at once, over every org (0: none; each org's plan still limits it).
    max_running_jobs: int = 0
    finalize_lambda_max_rows: int = DEFAULT_FINALIZE_LAMBDA_MAX_ROWS
    worker_subnets: tuple[str, ...] = field(default_factory=tuple)
    worker_security_groups: tuple[str, ...] = field(default_factory=tuple)
    # seconds of work per chunk and the fewest rows in one (functions/service/chunk_sizing.py); `hetero2 serve`
    # makes them small so that a demo-sized job's progress moves
    chunk_seconds: float = TARGET_CHUNK_SECONDS
    min_chunk_rows: int = MIN_CHUNK_ROWS
    # org -> {"plan", "retention_days"} from the customer config; empty means any org (the local server)
    tenants: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        environ = os.environ
        missing = [name for name in (env.BUCKET, env.TABLE) if not environ.get(name)]
        if missing:
            raise RuntimeError(f"missing environment variables: {', '.join(missing)}")
        return cls(
            bucket=environ[env.BUCKET],
            table=environ[env.TABLE],
            audit_table=environ.get(env.AUDIT_TABLE, ""),
            idempotency_table=environ.get(env.IDEMPOTENCY_TABLE, ""),
            state_machine_arn=environ.get(env.STATE_MACHINE_ARN, ""),
            kms_alias_prefix=environ.get(env.KMS_ALIAS_PREFIX, DEFAULT_KMS_ALIAS_PREFIX),
            fargate_min_rows=int(environ.get(env.FARGATE_MIN_ROWS, DEFAULT_FARGATE_MIN_ROWS)),
            max_concurrency=int(environ.get(env.MAX_CONCURRENCY, DEFAULT_MAX_CONCURRENCY)),
            max_running_jobs=int(environ.get(env.MAX_RUNNING_JOBS) or 0),
            finalize_lambda_max_rows=int(environ.get(env.FINALIZE_LAMBDA_MAX_ROWS, DEFAULT_FINALIZE_LAMBDA_MAX_ROWS)),
            worker_subnets=_split(environ.get(env.WORKER_SUBNETS, "")),
            worker_security_groups=_split(environ.get(env.WORKER_SECURITY_GROUPS, "")),
            tenants=json.loads(environ.get(env.TENANTS) or "{}"),
        )

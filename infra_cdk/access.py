"""Who may do what: one table of grants per function, every action named, every resource this stack's own.

S3 grants name each configured tenant's prefix separately (``tenants/ORG/...``) and DynamoDB grants carry a
``dynamodb:LeadingKeys`` condition on the tenants' partition keys, so a role cannot reach an org that this
deployment does not serve even if the code asked it to.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

from functions.service.layout import (
    AUDIT_EXPORT_AREA,
    DECOY_CACHE_AREA,
    INBOX_AREA,
    JOBS_AREA,
    OUTBOX_AREA,
    org_prefix,
)
from functions.service.table import QUEUE, org_pk
from infra_cdk import contract, nag

if TYPE_CHECKING:
    from aws_cdk import aws_dynamodb as dynamodb
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_s3 as s3

    from infra_cdk.compute import Compute
    from infra_cdk.data import DataStore
    from infra_cdk.orchestration import Orchestration

# Below tenants/ORG/ (functions/service/layout.py spells every key and area).
EVERYTHING: Final = "*"

READ: Final = ("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query")
WRITE: Final = ("dynamodb:ConditionCheckItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
DELETE: Final = ("dynamodb:DeleteItem",)
APPEND: Final = ("dynamodb:PutItem",)
IDEMPOTENCY: Final = ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")


@dataclass(frozen=True, slots=True)
class Grants:
    """What one role may touch; ``objects`` maps an area below each tenant prefix to S3 object actions."""

    main: tuple[str, ...] = ()
    audit: tuple[str, ...] = ()
    idempotency: tuple[str, ...] = ()
    objects: tuple[tuple[str, tuple[str, ...]], ...] = ()
    list_bucket: bool = False
    data_keys: bool = False
    signing: str | None = None  # "sign" or "verify"
    start_jobs: bool = False
    manage_jobs: bool = False
    # The job queue's partition (pk=QUEUE: waiting jobs, the deployment's running count): whoever releases a slot
    # or dispatches reads and writes it; only ``start_jobs`` roles start the executions it dispatches.
    job_queue: bool = False
    scan_org_records: bool = False


GET_PUT: Final = ("s3:GetObject", "s3:PutObject")
PUT: Final = ("s3:PutObject",)
FINALIZER: Final = Grants(
    main=READ + WRITE,
    audit=APPEND,
    objects=((JOBS_AREA, GET_PUT), (OUTBOX_AREA, PUT)),
    list_bucket=True,
    data_keys=True,
    signing="sign",
    job_queue=True,
)

MATRIX: Final[dict[str, Grants]] = {
    "Plan": Grants(main=READ + WRITE, audit=APPEND, objects=((JOBS_AREA, GET_PUT),), list_bucket=True, data_keys=True),
    # Chunk runners read and write their org's decoy cache (and no other role touches it).
    "RunChunk": Grants(
        main=READ + WRITE, objects=((JOBS_AREA, GET_PUT), (DECOY_CACHE_AREA, GET_PUT)), list_bucket=True, data_keys=True
    ),
    # Finalize settles the job and dispatches the next queued one; the Fargate task only releases (no route to
    # Step Functions from its subnets: the Finalize Lambda that follows it dispatches).
    "Finalize": replace(FINALIZER, start_jobs=True),
    # The Fargate task runs a large job's chunks (reading and writing the org's decoy cache), and its finalize when
    # the pack is too big for Lambda.
    "FargateWorker": replace(FINALIZER, objects=(*FINALIZER.objects, (DECOY_CACHE_AREA, GET_PUT))),
    "MarkFailed": Grants(main=READ + WRITE, audit=APPEND, start_jobs=True, job_queue=True),
    # Every execution end and a periodic sweep: end a job left behind, release its slot, meter it once, dispatch.
    "Reconcile": Grants(main=READ + WRITE, start_jobs=True, job_queue=True),
    "DropTrigger": Grants(
        main=READ + WRITE,
        audit=APPEND,
        idempotency=IDEMPOTENCY,
        objects=((INBOX_AREA, ("s3:DeleteObject", "s3:GetObject")), (JOBS_AREA, PUT), (OUTBOX_AREA, PUT)),
        list_bucket=True,
        data_keys=True,
        start_jobs=True,
        job_queue=True,
    ),
    "Api": Grants(
        main=READ + WRITE + DELETE,
        audit=(*APPEND, "dynamodb:GetItem", "dynamodb:Query"),
        idempotency=IDEMPOTENCY,
        objects=((EVERYTHING, ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:PutObject")),),
        list_bucket=True,
        data_keys=True,
        signing="verify",
        start_jobs=True,
        manage_jobs=True,
        job_queue=True,
    ),
    "Retention": Grants(
        main=(*READ, "dynamodb:UpdateItem", *DELETE),
        audit=APPEND,
        objects=((EVERYTHING, ("s3:DeleteObject", "s3:DeleteObjectVersion")),),
        list_bucket=True,
        scan_org_records=True,
    ),
    "Authorizer": Grants(main=("dynamodb:GetItem", "dynamodb:Query")),
    "ScimAuthorizer": Grants(main=("dynamodb:GetItem",)),  # the org's SCIM token hash
    # Reads each org's chain head, signs it with the org's key, writes it to the Object Lock bucket.
    "AuditAnchor": Grants(
        main=("dynamodb:GetItem",), audit=("dynamodb:GetItem", "dynamodb:Query"), signing="sign", scan_org_records=True
    ),
    # Reads the audit table's stream (infra_cdk/siem.py), writes each org's OCSF export under its key, and signs
    # every N-th event's anchor.
    "SiemExport": Grants(objects=((AUDIT_EXPORT_AREA, PUT),), data_keys=True, signing="sign"),
}


# Functions that dispatch queued jobs and are not given the state machine's ARN elsewhere (the API and the drop
# trigger are). The definition names Finalize and MarkFailed, so they get the ARN built from the machine's name
# (a reference to the machine would be a dependency cycle).
DISPATCHERS_IN_THE_DEFINITION: Final = ("Finalize", "MarkFailed", "Reconcile")


def leading_keys(orgs: tuple[str, ...]) -> dict[str, dict[str, list[str]]]:
    """Partition keys of the configured orgs only (every item key starts ``ORG#{org}``)."""
    keys = [pattern for org in orgs for pattern in (org_pk(org), f"{org_pk(org)}#*")]
    return {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": keys}}


def grant_objects(
    role: iam.Role, bucket: s3.IBucket, orgs: tuple[str, ...], area: str, actions: tuple[str, ...]
) -> None:
    nag.add_statement(
        role,
        actions=actions,
        resources=[f"{bucket.bucket_arn}/{org_prefix(org)}{area}" for org in orgs],
        wildcard_reason="tenant-objects",
    )


def grant_list(role: iam.Role, bucket: s3.IBucket, orgs: tuple[str, ...]) -> None:
    nag.add_statement(
        role,
        actions=["s3:ListBucket", "s3:ListBucketVersions"],
        resources=[bucket.bucket_arn],
        conditions={"StringLike": {"s3:prefix": [f"{org_prefix(org)}*" for org in orgs]}},
    )


def grant_table(role: iam.Role, table: dynamodb.ITable, actions: tuple[str, ...], orgs: tuple[str, ...] | None) -> None:
    nag.add_statement(
        role,
        actions=actions,
        resources=[table.table_arn],
        conditions=leading_keys(orgs) if orgs is not None else None,
    )


def apply(data: DataStore, compute: Compute, orchestration: Orchestration) -> None:
    """Grant every role in :data:`MATRIX` exactly its row."""
    orgs = tuple(data.tenants)
    roles = {**compute.roles, "FargateWorker": compute.task_role}
    missing = set(roles) ^ set(MATRIX)
    if missing:
        raise KeyError(f"roles and grants disagree: {sorted(missing)}")
    for name, grants in MATRIX.items():
        role = roles[name]
        data.grant_platform_key(role)
        if grants.main:
            grant_table(role, data.table, grants.main, orgs)
        if grants.audit:
            grant_table(role, data.audit_table, grants.audit, orgs)
        if grants.idempotency:
            grant_table(role, data.idempotency_table, grants.idempotency, None)
        for area, actions in grants.objects:
            grant_objects(role, data.bucket, orgs, area, actions)
        if grants.objects:
            data.grant_key_lookup(role)
        if grants.scan_org_records:
            # The daily retention pass finds the orgs' retention settings by a filtered Scan; a Scan has no
            # partition key for dynamodb:LeadingKeys to check, so it is granted on its own.
            nag.add_statement(role, actions=["dynamodb:Scan"], resources=[data.table.table_arn])
        if grants.list_bucket:
            grant_list(role, data.bucket, orgs)
        if grants.data_keys:
            data.grant_data_keys(role)
        if grants.signing is not None:
            data.grant_signing(role, sign=grants.signing == "sign")
        _grant_jobs(name, role, grants, data, compute, orchestration)
        if grants.manage_jobs:
            nag.add_statement(
                role,
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=[orchestration.executions_arn],
                wildcard_reason="job-executions",
            )
    _audit_anchors(data, compute, roles)


def _grant_jobs(
    name: str, role: iam.Role, grants: Grants, data: DataStore, compute: Compute, orchestration: Orchestration
) -> None:
    """The job queue's partition, and starting executions (with the state machine's ARN where it is not set)."""
    if grants.job_queue:
        nag.add_statement(
            role,
            actions=[*READ, *WRITE, *DELETE],
            resources=[data.table.table_arn],
            conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [QUEUE]}},
        )
    if grants.start_jobs:
        nag.add_statement(role, actions=["states:StartExecution"], resources=[orchestration.state_machine_arn])
        if name in DISPATCHERS_IN_THE_DEFINITION:
            compute.functions[name].add_environment(contract.env.STATE_MACHINE_ARN, orchestration.state_machine_arn)


def _audit_anchors(data: DataStore, compute: Compute, roles: dict[str, iam.Role]) -> None:
    """The anchor function writes and reads its Object Lock bucket; only the audit writers may PutItem events."""
    anchor = roles["AuditAnchor"]
    data.grant_key_lookup(anchor)  # the signer finds the org's keys by alias (DescribeKey), as every key user does
    nag.add_statement(
        anchor,
        actions=["s3:GetObject", "s3:PutObject", "s3:PutObjectRetention"],
        resources=[data.anchor_bucket.arn_for_objects("anchors/*")],
        wildcard_reason="audit-anchors",
    )
    nag.add_statement(anchor, actions=["s3:ListBucket"], resources=[data.anchor_bucket.bucket_arn])
    function = compute.functions["AuditAnchor"]
    function.add_environment(contract.env.ANCHOR_BUCKET, data.anchor_bucket.bucket_name)
    function.add_environment(contract.env.ANCHOR_RETENTION_DAYS, str(data.anchor_retention_days))
    data.restrict_audit_writes([roles[name] for name, grants in MATRIX.items() if "dynamodb:PutItem" in grants.audit])

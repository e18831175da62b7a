"""Retention: finished jobs older than their org's ``retention_days`` are deleted, objects first, then audited.

DynamoDB TTL is not used (it deletes items late, never S3 objects, and moto never runs it); a daily scheduled
handler calls :func:`expire_jobs`. Order per job: every S3 object version under the job's prefix, then the
``retention.delete`` audit event, then the job item. If a step fails the item is still there, so the next run
finds the job again and finishes it: objects are never orphaned and no job disappears unaudited (an event may
be written twice if the run fails after auditing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from functions.service import table as keys
from functions.service.audit_log import SYSTEM_RETENTION_ACTOR, AuditAction, AuditLog, AuditOutcome, job_target
from functions.service.errors import InvalidIdentifierError, RetentionIncompleteError
from functions.service.ids import checked_id
from functions.service.jobs import TERMINAL_STATES, JobRecord
from functions.service.observability import logger
from functions.service.tenancy import JobRef, ProjectRef

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb.service_resource import Table

    from functions.service.context import ServiceContext


@dataclass(frozen=True, slots=True)
class OrgRetention:
    org: str
    retention_days: int


def retention_days_of(value: object) -> int | None:
    """A usable retention period in whole days, or None (keep forever) for a missing or unusable value."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, int) and value >= 1:
        return value
    return None


def orgs_with_retention(table: Table) -> Iterator[OrgRetention]:
    """Every org record that sets retention_days. A scan, fine once a day: org records are a sliver of the table."""
    records = keys.all_items(
        table.scan,
        FilterExpression="sk = :meta AND begins_with(pk, :org) AND attribute_exists(retention_days)",
        ExpressionAttributeValues={":meta": keys.META, ":org": keys.ORG},
        ProjectionExpression="pk, retention_days",
        ConsistentRead=True,
    )
    for item in records:
        org = keys.org_of_pk(item["pk"])
        days = retention_days_of(item.get("retention_days"))
        if days is None:
            logger.warning("retention_days unusable; org kept", extra={"org": org})
            continue
        try:
            yield OrgRetention(checked_id(org, "org"), days)
        except InvalidIdentifierError:
            logger.warning("org record with a malformed id skipped", extra={"pk": item["pk"]})


def project_ids(table: Table, org: str) -> list[str]:
    """The org's projects, from their directory records."""
    records = keys.all_items(
        table.query,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :project)",
        ExpressionAttributeValues={":pk": keys.org_pk(org), ":project": keys.PROJECT},
        ProjectionExpression="sk",
        ConsistentRead=True,
    )
    return [keys.project_of_sk(item["sk"]) for item in records]


def is_expired(job: JobRecord, cutoff: datetime) -> bool:
    """Terminal and last changed (finished) before the cutoff; a job still running is never expired."""
    if job.state not in TERMINAL_STATES:
        return False
    finished = job.get("updated_at")
    if not isinstance(finished, str):
        return False
    try:
        finished_at = datetime.fromisoformat(finished)
    except ValueError:
        return False
    return finished_at.tzinfo is not None and finished_at < cutoff


def expire_jobs(ctx: ServiceContext, now: datetime, audit: AuditLog) -> list[JobRef]:
    """Delete every expired job of every org with a retention period; returns the jobs deleted.

    A job that fails to delete does not stop the others; if any failed, RetentionIncompleteError is raised at the
    end (carrying what was deleted and what failed) so the scheduled run shows as failed and alarms.
    """
    if now.tzinfo is None:
        raise ValueError("expire_jobs needs a timezone-aware 'now'")
    table = ctx.dynamodb.Table(ctx.settings.table)
    deleted: list[JobRef] = []
    failed: list[JobRef | str] = []
    for org in orgs_with_retention(table):
        cutoff = now - timedelta(days=org.retention_days)
        try:
            expired = [
                job
                for project in project_ids(table, org.org)
                for job in ctx.jobs.list_jobs(ProjectRef(org.org, project))
                if is_expired(job, cutoff)
            ]
        except Exception:
            logger.exception("retention could not list the org's jobs", extra={"org": org.org})
            failed.append(org.org)
            continue
        for job in expired:
            try:
                _delete_job(ctx, audit, job, org.retention_days)
            except Exception:
                logger.exception("retention could not delete a job", extra=job.ref.as_dict())
                failed.append(job.ref)
                continue
            deleted.append(job.ref)
    if failed:
        raise RetentionIncompleteError(
            f"retention deleted {len(deleted)} jobs; {len(failed)} could not be deleted", list(deleted), list(failed)
        )
    return deleted


def _delete_job(ctx: ServiceContext, audit: AuditLog, job: JobRecord, retention_days: int) -> None:
    ref = job.ref
    objects = ctx.store(ref.org).delete_prefix(ref.prefix)
    audit.append(
        ref.org,
        actor=SYSTEM_RETENTION_ACTOR,
        action=AuditAction.RETENTION_DELETE,
        target=job_target(ref),
        outcome=AuditOutcome.SUCCESS,
        details={
            "state": job.state.value,
            "finished_at": str(job.get("updated_at")),
            "retention_days": retention_days,
            "objects_deleted": objects,
        },
    )
    ctx.jobs.delete(ref)
    logger.info("job expired", extra={**ref.as_dict(), "objects_deleted": objects})

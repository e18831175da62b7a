"""Retention: finished jobs past their org's retention lose their objects (every version) and their item, audited;
young jobs, running jobs and other orgs' jobs stay."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from functions.handlers import retention as retention_handler
from functions.service import layout
from functions.service.audit_log import AuditLog
from functions.service.context import ServiceContext, reset_service_context
from functions.service.errors import JobNotFoundError, RetentionIncompleteError
from functions.service.jobs import JobRecord, JobState
from functions.service.retention import expire_jobs, is_expired, retention_days_of
from functions.service.settings import Settings
from functions.service.tenancy import JobRef
from tests.service.conftest import pk_sk_table
from tests.service.harness import BUCKET, REGION, TABLE, LambdaContextData

if TYPE_CHECKING:
    from collections.abc import Iterator

AUDIT_TABLE = "hetero2-audit-test"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class World:
    ctx: ServiceContext
    audit: AuditLog
    main: Any
    audit_table: Any


@pytest.fixture
def world(aws_env: None) -> Iterator[World]:
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        dynamodb = session.resource("dynamodb")
        main, audit_table = pk_sk_table(dynamodb, TABLE), pk_sk_table(dynamodb, AUDIT_TABLE)
        ctx = ServiceContext(Settings(bucket=BUCKET, table=TABLE, audit_table=AUDIT_TABLE), session)
        reset_service_context(ctx)
        try:
            yield World(ctx, AuditLog.for_context(ctx), main, audit_table)
        finally:
            reset_service_context(None)


def _org(world: World, org: str, retention_days: int | None, projects: tuple[str, ...] = ("proj",)) -> None:
    item: dict[str, Any] = {"pk": f"ORG#{org}", "sk": "META", "org": org, "plan": "standard"}
    if retention_days is not None:
        item["retention_days"] = retention_days
    world.main.put_item(Item=item)
    for project in projects:
        world.main.put_item(Item={"pk": f"ORG#{org}", "sk": f"PROJECT#{project}", "org": org, "project": project})


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _job(world: World, ref: JobRef, state: JobState, age_days: float, *, keys: bool = True) -> None:
    """A job in ``state`` last changed ``age_days`` before NOW, with input, results and a pack (input twice)."""
    world.ctx.jobs.create(ref, state=state)
    world.main.update_item(
        Key={"pk": f"ORG#{ref.org}#PROJECT#{ref.project}", "sk": f"JOB#{ref.job}"},
        UpdateExpression="SET updated_at = :t",
        ExpressionAttributeValues={":t": _stamp(NOW - timedelta(days=age_days))},
    )
    if not keys:
        return
    store = world.ctx.store(ref.org)
    store.put_bytes(layout.input_key(ref, "input.csv"), b"smiles\nCCO\n", "text/csv")
    store.put_bytes(layout.input_key(ref, "input.csv"), b"smiles\nCCO\nc1ccccc1\n", "text/csv")  # second version
    store.put_bytes(layout.chunk_results_key(ref, 0), b'{"row":0}\n')
    store.put_bytes(f"{layout.pack_prefix(ref)}evidence_pack.zip", b"PK")


def _versions(world: World, prefix: str) -> int:
    page = world.ctx.s3.list_object_versions(Bucket=BUCKET, Prefix=prefix)
    return len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))


def _exists(world: World, ref: JobRef) -> bool:
    try:
        world.ctx.jobs.get(ref)
    except JobNotFoundError:
        return False
    return True


def _retention_events(world: World, org: str) -> list[dict[str, Any]]:
    return [e for e in world.audit.events(org, limit=100) if e["action"] == "retention.delete"]


def test_expired_finished_jobs_lose_objects_items_and_are_audited(world: World) -> None:
    world.ctx.keys.create_org_keys("org-a")
    _org(world, "org-a", 30, ("proj", "other"))
    old_ok = JobRef("org-a", "proj", "old-ok")
    old_failed = JobRef("org-a", "other", "old-failed")
    old_cancelled = JobRef("org-a", "proj", "old-cancelled")
    _job(world, old_ok, JobState.SUCCEEDED, 40)
    _job(world, old_failed, JobState.FAILED, 31)
    _job(world, old_cancelled, JobState.CANCELLED, 365)
    inbox_key = f"{layout.inbox_prefix(old_ok.project_ref)}waiting.csv"
    world.ctx.store("org-a").put_bytes(inbox_key, b"smiles\nCCN\n")

    deleted = expire_jobs(world.ctx, NOW, world.audit)

    assert sorted(r.job for r in deleted) == ["old-cancelled", "old-failed", "old-ok"]
    for ref in (old_ok, old_failed, old_cancelled):
        assert _versions(world, ref.prefix) == 0
        assert not _exists(world, ref)
    assert world.ctx.store("org-a").exists(inbox_key)  # only the job's own folder goes
    events = {e["target"]: e for e in _retention_events(world, "org-a")}
    assert set(events) == {"proj/old-ok", "other/old-failed", "proj/old-cancelled"}
    event = events["proj/old-ok"]
    assert (event["actor"], event["outcome"], event["source_ip"]) == ("system:retention", "success", None)
    assert event["details"] == {
        "state": "SUCCEEDED",
        "finished_at": _stamp(NOW - timedelta(days=40)),
        "retention_days": 30,
        "objects_deleted": 4,
    }
    assert world.audit.verify_chain("org-a").ok


def test_young_and_unfinished_jobs_stay(world: World) -> None:
    world.ctx.keys.create_org_keys("org-a")
    _org(world, "org-a", 30)
    kept = {
        JobRef("org-a", "proj", "young"): (JobState.SUCCEEDED, 29.9),
        JobRef("org-a", "proj", "running"): (JobState.RUNNING, 400),
        JobRef("org-a", "proj", "queued"): (JobState.QUEUED, 400),
        JobRef("org-a", "proj", "created"): (JobState.CREATED, 400),
        JobRef("org-a", "proj", "edge"): (JobState.SUCCEEDED, 30),
    }
    for ref, (state, age) in kept.items():
        _job(world, ref, state, age)

    assert expire_jobs(world.ctx, NOW, world.audit) == []

    for ref in kept:
        assert _exists(world, ref)
        assert _versions(world, ref.prefix) == 4
    assert world.audit.head("org-a") is None


def test_other_orgs_follow_their_own_retention(world: World) -> None:
    for org in ("org-a", "org-b", "org-c"):
        world.ctx.keys.create_org_keys(org)
    _org(world, "org-a", 30)
    _org(world, "org-b", 90)
    _org(world, "org-c", None)  # no retention set: kept forever
    a, b_young, b_old, c = (
        JobRef("org-a", "proj", "j1"),
        JobRef("org-b", "proj", "j1"),
        JobRef("org-b", "proj", "j2"),
        JobRef("org-c", "proj", "j1"),
    )
    _job(world, a, JobState.SUCCEEDED, 40)
    _job(world, b_young, JobState.SUCCEEDED, 40)
    _job(world, b_old, JobState.SUCCEEDED, 91)
    _job(world, c, JobState.SUCCEEDED, 4000)

    deleted = expire_jobs(world.ctx, NOW, world.audit)

    assert sorted((r.org, r.job) for r in deleted) == [("org-a", "j1"), ("org-b", "j2")]
    assert _exists(world, b_young)
    assert _versions(world, b_young.prefix) == 4
    assert _exists(world, c)
    assert _versions(world, c.prefix) == 4
    assert [e["target"] for e in _retention_events(world, "org-b")] == ["proj/j2"]
    assert _retention_events(world, "org-c") == []


def test_a_second_run_finds_nothing_more(world: World) -> None:
    world.ctx.keys.create_org_keys("org-a")
    _org(world, "org-a", 7)
    _job(world, JobRef("org-a", "proj", "j1"), JobState.SUCCEEDED, 8)
    assert len(expire_jobs(world.ctx, NOW, world.audit)) == 1
    assert expire_jobs(world.ctx, NOW, world.audit) == []
    assert len(_retention_events(world, "org-a")) == 1


def test_a_job_that_cannot_be_deleted_does_not_stop_the_others(world: World) -> None:
    world.ctx.keys.create_org_keys("org-a")
    _org(world, "org-a", 30)
    _org(world, "org-z", 30)  # an org record whose KMS keys are gone: its store cannot be opened
    good, stuck = JobRef("org-a", "proj", "j1"), JobRef("org-z", "proj", "j1")
    _job(world, good, JobState.SUCCEEDED, 40)
    _job(world, stuck, JobState.SUCCEEDED, 40, keys=False)

    with pytest.raises(RetentionIncompleteError) as caught:
        expire_jobs(world.ctx, NOW, world.audit)

    assert caught.value.deleted == [good]
    assert caught.value.failed == [stuck]
    assert not _exists(world, good)
    assert _exists(world, stuck)  # kept, so the next run tries again
    assert world.audit.head("org-z") is None


def test_unusable_retention_values_keep_the_jobs(world: World) -> None:
    world.ctx.keys.create_org_keys("org-a")
    _org(world, "org-a", 0)
    _job(world, JobRef("org-a", "proj", "j1"), JobState.SUCCEEDED, 400)
    assert expire_jobs(world.ctx, NOW, world.audit) == []


def test_now_must_carry_a_time_zone(world: World) -> None:
    with pytest.raises(ValueError, match="timezone"):
        expire_jobs(world.ctx, NOW.replace(tzinfo=None), world.audit)


@pytest.mark.parametrize(
    ("value", "days"),
    [
        (Decimal(30), 30),
        (7, 7),
        (0, None),
        (-1, None),
        (True, None),
        ("30", None),
        (Decimal("1.5"), None),
        (None, None),
    ],
)
def test_retention_days_of(value: object, days: int | None) -> None:
    assert retention_days_of(value) == days


@pytest.mark.parametrize(
    ("updated_at", "expired"),
    [
        ("2025-05-01T11:59:59.999999Z", True),
        ("2025-05-01T12:00:00.000000Z", False),
        ("2025-05-01T11:00:00", False),  # no time zone: not trusted
        ("last month", False),
        (None, False),
    ],
)
def test_is_expired_reads_the_finish_time_strictly(updated_at: str | None, expired: bool) -> None:
    item: dict[str, Any] = {"state": "SUCCEEDED"}
    if updated_at is not None:
        item["updated_at"] = updated_at
    assert is_expired(JobRecord(JobRef("org-a", "proj", "j1"), item), NOW - timedelta(days=31)) is expired


def test_scheduled_handler_uses_the_schedule_time(world: World) -> None:
    world.ctx.keys.create_org_keys("org-a")
    _org(world, "org-a", 30)
    ref = JobRef("org-a", "proj", "j1")
    _job(world, ref, JobState.SUCCEEDED, 40)
    event = {"source": "aws.scheduler", "time": "2025-05-05T00:00:00Z"}  # 13.5 days after NOW - 40: still young
    result = retention_handler.handler(event, LambdaContextData("hetero2-retention"))
    assert result == {"now": "2025-05-05T00:00:00+00:00", "deleted": []}
    assert _exists(world, ref)
    result = retention_handler.handler({"time": _stamp(NOW)}, LambdaContextData("hetero2-retention"))
    assert result["deleted"] == [ref.as_dict()]
    assert not _exists(world, ref)


def test_scheduled_handler_without_a_time_uses_the_clock(world: World) -> None:
    world.ctx.keys.create_org_keys("org-a")
    _org(world, "org-a", 1)
    ref = JobRef("org-a", "proj", "j1")
    _job(world, ref, JobState.SUCCEEDED, 0)  # finished at NOW (2025), long before the real clock's today
    result = retention_handler.handler({"time": "not a time"}, LambdaContextData("hetero2-retention"))
    assert result["deleted"] == [ref.as_dict()]


def test_scheduled_handler_fails_loudly_when_a_job_could_not_go(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _org(world, "org-z", 30)
    _job(world, JobRef("org-z", "proj", "j1"), JobState.SUCCEEDED, 40, keys=False)
    with pytest.raises(RetentionIncompleteError):
        retention_handler.handler({"time": _stamp(NOW)}, LambdaContextData("hetero2-retention"))
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m["RetentionFailures"] for m in metrics if "RetentionFailures" in m] == [[1.0]]

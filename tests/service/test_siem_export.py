"""The SIEM stream (issue 14): audit-table stream records → OCSF JSON Lines under each org's export prefix and key,
and onto the audit EventBridge bus; idempotent on redelivery; every N-th event anchored at once, so a removed or
rewritten tail is reported without waiting for the hourly anchor.

The stream batches are built from the real table items (moto has no DynamoDB Streams reader), as Lambda would
receive them: ``INSERT`` records with the item's ``NewImage`` in DynamoDB JSON.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from ocsf.v1_3_0.events import ApiActivity

from functions.handlers import siem_export as handler_module
from functions.service import env
from functions.service.audit_anchor import AnchorStore, anchor, anchor_key, verify_with_anchors
from functions.service.audit_log import AuditLog, event_hash
from functions.service.context import ServiceContext, reset_service_context
from functions.service.dynamo_values import from_dynamo
from functions.service.layout import audit_export_key, audit_export_prefix
from functions.service.settings import Settings
from functions.service.siem_export import DETAIL_TYPE, EVENT_SOURCE, SiemExporter, streamed_events
from functions.service.table import event_key
from functions.service.tenant_keys import TenantKeys
from tests.service.harness import BUCKET, REGION, TABLE, LambdaContextData

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CreateBucketConfigurationTypeDef

ORG_A, ORG_B = "siem-a", "siem-b"
BUS = "hetero2-test-audit"
ALIASES = "alias/hetero2"


@pytest.fixture
def aws(table: Any) -> dict[str, Any]:
    """Artifact bucket, org keys, an Object Lock anchor bucket, the bus and a customer's rule for ORG_A → a queue.

    The mocked account lives as long as the module's table, so every name is new per test (locked anchors
    cannot be cleaned up: that is the point)."""
    fresh = uuid.uuid4().hex[:12]
    s3 = boto3.client("s3", region_name=REGION)
    location: CreateBucketConfigurationTypeDef = {"LocationConstraint": REGION}
    bucket = f"{BUCKET}-{fresh}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=location)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    anchors = f"hetero2-anchors-{fresh}"
    s3.create_bucket(
        Bucket=anchors,
        CreateBucketConfiguration=location,
        ObjectLockEnabledForBucket=True,
    )
    aliases = f"{ALIASES}-{fresh}"
    keys = TenantKeys(boto3.client("kms", region_name=REGION), aliases)
    for org in (ORG_A, ORG_B):
        keys.create_org_keys(org)
    events = boto3.client("events", region_name=REGION)
    bus = f"{BUS}-{fresh}"
    events.create_event_bus(Name=bus)
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName=f"customer-a-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # What docs/security.md tells a customer to write: their org's audit events only.
    pattern = {"source": [EVENT_SOURCE], "detail-type": [DETAIL_TYPE], "detail": {"metadata": {"tenant_uid": [ORG_A]}}}
    events.put_rule(Name="org-a-to-siem", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule="org-a-to-siem", EventBusName=bus, Targets=[{"Id": "siem", "Arn": queue_arn}])
    return {
        "s3": s3,
        "bucket": bucket,
        "aliases": aliases,
        "keys": keys,
        "events": events,
        "bus": bus,
        "sqs": sqs,
        "queue": queue_url,
        "anchors": anchors,
    }


def _exporter(aws: dict[str, Any], every: int = 0) -> SiemExporter:
    keys: TenantKeys = aws["keys"]
    s3: S3Client = aws["s3"]
    from functions.service.artifacts import ArtifactStore  # noqa: PLC0415 - only this helper builds stores

    return SiemExporter(
        lambda org: ArtifactStore(s3, aws["bucket"], org, keys.keys_of(org).data_key_arn),
        aws["events"],
        aws["bus"],
        anchors=AnchorStore(s3, aws["anchors"], retention_days=1),
        signer_for=keys.signer,
        anchor_every=every,
    )


def _append(log: AuditLog, org: str, n: int, **extra: Any) -> None:
    for i in range(n):
        log.append(org, actor="alice", action="job.submit", target=f"p/j{i}", outcome="success", **extra)


def stream_batch(table: Any, org: str, seqs: range | list[int]) -> dict[str, Any]:
    """The DynamoDB Streams event Lambda receives for the INSERTs of these events (NewImage in DynamoDB JSON)."""
    client = boto3.client("dynamodb", region_name=REGION)
    records = []
    for seq in seqs:
        key = {name: {"S": value} for name, value in event_key(org, seq).items()}
        item = client.get_item(TableName=table.name, Key=key)["Item"]
        records.append(
            {
                "eventID": uuid.uuid4().hex,
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "dynamodb": {
                    "Keys": key,
                    "NewImage": item,
                    "SequenceNumber": f"{seq:021d}{org}",
                    "StreamViewType": "NEW_IMAGE",
                },
            }
        )
    return {"Records": records}


def _exported(aws: dict[str, Any], org: str) -> dict[str, list[dict[str, Any]]]:
    """Every export object of the org and its versions."""
    s3: S3Client = aws["s3"]
    versions = s3.list_object_versions(Bucket=aws["bucket"], Prefix=audit_export_prefix(org)).get("Versions", [])
    found: dict[str, list[dict[str, Any]]] = {}
    for version in versions:
        found.setdefault(version["Key"], []).append(dict(version))
    return found


def _messages(aws: dict[str, Any]) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    while True:
        batch = aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return received
        received.extend(json.loads(message["Body"]) for message in batch)


def test_each_event_lands_under_its_orgs_prefix_and_key_as_valid_ocsf(aws: dict[str, Any], table: Any) -> None:
    log = AuditLog(table)
    _append(log, ORG_A, 2, source_ip="192.0.2.7")
    _append(log, ORG_B, 1)
    batch = stream_batch(table, ORG_A, [1, 2])
    batch["Records"] += stream_batch(table, ORG_B, [1])["Records"]
    assert _exporter(aws).handle(batch) == {"batchItemFailures": []}
    s3: S3Client = aws["s3"]
    for org, seqs in ((ORG_A, (1, 2)), (ORG_B, (1,))):
        data_key = aws["keys"].keys_of(org).data_key_arn
        for event in log.events(org, limit=10):
            key = audit_export_key(org, event["seq"], event["at"])
            assert event["seq"] in seqs
            head = s3.head_object(Bucket=aws["bucket"], Key=key)
            assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", data_key)
            lines = s3.get_object(Bucket=aws["bucket"], Key=key)["Body"].read().decode().splitlines()
            (record,) = (json.loads(line) for line in lines)
            ApiActivity.model_validate(record)
            assert record["metadata"]["tenant_uid"] == org
            assert record["metadata"]["uid"] == event["hash"]
    assert set(_exported(aws, ORG_A)) == {
        audit_export_key(ORG_A, e["seq"], e["at"]) for e in log.events(ORG_A, limit=9)
    }


def test_a_redelivered_batch_changes_no_object_and_repeats_the_event_ids(aws: dict[str, Any], table: Any) -> None:
    log = AuditLog(table)
    _append(log, ORG_A, 3)
    batch = stream_batch(table, ORG_A, range(1, 4))
    exporter = _exporter(aws)
    first = [exporter.export(streamed) for streamed in streamed_events(batch)]
    again = [exporter.export(streamed) for streamed in streamed_events(batch)]
    assert [e.written for e in first] == [True, True, True]
    assert [e.written for e in again] == [False, False, False]
    objects = _exported(aws, ORG_A)
    assert len(objects) == 3
    assert all(len(versions) == 1 for versions in objects.values()), "a redelivery must not add object versions"
    uids = [message["detail"]["metadata"]["uid"] for message in _messages(aws)]
    assert sorted(uids) == sorted(2 * [e["hash"] for e in log.events(ORG_A, limit=10)])


def test_the_bus_carries_each_org_and_a_customer_rule_gets_only_its_own(aws: dict[str, Any], table: Any) -> None:
    log = AuditLog(table)
    _append(log, ORG_A, 2)
    _append(log, ORG_B, 3)
    exporter = _exporter(aws)
    exporter.handle(stream_batch(table, ORG_B, range(1, 4)))
    exporter.handle(stream_batch(table, ORG_A, range(1, 3)))
    messages = _messages(aws)
    assert len(messages) == 2
    for message in messages:
        assert (message["source"], message["detail-type"]) == (EVENT_SOURCE, DETAIL_TYPE)
        assert message["detail"]["metadata"]["tenant_uid"] == ORG_A
        ApiActivity.model_validate(message["detail"])


def test_a_failing_event_is_reported_with_everything_after_it_left_for_the_retry(
    aws: dict[str, Any], table: Any
) -> None:
    log = AuditLog(table)
    _append(log, ORG_A, 2)
    _append(log, "no-keys-org", 1)  # an org whose keys cannot be found: its export fails
    batch = stream_batch(table, ORG_A, [1])
    failing = stream_batch(table, "no-keys-org", [1])["Records"][0]
    batch["Records"] += [failing, *stream_batch(table, ORG_A, [2])["Records"]]
    answer = _exporter(aws).handle(batch)
    assert answer == {"batchItemFailures": [{"itemIdentifier": failing["dynamodb"]["SequenceNumber"]}]}
    assert len(_exported(aws, ORG_A)) == 1, "nothing after the failure is written out of order"


def test_only_inserted_audit_events_are_exported(aws: dict[str, Any], table: Any) -> None:
    log = AuditLog(table)
    _append(log, ORG_A, 1)
    (record,) = stream_batch(table, ORG_A, [1])["Records"]
    removed = {**record, "eventName": "REMOVE", "dynamodb": {**record["dynamodb"], "NewImage": None}}
    foreign = json.loads(json.dumps(record))
    foreign["dynamodb"]["NewImage"]["sk"] = {"S": "COUNTER#refusals"}
    assert list(streamed_events({"Records": [removed, foreign]})) == []


def test_every_nth_event_is_anchored_once_as_it_is_written(aws: dict[str, Any], table: Any) -> None:
    log = AuditLog(table)
    store = AnchorStore(aws["s3"], aws["anchors"], retention_days=1)
    _append(log, ORG_A, 12)
    exporter = _exporter(aws, every=5)
    batch = stream_batch(table, ORG_A, range(1, 13))
    anchored = [seq for seq, streamed in enumerate(streamed_events(batch), 1) if exporter.export(streamed).anchored]
    assert anchored == [5, 10]
    assert not any(exporter.export(streamed).anchored for streamed in streamed_events(batch)), "once per boundary"
    locked = aws["s3"].list_object_versions(Bucket=aws["anchors"], Prefix=f"anchors/{ORG_A}/").get("Versions", [])
    assert sorted(v["Key"] for v in locked) == [anchor_key(ORG_A, 5), anchor_key(ORG_A, 10)]
    assert [document["statement"]["seq"] for document in store.anchors(ORG_A)] == [5, 10]
    # the hourly run anchors the head beyond the last boundary, and only that
    assert anchor(log, aws["keys"].signer(ORG_A), store, ORG_A) is not None
    assert [document["statement"]["seq"] for document in store.anchors(ORG_A)] == [5, 10, 12]
    assert verify_with_anchors(log, store, ORG_A).ok


@pytest.mark.parametrize("tamper", ["delete", "rewrite"])
def test_removing_or_rewriting_the_tail_after_a_boundary_anchor_is_reported(
    aws: dict[str, Any], table: Any, tamper: str
) -> None:
    """No hourly anchor has run: the boundary anchor the stream wrote is what catches it."""
    log = AuditLog(table)
    store = AnchorStore(aws["s3"], aws["anchors"], retention_days=1)
    _append(log, ORG_A, 7)
    _exporter(aws, every=5).handle(stream_batch(table, ORG_A, range(1, 8)))
    for seq in (6, 7):
        table.delete_item(Key=event_key(ORG_A, seq))
    if tamper == "delete":
        table.delete_item(Key=event_key(ORG_A, 5))
    else:  # an admin rewrites event 5, now the newest, and re-hashes it: every link still holds
        item = table.get_item(Key=event_key(ORG_A, 5))["Item"]
        fields = {name: value for name, value in from_dynamo(item).items() if name not in ("pk", "sk", "hash")}
        fields["actor"] = "mallory"
        table.put_item(Item={**item, "actor": "mallory", "hash": event_hash(fields)})
    assert log.verify_chain(ORG_A).ok, "the chain alone cannot see it"
    report = verify_with_anchors(log, store, ORG_A)
    assert not report.ok
    assert report.reason is not None
    assert report.reason.startswith("truncated" if tamper == "delete" else "rewritten")


def test_an_event_that_does_not_match_its_hash_is_exported_but_never_anchored(aws: dict[str, Any], table: Any) -> None:
    log = AuditLog(table)
    _append(log, ORG_A, 5)
    batch = stream_batch(table, ORG_A, range(1, 6))
    batch["Records"][-1]["dynamodb"]["NewImage"]["actor"] = {"S": "mallory"}  # forged without re-hashing
    results = [_exporter(aws, every=5).export(streamed) for streamed in streamed_events(batch)]
    assert [r.written for r in results] == [True] * 5
    assert not any(r.anchored for r in results)


def test_the_handler_reads_its_bus_bucket_and_n_from_the_environment(
    aws: dict[str, Any], table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(table)
    _append(log, ORG_A, 4)
    monkeypatch.setenv(env.AUDIT_BUS, aws["bus"])
    monkeypatch.setenv(env.ANCHOR_BUCKET, aws["anchors"])
    monkeypatch.setenv(env.ANCHOR_RETENTION_DAYS, "1")
    monkeypatch.setenv(env.ANCHOR_EVERY, "2")
    settings = Settings(bucket=aws["bucket"], table=TABLE, audit_table=TABLE, kms_alias_prefix=aws["aliases"])
    reset_service_context(ServiceContext(settings, boto3.session.Session(region_name=REGION)))
    try:
        answer = handler_module.handler(stream_batch(table, ORG_A, range(1, 5)), LambdaContextData("siem-export"))
    finally:
        reset_service_context(None)
    assert answer == {"batchItemFailures": []}
    assert len(_exported(aws, ORG_A)) == 4
    store = AnchorStore(aws["s3"], aws["anchors"])
    assert [document["statement"]["seq"] for document in store.anchors(ORG_A)] == [2, 4]

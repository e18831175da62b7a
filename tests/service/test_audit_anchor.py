"""Anchored audit log (issue 14): the chain head, signed with the org's KMS key, in an Object Lock bucket; the
verifier reports a truncated or rewritten tail, which the hash chain alone cannot see."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from functions.service import audit_chain
from functions.service.audit_anchor import AnchoredReport, AnchorStore, anchor, anchor_key, verify_with_anchors
from functions.service.audit_log import AuditLog, event_hash
from functions.service.dynamo_values import from_dynamo
from functions.service.table import event_key
from functions.service.tenant_keys import TenantKeys
from tests.service.harness import REGION, TABLE

ORG = "anchored-org"
ANCHORS = "hetero2-anchors-test"  # a fresh bucket per test: locked anchors cannot be cleaned up (that is the point)


@pytest.fixture
def bucket() -> str:
    return f"{ANCHORS}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def setup(table: Any, bucket: str) -> tuple[AuditLog, AnchorStore, TenantKeys]:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}, ObjectLockEnabledForBucket=True
    )
    keys = TenantKeys(boto3.client("kms", region_name=REGION), "alias/hetero2")
    keys.create_org_keys(ORG)
    return AuditLog(table), AnchorStore(s3, bucket, retention_days=1), keys


def _append(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.append(ORG, actor="alice", action="job.submit", target=f"p/j{i}", outcome="success")


def _anchored(setup: tuple[AuditLog, AnchorStore, TenantKeys], events: int) -> tuple[AuditLog, AnchorStore]:
    """ORG's log with ``events`` events, its head anchored with the org's own key."""
    log, store, keys = setup
    _append(log, events)
    anchor(log, keys.signer(ORG), store, ORG)
    return log, store


def _refusal(log: AuditLog, store: AnchorStore) -> tuple[AnchoredReport, str]:
    """The anchored verification of ORG, which must fail, and the reason it gives."""
    report = verify_with_anchors(log, store, ORG)
    assert not report.ok
    assert report.reason is not None
    return report, report.reason


def _cli(store: AnchorStore, *extra: str) -> int:
    return audit_chain.main(["--org", ORG, "--table", TABLE, "--anchors-bucket", store.bucket, *extra])


def test_anchor_is_signed_with_the_orgs_key_and_locked_in_compliance_mode(
    setup: tuple[AuditLog, AnchorStore, TenantKeys],
) -> None:
    log, store, keys = setup
    _append(log, 3)
    document = anchor(log, keys.signer(ORG), store, ORG)
    assert document is not None
    assert document["statement"]["seq"] == 3
    assert document["key_id"] == keys.signer(ORG).key_id
    assert anchor(log, keys.signer(ORG), store, ORG) is None  # nothing new
    s3 = boto3.client("s3", region_name=REGION)
    head = s3.head_object(Bucket=store.bucket, Key=anchor_key(ORG, 3))
    assert head["ObjectLockMode"] == "COMPLIANCE"
    with pytest.raises(ClientError):
        s3.delete_object(Bucket=store.bucket, Key=anchor_key(ORG, 3), VersionId=head["VersionId"])
    report = verify_with_anchors(log, store, ORG)
    assert report.ok
    assert report.anchored_seq == 3


def test_deleting_the_newest_events_is_reported_as_truncated(
    setup: tuple[AuditLog, AnchorStore, TenantKeys], table: Any
) -> None:
    log, store = _anchored(setup, 5)
    assert log.verify_chain(ORG).ok
    for seq in (4, 5):
        table.delete_item(Key=event_key(ORG, seq))
    assert log.verify_chain(ORG).ok, "the chain alone cannot see a removed tail"
    _, reason = _refusal(log, store)
    assert reason.startswith("truncated")
    assert _cli(store) == audit_chain.EXIT_BROKEN


def test_rewriting_the_newest_events_with_rehashing_is_reported(
    setup: tuple[AuditLog, AnchorStore, TenantKeys], table: Any
) -> None:
    log, store = _anchored(setup, 4)
    # an admin rewrites event 4 and recomputes its hash: every link still holds
    item = table.get_item(Key=event_key(ORG, 4))["Item"]
    fields = {name: value for name, value in from_dynamo(item).items() if name not in ("pk", "sk", "hash")}
    fields["actor"] = "mallory"
    table.put_item(Item={**item, "actor": "mallory", "hash": event_hash(fields)})
    assert log.verify_chain(ORG).ok
    report, reason = _refusal(log, store)
    assert report.first_broken_seq == 4
    assert reason.startswith("rewritten")


def test_an_anchor_signed_by_another_key_is_refused_when_keys_are_pinned(
    setup: tuple[AuditLog, AnchorStore, TenantKeys], tmp_path: Any
) -> None:
    log, store, keys = setup
    _append(log, 2)
    other = TenantKeys(boto3.client("kms", region_name=REGION), "alias/elsewhere")
    other.create_org_keys(ORG)
    anchor(log, other.signer(ORG), store, ORG)  # someone with a key of their own forges an anchor
    pinned = tmp_path / "org.pem"
    pinned.write_bytes(keys.signer(ORG).public_key_pem())
    assert _cli(store) == audit_chain.EXIT_OK  # integrity only
    assert _cli(store, "--trusted-key", str(pinned)) == audit_chain.EXIT_BROKEN

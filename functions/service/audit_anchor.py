"""Anchors of the audit log: the chain head, signed with the org's KMS key, in an S3 Object Lock bucket.

The hash chain (:mod:`functions.service.audit_log`) detects a changed, removed or reordered event, but not the
removal or re-hashed rewrite of the *newest* events: nothing after them is left to disagree. An anchor pins the
head: ``{"type", "org", "seq", "head_hash", "at"}`` in canonical JSON, signed (ECDSA P-256, inside KMS) with the
org's signing key, written under ``anchors/{org}/{seq:012d}.json`` in a bucket whose objects are locked in
COMPLIANCE mode (nobody, the account root included, can delete or overwrite them until the retention ends).
:func:`verify_with_anchors` then reports a chain that ends before an anchored seq (truncated) or whose event at
an anchored seq has another hash (rewritten). Anchors are written hourly (the org's head, by the scheduled handler)
and as every N-th event of an org is written (by the audit stream, :mod:`functions.service.siem_export`), each
position at most once (an S3 conditional put). What remains undetectable is a change to the events written after
the newest anchor: fewer than N events, and at most one hour's.

The ``type`` field separates an anchor statement from an evidence-pack manifest signed by the same key.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from functions.service import env
from functions.service.audit_log import AuditLog, canonical_json
from functions.service.clock import utc_now
from functions.service.conditional import is_existing_object
from functions.service.ids import checked_id
from hetero_core.pack import public_key_id

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_s3 import S3Client

    from functions.service.tenant_keys import KmsSigner

ANCHOR_TYPE = "hetero2.audit-anchor.v1"
ANCHORS = "anchors/"
DEFAULT_RETENTION_DAYS = 2555  # seven years, a common GxP record-retention period


def anchor_key(org: str, seq: int) -> str:
    return f"{ANCHORS}{checked_id(org, 'org')}/{seq:012d}.json"


class AnchorStore:
    """The Object Lock bucket: every put is COMPLIANCE-locked for ``retention_days``."""

    def __init__(self, s3: S3Client, bucket: str, retention_days: int = DEFAULT_RETENTION_DAYS) -> None:
        self._s3, self.bucket, self.retention_days = s3, bucket, retention_days

    @classmethod
    def from_env(cls, s3: S3Client) -> AnchorStore:
        bucket = os.environ.get(env.ANCHOR_BUCKET, "")
        if not bucket:
            raise RuntimeError(f"set {env.ANCHOR_BUCKET}")
        return cls(s3, bucket, int(os.environ.get(env.ANCHOR_RETENTION_DAYS, DEFAULT_RETENTION_DAYS)))

    def put(self, org: str, seq: int, anchor: dict[str, Any]) -> bool:
        """Lock the anchor of event ``seq``, once: False if that seq is anchored already (S3 conditional put), so
        the hourly run and the every-N trigger, or a redelivered stream batch, never write one position twice."""
        try:
            self._s3.put_object(
                Bucket=self.bucket,
                Key=anchor_key(org, seq),
                Body=json.dumps(anchor, sort_keys=True).encode(),
                ContentType="application/json",
                IfNoneMatch="*",
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=self.retention_days),
                ChecksumAlgorithm="SHA256",  # S3 wants an integrity checksum on every Object Lock put
            )
        except ClientError as exc:
            if is_existing_object(exc):
                return False
            raise
        return True

    def anchors(self, org: str) -> list[dict[str, Any]]:
        """Every anchor of the org, oldest first (keys sort by seq)."""
        keys: list[str] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{ANCHORS}{checked_id(org, 'org')}/"
        ):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        found = []
        for key in sorted(keys):
            found.append(json.loads(self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()))
        return found


def statement(org: str, seq: int, head_hash: str, at: str | None = None) -> dict[str, Any]:
    return {"type": ANCHOR_TYPE, "org": org, "seq": seq, "head_hash": head_hash, "at": at or utc_now()}


def anchor(audit: AuditLog, signer: KmsSigner, store: AnchorStore, org: str) -> dict[str, Any] | None:
    """Sign and lock the org's current head; None if the log is empty or the head is anchored already."""
    head = audit.head(org)
    if head is None:
        return None
    existing = store.anchors(org)
    if existing and existing[-1]["statement"]["seq"] >= int(head["seq"]):
        return None
    return anchor_event(signer, store, org, int(head["seq"]), str(head["hash"]))


def anchor_event(signer: KmsSigner, store: AnchorStore, org: str, seq: int, event_hash: str) -> dict[str, Any] | None:
    """Sign and lock the anchor of one event (seq and hash); None if that seq was anchored already."""
    signed = statement(org, seq, event_hash)
    document = {
        "statement": signed,
        "signature": base64.b64encode(signer.sign(canonical_json(signed))).decode("ascii"),
        "key_id": signer.key_id,
        "public_key": signer.public_key_pem().decode("ascii"),
    }
    return document if store.put(org, seq, document) else None


def is_boundary(seq: int, every: int) -> bool:
    """Event ``seq`` is anchored by the stream as soon as it is written: every ``every``-th event of an org."""
    return every > 0 and seq > 0 and seq % every == 0


@dataclass(frozen=True, slots=True)
class AnchoredReport:
    """The chain's own verdict, then the anchors' (``anchored_seq``: the newest anchored event)."""

    ok: bool
    events_checked: int
    first_broken_seq: int | None
    reason: str | None
    head_hash: str | None
    anchors_checked: int
    anchored_seq: int | None


def verify_with_anchors(
    audit: AuditLog,
    store: AnchorStore,
    org: str,
    trusted_key: Callable[[str], bytes | None] | None = None,
) -> AnchoredReport:
    """Verify the chain, then every anchor: signature, and the event it pins (present, with the pinned hash).

    ``trusted_key(key_id)`` returns the org's published public key with that id (or None): anchors signed by any
    other key are reported. Without it, each anchor's own embedded key is used (integrity, not origin).
    """
    chain = audit.verify_chain(org)
    if not chain.ok:
        return AnchoredReport(False, chain.events_checked, chain.first_broken_seq, chain.reason, None, 0, None)
    last = chain.events_checked
    anchored: int | None = None
    documents = store.anchors(org)
    for count, document in enumerate(documents, start=1):
        signed, key_id = document.get("statement", {}), str(document.get("key_id", ""))
        seq = int(signed.get("seq", 0))
        pem = trusted_key(key_id) if trusted_key is not None else str(document.get("public_key", "")).encode()
        if pem is None or public_key_id(pem) != key_id:
            return _broken(last, seq, f"the anchor of event {seq} is signed by key {key_id}, not an org key", count)
        if signed.get("type") != ANCHOR_TYPE or signed.get("org") != org:
            return _broken(last, seq, f"the anchor of event {seq} is not an audit anchor of org {org}", count)
        signature = base64.b64decode(str(document.get("signature", "")))
        if not _verifies(pem, canonical_json(signed), signature):
            return _broken(last, seq, f"the anchor of event {seq} has a signature that does not verify", count)
        if seq > last:
            reason = (
                f"truncated: an anchor of {signed.get('at')} pins event {seq}, but the log ends at event {last} "
                f"(events {last + 1}..{seq} at least were deleted)"
            )
            return _broken(last, last + 1, reason, count)
        (event,) = audit.events(org, limit=1, start_after_seq=seq - 1)
        if event["hash"] != signed.get("head_hash"):
            reason = f"rewritten: event {seq} is not the event anchored at {signed.get('at')} (its hash differs)"
            return _broken(last, seq, reason, count)
        anchored = seq
    return AnchoredReport(True, last, None, None, chain.head_hash, len(documents), anchored)


def _verifies(pem: bytes, data: bytes, signature: bytes) -> bool:
    """ECDSA P-256 over SHA-256, as KMS's ECDSA_SHA_256 signs (DER signature)."""
    try:
        key = serialization.load_pem_public_key(pem)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return False
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def _broken(checked: int, seq: int, reason: str, anchors: int) -> AnchoredReport:
    return AnchoredReport(False, checked, seq, reason, None, anchors, None)

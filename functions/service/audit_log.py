"""The tamper-evident audit log: one append-only hash chain of events per org in its own DynamoDB table.

Events are numbered 1, 2, 3 ... per org and each carries the hash of the one before, so an edit, a deletion, a
reordering or a forged event breaks a link that :meth:`AuditLog.verify_chain` (and ``python -m
functions.service.audit_chain``) finds without trusting the service. The functions' IAM role may only PutItem with
``attribute_not_exists`` and read; docs/governance.md gives the exact hashed form so a third party can recompute it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import random
import re
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from functions.service import env
from functions.service import table as keys
from functions.service.clock import utc_now
from functions.service.conditional import is_condition_failure
from functions.service.dynamo_values import from_dynamo
from functions.service.errors import AuditLogError
from functions.service.ids import checked_id

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb.service_resource import Table

    from functions.service.context import ServiceContext
    from functions.service.tenancy import JobRef, ProjectRef

SCHEMA_VERSION = 1
GENESIS_HASH = "0" * 64
SYSTEM_RETENTION_ACTOR = "system:retention"
MAX_LIST_LIMIT = 1000
MAX_DETAILS_BYTES = 16 * 1024
MAX_TEXT_LENGTH = 1024
MAX_SOURCE_LENGTH = 64
# Beyond 2**53 a JSON number may be read as a rounded double by another language's parser.
MAX_SAFE_INTEGER = 2**53 - 1
APPEND_ATTEMPTS = 64

_EVENT_SK = re.compile(rf"{keys.EVENT}(\d{{12}})")
LAST_SEQ = 999_999_999_999
_FIRST_SK = keys.event_sk(1)
_LAST_SK = keys.event_sk(LAST_SEQ)
HASHED_FIELDS = ("v", "org", "seq", "at", "actor", "action", "target", "outcome", "source_ip", "details", "prev_hash")
STORED_ATTRIBUTES = frozenset({"pk", "sk", "hash", *HASHED_FIELDS})


class AuditAction(StrEnum):
    JOB_SUBMIT = "job.submit"
    JOB_START = "job.start"
    JOB_CANCEL = "job.cancel"
    JOB_RETRY = "job.retry"
    JOB_DELETE = "job.delete"
    JOB_REPRODUCE = "job.reproduce"
    PACK_DOWNLOAD = "pack.download"
    PACK_SHARE = "pack.share"
    JOB_SHARE = "job.share"  # a job shown to another member of the org (functions/service/job_shares.py)
    JOB_UNSHARE = "job.unshare"
    PROJECT_CREATE = "project.create"
    PROJECT_DELETE = "project.delete"
    ORG_CREATE = "org.create"
    MEMBER_ADD = "member.add"
    MEMBER_CHANGE_ROLE = "member.change_role"
    MEMBER_REMOVE = "member.remove"
    QUOTA_CHANGE = "quota.change"
    RETENTION_CHANGE = "retention.change"
    RETENTION_DELETE = "retention.delete"
    AUTH_REFUSED = "auth.refused"  # 401 on an org's routes (rate-limited, functions/service/refusals.py)
    ACCESS_DENIED = "access.denied"  # 403, or a 404 that hides another org or an unshared project
    SHARING_CHANGE = "sharing.change"
    # SCIM (functions/scim/): the token, and each write of the IdP; details carry the SCIM operation
    SCIM_TOKEN_ISSUE = "scim.token.issue"
    SCIM_USER_CREATE = "scim.user.create"
    SCIM_USER_REPLACE = "scim.user.replace"
    SCIM_USER_PATCH = "scim.user.patch"
    SCIM_USER_DELETE = "scim.user.delete"
    SCIM_GROUP_CREATE = "scim.group.create"
    SCIM_GROUP_REPLACE = "scim.group.replace"
    SCIM_GROUP_PATCH = "scim.group.patch"
    SCIM_GROUP_DELETE = "scim.group.delete"


class AuditOutcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"  # the caller's role does not allow the action
    REFUSED = "refused"  # allowed, but a policy said no (a quota)
    FAILED = "failed"  # allowed and attempted, but it did not happen


# The action names as plain module constants, for call sites that read ``audit_log.JOB_SUBMIT``.
JOB_SUBMIT = AuditAction.JOB_SUBMIT.value
JOB_START = AuditAction.JOB_START.value
JOB_CANCEL = AuditAction.JOB_CANCEL.value
JOB_RETRY = AuditAction.JOB_RETRY.value
JOB_DELETE = AuditAction.JOB_DELETE.value
JOB_REPRODUCE = AuditAction.JOB_REPRODUCE.value
PACK_DOWNLOAD = AuditAction.PACK_DOWNLOAD.value
PACK_SHARE = AuditAction.PACK_SHARE.value
JOB_SHARE = AuditAction.JOB_SHARE.value
JOB_UNSHARE = AuditAction.JOB_UNSHARE.value
PROJECT_CREATE = AuditAction.PROJECT_CREATE.value
PROJECT_DELETE = AuditAction.PROJECT_DELETE.value
ORG_CREATE = AuditAction.ORG_CREATE.value
MEMBER_ADD = AuditAction.MEMBER_ADD.value
MEMBER_CHANGE_ROLE = AuditAction.MEMBER_CHANGE_ROLE.value
MEMBER_REMOVE = AuditAction.MEMBER_REMOVE.value
QUOTA_CHANGE = AuditAction.QUOTA_CHANGE.value
RETENTION_CHANGE = AuditAction.RETENTION_CHANGE.value
RETENTION_DELETE = AuditAction.RETENTION_DELETE.value
AUTH_REFUSED = AuditAction.AUTH_REFUSED.value
ACCESS_DENIED = AuditAction.ACCESS_DENIED.value
SHARING_CHANGE = AuditAction.SHARING_CHANGE.value
SCIM_TOKEN_ISSUE = AuditAction.SCIM_TOKEN_ISSUE.value
ACTIONS = frozenset(action.value for action in AuditAction)


def job_target(ref: JobRef) -> str:
    """The ``target`` spelling of a job (as the API writes it), so every writer names the same job the same way."""
    return f"{ref.project}/{ref.job}"


def project_target(ref: ProjectRef) -> str:
    return f"{ref.org}/{ref.project}"


def canonical_json(fields: dict[str, Any]) -> bytes:
    """The exact bytes that are hashed: sorted keys, no whitespace, ASCII only (docs/governance.md)."""
    _check_canonical(fields, "event")
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def event_hash(fields: dict[str, Any]) -> str:
    """SHA-256 (lowercase hex) of the canonical JSON of the hashed fields of one event."""
    return hashlib.sha256(canonical_json({name: fields.get(name) for name in HASHED_FIELDS})).hexdigest()


def _check_canonical(value: Any, where: str) -> None:
    """Only values every JSON implementation writes the same way: no floats, no huge integers."""
    if value is None or isinstance(value, str | bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise AuditLogError(f"{where}: integer {value} is outside ±(2**53 - 1)")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_canonical(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditLogError(f"{where}: keys must be strings, got {key!r}")
            _check_canonical(item, f"{where}.{key}")
        return
    raise AuditLogError(f"{where}: {type(value).__name__} values are not allowed (use strings, integers, booleans)")


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT_LENGTH:
        raise AuditLogError(f"{what} must be a non-empty string of at most {MAX_TEXT_LENGTH} characters")
    return value


def _source_ip(value: object) -> str | None:
    """An address in its normal spelling; other short labels (API Gateway's test-invoke marker) are kept as given,
    because refusing them would make the request fail for want of an audit event."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_SOURCE_LENGTH or not value.isprintable():
        raise AuditLogError(f"source_ip must be a short printable string, got {value!r}")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def _timestamp(value: object) -> str:
    if value is None:
        return utc_now()
    if not isinstance(value, str):
        raise AuditLogError(f"at must be an ISO-8601 UTC timestamp, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise AuditLogError(f"at must be an ISO-8601 UTC timestamp, got {value!r}") from exc
    if parsed.tzinfo is None:
        raise AuditLogError(f"at must carry a time zone, got {value!r}")
    return value


def _event(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as callers see it: the hashed fields and the hash, without the table keys."""
    plain = from_dynamo(item)
    return {name: plain.get(name) for name in (*HASHED_FIELDS, "hash")}


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What verification found. ``events_checked`` counts the events found intact before the first broken link;
    ``head_hash`` (set when the chain holds) is worth recording elsewhere: it pins the whole history up to now."""

    ok: bool
    events_checked: int
    first_broken_seq: int | None
    reason: str | None
    head_hash: str | None = None


class AuditLog:
    def __init__(self, table: Table) -> None:
        self._table = table

    @classmethod
    def for_context(cls, ctx: ServiceContext) -> AuditLog:
        if not ctx.settings.audit_table:
            raise AuditLogError(f"{env.AUDIT_TABLE} is not set")
        return cls(ctx.dynamodb.Table(ctx.settings.audit_table))

    def append(
        self,
        org: str,
        *,
        actor: str,
        action: str,
        target: str,
        outcome: str,
        source_ip: str | None = None,
        details: dict[str, Any] | None = None,
        at: str | None = None,
    ) -> dict[str, Any]:
        """Add one event at the end of the org's chain; a lost race for the seq re-reads the head and tries again."""
        checked_id(org, "org")
        try:
            action_value = AuditAction(action).value
        except ValueError as exc:
            raise AuditLogError(f"unknown audit action {action!r}") from exc
        try:
            outcome_value = AuditOutcome(outcome).value
        except ValueError as exc:
            raise AuditLogError(f"unknown audit outcome {outcome!r}") from exc
        if not isinstance(details, dict | None):
            raise AuditLogError(f"details must be a dict, got {type(details).__name__}")
        event_details = dict(details or {})
        if len(canonical_json(event_details)) > MAX_DETAILS_BYTES:
            raise AuditLogError(f"details exceed {MAX_DETAILS_BYTES} bytes of canonical JSON")
        body: dict[str, Any] = {
            "v": SCHEMA_VERSION,
            "org": org,
            "at": _timestamp(at),
            "actor": _text(actor, "actor"),
            "action": action_value,
            "target": _text(target, "target"),
            "outcome": outcome_value,
            "source_ip": _source_ip(source_ip),
            "details": event_details,
        }
        for attempt in range(APPEND_ATTEMPTS):
            head = self._head_item(org)
            seq = 1 if head is None else _seq_of(head) + 1
            prev_hash = GENESIS_HASH if head is None else str(head.get("hash") or "")
            fields = {**body, "seq": seq, "prev_hash": prev_hash}
            event = {**fields, "hash": event_hash(fields)}
            try:
                self._table.put_item(
                    Item={**keys.event_key(org, seq), **event}, ConditionExpression="attribute_not_exists(pk)"
                )
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
                time.sleep(random.uniform(0, min(0.05, 0.002 * (attempt + 1))))
                continue
            return {name: event[name] for name in (*HASHED_FIELDS, "hash")}
        raise AuditLogError(f"could not append to the audit log of org {org} after {APPEND_ATTEMPTS} attempts")

    def head(self, org: str) -> dict[str, Any] | None:
        """The org's newest event (strongly consistent), or None for an empty log."""
        item = self._head_item(org)
        return None if item is None else _event(item)

    def _head_item(self, org: str) -> dict[str, Any] | None:
        page = self._table.query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={":pk": keys.org_pk(org), ":lo": _FIRST_SK, ":hi": _LAST_SK},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items: list[dict[str, Any]] = page.get("Items", [])
        return items[0] if items else None

    def events(self, org: str, *, limit: int, start_after_seq: int | None = None) -> list[dict[str, Any]]:
        """Up to ``limit`` events oldest first, starting after ``start_after_seq`` (the last seq the caller has).

        A page shorter than ``limit`` is the end of the log; ask for ``limit + 1`` to know whether more follow.
        """
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise AuditLogError(f"limit must be between 1 and {MAX_LIST_LIMIT}, got {limit}")
        first = 1 if start_after_seq is None or start_after_seq < 1 else start_after_seq + 1
        if first > LAST_SEQ:
            return []
        items = keys.all_items(
            self._table.query,
            limit=limit,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={":pk": keys.org_pk(org), ":lo": keys.event_sk(first), ":hi": _LAST_SK},
            ConsistentRead=True,
        )
        return [_event(item) for item in items]

    def verify_chain(self, org: str) -> ChainReport:
        """Walk the org's events oldest first and report the first link that does not hold."""
        expected = 1
        prev_hash = GENESIS_HASH
        for item in self._all_items(org):
            broken = _check_link(org, item, expected, prev_hash)
            if broken is not None:
                seq, reason = broken
                return ChainReport(False, expected - 1, seq, reason)
            prev_hash = str(item["hash"])
            expected += 1
        return ChainReport(True, expected - 1, None, None, prev_hash if expected > 1 else None)

    def _all_items(self, org: str) -> Iterator[dict[str, Any]]:
        """Every item under the org's key, not only well-formed events: a foreign item is itself a break."""
        return keys.all_items(
            self._table.query,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": keys.org_pk(org)},
            ConsistentRead=True,
        )


def _seq_of(item: dict[str, Any]) -> int:
    """The seq an item occupies is its key's, whatever its fields say: the key is what the put condition guards."""
    match = _EVENT_SK.fullmatch(str(item.get("sk")))
    if match is None:
        raise AuditLogError(f"the newest audit item has a malformed key {item.get('sk')!r}; run the verifier")
    return int(match.group(1))


def _check_link(org: str, item: dict[str, Any], expected: int, prev_hash: str) -> tuple[int, str] | None:
    """(seq, reason) of the first thing wrong with ``item`` as event number ``expected``, or None if it holds."""
    sk = str(item.get("sk"))
    match = _EVENT_SK.fullmatch(sk)
    if match is None:
        return expected, f"item with key {sk!r} is not an audit event"
    seq = int(match.group(1))
    if seq < expected:
        return seq, f"event number {seq} is not a valid position in the chain"
    if seq > expected:
        return expected, f"event {expected} is missing (the next stored event is {seq})"
    missing = sorted(STORED_ATTRIBUTES - item.keys())
    extra = sorted(item.keys() - STORED_ATTRIBUTES)
    if missing or extra:
        return seq, f"event {seq} has missing attributes {missing} or unexpected attributes {extra}"
    fields = from_dynamo({name: item[name] for name in HASHED_FIELDS})
    if fields["seq"] != seq:
        return seq, f"event {seq} says it is event {fields['seq']!r} (moved or reordered)"
    if fields["org"] != org:
        return seq, f"event {seq} belongs to org {fields['org']!r}"
    if fields["prev_hash"] != prev_hash:
        what = "the genesis value" if seq == 1 else f"the hash of event {seq - 1}"
        return seq, f"event {seq} prev_hash is not {what} (an earlier event was replaced, removed or reordered)"
    try:
        recomputed = event_hash(fields)
    except AuditLogError as exc:
        return seq, f"event {seq} holds values outside the canonical form: {exc}"
    if recomputed != item["hash"]:
        return seq, f"event {seq} hash does not match its content (a field was altered or the hash forged)"
    return None

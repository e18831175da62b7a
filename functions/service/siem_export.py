"""The audit log, streamed to the customer's SIEM: DynamoDB Streams of the audit table → OCSF records.

Each new audit event becomes one OCSF API Activity record (:mod:`functions.service.ocsf`), written twice:
- to the org's export prefix, ``tenants/{org}/exports/audit/ocsf/{yyyy}/{mm}/{dd}/{seq}.jsonl``, SSE-KMS under the
  org's own data key, with an S3 conditional put: the key is a function of the event, so a redelivered stream
  batch finds the object written already and leaves it as it was;
- onto the deployment's audit EventBridge bus (source ``hetero2.audit``), where a customer's rule picks its org by
  ``detail.metadata.tenant_uid``. EventBridge assigns its own envelope id and delivers at least once, so a
  consumer deduplicates on ``detail.metadata.uid``, the event's chain hash, which a redelivery repeats exactly.

The stream also anchors the chain (:mod:`functions.service.audit_anchor`): when an org's event ``seq`` is a
multiple of N it signs that event's hash into the Object Lock bucket at once, so no more than N-1 of the newest
events (and at most an hour's, the scheduled anchor) can be removed or rewritten unseen.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from boto3.dynamodb.types import TypeDeserializer

from functions.service import table as keys
from functions.service.audit_anchor import AnchorStore, anchor_event, is_boundary
from functions.service.audit_log import HASHED_FIELDS, event_hash
from functions.service.dynamo_values import from_dynamo
from functions.service.errors import AuditLogError
from functions.service.layout import audit_export_key
from functions.service.observability import logger, metrics
from functions.service.ocsf import to_ocsf
from functions.service.settings import AUDIT_DETAIL_TYPE, AUDIT_EVENT_SOURCE

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from mypy_boto3_events import EventBridgeClient

    from functions.service.artifacts import ArtifactStore
    from functions.service.tenant_keys import KmsSigner

EVENT_SOURCE: Final = AUDIT_EVENT_SOURCE
DETAIL_TYPE: Final = AUDIT_DETAIL_TYPE
_EVENT_SK: Final = re.compile(rf"{keys.EVENT}\d{{12}}")
_DESERIALIZE: Final = TypeDeserializer()


@dataclass(frozen=True, slots=True)
class StreamedEvent:
    """One audit event read from a stream record; ``position`` is the record's stream sequence number."""

    position: str
    event: dict[str, Any]

    @property
    def hash_holds(self) -> bool:
        """The event's stored hash is the hash of its fields (a forged or garbled item is never anchored)."""
        try:
            return event_hash(self.event) == self.event.get("hash")
        except AuditLogError:
            return False


def streamed_events(stream_event: dict[str, Any]) -> Iterator[StreamedEvent]:
    """The audit events a DynamoDB Streams batch inserted, in stream order.

    Only INSERTs carry events: the table's policy denies updates and deletes to everyone, so a MODIFY or REMOVE
    record is not an event to export (the verifier reports what it did to the chain).
    """
    for record in stream_event.get("Records", []):
        change = record.get("dynamodb", {})
        image = change.get("NewImage")
        if record.get("eventName") != "INSERT" or not image:
            continue
        item = from_dynamo({name: _DESERIALIZE.deserialize(value) for name, value in image.items()})
        if not _EVENT_SK.fullmatch(str(item.get("sk"))):
            continue
        event = {name: item.get(name) for name in (*HASHED_FIELDS, "hash")}
        yield StreamedEvent(str(change.get("SequenceNumber", "")), event)


@dataclass(frozen=True, slots=True)
class Exported:
    """What handling one event did: whether its object was new, and whether it anchored the chain."""

    written: bool
    anchored: bool


class SiemExporter:
    """Writes each streamed event to its org's export prefix and the audit bus, and anchors every N-th."""

    def __init__(
        self,
        store_for: Callable[[str], ArtifactStore],
        events: EventBridgeClient,
        bus: str,
        *,
        anchors: AnchorStore | None = None,
        signer_for: Callable[[str], KmsSigner] | None = None,
        anchor_every: int = 0,
    ) -> None:
        self._store_for, self._events, self._bus = store_for, events, bus
        self._anchors, self._signer_for, self._every = anchors, signer_for, anchor_every

    def export(self, streamed: StreamedEvent) -> Exported:
        event = streamed.event
        org, seq = str(event["org"]), int(event["seq"])
        record = to_ocsf(event)
        line = json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        written = self._store_for(org).put_new(
            audit_export_key(org, seq, str(event["at"])), line, "application/x-ndjson"
        )
        self._publish(record)
        return Exported(written, self._anchor(streamed, org, seq))

    def _publish(self, record: dict[str, Any]) -> None:
        answer = self._events.put_events(
            Entries=[
                {
                    "EventBusName": self._bus,
                    "Source": EVENT_SOURCE,
                    "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps(record, sort_keys=True),
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            failed = answer["Entries"][0]
            raise RuntimeError(
                f"EventBridge refused an audit event: {failed.get('ErrorCode')} {failed.get('ErrorMessage')}"
            )

    def _anchor(self, streamed: StreamedEvent, org: str, seq: int) -> bool:
        if self._anchors is None or self._signer_for is None or not is_boundary(seq, self._every):
            return False
        if not streamed.hash_holds:
            # Exported as it is (the SIEM sees what the table holds), never signed; the alarm asks for the verifier.
            logger.error("audit event does not match its hash: not anchored", extra={"org": org, "seq": seq})
            metrics.add_metric(name="AuditHashMismatch", unit="Count", value=1)
            return False
        return anchor_event(self._signer_for(org), self._anchors, org, seq, str(streamed.event["hash"])) is not None

    def handle(self, stream_event: dict[str, Any]) -> dict[str, Any]:
        """Export a batch in order; on the first failure, report it and everything after it for a retry
        (Lambda's ``ReportBatchItemFailures``), so no event is skipped and none written out of order."""
        for streamed in streamed_events(stream_event):
            try:
                self.export(streamed)
            except Exception:
                logger.exception("audit export failed; the batch is retried from this event", extra=streamed.event)
                return {"batchItemFailures": [{"itemIdentifier": streamed.position}]}
        return {"batchItemFailures": []}

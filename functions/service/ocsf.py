"""Audit events as OCSF API Activity (class 6003) records, one JSON object per line, for a customer's SIEM.

:mod:`functions.service.siem_export` streams these records to each org's export prefix and the audit EventBridge
bus; the tests validate every record against OCSF 1.3.0's API Activity class with pydantic-ocsf, which ships the
OCSF schema exports. docs/security.md lists the mapping. Every hashed field of the event survives: what has no
OCSF attribute goes to ``unmapped``, so the hash chain can be recomputed from the export.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Iterable

OCSF_VERSION: Final = "1.3.0"
CATEGORY_UID: Final = 6  # Application Activity
CLASS_UID: Final = 6003  # API Activity
PRODUCT: Final = {"name": "HETERO-2", "vendor_name": "HETERO-2"}

# OCSF API Activity activity_id: 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other
ACTIVITY_OF_ACTION: Final[dict[str, int]] = {
    "org.create": 1,
    "project.create": 1,
    "job.submit": 1,
    "job.reproduce": 1,
    "member.add": 1,
    "pack.share": 1,
    "job.share": 1,
    "pack.download": 2,
    "job.start": 3,
    "job.cancel": 3,
    "job.retry": 3,
    "member.change_role": 3,
    "quota.change": 3,
    "retention.change": 3,
    "sharing.change": 3,
    "job.delete": 4,
    "project.delete": 4,
    "member.remove": 4,
    "job.unshare": 4,
    "retention.delete": 4,
    "scim.token.issue": 1,
    "scim.user.create": 1,
    "scim.group.create": 1,
    "scim.user.replace": 3,
    "scim.user.patch": 3,
    "scim.group.replace": 3,
    "scim.group.patch": 3,
    "scim.user.delete": 4,
    "scim.group.delete": 4,
}
OTHER_ACTIVITY: Final = 99
# OCSF status_id: 1 Success, 2 Failure; severity_id: 1 Informational, 3 Medium (a refusal is worth a look)
STATUS_OF_OUTCOME: Final[dict[str, tuple[int, str]]] = {
    "success": (1, "Success"),
    "denied": (2, "Failure"),
    "refused": (2, "Failure"),
    "failed": (2, "Failure"),
}


def to_ocsf(event: dict[str, Any]) -> dict[str, Any]:
    """One audit event (as :meth:`AuditLog.events` returns it) as an OCSF API Activity record."""
    activity_id = ACTIVITY_OF_ACTION.get(str(event["action"]), OTHER_ACTIVITY)
    status_id, status = STATUS_OF_OUTCOME.get(str(event["outcome"]), (99, "Other"))
    details = event.get("details") or {}
    at = str(event["at"])
    record: dict[str, Any] = {
        "category_uid": CATEGORY_UID,
        "class_uid": CLASS_UID,
        "activity_id": activity_id,
        "type_uid": CLASS_UID * 100 + activity_id,
        "severity_id": 1 if status_id == 1 else 3,
        "status_id": status_id,
        "status": status,
        "time": int(datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp() * 1000),
        "message": f"{event['action']} {event['target']} ({event['outcome']})",
        "metadata": {
            "version": OCSF_VERSION,
            "product": PRODUCT,
            "uid": str(event["hash"]),
            "original_time": at,
            "tenant_uid": str(event["org"]),
            "event_code": str(event["action"]),
        },
        "actor": {"user": {"uid": str(event["actor"])}},
        "api": {"operation": str(event["action"])},
        "resources": [{"uid": str(event["target"]), "type": str(event["action"]).split(".", 1)[0]}],
        # OCSF wants at least one of an endpoint's identifiers: without a caller's address, the source is the service
        "src_endpoint": {"ip": event["source_ip"]} if event.get("source_ip") else {"svc_name": PRODUCT["name"]},
        "cloud": {"provider": "AWS"},
        "unmapped": {
            "seq": event["seq"],
            "prev_hash": event["prev_hash"],
            "outcome": event["outcome"],
            "details": details,
            "v": event["v"],
        },
    }
    if isinstance(details, dict) and details.get("request_id"):
        record["api"]["request"] = {"uid": str(details["request_id"])}
    return record


def json_lines(events: Iterable[dict[str, Any]]) -> bytes:
    """OCSF records as JSON Lines (UTF-8, one record per line, keys sorted)."""
    return b"".join(json.dumps(to_ocsf(e), sort_keys=True).encode() + b"\n" for e in events)

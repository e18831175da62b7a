"""Audit events as OCSF API Activity (6003) records: the attributes the class requires, and nothing lost (the
hash of each event can be recomputed from its OCSF record)."""

from __future__ import annotations

import json
from typing import Any

from functions.service.audit_log import AuditLog, event_hash
from functions.service.ocsf import CLASS_UID, json_lines, to_ocsf

REQUIRED = ("activity_id", "category_uid", "class_uid", "type_uid", "severity_id", "time", "metadata", "actor", "api")


def _events(table: Any) -> list[dict[str, Any]]:
    log = AuditLog(table)
    log.append("org-x", actor="alice", action="job.submit", target="p/j1", outcome="success", source_ip="192.0.2.7")
    log.append(
        "org-x",
        actor="anonymous",
        action="auth.refused",
        target="/v1/orgs/org-x",
        outcome="denied",
        source_ip="198.51.100.9",
        details={"request_id": "r-1", "status": 401},
    )
    return log.events("org-x", limit=10)


def test_records_carry_what_api_activity_requires(table: Any) -> None:
    submitted, refused = (to_ocsf(e) for e in _events(table))
    for record in (submitted, refused):
        assert all(name in record for name in REQUIRED)
        assert record["class_uid"] == CLASS_UID
        assert record["type_uid"] == CLASS_UID * 100 + record["activity_id"]
        assert record["metadata"]["version"]
        assert record["metadata"]["product"]["name"] == "HETERO-2"
        assert record["cloud"]["provider"] == "AWS"
    assert (submitted["activity_id"], submitted["status_id"], submitted["severity_id"]) == (1, 1, 1)
    assert (refused["activity_id"], refused["status_id"], refused["severity_id"]) == (99, 2, 3)
    assert refused["src_endpoint"] == {"ip": "198.51.100.9"}
    assert refused["api"]["request"] == {"uid": "r-1"}


def test_each_events_hash_can_be_recomputed_from_its_record(table: Any) -> None:
    lines = json_lines(_events(table)).decode().splitlines()
    assert len(lines) == 2
    for line in lines:
        record = json.loads(line)
        rebuilt = {
            "v": record["unmapped"]["v"],
            "org": record["metadata"]["tenant_uid"],
            "seq": record["unmapped"]["seq"],
            "at": record["metadata"]["original_time"],
            "actor": record["actor"]["user"]["uid"],
            "action": record["api"]["operation"],
            "target": record["resources"][0]["uid"],
            "outcome": record["unmapped"]["outcome"],
            "source_ip": record["src_endpoint"].get("ip"),
            "details": record["unmapped"]["details"],
            "prev_hash": record["unmapped"]["prev_hash"],
        }
        assert event_hash(rebuilt) == record["metadata"]["uid"]

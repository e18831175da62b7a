"""Audit events as OCSF API Activity (6003) records: the attributes the class requires, and nothing lost (the
hash of each event can be recomputed from its OCSF record)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from ocsf.v1_3_0.events import ApiActivity
from pydantic import ValidationError

from functions.service.audit_log import AuditAction, AuditLog, AuditOutcome, event_hash
from functions.service.ocsf import CLASS_UID, OCSF_VERSION, json_lines, to_ocsf

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


def _schema() -> dict[str, Any]:
    """OCSF's own schema export of the version we emit, as pydantic-ocsf ships it."""
    name = f"v{OCSF_VERSION.replace('.', '_')}.json"
    document: dict[str, Any] = json.loads(resources.files("ocsf").joinpath("schemas", name).read_text())
    return document


@pytest.mark.parametrize("outcome", list(AuditOutcome))
@pytest.mark.parametrize("source_ip", ["203.0.113.5", None])
def test_every_action_and_outcome_is_a_valid_ocsf_api_activity(table: Any, outcome: str, source_ip: str | None) -> None:
    """Validated by a maintained OCSF library (pydantic-ocsf's models of OCSF 1.3.0), plus the schema's
    "at least one identifier" constraint on endpoints, which the models do not check."""
    log = AuditLog(table)
    for action in AuditAction:
        log.append("org-v", actor="alice", action=action, target="p/j", outcome=outcome, source_ip=source_ip)
    schema = _schema()
    endpoint_ids = schema["objects"]["network_endpoint"]["constraints"]["at_least_one"]
    activities = {int(uid) for uid in schema["events"]["api_activity"]["attributes"]["activity_id"]["enum"]}
    for event in log.events("org-v", limit=100):
        record = to_ocsf(event)
        model = ApiActivity.model_validate(record)
        assert model.model_dump()["class_uid"] == CLASS_UID
        assert record["activity_id"] in activities | {99}
        assert any(record["src_endpoint"].get(name) for name in endpoint_ids)


def test_the_ocsf_library_refuses_a_record_we_would_get_wrong(table: Any) -> None:
    """The validation is not vacuous: a wrong type_uid, a missing actor or product is refused."""
    (event,) = _events(table)[:1]
    record = to_ocsf(event)
    for broken in (
        {**record, "type_uid": CLASS_UID * 100 + 4},
        {name: value for name, value in record.items() if name != "actor"},
        {**record, "metadata": {"version": OCSF_VERSION}},
    ):
        with pytest.raises(ValidationError):
            ApiActivity.model_validate(broken)

"""The audit log: an append-only hash chain per org that names the first broken link after any tampering."""

from __future__ import annotations

import hashlib
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError

from functions.service import audit_chain, audit_log
from functions.service.audit_log import GENESIS_HASH, AuditAction, AuditLog, event_hash
from functions.service.dynamo_values import from_dynamo
from functions.service.errors import AuditLogError, InvalidIdentifierError
from functions.service.table import event_key
from functions.service.tenancy import JobRef, ProjectRef
from tests.service.conftest import race
from tests.service.harness import REGION, TABLE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

AUDIT_TABLE = TABLE  # the shared pk/sk table of tests/service/conftest.py serves as the audit table
AT = "2025-01-02T03:04:05.000000Z"


@pytest.fixture
def log(table: Any) -> AuditLog:
    return AuditLog(table)


def _assert_broken_at(log: AuditLog, seq: int, reason: str = "", *, intact_before: int | None = None) -> None:
    """The verifier names ``seq`` as the first broken link of org-a's chain, with ``reason`` in its explanation."""
    report = log.verify_chain("org-a")
    assert not report.ok
    assert report.first_broken_seq == seq
    assert reason in str(report.reason)
    if intact_before is not None:
        assert report.events_checked == intact_before


def _append(log: AuditLog, org: str = "org-a", n: int = 1, actor: str = "alice@example.com") -> list[dict[str, Any]]:
    return [
        log.append(
            org,
            actor=actor,
            action=AuditAction.JOB_SUBMIT,
            target=f"proj/j{i}",
            outcome="success",
            source_ip="192.0.2.7",
            details={"rows": i},
        )
        for i in range(n)
    ]


def _item(table: Any, seq: int, org: str = "org-a") -> dict[str, Any]:
    item: dict[str, Any] = table.get_item(Key=event_key(org, seq))["Item"]
    return item


# --- the hashed form ---


def test_first_event_hash_is_sha256_of_the_documented_canonical_json(log: AuditLog) -> None:
    event = log.append(
        "org-a",
        actor="alice@example.com",
        action="job.submit",
        target="proj/j1",
        outcome="success",
        source_ip="192.0.2.7",
        details={"rows": 3, "name": "café"},
        at=AT,
    )
    canonical = (
        '{"action":"job.submit","actor":"alice@example.com","at":"2025-01-02T03:04:05.000000Z",'
        '"details":{"name":"caf\\u00e9","rows":3},"org":"org-a","outcome":"success",'
        f'"prev_hash":"{"0" * 64}","seq":1,"source_ip":"192.0.2.7","target":"proj/j1","v":1}}'
    ).encode("ascii")
    assert event["seq"] == 1
    assert event["prev_hash"] == GENESIS_HASH
    assert event["hash"] == hashlib.sha256(canonical).hexdigest()
    assert event["hash"] == "6938bd71351618260fd64504d388cc3147e2efa802d72ecc987f9a7083600f5b"  # docs/governance.md
    assert audit_log.canonical_json({k: event[k] for k in audit_log.HASHED_FIELDS}) == canonical


def test_each_event_carries_the_hash_of_the_one_before(log: AuditLog) -> None:
    events = _append(log, n=3)
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert events[1]["prev_hash"] == events[0]["hash"]
    assert events[2]["prev_hash"] == events[1]["hash"]
    assert all(e["hash"] == event_hash(e) for e in events)
    report = log.verify_chain("org-a")
    assert (report.ok, report.events_checked, report.first_broken_seq, report.reason) == (True, 3, None, None)
    assert report.head_hash == events[2]["hash"]


def test_stored_event_round_trips_booleans_nulls_lists_and_unicode(log: AuditLog) -> None:
    details = {"flag": True, "none": None, "list": [1, "two", [False]], "who": "Jürgen 🧪", "big": 2**53 - 1}
    event = log.append("org-a", actor="bob", action="pack.share", target="t", outcome="success", details=details)
    stored = log.events("org-a", limit=10)
    assert stored == [event]
    assert stored[0]["details"] == details
    assert log.verify_chain("org-a").ok


def test_orgs_have_separate_chains(log: AuditLog) -> None:
    _append(log, "org-a", 2)
    first_b = _append(log, "org-b", 1)[0]
    assert first_b["seq"] == 1
    assert first_b["prev_hash"] == GENESIS_HASH
    assert log.verify_chain("org-a").events_checked == 2
    assert log.verify_chain("org-b").events_checked == 1


def test_empty_log(log: AuditLog) -> None:
    assert log.head("org-a") is None
    assert log.events("org-a", limit=5) == []
    report = log.verify_chain("org-a")
    assert (report.ok, report.events_checked, report.head_hash) == (True, 0, None)


def test_details_default_to_an_empty_object_and_time_is_stamped(log: AuditLog) -> None:
    event = log.append("org-a", actor="system:retention", action="retention.delete", target="t", outcome="success")
    assert event["details"] == {}
    assert event["source_ip"] is None
    assert event["at"].endswith("Z")


@pytest.mark.parametrize(
    ("given", "stored"),
    [("2001:DB8::1", "2001:db8::1"), ("192.0.2.7", "192.0.2.7"), ("test-invoke-source-ip", "test-invoke-source-ip")],
)
def test_source_ip_is_normalised_when_it_is_an_address(log: AuditLog, given: str, stored: str) -> None:
    event = log.append("org-a", actor="a", action="job.start", target="t", outcome="success", source_ip=given)
    assert event["source_ip"] == stored


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"action": "job.explode"}, "unknown audit action"),
        ({"outcome": "maybe"}, "unknown audit outcome"),
        ({"actor": ""}, "actor"),
        ({"target": "x" * 1025}, "target"),
        ({"details": {"score": 0.5}}, "float"),
        ({"details": {"n": 2**53}}, "outside"),
        ({"details": {1: "a"}}, "keys must be strings"),
        ({"details": {"blob": "x" * 17_000}}, "exceed"),
        ({"details": ["not", "a", "dict"]}, "must be a dict"),
        ({"at": "yesterday"}, "ISO-8601"),
        ({"at": "2025-01-02T03:04:05"}, "time zone"),
        ({"source_ip": "x" * 65}, "source_ip"),
        ({"source_ip": "10.0.0.1\n"}, "source_ip"),
    ],
)
def test_bad_events_are_refused_and_nothing_is_stored(log: AuditLog, change: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {"actor": "a", "action": "job.submit", "target": "t", "outcome": "success", **change}
    with pytest.raises(AuditLogError, match=message):
        log.append("org-a", **fields)
    assert log.head("org-a") is None


def test_bad_org_id_is_refused(log: AuditLog) -> None:
    with pytest.raises(InvalidIdentifierError):
        log.append("../org-b", actor="a", action="job.submit", target="t", outcome="success")


def test_action_constants_match_the_enum() -> None:
    assert audit_log.JOB_SUBMIT == "job.submit"
    assert audit_log.RETENTION_DELETE == "retention.delete"
    assert {a.value for a in AuditAction} == audit_log.ACTIONS
    # 16 + auth.refused, access.denied, sharing.change (issue 14), job.reproduce (issue 12), job.share, job.unshare
    # (issue 15), the SCIM token and 8 SCIM writes
    assert len(audit_log.ACTIONS) == 31


def test_job_target_names_project_and_job() -> None:
    assert audit_log.job_target(JobRef("org-a", "proj", "j1")) == "proj/j1"
    assert audit_log.project_target(ProjectRef("org-a", "proj")) == "org-a/proj"


# --- listing ---


def test_events_page_oldest_first_after_a_cursor(log: AuditLog) -> None:
    _append(log, n=5)
    assert [e["seq"] for e in log.events("org-a", limit=2)] == [1, 2]
    assert [e["seq"] for e in log.events("org-a", limit=2, start_after_seq=2)] == [3, 4]
    assert [e["seq"] for e in log.events("org-a", limit=2, start_after_seq=4)] == [5]
    assert log.events("org-a", limit=2, start_after_seq=5) == []
    assert [e["seq"] for e in log.events("org-a", limit=2, start_after_seq=0)] == [1, 2]
    assert "pk" not in log.events("org-a", limit=1)[0]


@pytest.mark.parametrize("limit", [0, 1001])
def test_events_limit_is_bounded(log: AuditLog, limit: int) -> None:
    with pytest.raises(AuditLogError, match="limit"):
        log.events("org-a", limit=limit)


# --- concurrency ---


def test_concurrent_appends_make_one_gap_free_valid_chain(table: Any) -> None:
    threads_n, per_thread = 6, 3

    def writer(index: int) -> None:
        own = AuditLog(boto3.session.Session().resource("dynamodb", region_name=REGION).Table(AUDIT_TABLE))
        _append(own, actor=f"user-{index}", n=per_thread)

    race(threads_n, writer)  # fails the test if any writer raised
    log = AuditLog(table)
    events = log.events("org-a", limit=100)
    assert [e["seq"] for e in events] == list(range(1, threads_n * per_thread + 1))
    assert sorted(e["actor"] for e in events) == sorted(
        f"user-{i}" for i in range(threads_n) for _ in range(per_thread)
    )
    report = log.verify_chain("org-a")
    assert report.ok
    assert report.events_checked == threads_n * per_thread


class _AlwaysTakenTable:
    """A table where some other writer always wins the next seq."""

    def query(self, **_: Any) -> dict[str, Any]:
        return {"Items": []}

    def put_item(self, **_: Any) -> None:
        raise ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "taken"}}, "PutItem")


def test_append_gives_up_with_a_named_error_after_losing_every_race(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda _: None)  # the retry backoff
    with pytest.raises(AuditLogError, match="64 attempts"):
        AuditLog(cast("Table", _AlwaysTakenTable())).append(
            "org-a", actor="a", action="job.submit", target="t", outcome="success"
        )


# --- tampering ---


def test_altered_field_is_the_first_broken_link(log: AuditLog, table: Any) -> None:
    _append(log, n=5)
    item = _item(table, 3)
    table.put_item(Item={**item, "actor": "mallory"})
    report = log.verify_chain("org-a")
    assert (report.ok, report.first_broken_seq, report.events_checked) == (False, 3, 2)
    assert "hash does not match" in str(report.reason)


def test_altered_field_with_recomputed_hash_breaks_the_next_link(log: AuditLog, table: Any) -> None:
    _append(log, n=5)
    item = _item(table, 3)
    forged = {**from_dynamo(item), "actor": "mallory"}
    forged["hash"] = event_hash(forged)
    table.put_item(Item=forged)
    _assert_broken_at(log, 4, "prev_hash", intact_before=3)


def test_deleted_event_is_a_gap(log: AuditLog, table: Any) -> None:
    _append(log, n=5)
    table.delete_item(Key=event_key("org-a", 2))
    report = log.verify_chain("org-a")
    assert (report.ok, report.first_broken_seq, report.events_checked) == (False, 2, 1)
    assert "event 2 is missing" in str(report.reason)


def test_deleted_first_event_is_found(log: AuditLog, table: Any) -> None:
    _append(log, n=3)
    table.delete_item(Key=event_key("org-a", 1))
    _assert_broken_at(log, 1, intact_before=0)


def test_deleted_event_with_later_ones_renumbered_is_found(log: AuditLog, table: Any) -> None:
    _append(log, n=4)
    fourth = _item(table, 4)
    table.delete_item(Key=event_key("org-a", 4))
    table.put_item(Item={**fourth, **event_key("org-a", 3), "seq": 3})
    _assert_broken_at(log, 3, "prev_hash", intact_before=2)


@pytest.mark.parametrize(("rewrite_seq", "reason"), [(False, "moved or reordered"), (True, "prev_hash")])
def test_reordered_events_are_found_even_with_their_seq_fields_rewritten(
    log: AuditLog, table: Any, rewrite_seq: bool, reason: str
) -> None:
    _append(log, n=4)
    second, third = _item(table, 2), _item(table, 3)
    seq_of_second, seq_of_third = ({"seq": 2}, {"seq": 3}) if rewrite_seq else ({}, {})
    table.put_item(Item={**third, "pk": second["pk"], "sk": second["sk"], **seq_of_second})
    table.put_item(Item={**second, "pk": third["pk"], "sk": third["sk"], **seq_of_third})
    _assert_broken_at(log, 2, reason, intact_before=1)


def test_inserted_event_with_a_made_up_hash_is_found(log: AuditLog, table: Any) -> None:
    events = _append(log, n=3)
    fake = {**_item(table, 3), **event_key("org-a", 4), "seq": 4, "actor": "mallory"}
    fake["prev_hash"] = events[2]["hash"]
    fake["hash"] = "f" * 64
    table.put_item(Item=fake)
    _assert_broken_at(log, 4, intact_before=3)


def test_inserted_event_that_does_not_link_is_found(log: AuditLog, table: Any) -> None:
    _append(log, n=3)
    fake = {**from_dynamo(_item(table, 2)), "seq": 4, "prev_hash": "a" * 64}
    fake["hash"] = event_hash(fake)
    table.put_item(Item={**fake, **event_key("org-a", 4)})
    _assert_broken_at(log, 4, "prev_hash")


def test_inserted_foreign_item_between_events_is_found(log: AuditLog, table: Any) -> None:
    _append(log, n=3)
    table.put_item(Item={**_item(table, 2), "sk": "EVENT#000000000002x"})
    _assert_broken_at(log, 3, "not an audit event", intact_before=2)


def test_event_number_zero_is_found(log: AuditLog, table: Any) -> None:
    _append(log, n=2)
    table.put_item(Item={**_item(table, 1), "sk": "EVENT#000000000000", "seq": 0})
    _assert_broken_at(log, 0)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"note": "added later"}, "unexpected attributes"),
        ({"org": "org-b"}, "belongs to org"),
        ({"details": {"rows": Decimal("1.5")}}, "canonical form"),
        ({"seq": 7}, "says it is event 7"),
    ],
)
def test_other_edits_are_found(log: AuditLog, table: Any, change: dict[str, Any], reason: str) -> None:
    _append(log, n=3)
    table.put_item(Item={**_item(table, 2), **change})
    _assert_broken_at(log, 2, reason)


def test_removed_attribute_is_found(log: AuditLog, table: Any) -> None:
    _append(log, n=2)
    item = _item(table, 2)
    del item["source_ip"]
    table.put_item(Item=item)
    _assert_broken_at(log, 2, "missing attributes ['source_ip']")


def test_append_refuses_to_extend_a_log_whose_newest_key_is_malformed(log: AuditLog, table: Any) -> None:
    _append(log, n=2)
    table.put_item(Item={**_item(table, 2), "sk": "EVENT#00000000000x"})
    with pytest.raises(AuditLogError, match="malformed key"):
        _append(log)


# --- the console command ---


def test_verify_command_ok(log: AuditLog, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HETERO2_AUDIT_TABLE", AUDIT_TABLE)
    events = _append(log, n=2)
    assert audit_chain.main(["--org", "org-a"]) == 0
    assert capsys.readouterr().out.strip() == f"OK org=org-a events=2 head_hash={events[1]['hash']}"


def test_verify_command_names_the_first_broken_link(
    log: AuditLog, table: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HETERO2_AUDIT_TABLE", AUDIT_TABLE)
    _append(log, n=4)
    table.delete_item(Key=event_key("org-a", 3))
    assert audit_chain.main(["--org", "org-a"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("BROKEN org=org-a first_broken_seq=3 intact_before=2:")
    assert "event 3 is missing" in out


def test_verify_command_takes_the_table_from_the_command_line(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HETERO2_AUDIT_TABLE", raising=False)
    assert audit_chain.main(["--org", "org-a", "--table", AUDIT_TABLE]) == 0
    assert capsys.readouterr().out.startswith("OK org=org-a events=0")


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [(["--org", "org-a"], "", "HETERO2_AUDIT_TABLE"), (["--org", "Org A"], AUDIT_TABLE, "org must be")],
)
def test_verify_command_cannot_check(
    table: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: str,
    message: str,
) -> None:
    monkeypatch.setenv("HETERO2_AUDIT_TABLE", env)
    assert audit_chain.main(argv) == 2
    assert message in capsys.readouterr().err


def test_verify_command_requires_an_org(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        audit_chain.main([])
    assert exited.value.code == 2
    assert "--org" in capsys.readouterr().err

"""The S3 drop folder: a file in an inbox starts one job, however often its event arrives."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from functions.handlers import drop_trigger
from functions.service.drop_folder import drop_job_id, parse_drop_key
from functions.service.errors import InvalidIdentifierError
from functions.service.jobs import JobState
from functions.service.quotas import QuotaGuard
from functions.service.tenancy import JobRef, ProjectRef
from tests.service.conftest import make_org
from tests.service.harness import BUCKET, TABLE, LambdaContextData, PipelineHarness
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.type_defs import ExecutionListItemTypeDef

INBOX = "tenants/org-a/projects/proj/inbox/"
OUTBOX = "tenants/org-a/projects/proj/outbox/"


def _event(key: str, etag: str, bucket: str = BUCKET) -> dict[str, Any]:
    """An EventBridge 'Object Created' event as S3 sends it."""
    return {
        "version": "0",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "etag": etag, "size": 1}},
    }


def _drop(pipeline: PipelineHarness, name: str, data: bytes) -> str:
    store = pipeline.context.store("org-a")
    store.put_bytes(INBOX + name, data)
    etag: str = pipeline.context.s3.head_object(Bucket=BUCKET, Key=INBOX + name)["ETag"]
    return etag


def _trigger(key: str, etag: str, bucket: str = BUCKET) -> dict[str, Any]:
    result: dict[str, Any] = drop_trigger.handler(_event(key, etag, bucket), LambdaContextData("hetero2-drop-trigger"))
    return result


def _executions(pipeline: PipelineHarness) -> list[ExecutionListItemTypeDef]:
    executions = pipeline.context.sfn.list_executions(stateMachineArn=pipeline.state_machine_arn)["executions"]
    return executions


def test_the_same_object_delivered_twice_starts_one_job(pipeline: PipelineHarness, org_a: str) -> None:
    store = pipeline.context.store(org_a)
    store.put_bytes(INBOX + "batch7.job.json", json.dumps({"k_decoys": 3, "scorer": "mock"}).encode())
    etag = _drop(pipeline, "batch7.csv", input_csv(distinct_molecules(6)))

    first = _trigger(INBOX + "batch7.csv", etag)
    second = _trigger(INBOX + "batch7.csv", etag)
    assert first["started"] is True
    assert second == {"started": False, "reason": "duplicate", "job": first["job"]}
    (execution,) = _executions(pipeline)
    assert pipeline.wait(execution["executionArn"])["status"] == "SUCCEEDED"

    job = pipeline.context.jobs.get(JobRef(org_a, "proj", first["job"]))
    assert job.state == JobState.SUCCEEDED
    assert job.params["k_decoys"] == 3  # NAME.job.json was read
    outbox = set(store.list_keys(OUTBOX + "batch7/"))
    assert {OUTBOX + "batch7/" + name for name in ("evidence_pack.zip", "manifest.json", "summary.csv")} <= outbox


def test_a_new_upload_under_the_same_name_is_a_new_job(pipeline: PipelineHarness, org_a: str) -> None:
    first = _trigger(INBOX + "x.csv", _drop(pipeline, "x.csv", input_csv(distinct_molecules(2))))
    second = _trigger(INBOX + "x.csv", _drop(pipeline, "x.csv", input_csv(distinct_molecules(3))))
    assert first["started"]
    assert second["started"]
    assert first["job"] != second["job"]


def test_companions_and_other_keys_start_nothing(pipeline: PipelineHarness, org_a: str) -> None:
    for key in (
        INBOX + "batch7.job.json",
        INBOX + "batch7.scores.csv",
        INBOX + "notes.txt",
        "tenants/org-a/projects/proj/outbox/batch7/summary.csv",
        "tenants/org-a/projects/proj/inbox/sub/deeper.csv",
    ):
        assert _trigger(key, '"abc"') == {"started": False, "reason": "not_an_input"}
    assert _trigger(INBOX + "x.csv", '"abc"', bucket="someone-elses-bucket")["reason"] == "other_bucket"
    assert _executions(pipeline) == []


def test_invalid_job_json_fails_the_job_with_an_error_file_in_the_outbox(pipeline: PipelineHarness, org_a: str) -> None:
    store = pipeline.context.store(org_a)
    store.put_bytes(INBOX + "bad.job.json", b'{"k_decoys": "many"}')
    result = _trigger(INBOX + "bad.csv", _drop(pipeline, "bad.csv", input_csv(distinct_molecules(2))))
    assert result["reason"] == "invalid_parameters"
    assert pipeline.context.jobs.get(JobRef(org_a, "proj", result["job"])).state == JobState.FAILED
    assert "k_decoys" in store.get_json(OUTBOX + "bad/error.json")["error"]
    assert _executions(pipeline) == []


def test_drop_key_parsing() -> None:
    drop = parse_drop_key(INBOX + "Batch_7.v2.csv.gz", '"etag1"')
    assert drop is not None
    assert drop.project == ProjectRef("org-a", "proj")
    assert (drop.file_name, drop.name, drop.etag) == ("Batch_7.v2.csv.gz", "Batch_7.v2", "etag1")
    assert drop_job_id(drop) == drop_job_id(parse_drop_key(INBOX + "Batch_7.v2.csv.gz", "etag1"))  # type: ignore[arg-type]
    with pytest.raises(InvalidIdentifierError):
        parse_drop_key(INBOX + "..csv", "e")
    with pytest.raises(InvalidIdentifierError):
        parse_drop_key("tenants/Org_A/projects/proj/inbox/a.csv", "e")


def test_a_dropped_file_counts_against_the_orgs_quota(pipeline: PipelineHarness) -> None:
    """No row count is declared for a dropped file: the planner counts and reserves, and refuses beyond the plan
    (trial: 2,000 rows per job) before any chemistry."""
    org = make_org(pipeline, "org-t", plan="trial")
    inbox = f"tenants/{org}/projects/proj/inbox/"
    store = pipeline.context.store(org)
    rows = b"id,smiles\n" + b"".join(f"m{i},CCO\n".encode() for i in range(2001))
    store.put_bytes(inbox + "big.csv", rows)
    etag = pipeline.context.s3.head_object(Bucket=BUCKET, Key=inbox + "big.csv")["ETag"]
    result = _trigger(inbox + "big.csv", etag)
    (execution,) = _executions(pipeline)
    assert pipeline.wait(execution["executionArn"])["status"] == "FAILED"
    job = pipeline.context.jobs.get(JobRef(org, "proj", result["job"]))
    assert job.state == JobState.FAILED
    assert "rows_per_job" in job.get("error")["message"]
    assert not list(store.list_keys(f"tenants/{org}/projects/proj/jobs/{result['job']}/chunks/"))


def test_a_dropped_files_reservation_is_released_and_unused_rows_refunded(pipeline: PipelineHarness) -> None:
    org = make_org(pipeline, "org-r", plan="trial")
    inbox = f"tenants/{org}/projects/proj/inbox/"
    store = pipeline.context.store(org)
    store.put_bytes(inbox + "small.csv", input_csv(distinct_molecules(3)))
    store.put_bytes(inbox + "small.job.json", json.dumps({"k_decoys": 3, "scorer": "mock"}).encode())
    etag = pipeline.context.s3.head_object(Bucket=BUCKET, Key=inbox + "small.csv")["ETag"]
    _trigger(inbox + "small.csv", etag)
    (execution,) = _executions(pipeline)
    assert pipeline.wait(execution["executionArn"])["status"] == "SUCCEEDED"
    status = QuotaGuard(pipeline.context.dynamodb.Table(TABLE)).status(org, datetime.now(UTC).strftime("%Y-%m"))
    assert status.molecules_used == 3
    assert status.running_jobs == 0


def test_a_drop_for_an_org_without_its_record_fails_saying_what_to_do(pipeline: PipelineHarness) -> None:
    org = "org-keys-only"
    pipeline.context.keys.create_org_keys(org)  # provisioned by CDK, but nobody created the org record yet
    inbox = f"tenants/{org}/projects/proj/inbox/"
    pipeline.context.store(org).put_bytes(inbox + "x.csv", input_csv(distinct_molecules(2)))
    etag = pipeline.context.s3.head_object(Bucket=BUCKET, Key=inbox + "x.csv")["ETag"]
    result = _trigger(inbox + "x.csv", etag)
    (execution,) = _executions(pipeline)
    assert pipeline.wait(execution["executionArn"])["status"] == "FAILED"
    message = pipeline.context.jobs.get(JobRef(org, "proj", result["job"])).get("error")["message"]
    assert "POST /v1/orgs" in message


def test_a_trigger_that_died_between_create_and_start_is_resumed_by_the_redelivery(
    pipeline: PipelineHarness, org_a: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.service import drop_folder  # noqa: PLC0415 - the module whose start is made to crash

    real_start = drop_folder.start_job  # type: ignore[attr-defined]  # the name the trigger calls, replaced below

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Lambda timed out after creating the job")

    pipeline.context.store(org_a).put_bytes(
        INBOX + "late.job.json", json.dumps({"k_decoys": 3, "scorer": "mock"}).encode()
    )
    etag = _drop(pipeline, "late.csv", input_csv(distinct_molecules(4)))
    monkeypatch.setattr(drop_folder, "start_job", crash)
    with pytest.raises(RuntimeError):
        _trigger(INBOX + "late.csv", etag)
    ref = JobRef(org_a, "proj", drop_job_id(parse_drop_key(INBOX + "late.csv", etag)))  # type: ignore[arg-type]
    assert pipeline.context.jobs.get(ref).state == JobState.CREATED
    assert _executions(pipeline) == []

    monkeypatch.setattr(drop_folder, "start_job", real_start)
    redelivered = _trigger(INBOX + "late.csv", etag)
    assert redelivered == {"started": True, "job": ref.job}
    assert _trigger(INBOX + "late.csv", etag)["reason"] == "duplicate"  # once started, a third delivery is a no-op
    (execution,) = _executions(pipeline)
    assert pipeline.wait(execution["executionArn"])["status"] == "SUCCEEDED"
    assert pipeline.context.jobs.get(ref).state == JobState.SUCCEEDED

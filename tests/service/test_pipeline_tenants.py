"""Two orgs at once: each org's objects under its own KMS key, each pack signed by its own key, and a handler
working for one org refused when it reaches into another's prefix."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, cast

import pytest

from functions.handlers import finalize, run_chunk
from functions.service import layout
from functions.service.errors import JobNotFoundError, TenantAccessError
from hetero_core.cli import main as hetero2
from tests.service.conftest import job_ref
from tests.service.harness import LambdaContextData, PipelineHarness, submit
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from pathlib import Path

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from functions.service.tenancy import JobRef

FAST = {"k_decoys": 4, "decoy_descriptors": "fast", "scorer": "mock"}


def _objects(pipeline: PipelineHarness, prefix: str) -> list[str]:
    pages = pipeline.context.s3.get_paginator("list_objects_v2").paginate(
        Bucket=pipeline.context.settings.bucket, Prefix=prefix
    )
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_two_orgs_jobs_at_once_each_under_its_own_key(
    pipeline: PipelineHarness, org_a: str, org_b: str, tmp_path: Path
) -> None:
    refs = {org: job_ref(org, f"job-of-{org}") for org in (org_a, org_b)}
    arns: dict[str, str] = {}

    def start(org: str) -> None:
        arns[org] = submit(pipeline, refs[org], input_csv(distinct_molecules(12)), {**FAST, "chunk_rows": 4})

    threads = [threading.Thread(target=start, args=(org,)) for org in refs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for org in refs:
        assert pipeline.wait(arns[org])["status"] == "SUCCEEDED"

    keys = {org: pipeline.context.keys.keys_of(org) for org in refs}
    assert keys[org_a].data_key_arn != keys[org_b].data_key_arn
    bucket = pipeline.context.settings.bucket
    for org, ref in refs.items():
        objects = _objects(pipeline, f"tenants/{org}/")
        assert len(objects) > 10
        map_results = layout.map_results_prefix(ref)
        for key in objects:
            head = pipeline.context.s3.head_object(Bucket=bucket, Key=key)
            assert head["ServerSideEncryption"] == "aws:kms"
            if key.startswith(map_results):  # the Map's ResultWriter: the bucket's key, and no molecule in it
                assert head["SSEKMSKeyId"] not in {k.data_key_arn for k in keys.values()}, key
                assert b"smiles" not in pipeline.context.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            else:
                assert head["SSEKMSKeyId"] == keys[org].data_key_arn, key
        assert any(key.startswith(map_results) and key.endswith("manifest.json") for key in objects)
        zip_path = tmp_path / f"{org}.zip"
        zip_path.write_bytes(pipeline.context.store(org).get_bytes(layout.pack_prefix(ref) + "evidence_pack.zip"))
        own, other = (tmp_path / f"{org}.pem"), (tmp_path / f"not-{org}.pem")
        own.write_bytes(pipeline.context.keys.public_key_pem(org))
        other.write_bytes(pipeline.context.keys.public_key_pem(org_b if org == org_a else org_a))
        assert hetero2(["verify", str(zip_path), "--public-key", str(own)]) == 0
        assert hetero2(["verify", str(zip_path), "--public-key", str(other)]) == 1


def _planned_descriptor(pipeline: PipelineHarness, ref: JobRef) -> dict[str, Any]:
    arn = submit(pipeline, ref, input_csv(distinct_molecules(3)), FAST)
    assert pipeline.wait(arn)["status"] == "SUCCEEDED"
    descriptors: list[dict[str, Any]] = pipeline.context.store(ref.org).get_json(layout.descriptors_key(ref))
    return descriptors[0]


def test_run_chunk_for_org_a_refuses_org_b_objects(pipeline: PipelineHarness, org_a: str, org_b: str) -> None:
    descriptor_b = _planned_descriptor(pipeline, job_ref(org_b, "victim"))
    forged = {**descriptor_b, "org": org_a}  # org A's worker handed org B's keys
    with pytest.raises(TenantAccessError, match="org-a"):
        run_chunk.handler(forged, LambdaContextData("hetero2-run-chunk"))
    other_job = {**descriptor_b, "job": "another-job"}  # same org, another job's folder
    with pytest.raises(TenantAccessError, match="another-job"):
        run_chunk.handler(other_job, LambdaContextData("hetero2-run-chunk"))


def test_store_of_org_a_refuses_every_operation_on_org_b_keys(
    pipeline: PipelineHarness, org_a: str, org_b: str
) -> None:
    store_a = pipeline.context.store(org_a)
    victim = "tenants/org-b/projects/proj/jobs/victim/input/input.csv"
    traversal = "tenants/org-a/../org-b/projects/proj/jobs/victim/input/input.csv"
    for key in (victim, traversal, "tenants/org-ab/x", "other/org-a/x"):
        with pytest.raises(TenantAccessError):
            store_a.get_bytes(key)
        with pytest.raises(TenantAccessError):
            store_a.put_bytes(key, b"x")
        with pytest.raises(TenantAccessError):
            store_a.presign_put(key)
        with pytest.raises(TenantAccessError):
            store_a.presign_get(key)
        with pytest.raises(TenantAccessError):
            store_a.delete_prefix(key)


def test_finalize_of_an_unknown_org_is_refused(pipeline: PipelineHarness, org_a: str) -> None:
    context = cast("LambdaContext", LambdaContextData("hetero2-finalize"))  # the local stand-in for Lambda's
    with pytest.raises(JobNotFoundError):
        finalize.handler({"org": "org-zz", "project": "proj", "job": "j1"}, context)

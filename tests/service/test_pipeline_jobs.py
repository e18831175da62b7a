"""The real state machine on moto's interpreter, end to end: plan → chunks → finalize, and what goes wrong."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from functions.service import layout
from functions.service.errors import TransientServiceError
from functions.service.jobs import JobState
from functions.service.submission import cancel_job
from hetero_core.cli import main as hetero2
from tests.service.conftest import job_ref
from tests.service.harness import PipelineHarness, submit
from tests.service.molecules import distinct_molecules, input_csv

FAST = {"k_decoys": 4, "decoy_descriptors": "fast", "scorer": "mock"}


def _pack_file(pipeline: PipelineHarness, ref: Any, name: str) -> bytes:
    return pipeline.context.store(ref.org).get_bytes(layout.pack_prefix(ref) + name)


def _summary(pipeline: PipelineHarness, ref: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_pack_file(pipeline, ref, "summary.csv").decode())))


def _verify_with_org_key(pipeline: PipelineHarness, ref: Any, tmp_path: Path, key_org: str | None = None) -> int:
    zip_path = tmp_path / f"{ref.job}.zip"
    zip_path.write_bytes(_pack_file(pipeline, ref, "evidence_pack.zip"))
    key_path = tmp_path / f"{key_org or ref.org}.pem"
    key_path.write_bytes(pipeline.context.keys.public_key_pem(key_org or ref.org))
    return hetero2(["verify", str(zip_path), "--public-key", str(key_path)])


def test_two_thousand_molecules_end_to_end_pack_verifies_with_the_orgs_kms_key(
    pipeline: PipelineHarness, org_a: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    smiles = distinct_molecules(2000)
    ref = job_ref(org_a, "big-job")
    arn = submit(pipeline, ref, input_csv(smiles), {**FAST, "chunk_rows": 250})
    assert pipeline.wait(arn, timeout=600)["status"] == "SUCCEEDED"

    job = pipeline.context.jobs.get(ref)
    assert job.state == JobState.SUCCEEDED
    assert job.get("rows_total") == job.get("rows_done") == 2000
    assert job.get("chunks_total") == 8
    assert job.get("chunks_done") == list(range(8))
    assert job.get("rows_ok") + job.get("rows_skip") == 2000
    assert len(pipeline.calls("hetero2-run-chunk")) == 8

    rows = _summary(pipeline, ref)
    assert [r["id"] for r in rows] == [f"m{i:05d}" for i in range(1, 2001)]
    assert [r["smiles"] for r in rows] == smiles
    assert _verify_with_org_key(pipeline, ref, tmp_path) == 0
    manifest = json.loads(_pack_file(pipeline, ref, "manifest.json"))
    assert manifest["service"] == {
        "job": "big-job",
        "org": "org-a",
        "project": "proj",
        "signing_key_alias": "alias/hetero2/org-a/signing",
    }
    assert manifest["inputs"][0]["rows"] == 2000
    # structured logs carry the tenant and job on every line of the worker
    chunk_logs = [r.__dict__ for r in caplog.records if r.getMessage() == "chunk done"]
    assert len(chunk_logs) == 8
    assert all(log["org"] == "org-a" and log["job"] == "big-job" for log in chunk_logs)
    assert sorted(log["chunk"] for log in chunk_logs) == list(range(8))

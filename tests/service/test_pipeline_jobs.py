"""The real state machine on moto's interpreter, end to end: plan → chunks → finalize, and what goes wrong."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from functions.service import layout
from functions.service.jobs import JobState
from hetero_core.cli import main as hetero2
from tests.service.conftest import job_ref
from tests.service.harness import PipelineHarness, submit
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

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
    assert job.get("chunks_counted") == 8
    assert pipeline.context.jobs.counted_chunks(ref, 1) == list(range(8))
    assert job.get("chunks_done") is None, "no growing set of chunk numbers on the job item"
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


def test_scores_only_job_the_customer_scored_the_decoys_table(
    pipeline: PipelineHarness, org_a: str, tmp_path: Path
) -> None:
    """The customer never shares a model: they run `hetero2 decoys`, score the table, and submit the scores."""
    data = input_csv(distinct_molecules(9))
    (tmp_path / "input.csv").write_bytes(data)
    assert (
        hetero2(["decoys", str(tmp_path / "input.csv"), "--out", str(tmp_path / "decoys.csv"), "--k-decoys", "4"]) == 0
    )
    with (tmp_path / "decoys.csv").open() as handle:
        table = list(csv.DictReader(handle))
    scored = io.StringIO()
    writer = csv.DictWriter(scored, fieldnames=[*table[0].keys(), "score"], lineterminator="\n")
    writer.writeheader()
    for row in table:  # a "model" that prefers the real molecule: PASS expected everywhere
        writer.writerow({**row, "score": 1.0 if row["role"] == "original" else 0.1})

    ref = job_ref(org_a, "scores-only")
    arn = submit(
        pipeline, ref, data, {"k_decoys": 4, "chunk_rows": 4}, scores=("scores.csv", scored.getvalue().encode())
    )
    assert pipeline.wait(arn)["status"] == "SUCCEEDED"
    rows = _summary(pipeline, ref)
    assert [r["verdict"] for r in rows] == ["PASS"] * 9
    manifest = json.loads(_pack_file(pipeline, ref, "manifest.json"))
    assert manifest["parameters"]["scorer"] == "external"
    scores_input = manifest["inputs"][1]
    assert scores_input["role"] == "scores"
    assert scores_input["name"] == "scores.csv"
    assert scores_input["rows"] == len(table)
    metrics = json.loads(_pack_file(pipeline, ref, "metrics.json"))
    assert metrics["scores_coverage"]["decoy_coverage"] == 1.0


def test_a_succeeded_job_records_the_decision(pipeline: PipelineHarness, org_a: str) -> None:
    ref = job_ref(org_a, "decided")
    arn = submit(pipeline, ref, input_csv(distinct_molecules(6)), {**FAST, "scorer": "good"})
    assert pipeline.wait(arn)["status"] == "SUCCEEDED"
    decision = pipeline.context.jobs.get(ref).get("decision")
    metrics = json.loads(_pack_file(pipeline, ref, "metrics.json"))
    assert decision == {"outcome": metrics["decision"]["outcome"], "sentence": metrics["decision"]["sentence"]}
    assert decision["outcome"] == "INCONCLUSIVE"  # six molecules are too few to decide


def test_scores_made_for_another_input_fail_the_job_with_the_hint(
    pipeline: PipelineHarness, org_a: str, tmp_path: Path
) -> None:
    other = input_csv(distinct_molecules(12)[6:])
    (tmp_path / "other.csv").write_bytes(other)
    assert hetero2(["decoys", str(tmp_path / "other.csv"), "--out", str(tmp_path / "d.csv"), "--k-decoys", "4"]) == 0
    with (tmp_path / "d.csv").open() as handle:
        table = list(csv.DictReader(handle))
    scored = io.StringIO()
    writer = csv.DictWriter(scored, fieldnames=[*table[0].keys(), "score"], lineterminator="\n")
    writer.writeheader()
    for row in table:
        writer.writerow({**row, "score": 1.0 if row["role"] == "original" else 0.1})

    ref = job_ref(org_a, "wrong-scores")
    data = input_csv(distinct_molecules(6))
    arn = submit(pipeline, ref, data, {"k_decoys": 4}, scores=("scores.csv", scored.getvalue().encode()))
    assert pipeline.wait(arn)["status"] == "FAILED"
    pipeline.failed_job(
        ref,
        "ScoreCoverageError",
        "scores match 0 of",
        "same input file, --k-decoys, --seed and --standardize as the decoys export?",
    )
    assert not pipeline.context.store(org_a).exists(layout.pack_prefix(ref) + "manifest.json")

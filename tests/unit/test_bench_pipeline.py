"""The pipeline cost model prices what the CDK app deploys (functions/service/deployment.py and the plan table)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))  # as when run as a script

from typing import TYPE_CHECKING

import bench_pipeline

from functions.service import deployment as sizing
from functions.service.chunk_sizing import chunk_rows_for
from functions.service.plans import PLANS
from infra_cdk.compute import WORKER_FUNCTIONS

if TYPE_CHECKING:
    import pytest

MEASURED = bench_pipeline.Measured(
    molecules=800,
    k=20,
    descriptors="full",
    chunk_s_per_molecule=0.0242,
    share_s_per_molecule=0.0004,
    result_bytes_per_molecule=6200.0,
    rows_bytes_per_molecule=120.0,
    finalize_s_per_molecule=0.00002,
    finalize_fixed_s=2.0,
    pack_zip_bytes_per_molecule=1200.0,
    pack_csv_bytes_per_molecule=5000.0,
)


def test_the_model_uses_the_deployed_memory_concurrency_and_architecture() -> None:
    memory = {spec.name: spec.memory_mb for spec in WORKER_FUNCTIONS}
    assert bench_pipeline.WORKER_GB * 1024 == memory["RunChunk"] == sizing.RUN_CHUNK_MEMORY_MB
    assert memory["Finalize"] == bench_pipeline.FINALIZE_GB * 1024
    model = bench_pipeline.cost_model(MEASURED)
    assert model["architecture"] == sizing.ARCHITECTURE
    assert model["concurrency"] == sizing.DEFAULT_JOB_CONCURRENCY == PLANS["enterprise"].max_workers
    assert PLANS["enterprise"].rows_per_job >= 1_000_000 > PLANS["standard"].rows_per_job
    assert model["chunk_rows"] == chunk_rows_for(20, "full")
    assert model["waves"] == 1
    assert model["finalize_on"] == "lambda"  # parallel assembly: a 1,000,000-row finalize fits the Lambda


def test_json_has_top_level_cost_and_wall_time_of_the_deployed_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench_pipeline, "measure", lambda n, k, descriptors: MEASURED)
    out = tmp_path / "pipeline.json"
    assert bench_pipeline.main(["--n", "8", "--k", "20", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    expected = bench_pipeline.cost_model(MEASURED)
    assert report["usd_per_million"] == expected["usd_total"]
    assert report["wall_s_per_million"] == expected["wall_total_s"]
    assert report["deployed"]["worker_memory_mb"] == sizing.RUN_CHUNK_MEMORY_MB
    assert report["breakdown"]["usd_chunk_workers"] > 0
    assert report["deployed"]["chunk_capacity_providers"] == list(sizing.CHUNK_CAPACITY_PROVIDERS)


def test_a_million_molecules_run_their_chunks_on_fargate_spot_priced_with_the_stated_discount() -> None:
    model = bench_pipeline.cost_model(MEASURED)
    assert model["chunk_executor"] == "fargate"
    assert model["chunk_capacity"] == "fargate_spot"
    assert model["spot_discount_assumed"] == bench_pipeline.FARGATE_SPOT_DISCOUNT == 0.70
    on_demand = bench_pipeline.cost_model(MEASURED, spot_discount=0.0)
    lambda_cost = bench_pipeline.chunk_workers(174, float(model["chunk_seconds"]), "lambda", arm=False)["usd"]
    assert float(model["usd_chunk_workers"]) < float(on_demand["usd_chunk_workers"]) < float(lambda_cost)
    # a chunk task waits for its start-up: the Map's chunk time is the chunk plus the task's minute
    assert model["wall_chunks_s"] == round(float(model["chunk_seconds"]) + bench_pipeline.FARGATE_START_S, 1)
    arm = bench_pipeline.cost_model(MEASURED, arm=True)
    assert arm["chunk_capacity"] == "fargate", "Fargate Spot runs no ARM64 tasks"


def test_the_deployed_child_execution_type_is_the_cheaper_one_that_can_run_the_chunk() -> None:
    model = bench_pipeline.cost_model(MEASURED)
    assert model["child_executions"] == sizing.CHILD_EXECUTION_TYPE == "STANDARD"
    assert float(model["usd_per_child_standard"]) < float(model["usd_per_child_express"])
    assert model["express_child_within_5_min"] is False
    short = bench_pipeline.child_execution_costs(30.0)
    assert short["usd_express"] < short["usd_standard"], "Express would win only for short children"

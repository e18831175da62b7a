"""The Fargate worker, which moto's interpreter cannot start (ecs:runTask.sync): driven directly, with a real
process pool against a moto server, it writes the chunk results the Lambda path writes (the same rows; only the
decoy cache event differs, since the second run finds the first one's decoys)."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from functions.handlers import fargate_worker
from functions.service import layout
from functions.service.chunk_work import run_chunk
from functions.service.context import ServiceContext, reset_service_context
from functions.service.finalizing import finalize_job
from functions.service.jobs import JobState
from functions.service.planning import plan_job
from functions.service.settings import Settings
from functions.service.tenancy import JobRef
from infra_cdk.contract import FARGATE_WORKER_COMMAND
from tests.service.conftest import pk_sk_table
from tests.service.harness import BUCKET, REGION, TABLE
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from collections.abc import Iterator

PARAMS = {
    "k_decoys": 4,
    "decoy_descriptors": "fast",
    "scorer": "qed",
    "chunk_rows": 6,
    "executor": "fargate",
    "decoy_cache": True,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def moto_server(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServiceContext]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HETERO2_BUCKET", BUCKET)
    monkeypatch.setenv("HETERO2_TABLE", TABLE)
    session = boto3.session.Session(region_name=REGION)
    session.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    pk_sk_table(session.resource("dynamodb"), TABLE)
    context = ServiceContext(Settings.from_env(), session)
    reset_service_context(context)
    try:
        yield context
    finally:
        reset_service_context(None)
        # the server keeps moto's in-memory state for the whole process; leave nothing for the next test
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST"))
        server.stop()


def _planned(ctx: ServiceContext, ref: JobRef, data: bytes) -> dict[str, Any]:
    ctx.jobs.create(ref, state=JobState.QUEUED, params=PARAMS, input_name="input.csv")
    ctx.store(ref.org).put_bytes(layout.input_key(ref, "input.csv"), data)
    return plan_job(ctx, ref)


def test_fargate_worker_pool_writes_the_same_results_as_the_lambda_path(moto_server: ServiceContext) -> None:
    ctx = moto_server
    ctx.keys.create_org_keys("org-a")
    data = input_csv([*distinct_molecules(16), "not-a-smiles"])
    lambda_ref, fargate_ref = JobRef("org-a", "proj", "via-lambda"), JobRef("org-a", "proj", "via-fargate")

    lambda_plan = _planned(ctx, lambda_ref, data)
    for descriptor in ctx.store("org-a").get_json(lambda_plan["descriptors_key"]):
        run_chunk(ctx, descriptor)  # what the RunChunk Lambda does per Map item

    fargate_plan = _planned(ctx, fargate_ref, data)
    assert fargate_plan["executor"] == "fargate"
    assert fargate_worker.main(["--descriptors-key", fargate_plan["descriptors_key"], "--workers", "2"]) == 0

    store = ctx.store("org-a")
    assert fargate_plan["chunks"] == lambda_plan["chunks"] == 3
    for chunk in range(3):
        # the shares are byte-identical although the Fargate job ran second and its decoys came from the cache
        for key in (layout.chunk_results_key, layout.chunk_data_key):
            assert store.get_bytes(key(fargate_ref, chunk)) == store.get_bytes(key(lambda_ref, chunk))
    # the Fargate job ran second in the same org: the org's decoy cache served what the Lambda path built
    lambda_job = ctx.jobs.get(lambda_ref)
    assert int(lambda_job.get("decoy_cache_misses")) > 0
    assert int(ctx.jobs.get(fargate_ref).get("decoy_cache_hits")) == int(lambda_job.get("decoy_cache_misses"))
    job = ctx.jobs.get(fargate_ref)
    assert job.get("rows_done") == 17
    assert job.get("chunks_counted") == 3
    assert ctx.jobs.counted_chunks(fargate_ref, int(job.get("attempt", 0))) == [0, 1, 2]
    assert fargate_plan["finalizer"] == "lambda"  # 17 rows: far below the Finalize Lambda's limit
    # the Fargate finalize task (jobs too large for the Lambda) seals the same pack the Lambda would
    fargate_key = fargate_plan["descriptors_key"]
    assert fargate_worker.main(["--task", "finalize", "--descriptors-key", fargate_key]) == 0
    assert ctx.jobs.get(fargate_ref).state == JobState.SUCCEEDED
    reported = finalize_job(ctx, fargate_ref)  # the Lambda only reports (and settles, idempotently)
    assert reported["state"] == "SUCCEEDED"
    assert reported["pack"] == ctx.jobs.get(fargate_ref).get("pack_prefix")
    assert finalize_job(ctx, lambda_ref)["state"] == "SUCCEEDED"
    for member in ("summary.csv", "decoys.csv", "metrics.json"):
        assert store.get_bytes(layout.pack_prefix(fargate_ref) + member) == store.get_bytes(
            layout.pack_prefix(lambda_ref) + member
        ), member


def test_fargate_worker_refuses_a_key_that_is_not_a_descriptors_file(moto_server: ServiceContext) -> None:
    with pytest.raises(ValueError, match="not a descriptors key"):
        fargate_worker.main(["--descriptors-key", "tenants/org-a/projects/p/jobs/j/input/input.csv"])


def test_fargate_worker_needs_a_key(moto_server: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HETERO2_DESCRIPTORS_KEY", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        fargate_worker.main([])
    assert exit_info.value.code == 2


def test_the_task_command_the_cdk_app_gives_the_container_runs_the_worker() -> None:
    module = FARGATE_WORKER_COMMAND[FARGATE_WORKER_COMMAND.index("-m") + 1]
    command = [sys.executable, "-m", module, "--help"]
    shown = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "--descriptors-key" in shown.stdout


def test_every_aws_service_the_fargate_code_calls_is_one_the_worker_vpc_routes(
    moto_server: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task as it runs in the container: fresh clients from the environment, chunks then finalize. Every
    (service, operation) it sends is recorded; infra_cdk.compute.FARGATE_CODE_SERVICES must name each service
    (tests/infra/test_building_blocks.py then checks each has a VPC endpoint)."""
    from botocore.client import BaseClient  # noqa: PLC0415

    from infra_cdk.compute import FARGATE_CODE_SERVICES  # noqa: PLC0415

    ctx = moto_server
    ctx.keys.create_org_keys("org-a")
    ref = JobRef("org-a", "proj", "routes")
    plan = _planned(ctx, ref, input_csv(distinct_molecules(8)))
    calls: set[tuple[str, str]] = set()
    real = BaseClient._make_api_call  # type: ignore[attr-defined]  # botocore's private dispatch, recorded below

    def record(self: BaseClient, operation: str, params: Any) -> Any:
        calls.add((self.meta.service_model.service_name, operation))
        return real(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    reset_service_context(None)  # a new container: its own session and clients, built from the environment
    for task in ("chunks", "finalize"):
        assert (
            fargate_worker.main(["--task", task, "--descriptors-key", plan["descriptors_key"], "--workers", "1"]) == 0
        )
    assert ctx.jobs.get(ref).state == JobState.SUCCEEDED
    services = {service for service, _ in calls}
    assert {("kms", "DescribeKey"), ("kms", "GetPublicKey"), ("kms", "Sign")} <= calls
    assert services <= FARGATE_CODE_SERVICES, f"unrouted services: {services - FARGATE_CODE_SERVICES}"
    assert services == FARGATE_CODE_SERVICES


def test_one_chunk_per_task_runs_only_its_chunk_and_a_failure_exits_non_zero(
    moto_server: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What each Fargate Spot task of a large job runs: ``HETERO2_CHUNK`` names its chunk. A failed chunk exits 1,
    so the Map retries the task (as it does when Spot interrupts it) and counts the chunk if it stays failed."""
    ctx = moto_server
    ctx.keys.create_org_keys("org-a")
    ref = JobRef("org-a", "proj", "per-chunk")
    plan = _planned(ctx, ref, input_csv(distinct_molecules(14)))
    monkeypatch.setenv("HETERO2_CHUNK", "1")
    assert fargate_worker.main(["--descriptors-key", plan["descriptors_key"]]) == 0
    store = ctx.store("org-a")
    assert [store.exists(layout.chunk_results_key(ref, chunk)) for chunk in range(3)] == [False, True, False]
    assert ctx.jobs.counted_chunks(ref, int(ctx.jobs.get(ref).get("attempt", 0))) == [1]

    def interrupted(context: ServiceContext, descriptor: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("SIGTERM: the Spot capacity was reclaimed")

    monkeypatch.setattr(fargate_worker, "run_chunk", interrupted)
    assert fargate_worker.main(["--descriptors-key", plan["descriptors_key"], "--chunk", "2"]) == 1
    with pytest.raises(ValueError, match="no chunk 7"):
        fargate_worker.main(["--descriptors-key", plan["descriptors_key"], "--chunk", "7"])

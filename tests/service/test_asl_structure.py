"""The parts of statemachines/audit_job.asl.json that moto's interpreter cannot prove by running them:
every state reachable, every Task retried and caught, every path ends in Finalize or MarkFailed, the Fargate
branch wired, and only the substitution variables CDK fills."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from functions.service import deployment, env, layout
from functions.service.chunk_sizing import TOLERATED_FAILED_CHUNK_PERCENT
from functions.service.tenancy import JobRef
from tests.service.harness import ASL_PATH

if TYPE_CHECKING:
    from collections.abc import Iterator

DEFINITION: dict[str, Any] = json.loads(ASL_PATH.read_text())
SUBSTITUTIONS = {
    "PlanFunctionArn",
    "RunChunkFunctionArn",
    "FinalizeFunctionArn",
    "MarkFailedFunctionArn",
    "ArtifactBucket",
    "EcsClusterArn",
    "WorkerTaskDefinitionArn",
    "ChunkTaskDefinitionArn",
    "WorkerContainerName",
}
CHUNK_TASKS = {("/ProcessChunks", "RunChunk"), ("/ProcessChunksOnFargate", "RunChunkOnDemand")}
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


def _machines(machine: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path or "top", machine
    for name, state in machine["States"].items():
        if "ItemProcessor" in state:
            yield from _machines(state["ItemProcessor"], f"{path}/{name}")


def _successors(state: dict[str, Any]) -> set[str]:
    found = {state["Next"]} if "Next" in state else set()
    found |= {choice["Next"] for choice in state.get("Choices", [])}
    if "Default" in state:
        found.add(state["Default"])
    found |= {catch["Next"] for catch in state.get("Catch", [])}
    return found


MACHINES = list(_machines(DEFINITION))


@pytest.mark.parametrize(("where", "machine"), MACHINES, ids=[m[0] for m in MACHINES])
def test_every_state_is_reachable_and_every_next_exists(where: str, machine: dict[str, Any]) -> None:
    states = machine["States"]
    seen, todo = set(), [machine["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        assert name in states, f"{where}: {name} is named but not defined"
        seen.add(name)
        todo.extend(_successors(states[name]))
    assert seen == set(states), f"{where}: unreachable {set(states) - seen}"


@pytest.mark.parametrize(("where", "machine"), MACHINES, ids=[m[0] for m in MACHINES])
def test_every_task_has_retry_and_a_catch_all(where: str, machine: dict[str, Any]) -> None:
    tasks = {n: s for n, s in machine["States"].items() if s["Type"] == "Task"}
    assert tasks
    for name, state in tasks.items():
        assert state.get("Retry"), f"{where}/{name} has no Retry"
        for retrier in state["Retry"]:
            assert retrier.get("BackoffRate", 1) >= 2.0, f"{where}/{name} retries without backoff"
        catch_all = [c for c in state.get("Catch", []) if c["ErrorEquals"] == ["States.ALL"]]
        # The chunk tasks alone have no Catch: a chunk's failure must count against the Map's tolerated failures
        # (on Fargate, the Spot task's Catch is the fallback to on-demand; the on-demand task has none).
        assert catch_all or (where, name) in CHUNK_TASKS, f"{where}/{name} has no Catch on States.ALL"
        if state["Resource"] == "arn:aws:states:::lambda:invoke":
            retried = {e for r in state["Retry"] for e in r["ErrorEquals"]}
            assert retried >= LAMBDA_SERVICE_ERRORS or "States.ALL" in retried, (
                f"{where}/{name} does not retry Lambda service errors"
            )


def test_every_path_of_the_top_machine_ends_in_finalize_or_mark_failed() -> None:
    states = DEFINITION["States"]
    terminal = {n for n, s in states.items() if s["Type"] in ("Succeed", "Fail") or s.get("End")}
    assert terminal == {"Done", "Failed"}

    def paths(name: str, trail: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        trail = (*trail, name)
        successors = _successors(states[name]) - set(trail)
        if not successors:
            yield trail
        for nxt in sorted(successors):
            yield from paths(nxt, trail)

    all_paths = list(paths(DEFINITION["StartAt"], ()))
    assert len(all_paths) > 5
    for trail in all_paths:
        assert trail[-1] in terminal, trail
        assert trail[-2:] == ("Finalize", "Done") or "MarkFailed" in trail, trail
    # every failure route of every step leads to MarkFailed
    for name, state in states.items():
        for catch in state.get("Catch", []):
            assert catch["Next"] in ("MarkFailed", "Failed"), name


def test_failed_chunks_count_against_a_tolerated_failure_threshold_that_finalize_shares() -> None:
    chunk_map = DEFINITION["States"]["ProcessChunks"]
    assert chunk_map["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert chunk_map["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert "ItemBatcher" not in chunk_map, "moto cannot load ItemBatcher; items are chunk descriptors"
    # No inner Catch: a chunk out of retries fails its item, so the threshold counts it (it never "succeeds").
    assert chunk_map["ToleratedFailurePercentage"] == TOLERATED_FAILED_CHUNK_PERCENT < 100
    inner = chunk_map["ItemProcessor"]["States"]
    assert "Catch" not in inner["RunChunk"]
    assert set(inner) == {"RunChunk"}
    assert chunk_map["Catch"][0]["Next"] == "MarkFailed"


def test_transient_errors_are_retried_everywhere_and_the_execution_has_a_deadline() -> None:
    states = DEFINITION["States"]
    chunk = states["ProcessChunks"]["ItemProcessor"]["States"]["RunChunk"]
    for name, state in [*states.items(), ("RunChunk", chunk)]:
        if state["Type"] == "Task" and state["Resource"].startswith("arn:aws:states:::lambda"):
            retried = {e for r in state["Retry"] for e in r["ErrorEquals"]}
            assert "TransientServiceError" in retried or "States.ALL" in retried, name
    timeout = DEFINITION["TimeoutSeconds"]
    assert 3600 <= timeout <= 86400
    assert states["FinalizeOnFargate"]["TimeoutSeconds"] < timeout
    for task in states["ProcessChunksOnFargate"]["ItemProcessor"]["States"].values():
        assert task["TimeoutSeconds"] < timeout


def test_large_jobs_run_one_fargate_spot_task_per_chunk_with_an_on_demand_fallback() -> None:
    states = DEFINITION["States"]
    choice = states["ChooseExecutor"]
    assert choice["Choices"] == [
        {"Variable": "$.plan.executor", "StringEquals": "fargate", "Next": "ProcessChunksOnFargate"}
    ]
    lambda_map, fargate_map = states["ProcessChunks"], states["ProcessChunksOnFargate"]
    for key in ("ItemReader", "MaxConcurrencyPath", "ToleratedFailurePercentage", "ResultWriter", "Catch", "Next"):
        assert fargate_map[key] == lambda_map[key], key
    assert fargate_map["ItemSelector"]["chunk.$"] == "$$.Map.Item.Value.chunk"
    inner = fargate_map["ItemProcessor"]["States"]
    assert fargate_map["ItemProcessor"]["StartAt"] == "RunChunkOnSpot"
    spot, on_demand = inner["RunChunkOnSpot"], inner["RunChunkOnDemand"]
    assert spot["Parameters"]["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    assert "LaunchType" not in spot["Parameters"], "a capacity provider strategy and a launch type exclude each other"
    assert on_demand["Parameters"]["LaunchType"] == "FARGATE"
    assert deployment.CHUNK_CAPACITY_PROVIDERS == ("FARGATE_SPOT", "FARGATE")
    # An interrupted Spot task stops; runTask.sync then fails with States.TaskFailed: retried, then on-demand.
    assert "States.TaskFailed" in {e for r in spot["Retry"] for e in r["ErrorEquals"]}
    assert spot["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.spot_error", "Next": "RunChunkOnDemand"}]
    assert "States.TaskFailed" in {e for r in on_demand["Retry"] for e in r["ErrorEquals"]}
    for task in (spot, on_demand):
        assert task["Resource"] == "arn:aws:states:::ecs:runTask.sync"
        # the lean image (no matplotlib, no pyarrow): the chunk tasks' own definition, not the finalize task's
        assert task["Parameters"]["TaskDefinition"] == "${ChunkTaskDefinitionArn}"
        overrides = task["Parameters"]["Overrides"]
        assert (overrides["Cpu"], overrides["Memory"]) == (
            str(deployment.FARGATE_CHUNK_CPU),
            str(deployment.FARGATE_CHUNK_MEMORY_MIB),
        )
        (override,) = overrides["ContainerOverrides"]
        assert override["Environment"] == [
            {"Name": env.TASK, "Value": "chunks"},
            {"Name": env.DESCRIPTORS_KEY, "Value.$": "$.descriptors_key"},
            {"Name": env.CHUNK, "Value.$": "States.Format('{}', $.chunk)"},
        ]
        network = task["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "DISABLED"
        assert network["Subnets.$"] == "$.fargate.subnets"


def test_both_maps_write_their_results_to_the_jobs_map_prefix_and_run_the_chosen_child_type() -> None:
    states = DEFINITION["States"]
    ref = JobRef("org-a", "proj", "j1")
    for name in ("ProcessChunks", "ProcessChunksOnFargate"):
        writer = states[name]["ResultWriter"]
        assert writer["Resource"] == "arn:aws:states:::s3:putObject"
        assert writer["Parameters"]["Bucket"] == "${ArtifactBucket}"
        # the ASL builds the prefix from the execution's input (the job's ids); it must be layout's prefix
        template = writer["Parameters"]["Prefix.$"]
        assert template.startswith("States.Format('")
        assert "$$.Execution.Input.org" in template
        pattern = template.split("'")[1]
        assert pattern.format(ref.org, ref.project, ref.job) + "/" == layout.map_results_prefix(ref)
        assert states[name]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] == deployment.CHILD_EXECUTION_TYPE
    assert deployment.MAP_RESULT_WRITER is True


def test_large_jobs_finalize_on_fargate_then_pass_through_the_finalize_lambda() -> None:
    states = DEFINITION["States"]
    assert states["ProcessChunks"]["Next"] == "ChooseFinalizer"
    choice = states["ChooseFinalizer"]
    assert choice["Choices"] == [
        {"Variable": "$.plan.finalizer", "StringEquals": "fargate", "Next": "FinalizeOnFargate"}
    ]
    assert choice["Default"] == "Finalize"
    task = states["FinalizeOnFargate"]
    assert task["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert task["Parameters"]["TaskDefinition"] == "${WorkerTaskDefinitionArn}", "finalize draws plots: the full image"
    (override,) = task["Parameters"]["Overrides"]["ContainerOverrides"]
    assert {"Name": "HETERO2_TASK", "Value": "finalize"} in override["Environment"]
    assert task["Next"] == "Finalize"


def test_only_the_contract_substitution_variables_are_used() -> None:
    assert set(re.findall(r"\$\{(\w+)\}", ASL_PATH.read_text())) == SUBSTITUTIONS

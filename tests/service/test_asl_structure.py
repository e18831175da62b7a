"""The parts of statemachines/audit_job.asl.json that moto's interpreter cannot prove by running them:
every state reachable, every Task retried and caught, every path ends in Finalize or MarkFailed, the Fargate
branch wired, and only the substitution variables CDK fills."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from functions.service.chunk_sizing import TOLERATED_FAILED_CHUNK_PERCENT
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
    "WorkerContainerName",
}
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
        # The chunk task alone has no Catch: its failure must count against the Map's tolerated failures.
        assert catch_all or (where, name) == ("/ProcessChunks", "RunChunk"), (
            f"{where}/{name} has no Catch on States.ALL"
        )
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
    for name in ("RunFargateWorker", "FinalizeOnFargate"):
        assert states[name]["TimeoutSeconds"] < timeout, name


def test_fargate_branch_runs_the_worker_task_synchronously_with_the_descriptors_key() -> None:
    states = DEFINITION["States"]
    choice = states["ChooseExecutor"]
    assert choice["Choices"] == [{"Variable": "$.plan.executor", "StringEquals": "fargate", "Next": "RunFargateWorker"}]
    fargate = states["RunFargateWorker"]
    assert fargate["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    assert fargate["Parameters"]["LaunchType"] == "FARGATE"
    network = fargate["Parameters"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    (override,) = fargate["Parameters"]["Overrides"]["ContainerOverrides"]
    assert override["Environment"] == [
        {"Name": "HETERO2_TASK", "Value": "chunks"},
        {"Name": "HETERO2_DESCRIPTORS_KEY", "Value.$": "$.plan.descriptors_key"},
    ]
    assert fargate["Next"] == "ChooseFinalizer"


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
    (override,) = task["Parameters"]["Overrides"]["ContainerOverrides"]
    assert {"Name": "HETERO2_TASK", "Value": "finalize"} in override["Environment"]
    assert task["Next"] == "Finalize"


def test_only_the_contract_substitution_variables_are_used() -> None:
    assert set(re.findall(r"\$\{(\w+)\}", ASL_PATH.read_text())) == SUBSTITUTIONS

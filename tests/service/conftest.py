"""Fixtures of the service tier: the moto-backed pipeline and tenants with their own KMS keys."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
import pytest
from moto import mock_aws

from functions.service.directory import Directory
from functions.service.tenancy import JobRef
from tests.moto_support import make_dynamodb_atomic
from tests.service.harness import REGION, TABLE, PipelineHarness, install

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

T = TypeVar("T")

AWS_TEST_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_METRICS_NAMESPACE": "Hetero2Test",
}


def use_test_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, no profile or endpoint from the machine, and DynamoDB's per-request atomicity."""
    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    make_dynamodb_atomic(monkeypatch)


def pk_sk_table(dynamodb: Any, name: str) -> Any:
    """A table keyed like ours (``pk``/``sk`` strings, on demand) on a boto3 DynamoDB resource."""
    return dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@contextmanager
def module_table(name: str) -> Iterator[Any]:
    """One mocked table for a whole module (creating one per test costs most of a run)."""
    with pytest.MonkeyPatch.context() as patch:
        use_test_aws(patch)
        with mock_aws():
            yield pk_sk_table(boto3.resource("dynamodb", region_name=REGION), name)


def emptied(table: Any) -> Any:
    for item in table.scan(ProjectionExpression="pk, sk")["Items"]:
        table.delete_item(Key=item)
    return table


@pytest.fixture(scope="module")
def shared_table() -> Iterator[Any]:
    """The main table, mocked once per module; ``table`` hands it to each test empty."""
    with module_table(TABLE) as table:
        yield table


@pytest.fixture
def table(shared_table: Any) -> Any:
    return emptied(shared_table)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_aws(monkeypatch)


@pytest.fixture
def pipeline(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[PipelineHarness]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield from install(monkeypatch)


def make_org(pipeline: PipelineHarness, org: str, plan: str = "standard") -> str:
    """An org as the API creates it: its KMS keys and its record (plan) in the directory."""
    pipeline.context.keys.create_org_keys(org)
    Directory(pipeline.context.dynamodb.Table(TABLE)).create_org(org, org, "founder", plan=plan)
    return org


@pytest.fixture
def org_a(pipeline: PipelineHarness) -> str:
    return make_org(pipeline, "org-a")


@pytest.fixture
def org_b(pipeline: PipelineHarness) -> str:
    return make_org(pipeline, "org-b")


def job_ref(org: str, job: str, project: str = "proj") -> JobRef:
    return JobRef(org, project, job)


def race(n: int, attempt: Callable[[int], T]) -> list[T]:
    """``attempt(i)`` in ``n`` threads released at once; their results (any exception fails the test)."""
    barrier = threading.Barrier(n)
    outcomes: list[T] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes.append(attempt(index))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return outcomes

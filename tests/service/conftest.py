"""Fixtures of the service tier: the moto-backed pipeline and tenants with their own KMS keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from functions.service.tenancy import JobRef
from tests.moto_support import make_dynamodb_atomic
from tests.service.harness import REGION, PipelineHarness, install


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_METRICS_NAMESPACE": "Hetero2Test",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    make_dynamodb_atomic(monkeypatch)


@pytest.fixture
def pipeline(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[PipelineHarness]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield from install(monkeypatch)


@pytest.fixture
def org_a(pipeline: PipelineHarness) -> str:
    pipeline.context.keys.create_org_keys("org-a")
    return "org-a"


@pytest.fixture
def org_b(pipeline: PipelineHarness) -> str:
    pipeline.context.keys.create_org_keys("org-b")
    return "org-b"


def job_ref(org: str, job: str, project: str = "proj") -> JobRef:
    return JobRef(org, project, job)

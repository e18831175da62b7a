"""The client tier: ``hetero2_client`` against the API tier's local server, over real HTTP.

One finished job per session (``finished``) serves every test that only reads a job, so the suite runs the
pipeline three times in all: that job, the scores round trip, and ``hetero2 remote submit --wait``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from hetero2_client import Client, Job
from tests.api.conftest import Tenant, new_tenant
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from pathlib import Path

    from functions.local.server import LocalService

FAST: dict[str, Any] = {"k_decoys": 4, "decoy_descriptors": "fast", "scorer": "qed", "chunk_rows": 10}
PROJECT = "screening"
POLL = 0.2
WAIT_SECONDS = 180.0


@dataclass(frozen=True)
class Finished:
    """A job that ran to SUCCEEDED from ``input_path`` (12 drugs and one bad SMILES), and who submitted it."""

    tenant: Tenant
    token: str
    client: Client
    job: Job
    input_path: Path


def token_of(owner: Tenant) -> str:
    return owner.service.issuer.token(f"{owner.org}-admin", owner.org)


def molecules_file(folder: Path, n: int = 12) -> Path:
    path = folder / "molecules.csv"
    path.write_bytes(input_csv([*distinct_molecules(n), "not-a-smiles"]))
    return path


@pytest.fixture
def project_client(tenant: Tenant) -> Client:
    """The client of a fresh org's admin, on the org's new project PROJECT (the test's ``tenant``)."""
    tenant.project(PROJECT)
    return Client(tenant.service.url, token_of(tenant), project=PROJECT)


@pytest.fixture(scope="session")
def finished(service: LocalService, tmp_path_factory: pytest.TempPathFactory) -> Finished:
    owner = new_tenant(service, "client")
    owner.project(PROJECT)
    token = token_of(owner)
    client = Client(service.url, token, project=PROJECT)
    path = molecules_file(tmp_path_factory.mktemp("client-input"))
    job = client.submit(path, **FAST).wait(WAIT_SECONDS, poll=POLL)
    return Finished(owner, token, client, job, path)


def printed(text: str) -> str:
    """What the command printed, without the in-process service's one-line JSON logs that share stdout."""
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith('{"'))


@pytest.fixture
def service_env(monkeypatch: pytest.MonkeyPatch, finished: Finished) -> Finished:
    """The endpoint, token and project of the finished job's owner, from the environment as a user sets them."""
    monkeypatch.setenv("HETERO2_URL", finished.client.url)
    monkeypatch.setenv("HETERO2_TOKEN", finished.token)
    monkeypatch.setenv("HETERO2_PROJECT", PROJECT)
    monkeypatch.delenv("HETERO2_ORG", raising=False)
    return finished

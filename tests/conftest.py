"""Fixtures shared across tiers: one local HETERO-2 server per test process (``hetero2 serve``'s LocalService),
used by the API and client tiers over real HTTP. Its AWS (moto) runs in a process of its own, so the service
tier's ``mock_aws`` in the same worker cannot disturb it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from functions.local.server import LocalService
from hetero_core.cache import CACHE_DIR_ENV
from tests.api.conftest import Tenant, new_tenant

if TYPE_CHECKING:
    from collections.abc import Iterator

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
# The decision's default criteria as the frozen golden file states them (docs/standard-claims.md), so tests that
# show them compare with the contract, never with the code's own defaults.
DEFAULT_CRITERIA: dict[str, Any] = json.loads((GOLDEN / "default_criteria.json").read_text(encoding="utf-8"))[
    "criteria"
]


@pytest.fixture(scope="session", autouse=True)
def _private_decoy_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The CLI caches decoys in the user's cache folder by default: tests use a folder of their own instead, so a
    developer's cache neither serves a test nor fills up with test molecules (subprocesses inherit it)."""
    before = os.environ.get(CACHE_DIR_ENV)
    os.environ[CACHE_DIR_ENV] = str(tmp_path_factory.mktemp("decoy-cache"))
    yield
    if before is None:
        os.environ.pop(CACHE_DIR_ENV, None)
    else:
        os.environ[CACHE_DIR_ENV] = before


@pytest.fixture(scope="session")
def service() -> Iterator[LocalService]:
    running = LocalService(max_concurrency=2).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def tenant(service: LocalService) -> Tenant:
    return new_tenant(service)


@pytest.fixture
def other_tenant(service: LocalService) -> Tenant:
    return new_tenant(service, "other")

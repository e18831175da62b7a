"""Fixtures shared across tiers: one local HETERO-2 server per test process (``hetero2 serve``'s LocalService),
used by the API and client tiers over real HTTP. Its AWS (moto) runs in a process of its own, so the service
tier's ``mock_aws`` in the same worker cannot disturb it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from functions.local.server import LocalService
from tests.api.conftest import Tenant, new_tenant

if TYPE_CHECKING:
    from collections.abc import Iterator


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

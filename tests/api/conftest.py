"""The API tier: one local server (``hetero2 serve``'s ``LocalService``) per test session, driven over real HTTP.

Tests create their own orgs (each test a fresh org id) so they never see each other's data.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from functions.local_server import LocalService

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def service() -> Iterator[LocalService]:
    running = LocalService(max_concurrency=2).start()
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Client:
    """A user of the API: base URL + token; every call is a real HTTP request."""

    base: str
    token: str | None

    def call(self, method: str, path: str, body: Any = None, **headers: str) -> requests.Response:
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        sent.update(headers)
        return requests.request(method, self.base + path, json=body, headers=sent, timeout=60)

    def get(self, path: str, **headers: str) -> requests.Response:
        return self.call("GET", path, **headers)

    def post(self, path: str, body: Any = None, **headers: str) -> requests.Response:
        return self.call("POST", path, body, **headers)


@dataclass
class Tenant:
    org: str
    admin: Client
    service: LocalService

    def user(self, name: str) -> Client:
        return Client(self.service.url, self.service.issuer.token(name, self.org))

    def project(self, project: str = "p1") -> str:
        response = self.admin.post(f"/v1/orgs/{self.org}/projects", {"project": project, "name": project})
        assert response.status_code == 201, response.text
        return project

    def member(self, project: str, user: str, role: str) -> Client:
        response = self.admin.post(f"/v1/orgs/{self.org}/projects/{project}/members", {"user": user, "role": role})
        assert response.status_code == 201, response.text
        return self.user(user)


def new_tenant(service: LocalService, prefix: str = "org") -> Tenant:
    org = f"{prefix}-{next(_counter)}-{int(time.time() * 1000) % 100000}"
    admin = Client(service.url, service.issuer.token(f"{org}-admin", org))
    response = admin.post("/v1/orgs", {"name": f"Org {org}"})
    assert response.status_code == 201, response.text
    return Tenant(org, admin, service)


@pytest.fixture
def tenant(service: LocalService) -> Tenant:
    return new_tenant(service)


@pytest.fixture
def other_tenant(service: LocalService) -> Tenant:
    return new_tenant(service, "other")

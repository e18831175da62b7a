"""The API tier's helpers: a user of the API (``Client``) and an org with its admin (``Tenant``).

The fixtures ``service``, ``tenant`` and ``other_tenant`` live in ``tests/conftest.py`` (one local server per
test process, shared with the client tier). Tests create their own orgs, so they never see each other's data.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from functions.local.server import LocalService

_counter = itertools.count(1)


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

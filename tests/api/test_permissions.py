"""The permission matrix over real HTTP: every route × every role × own org / other org, each with its exact
status code. The expected codes are written here from the product rules (docs/security.md), not derived from
``functions/api/permissions.py``, so a change to the table that breaks a rule fails here.

Roles: ``org_admin`` (created the org), project ``admin`` / ``run`` / ``view``, ``none`` (an org member with no
role in the project) and ``other`` (the admin of another org). A permitted call on a job that is not in the
right state answers 409: permission passed, the state did not.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from tests.api.conftest import Client, Tenant, new_tenant

if TYPE_CHECKING:
    from functions.local.server import LocalService

ROLES = ("org_admin", "admin", "run", "view", "none", "other")


@dataclass
class World:
    tenant: Tenant
    clients: dict[str, Client]

    def fresh_job(self) -> str:
        response = self.tenant.admin.post(
            f"/v1/orgs/{self.tenant.org}/projects/p1/jobs", {"input_name": "m.csv", "expected_rows": 3}
        )
        assert response.status_code == 201, response.text
        job: str = response.json()["job"]["job"]
        return job

    def cancelled_job(self) -> str:
        job = self.fresh_job()
        assert self.tenant.admin.post(f"/v1/orgs/{self.tenant.org}/projects/p1/jobs/{job}/cancel").status_code == 200
        return job

    def shared_job(self) -> str:
        job = self.fresh_job()
        path = f"/v1/orgs/{self.tenant.org}/projects/p1/jobs/{job}/shares"
        assert self.tenant.admin.post(path, {"user": "colleague"}).status_code == 201
        return job

    def fresh_project(self) -> str:
        project = f"tmp-{len(self.clients)}-{uuid.uuid4().hex[:8]}"
        self.tenant.project(project)
        for role in ("admin", "run", "view"):
            response = self.tenant.admin.post(
                f"/v1/orgs/{self.tenant.org}/projects/{project}/members", {"user": f"user-{role}", "role": role}
            )
            assert response.status_code == 201
        return project


@pytest.fixture(scope="module")
def world(service: LocalService) -> World:
    tenant = new_tenant(service, "perm")
    tenant.project("p1")
    # external sharing is off by default (403 for everyone); the matrix checks the roles with it on
    assert tenant.admin.call("PATCH", f"/v1/orgs/{tenant.org}", {"external_sharing": True}).status_code == 200
    clients = {"org_admin": tenant.admin}
    for role in ("admin", "run", "view"):
        clients[role] = tenant.member("p1", f"user-{role}", role)
    clients["none"] = tenant.user("user-none")
    clients["other"] = new_tenant(service, "intruder").admin
    return World(tenant, clients)


Request = Callable[[World], tuple[str, str, Any]]


def _org(w: World) -> str:
    return w.tenant.org


ROUTES: dict[str, tuple[Request, dict[str, int]]] = {
    # route name: (method, path, body) builder, expected status per role
    "get org": (
        lambda w: ("GET", f"/v1/orgs/{_org(w)}", None),
        {"org_admin": 200, "admin": 200, "run": 200, "view": 200, "none": 200, "other": 404},
    ),
    "change retention": (
        lambda w: ("PATCH", f"/v1/orgs/{_org(w)}", {"retention_days": 30}),
        {"org_admin": 200, "admin": 403, "run": 403, "view": 403, "none": 403, "other": 404},
    ),
    "usage": (
        lambda w: ("GET", f"/v1/orgs/{_org(w)}/usage", None),
        {"org_admin": 200, "admin": 403, "run": 403, "view": 403, "none": 403, "other": 404},
    ),
    "audit log": (
        lambda w: ("GET", f"/v1/orgs/{_org(w)}/audit", None),
        {"org_admin": 200, "admin": 403, "run": 403, "view": 403, "none": 403, "other": 404},
    ),
    "issue SCIM token": (
        lambda w: ("POST", f"/v1/orgs/{_org(w)}/scim-token", None),
        {"org_admin": 201, "admin": 403, "run": 403, "view": 403, "none": 403, "other": 404},
    ),
    "list projects": (
        lambda w: ("GET", f"/v1/orgs/{_org(w)}/projects", None),
        {"org_admin": 200, "admin": 200, "run": 200, "view": 200, "none": 200, "other": 404},
    ),
    "create project": (
        lambda w: ("POST", f"/v1/orgs/{_org(w)}/projects", {"project": f"new-{uuid.uuid4().hex[:8]}", "name": "x"}),
        {"org_admin": 201, "admin": 201, "run": 201, "view": 201, "none": 201, "other": 404},
    ),
    "get project": (
        lambda w: ("GET", f"/v1/orgs/{_org(w)}/projects/p1", None),
        {"org_admin": 200, "admin": 200, "run": 200, "view": 200, "none": 404, "other": 404},
    ),
    "list members": (
        lambda w: ("GET", f"/v1/orgs/{_org(w)}/projects/p1/members", None),
        {"org_admin": 200, "admin": 200, "run": 200, "view": 200, "none": 404, "other": 404},
    ),
    "add member": (
        lambda w: (
            "POST",
            f"/v1/orgs/{_org(w)}/projects/p1/members",
            {"user": f"new-{uuid.uuid4().hex[:8]}", "role": "view"},
        ),
        {"org_admin": 201, "admin": 201, "run": 403, "view": 403, "none": 404, "other": 404},
    ),
    "change member": (
        lambda w: ("PUT", f"/v1/orgs/{_org(w)}/projects/p1/members/user-view", {"role": "view"}),
        {"org_admin": 200, "admin": 200, "run": 403, "view": 403, "none": 404, "other": 404},
    ),
    "remove member": (
        lambda w: ("DELETE", f"/v1/orgs/{_org(w)}/projects/{w.fresh_project()}/members/user-view", None),
        {"org_admin": 200, "admin": 200, "run": 403, "view": 403, "none": 404, "other": 404},
    ),
    "create job": (
        lambda w: ("POST", f"/v1/orgs/{_org(w)}/projects/p1/jobs", {"input_name": "m.csv", "expected_rows": 3}),
        {"org_admin": 201, "admin": 201, "run": 201, "view": 403, "none": 404, "other": 404},
    ),
    "list jobs": (
        lambda w: ("GET", f"/v1/orgs/{_org(w)}/projects/p1/jobs", None),
        {"org_admin": 200, "admin": 200, "run": 200, "view": 200, "none": 404, "other": 404},
    ),
    "get job": (
        lambda w: ("GET", f"/v1/orgs/{_org(w)}/projects/p1/jobs/{w.fresh_job()}", None),
        {"org_admin": 200, "admin": 200, "run": 200, "view": 200, "none": 404, "other": 404},
    ),
    "start job (input not uploaded)": (
        lambda w: ("POST", f"/v1/orgs/{_org(w)}/projects/p1/jobs/{w.fresh_job()}/start", None),
        {"org_admin": 409, "admin": 409, "run": 409, "view": 403, "none": 404, "other": 404},
    ),
    "cancel job": (
        lambda w: ("POST", f"/v1/orgs/{_org(w)}/projects/p1/jobs/{w.fresh_job()}/cancel", None),
        {"org_admin": 200, "admin": 200, "run": 200, "view": 403, "none": 404, "other": 404},
    ),
    "retry job (not failed)": (
        lambda w: ("POST", f"/v1/orgs/{_org(w)}/projects/p1/jobs/{w.fresh_job()}/retry", None),
        {"org_admin": 409, "admin": 409, "run": 409, "view": 403, "none": 404, "other": 404},
    ),
    "reproduce job (not finished)": (
        lambda w: ("POST", f"/v1/orgs/{_org(w)}/projects/p1/jobs/{w.fresh_job()}/reproduce", {}),
        {"org_admin": 409, "admin": 409, "run": 409, "view": 403, "none": 404, "other": 404},
    ),
    "retry job (cancelled, input never uploaded)": (
        lambda w: ("POST", f"/v1/orgs/{_org(w)}/projects/p1/jobs/{w.cancelled_job()}/retry", None),
        {"org_admin": 409, "admin": 409, "run": 409, "view": 403, "none": 404, "other": 404},
    ),
    "share job with a member": (
        lambda w: ("POST", f"/v1/orgs/{_org(w)}/projects/p1/jobs/{w.fresh_job()}/shares", {"user": "colleague"}),
        {"org_admin": 201, "admin": 201, "run": 201, "view": 403, "none": 404, "other": 404},
    ),
    "list job shares": (
        lambda w: ("GET", f"/v1/orgs/{_org(w)}/projects/p1/jobs/{w.shared_job()}/shares", None),
        {"org_admin": 200, "admin": 200, "run": 200, "view": 200, "none": 404, "other": 404},
    ),
    "unshare job": (
        lambda w: ("DELETE", f"/v1/orgs/{_org(w)}/projects/p1/jobs/{w.shared_job()}/shares/colleague", None),
        {"org_admin": 200, "admin": 200, "run": 200, "view": 403, "none": 404, "other": 404},
    ),
    "jobs shared with me": (
        lambda w: ("GET", f"/v1/orgs/{_org(w)}/shared-jobs", None),
        {"org_admin": 200, "admin": 200, "run": 200, "view": 200, "none": 200, "other": 404},
    ),
    "results (not finished)": (
        lambda w: ("GET", f"/v1/orgs/{_org(w)}/projects/p1/jobs/{w.fresh_job()}/results", None),
        {"org_admin": 409, "admin": 409, "run": 409, "view": 409, "none": 404, "other": 404},
    ),
    "download (not finished)": (
        lambda w: ("GET", f"/v1/orgs/{_org(w)}/projects/p1/jobs/{w.fresh_job()}/download?artifact=pack", None),
        {"org_admin": 409, "admin": 409, "run": 409, "view": 409, "none": 404, "other": 404},
    ),
    "share (not finished)": (
        lambda w: (
            "POST",
            f"/v1/orgs/{_org(w)}/projects/p1/jobs/{w.fresh_job()}/share",
            {"recipient": "auditor@example.org"},
        ),
        {"org_admin": 409, "admin": 409, "run": 409, "view": 409, "none": 404, "other": 404},
    ),
    "delete job": (
        lambda w: ("DELETE", f"/v1/orgs/{_org(w)}/projects/p1/jobs/{w.fresh_job()}", None),
        {"org_admin": 200, "admin": 200, "run": 403, "view": 403, "none": 404, "other": 404},
    ),
    "delete project": (
        lambda w: ("DELETE", f"/v1/orgs/{_org(w)}/projects/{w.fresh_project()}", None),
        {"org_admin": 200, "admin": 200, "run": 403, "view": 403, "none": 404, "other": 404},
    ),
}
# "remove member" and "delete project" act on a fresh project (they destroy it) whose members are the same
# user-admin / user-run / user-view, with the same roles as in p1.

CASES = [(route, role) for route in ROUTES for role in ROLES]


@pytest.mark.parametrize(("route", "role"), CASES, ids=[f"{r}-{o}" for r, o in CASES])
def test_route_role_matrix(world: World, route: str, role: str) -> None:
    build, expected = ROUTES[route]
    method, path, body = build(world)
    response = world.clients[role].call(method, path, body)
    assert response.status_code == expected[role], response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) >= {"code", "message", "request_id"}
    if response.status_code == 404:
        assert response.json()["error"]["code"] == "not_found"


def _shape(response: Any) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


def test_another_orgs_resources_answer_exactly_like_missing_ones(world: World) -> None:
    intruder = world.clients["other"]
    org = world.tenant.org
    job = world.fresh_job()
    pairs = [
        (f"/v1/orgs/{org}", "/v1/orgs/no-such-org-x"),
        (f"/v1/orgs/{org}/projects/p1/jobs/{job}", f"/v1/orgs/no-such-org-x/projects/p1/jobs/{job}"),
    ]
    for existing, missing in pairs:
        real, fake = intruder.get(existing), intruder.get(missing)
        assert _shape(real)[:2] == _shape(fake)[:2] == (404, "not_found")
        assert _shape(real)[2].replace(org, "X") == _shape(fake)[2].replace("no-such-org-x", "X")
    # inside the org, a project the member has no role in looks like a missing project
    none = world.clients["none"]
    real = none.get(f"/v1/orgs/{org}/projects/p1")
    fake = none.get(f"/v1/orgs/{org}/projects/no-such-project")
    assert _shape(real)[:2] == _shape(fake)[:2] == (404, "not_found")


def test_project_admin_of_the_project_itself_may_delete_it_and_manage_members(world: World) -> None:
    project = world.fresh_project()
    admin = world.tenant.user("user-admin")
    run = world.tenant.user("user-run")
    base = f"/v1/orgs/{world.tenant.org}/projects/{project}"
    assert run.call("DELETE", f"{base}/members/user-view").status_code == 403
    assert admin.call("DELETE", f"{base}/members/user-view").status_code == 200
    assert run.call("DELETE", base).status_code == 403
    assert admin.call("DELETE", base).status_code == 200
    assert admin.get(base).status_code == 404

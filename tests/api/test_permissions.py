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

    def org(self, tail: str = "") -> str:
        """The path of the org, or of ``tail`` below it."""
        return f"/v1/orgs/{self.tenant.org}{tail}"

    def project(self, tail: str = "", project: str = "p1") -> str:
        return self.org(f"/projects/{project}{tail}")

    def job(self, tail: str = "", job: str | None = None) -> str:
        """The path of ``job`` in p1 (a fresh job unless given), or of ``tail`` below it."""
        return self.project(f"/jobs/{job or self.fresh_job()}{tail}")

    def fresh_job(self) -> str:
        response = self.tenant.admin.post(self.project("/jobs"), {"input_name": "m.csv", "expected_rows": 3})
        assert response.status_code == 201, response.text
        job: str = response.json()["job"]["job"]
        return job

    def cancelled_job(self) -> str:
        job = self.fresh_job()
        assert self.tenant.admin.post(self.job("/cancel", job)).status_code == 200
        return job

    def shared_job(self) -> str:
        job = self.fresh_job()
        assert self.tenant.admin.post(self.job("/shares", job), {"user": "colleague"}).status_code == 201
        return job

    def fresh_project(self) -> str:
        project = f"tmp-{len(self.clients)}-{uuid.uuid4().hex[:8]}"
        self.tenant.project(project)
        for role in ("admin", "run", "view"):
            response = self.tenant.admin.post(self.project("/members", project), {"user": f"user-{role}", "role": role})
            assert response.status_code == 201
        return project


def _new_name() -> str:
    return f"new-{uuid.uuid4().hex[:8]}"


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


# docs/security.md's permission table, one rule a row, named by the least role it lets in ("member": any member of
# the org): the code each of ROLES gets, OK standing for the route's own answer (its success code, or 409 where the
# permission passed and the job's state did not).
OK = "ok"
RULES: dict[str, tuple[int | str, ...]] = {
    # org_admin, admin, run, view, none, other
    "member": (OK, OK, OK, OK, OK, 404),
    "org_admin": (OK, 403, 403, 403, 403, 404),
    "view": (OK, OK, OK, OK, 404, 404),
    "run": (OK, OK, OK, 403, 404, 404),
    "admin": (OK, OK, 403, 403, 404, 404),
}

ROUTES: dict[str, tuple[Request, str, int]] = {
    # route name: (method, path, body) builder, the rule it follows, its own answer
    "get org": (lambda w: ("GET", w.org(), None), "member", 200),
    "change retention": (lambda w: ("PATCH", w.org(), {"retention_days": 30}), "org_admin", 200),
    "usage": (lambda w: ("GET", w.org("/usage"), None), "org_admin", 200),
    "audit log": (lambda w: ("GET", w.org("/audit"), None), "org_admin", 200),
    "issue SCIM token": (lambda w: ("POST", w.org("/scim-token"), None), "org_admin", 201),
    "list projects": (lambda w: ("GET", w.org("/projects"), None), "member", 200),
    "create project": (lambda w: ("POST", w.org("/projects"), {"project": _new_name(), "name": "x"}), "member", 201),
    "get project": (lambda w: ("GET", w.project(), None), "view", 200),
    "list members": (lambda w: ("GET", w.project("/members"), None), "view", 200),
    "add member": (lambda w: ("POST", w.project("/members"), {"user": _new_name(), "role": "view"}), "admin", 201),
    "change member": (lambda w: ("PUT", w.project("/members/user-view"), {"role": "view"}), "admin", 200),
    "remove member": (lambda w: ("DELETE", w.project("/members/user-view", w.fresh_project()), None), "admin", 200),
    "create job": (lambda w: ("POST", w.project("/jobs"), {"input_name": "m.csv", "expected_rows": 3}), "run", 201),
    "list jobs": (lambda w: ("GET", w.project("/jobs"), None), "view", 200),
    "get job": (lambda w: ("GET", w.job(), None), "view", 200),
    "start job (input not uploaded)": (lambda w: ("POST", w.job("/start"), None), "run", 409),
    "cancel job": (lambda w: ("POST", w.job("/cancel"), None), "run", 200),
    "retry job (not failed)": (lambda w: ("POST", w.job("/retry"), None), "run", 409),
    "reproduce job (not finished)": (lambda w: ("POST", w.job("/reproduce"), {}), "run", 409),
    "retry job (cancelled, input never uploaded)": (
        lambda w: ("POST", w.job("/retry", w.cancelled_job()), None),
        "run",
        409,
    ),
    "share job with a member": (lambda w: ("POST", w.job("/shares"), {"user": "colleague"}), "run", 201),
    "list job shares": (lambda w: ("GET", w.job("/shares", w.shared_job()), None), "view", 200),
    "unshare job": (lambda w: ("DELETE", w.job("/shares/colleague", w.shared_job()), None), "run", 200),
    "jobs shared with me": (lambda w: ("GET", w.org("/shared-jobs"), None), "member", 200),
    "results (not finished)": (lambda w: ("GET", w.job("/results"), None), "view", 409),
    "download (not finished)": (lambda w: ("GET", w.job("/download?artifact=pack"), None), "view", 409),
    "share (not finished)": (lambda w: ("POST", w.job("/share"), {"recipient": "auditor@example.org"}), "view", 409),
    "delete job": (lambda w: ("DELETE", w.job(), None), "admin", 200),
    "delete project": (lambda w: ("DELETE", w.project("", w.fresh_project()), None), "admin", 200),
}
# "remove member" and "delete project" act on a fresh project (they destroy it) whose members are the same
# user-admin / user-run / user-view, with the same roles as in p1.

CASES = [(route, role) for route in ROUTES for role in ROLES]


@pytest.mark.parametrize(("route", "role"), CASES, ids=[f"{r}-{o}" for r, o in CASES])
def test_route_role_matrix(world: World, route: str, role: str) -> None:
    build, rule, answer = ROUTES[route]
    expected = dict(zip(ROLES, (answer if code == OK else code for code in RULES[rule]), strict=True))
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

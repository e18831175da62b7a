"""The holes the issue-14 security review found from outside, each closed and proven over real HTTP."""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from functions.api.deps import services
from functions.service import refusals
from functions.service.failure import describe_error
from tests.api.conftest import Client, Tenant

if TYPE_CHECKING:
    from functions.local.server import LocalService


def _raw(service: LocalService, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """A request with exactly these bytes (requests would re-encode), and its status and JSON body."""
    parts = urlsplit(service.url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers={"Content-Length": str(len(body)), **headers})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def _events(tenant: Tenant) -> list[dict[str, Any]]:
    response = tenant.admin.get(f"/v1/orgs/{tenant.org}/audit?limit=500")
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def test_a_hidden_projects_id_gets_the_same_404_from_create_as_from_get(tenant: Tenant) -> None:
    tenant.project("p2")
    outsider = tenant.user("outsider")
    seen = outsider.get(f"/v1/orgs/{tenant.org}/projects/p2")
    created = outsider.post(f"/v1/orgs/{tenant.org}/projects", {"project": "p2", "name": "mine"})
    assert (seen.status_code, created.status_code) == (404, 404)
    assert created.json()["error"]["code"] == seen.json()["error"]["code"] == "not_found"
    assert created.json()["error"]["message"] == seen.json()["error"]["message"]
    # someone who can see it still learns it exists
    assert tenant.admin.post(f"/v1/orgs/{tenant.org}/projects", {"project": "p2", "name": "x"}).status_code == 409


def test_an_unauthenticated_bad_body_is_401_not_422(service: LocalService, tenant: Tenant) -> None:
    anonymous = Client(service.url, None)
    response = anonymous.post(f"/v1/orgs/{tenant.org}/projects", {"project": "../../x", "nonsense": [1, 2]})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert "details" not in response.json()["error"]
    forged = Client(service.url, "a.b.c").post("/v1/orgs", {"name": 5})
    assert forged.status_code == 401


def test_deep_json_is_400_and_a_wrong_media_type_415_never_500(service: LocalService, tenant: Tenant) -> None:
    path = f"/v1/orgs/{tenant.org}/projects"
    auth = {"Authorization": f"Bearer {tenant.admin.token}"}
    deep = b'{"project": "p1", "name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, body = _raw(service, "POST", path, deep, {**auth, "Content-Type": "application/json"})
    assert status == 400
    assert body["error"]["code"] == "too_deeply_nested"
    plain = json.dumps({"project": "p1", "name": "x"}).encode()
    status, body = _raw(service, "POST", path, plain, {**auth, "Content-Type": "text/plain"})
    assert status == 415
    assert body["error"]["code"] == "unsupported_media_type"
    status, body = _raw(service, "POST", path, b"{not json", {**auth, "Content-Type": "application/json"})
    assert 400 <= status < 500
    # a body nested within the limit is an ordinary validation answer
    status, body = _raw(
        service, "POST", path, b'{"project": [[[["x"]]]]}', {**auth, "Content-Type": "application/json"}
    )
    assert status == 422


def test_a_body_that_is_not_utf8_gets_an_answer(service: LocalService, tenant: Tenant) -> None:
    headers = {"Authorization": f"Bearer {tenant.admin.token}", "Content-Type": "application/json"}
    status, body = _raw(service, "POST", f"/v1/orgs/{tenant.org}/projects", b'{"project": "\xff\xfe"}', headers)
    assert status == 400
    assert body["error"]["code"] == "invalid_encoding"


def test_concurrent_creates_of_one_org_give_one_201_and_409s_and_no_orphan_keys(service: LocalService) -> None:
    org = f"race-{time.time_ns() % 10**9}"
    client = Client(service.url, service.issuer.token(f"{org}-admin", org))
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def create() -> None:
        barrier.wait()
        statuses.append(client.post("/v1/orgs", {"name": "Race"}).status_code)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 5
    kms = services().context.kms
    mine = []
    for page in kms.get_paginator("list_keys").paginate():
        for key in page["Keys"]:
            tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
            state = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"]
            if {"TagKey": "hetero2:org", "TagValue": org} in tags and state == "Enabled":
                mine.append(key["KeyId"])
    assert len(mine) == 2  # one data key and one signing key, no orphans


def test_org_create_is_audited_with_source_ip_and_request_id(tenant: Tenant) -> None:
    (created,) = [e for e in _events(tenant) if e["action"] == "org.create"]
    assert created["source_ip"] == "127.0.0.1"
    assert created["details"]["request_id"]


def test_refusals_are_audited_with_source_ip_and_request_id(
    service: LocalService, tenant: Tenant, other_tenant: Tenant
) -> None:
    tenant.project("p1")
    member = tenant.member("p1", "viewer", "view")
    assert Client(service.url, None).get(f"/v1/orgs/{tenant.org}/projects").status_code == 401
    assert member.get(f"/v1/orgs/{tenant.org}/audit").status_code == 403
    assert member.get(f"/v1/orgs/{tenant.org}/usage").status_code == 403
    assert other_tenant.admin.get(f"/v1/orgs/{tenant.org}/projects/p1").status_code == 404
    refused = [e for e in _events(tenant) if e["outcome"] == "denied"]
    assert {(e["action"], e["details"]["status"]) for e in refused} >= {
        ("auth.refused", 401),
        ("access.denied", 403),
        ("access.denied", 404),
    }
    assert all(e["source_ip"] == "127.0.0.1" and e["details"]["request_id"] for e in refused)
    (probe,) = [e for e in refused if e["details"]["status"] == 404]
    assert probe["actor"] == f"{other_tenant.org}-admin@{other_tenant.org}"
    # the prober's own org sees it too
    assert any(e["action"] == "access.denied" for e in _events(other_tenant))


def test_a_flood_of_refusals_cannot_fill_the_audit_table(service: LocalService, tenant: Tenant) -> None:
    anonymous = Client(service.url, None)
    before = len(_events(tenant))
    for _ in range(refusals.LIMIT_PER_MINUTE + 15):
        assert anonymous.get(f"/v1/orgs/{tenant.org}").status_code == 401
    added = len(_events(tenant)) - before
    assert added <= refusals.LIMIT_PER_MINUTE
    assert added >= 1


def test_a_failed_jobs_error_never_shows_a_server_path() -> None:
    cause = json.dumps({"errorMessage": "cannot read /tmp/hetero2-plan-k2j4x9/input.csv: line 3 is not CSV"})
    described = describe_error({"Error": "JobInputError", "Cause": cause})
    assert "/tmp" not in described["message"]
    assert described["message"] == "cannot read input.csv: line 3 is not CSV"
    kept = describe_error({"Error": "X", "Cause": "create the org first (POST /v1/orgs), see https://x.org/a/b"})
    assert kept["message"] == "create the org first (POST /v1/orgs), see https://x.org/a/b"


def test_unauthenticated_requests_never_reach_the_body_parser(service: LocalService) -> None:
    response = requests.post(
        service.url + "/v1/orgs", data=b"[" * 50_000, headers={"Content-Type": "text/plain"}, timeout=60
    )
    assert response.status_code == 401

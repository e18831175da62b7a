"""Attacks on authentication and tenant isolation, over real HTTP."""

from __future__ import annotations

import dataclasses
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from functions.api.deps import services
from functions.local.server import LocalService, TokenIssuer
from tests.api.conftest import Client, Tenant


def _status(service: LocalService, token: str, org: str) -> requests.Response:
    return Client(service.url, token).get(f"/v1/orgs/{org}")


def test_no_token_and_a_malformed_header_are_401(service: LocalService, tenant: Tenant) -> None:
    assert Client(service.url, None).get(f"/v1/orgs/{tenant.org}").status_code == 401
    response = Client(service.url, None).get(f"/v1/orgs/{tenant.org}", Authorization="Basic dXNlcjpwYXNz")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthenticated"
    assert _status(service, "not.a.jwt", tenant.org).status_code == 401


@pytest.mark.parametrize(
    ("case", "claims"),
    [
        ("expired", {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}),
        ("wrong audience", {"aud": "someone-else"}),
        ("wrong issuer", {"iss": "https://evil.example/issuer"}),
        ("no org claim", {"hetero2:org": None}),
        ("org claim with a path", {"hetero2:org": "../other"}),
        ("user id with a separator", {"sub": "a#b"}),
    ],
)
def test_tokens_that_are_not_valid_here_are_401(
    service: LocalService, tenant: Tenant, case: str, claims: dict[str, Any]
) -> None:
    token = service.issuer.token(f"{tenant.org}-admin", tenant.org, **claims)
    response = _status(service, token, tenant.org)
    assert response.status_code == 401, case
    assert response.json()["error"]["code"] == "unauthenticated"


def test_forged_token_signed_by_another_key_is_401(service: LocalService, tenant: Tenant) -> None:
    forger = TokenIssuer(service.issuer.issuer, service.issuer.audience)
    forger.kid = service.issuer.kid  # claims to be our key
    assert _status(service, forger.token(f"{tenant.org}-admin", tenant.org), tenant.org).status_code == 401
    unsigned = service.issuer.token("x", tenant.org).rsplit(".", 1)[0] + "."
    assert _status(service, unsigned, tenant.org).status_code == 401


def test_token_of_org_a_with_org_b_ids_in_path_or_body(tenant: Tenant, other_tenant: Tenant) -> None:
    victim = other_tenant
    victim.project("secret")
    job = victim.admin.post(
        f"/v1/orgs/{victim.org}/projects/secret/jobs", {"input_name": "m.csv", "expected_rows": 2}
    ).json()["job"]["job"]
    attacker = tenant.admin
    base = f"/v1/orgs/{victim.org}/projects/secret"
    for method, path, body in [
        ("GET", f"/v1/orgs/{victim.org}", None),
        ("GET", f"{base}/jobs/{job}", None),
        ("POST", f"{base}/jobs/{job}/cancel", None),
        ("DELETE", f"{base}/jobs/{job}", None),
        ("POST", f"{base}/members", {"user": "attacker", "role": "admin"}),
        ("POST", f"/v1/orgs/{victim.org}/projects", {"project": "planted", "name": "x"}),
    ]:
        assert attacker.call(method, path, body).status_code == 404, (method, path)
    # the attacker's own org with the victim's project id in the body creates a project in the attacker's org only
    response = attacker.post(f"/v1/orgs/{tenant.org}/projects", {"project": "secret", "name": "mine"})
    assert response.status_code == 201
    assert response.json()["org"] == tenant.org
    assert victim.admin.get(f"{base}/jobs/{job}").json()["state"] == "CREATED"
    assert victim.admin.get(f"{base}").json()["name"] == "secret"


def test_presigned_url_of_org_a_used_for_org_b_key_plants_nothing_b_will_use(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    """AWS refuses a presigned URL whose path was changed (SigV4 signs the path); moto does not check
    signatures, so the forged PUT lands here. It still cannot feed org B: the object carries org A's KMS key
    (the signed headers force it), and org B's service refuses any input not under B's own key."""
    tenant.project("p1")
    other_tenant.project("p1")
    a_upload = tenant.admin.post(
        f"/v1/orgs/{tenant.org}/projects/p1/jobs", {"input_name": "m.csv", "expected_rows": 2}
    ).json()["uploads"]["input"]
    b_created = other_tenant.admin.post(
        f"/v1/orgs/{other_tenant.org}/projects/p1/jobs", {"input_name": "m.csv", "expected_rows": 2}
    ).json()
    b_job, b_upload = b_created["job"]["job"], b_created["uploads"]["input"]
    a_parts, b_parts = urlsplit(a_upload["url"]), urlsplit(b_upload["url"])
    forged = urlunsplit(a_parts._replace(path=b_parts.path))  # A's signature and key headers, B's object
    planted = requests.put(forged, data=b"id,smiles\nx,CCO\n", headers=a_upload["headers"], timeout=30)
    assert planted.status_code == 200, "moto accepted it; AWS would answer 403 SignatureDoesNotMatch"

    start = other_tenant.admin.post(f"/v1/orgs/{other_tenant.org}/projects/p1/jobs/{b_job}/start")
    assert start.status_code == 409
    assert start.json()["error"]["code"] == "input_rejected"
    # B's own URL replaces the planted object and the job can start
    assert requests.put(b_upload["url"], data=b"id,smiles\nx,CCO\n", headers=b_upload["headers"], timeout=30).ok
    started = other_tenant.admin.post(f"/v1/orgs/{other_tenant.org}/projects/p1/jobs/{b_job}/start")
    assert started.status_code == 202, started.text


@pytest.mark.parametrize(
    "name", ["../../other/x.csv", "..", ".hidden.csv", "a/b.csv", "x" * 200, "café.csv", "a b.csv", ""]
)
def test_path_traversal_in_file_names_is_refused_with_422(tenant: Tenant, name: str) -> None:
    tenant.project("p1")
    response = tenant.admin.post(f"/v1/orgs/{tenant.org}/projects/p1/jobs", {"input_name": name, "expected_rows": 2})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["details"][0]["loc"][-1] == "input_name"


@pytest.mark.parametrize("job", ["..%2F..%2Fother", "UPPER", "a_b", "-x"])
def test_bad_ids_in_the_path_are_refused(tenant: Tenant, job: str) -> None:
    tenant.project("p1")
    response = tenant.admin.get(f"/v1/orgs/{tenant.org}/projects/p1/jobs/{job}")
    assert response.status_code in (404, 422)
    assert response.json()["error"]["code"] in ("not_found", "validation_error", "no_such_route")


def test_only_orgs_provisioned_in_the_deployment_can_be_created_with_their_configured_terms(
    service: LocalService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployment serves the orgs of its customer config (HETERO2_TENANTS); any other org claim is refused."""
    context = services().context
    suffix = str(time.time_ns() % 10**9)
    provisioned = f"acme-{suffix}"
    tenants = {provisioned: {"plan": "trial", "retention_days": 30}}
    monkeypatch.setattr(context, "settings", dataclasses.replace(context.settings, tenants=tenants))
    stranger = Client(service.url, service.issuer.token("eve", f"stranger-{suffix}"))
    refused = stranger.post("/v1/orgs", {"name": "not ours"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "org_not_provisioned"
    member = Client(service.url, service.issuer.token("alice", provisioned))
    created = member.post("/v1/orgs", {"name": "Acme"})
    assert created.status_code == 201
    assert (created.json()["plan"], created.json()["retention_days"]) == ("trial", 30)


def test_an_org_that_was_not_created_has_nothing_to_show_or_create_in(service: LocalService) -> None:
    ghost = f"ghost-{time.time_ns() % 10**9}"
    client = Client(service.url, service.issuer.token("casper", ghost))
    assert client.get(f"/v1/orgs/{ghost}").status_code == 404
    response = client.post(f"/v1/orgs/{ghost}/projects", {"project": "p1", "name": "x"})
    assert response.status_code == 404
    assert client.get("/v1/orgs").json() == {"orgs": []}

"""Lifecycle fixes of issue 14 over real HTTP: published public keys survive rotation, retention is bounded by
the lifecycle rule, plan changes in the config reach the org record, external sharing is an org setting."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

import requests

from functions.api.deps import services
from functions.service import layout
from functions.service import table as keys
from functions.service.tenancy import JobRef
from hetero_core import layout as pack_layout
from hetero_core.pack import public_key_id
from tests.api.conftest import Client, Tenant

if TYPE_CHECKING:
    import pytest

    from functions.local.server import LocalService


def _finished_job(tenant: Tenant, key_id: str) -> str:
    """A job made SUCCEEDED by hand, with a manifest that names the key that signed it (no pipeline run)."""
    created = tenant.admin.post(
        f"/v1/orgs/{tenant.org}/projects/p1/jobs", {"input_name": "m.csv", "expected_rows": 2}
    ).json()
    job: str = created["job"]["job"]
    ctx = services().context
    ref = JobRef(tenant.org, "p1", job)
    ctx.dynamodb.Table(ctx.settings.table).update_item(
        Key=keys.job_key(tenant.org, "p1", job),
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":s": "SUCCEEDED"},
    )
    manifest = {"schema": "hetero_manifest.v1", "signature": {"key_id": key_id, "algorithm": "ECDSA_P256_SHA256"}}
    ctx.store(tenant.org).put_json(layout.pack_member_key(ref, pack_layout.MANIFEST), manifest)
    return job


def _public_key(tenant: Tenant, job: str) -> bytes:
    response = tenant.admin.get(f"/v1/orgs/{tenant.org}/projects/p1/jobs/{job}/download?artifact=public_key")
    assert response.status_code == 200, response.text
    return requests.get(response.json()["url"], timeout=60).content


def _rotate_signing_key(org: str) -> None:
    """What a deployment's key replacement does: a new P-256 key behind the same alias."""
    ctx = services().context
    new = ctx.kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256", Description=f"rotated {org}")
    ctx.kms.update_alias(AliasName=ctx.keys.signing_alias(org), TargetKeyId=new["KeyMetadata"]["KeyId"])


def test_every_key_that_ever_signed_stays_published_after_rotation(tenant: Tenant) -> None:
    tenant.project("p1")
    store = services().context.store(tenant.org)
    first = store.get_bytes(layout.org_public_key_key(tenant.org))  # published when the org was created
    first_id = public_key_id(first)
    old_job = _finished_job(tenant, first_id)
    assert _public_key(tenant, old_job) == first
    _rotate_signing_key(tenant.org)
    assert _public_key(tenant, old_job) == first  # the pack signed before the rotation still verifies
    current = store.get_bytes(layout.org_public_key_key(tenant.org))
    assert current != first
    new_job = _finished_job(tenant, public_key_id(current))
    assert _public_key(tenant, new_job) == current
    assert store.exists(layout.org_public_key_version_key(tenant.org, first_id))
    assert store.exists(layout.org_public_key_version_key(tenant.org, public_key_id(current)))
    assert not layout.org_public_key_key(tenant.org).startswith(layout.projects_prefix(tenant.org))


def _provisioned(service: LocalService, monkeypatch: pytest.MonkeyPatch, terms: dict[str, Any]) -> tuple[str, Client]:
    org = f"cfg-{time.time_ns() % 10**9}"
    context = services().context
    monkeypatch.setattr(context, "settings", dataclasses.replace(context.settings, tenants={org: terms}))
    admin = Client(service.url, service.issuer.token("alice", org))
    assert admin.post("/v1/orgs", {"name": "Configured"}).status_code == 201
    return org, admin


def test_retention_cannot_be_set_beyond_what_the_lifecycle_enforces(
    service: LocalService, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, admin = _provisioned(service, monkeypatch, {"plan": "trial", "retention_days": 30})
    beyond = admin.call("PATCH", f"/v1/orgs/{org}", {"retention_days": 400})
    assert beyond.status_code == 422
    assert beyond.json()["error"]["code"] == "retention_beyond_lifecycle"
    shorter = admin.call("PATCH", f"/v1/orgs/{org}", {"retention_days": 7})
    assert shorter.status_code == 200
    assert shorter.json()["retention_days"] == 7


def test_a_plan_change_in_the_config_reaches_the_org_record_the_quota_reads(
    service: LocalService, monkeypatch: pytest.MonkeyPatch
) -> None:
    org, admin = _provisioned(service, monkeypatch, {"plan": "trial", "retention_days": 60})
    context = services().context
    assert context.quotas.limits_of(org).plan == "trial"
    # the next deploy carries a new plan and a shorter lifecycle rule
    tenants = {org: {"plan": "enterprise", "retention_days": 20}}
    monkeypatch.setattr(context, "settings", dataclasses.replace(context.settings, tenants=tenants))
    body = admin.get(f"/v1/orgs/{org}").json()
    assert (body["plan"], body["retention_days"]) == ("enterprise", 20)
    assert services().context.quotas.limits_of(org).plan == "enterprise"
    events = admin.get(f"/v1/orgs/{org}/audit").json()["events"]
    changes = {e["action"]: e for e in events if e["actor"] == "system:config"}
    assert changes["quota.change"]["details"]["plan"] == "enterprise"
    assert changes["retention.change"]["details"]["retention_days"] == 20


def test_external_sharing_is_off_by_default_and_only_an_org_admin_turns_it_on(tenant: Tenant) -> None:
    tenant.project("p1")
    viewer = tenant.member("p1", "viewer", "view")
    project_admin = tenant.member("p1", "padmin", "admin")
    job = _finished_job(tenant, "0" * 16)
    share = f"/v1/orgs/{tenant.org}/projects/p1/jobs/{job}/share"
    assert tenant.admin.get(f"/v1/orgs/{tenant.org}").json()["external_sharing"] is False
    refused = viewer.post(share, {"recipient": "cro@example.org"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "external_sharing_disabled"
    for who in (viewer, project_admin):
        assert who.call("PATCH", f"/v1/orgs/{tenant.org}", {"external_sharing": True}).status_code == 403
    assert tenant.admin.call("PATCH", f"/v1/orgs/{tenant.org}", {"external_sharing": True}).status_code == 200
    shared = viewer.post(share, {"artifact": "manifest", "recipient": "cro@example.org"})
    assert shared.status_code == 201, shared.text
    events = tenant.admin.get(f"/v1/orgs/{tenant.org}/audit?limit=500").json()["events"]
    shares = [(e["outcome"], e["details"]["recipient"], e["actor"]) for e in events if e["action"] == "pack.share"]
    assert shares == [("denied", "cro@example.org", "viewer"), ("success", "cro@example.org", "viewer")]
    (turned_on,) = [e for e in events if e["action"] == "sharing.change"]
    assert turned_on["details"]["external_sharing"] is True
    assert turned_on["actor"] == f"{tenant.org}-admin"

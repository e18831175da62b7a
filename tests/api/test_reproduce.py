"""Reproduce through the API, over real HTTP: a reproduce job re-runs a succeeded job's stored input with its
parameters and acceptance criteria and records REPRODUCED (or the first member that differs) on its record."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import requests

from hetero_core.cli import main as hetero2
from tests.api.test_user_path import FAST, run_job, wait_for
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from pathlib import Path

    from tests.api.conftest import Tenant


def _download(tenant: Tenant, job_path: str, artifact: str, target: Path) -> Path:
    url = tenant.admin.get(f"{job_path}/download?artifact={artifact}").json()["url"]
    target.write_bytes(requests.get(url, timeout=60).content)
    return target


def test_a_succeeded_job_reproduces_byte_for_byte_as_a_new_job(tenant: Tenant, tmp_path: Path) -> None:
    project = tenant.project()
    original_path, original = run_job(tenant, project, input_csv(distinct_molecules(11)), {**FAST, "seed": 7})
    assert original["state"] == "SUCCEEDED"

    started = tenant.admin.post(original_path + "/reproduce", {})
    assert started.status_code == 202, started.text
    reproduce = started.json()
    assert reproduce["job"] != original["job"]
    assert reproduce["reproduce_of"] == original["job"]
    assert reproduce["source"] == "reproduce"
    assert reproduce["parameters"] == original["parameters"]
    assert reproduce["state"] in {"QUEUED", "RUNNING"}

    reproduce_path = f"/v1/orgs/{tenant.org}/projects/{project}/jobs/{reproduce['job']}"
    done = wait_for(tenant.admin, reproduce_path)
    assert done["state"] == "SUCCEEDED", done
    assert done["reproduction"] == {
        "outcome": "REPRODUCED",
        "members_compared": 6,  # summary, decoys, metrics, index, report, and the manifest without its signature
        "member": None,
        "where": None,
        "drift": [],
        "of": original["job"],
    }
    assert done["decision"] == original["decision"]

    # the re-created pack is published and signed with the org's key; its manifest is the original's
    pack = _download(tenant, reproduce_path, "pack", tmp_path / "reproduced.zip")
    key = _download(tenant, reproduce_path, "public_key", tmp_path / "org.pem")
    assert hetero2(["verify", str(pack), "--public-key", str(key)]) == 0
    original_manifest = json.loads(_download(tenant, original_path, "manifest", tmp_path / "a.json").read_text())
    reproduced_manifest = json.loads(_download(tenant, reproduce_path, "manifest", tmp_path / "b.json").read_text())
    assert reproduced_manifest == original_manifest

    events = tenant.admin.get(f"/v1/orgs/{tenant.org}/audit").json()["events"]
    (event,) = [e for e in events if e["action"] == "job.reproduce"]
    assert event["target"].endswith(f"/{original['job']}")
    assert event["details"]["reproduction"] == reproduce["job"]

    # a reproduction is not reproduced again: its original is
    again = tenant.admin.post(reproduce_path + "/reproduce", {})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_reproducible"
    assert original["job"] in again.json()["error"]["message"]


def test_a_job_without_a_pack_is_not_reproducible(tenant: Tenant) -> None:
    project = tenant.project()
    created = tenant.admin.post(
        f"/v1/orgs/{tenant.org}/projects/{project}/jobs", {"input_name": "m.csv", "expected_rows": 3}
    )
    path = f"/v1/orgs/{tenant.org}/projects/{project}/jobs/{created.json()['job']['job']}"
    refused = tenant.admin.post(path + "/reproduce", {})
    assert refused.status_code == 409
    assert refused.json()["error"] == {
        "code": "not_reproducible",
        "message": f"job {created.json()['job']['job']} is CREATED; only a job that succeeded has a pack to reproduce",
        "request_id": refused.json()["error"]["request_id"],
    }
    assert tenant.admin.post(path + "/reproduce", {"allow_drift": True}).status_code == 422, "unknown fields refused"

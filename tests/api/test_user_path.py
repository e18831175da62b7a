"""A user's whole path over real HTTP: org, project, job, presigned upload, start, progress, results, download,
and verification of the pack with the org's published public key."""

from __future__ import annotations

import csv
import io
import time
from typing import TYPE_CHECKING, Any

import requests

from hetero_core.cli import main as hetero2
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from pathlib import Path

    from tests.api.conftest import Client, Tenant

TERMINAL = {"SUCCEEDED", "SUCCEEDED_WITH_ERRORS", "FAILED", "CANCELLED"}
FAST = {"k_decoys": 4, "decoy_descriptors": "fast", "scorer": "qed", "chunk_rows": 10}


def upload(instruction: dict[str, Any], data: bytes) -> None:
    response = requests.request(
        instruction["method"], instruction["url"], data=data, headers=instruction["headers"], timeout=60
    )
    assert response.status_code == 200, response.text


def wait_for(client: Client, path: str, timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(path).json()
        if job["state"] in TERMINAL:
            return job
        time.sleep(0.2)
    raise TimeoutError(path)


def run_job(
    tenant: Tenant, project: str, data: bytes, params: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    created = tenant.admin.post(
        f"/v1/orgs/{tenant.org}/projects/{project}/jobs",
        {"input_name": "molecules.csv", "expected_rows": data.count(b"\n") - 1, "parameters": params or FAST},
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["job"]["job"]
    upload(created.json()["uploads"]["input"], data)
    path = f"/v1/orgs/{tenant.org}/projects/{project}/jobs/{job_id}"
    started = tenant.admin.post(path + "/start")
    assert started.status_code == 202, started.text
    return path, wait_for(tenant.admin, path)


def test_whole_path_create_upload_start_poll_download_verify(tenant: Tenant, tmp_path: Path) -> None:
    project = tenant.project("screening")
    smiles = [*distinct_molecules(24), "not-a-smiles"]
    path, job = run_job(tenant, project, input_csv(smiles))

    assert job["state"] == "SUCCEEDED"
    assert job["progress"]["rows_total"] == job["progress"]["rows_done"] == 25
    assert job["progress"]["rows_skip"] >= 1
    assert job["progress"]["chunks_done"] == job["progress"]["chunks_total"] == 3

    results = tenant.admin.get(path + "/results").json()
    assert results["counts"]["total"] == 25
    assert set(results["verdicts"]) == {"PASS", "FAIL", "SKIP"}

    pack = tenant.admin.get(path + "/download?artifact=pack").json()
    key = tenant.admin.get(path + "/download?artifact=public_key").json()
    (tmp_path / "pack.zip").write_bytes(requests.get(pack["url"], timeout=60).content)
    (tmp_path / "org.pem").write_bytes(requests.get(key["url"], timeout=60).content)
    assert hetero2(["verify", str(tmp_path / "pack.zip"), "--public-key", str(tmp_path / "org.pem")]) == 0

    decoys_url = tenant.admin.get(path + "/download?artifact=decoys").json()["url"]
    decoys = list(csv.DictReader(io.StringIO(requests.get(decoys_url, timeout=60).text)))
    assert {row["role"] for row in decoys} == {"original", "decoy"}

    assert tenant.admin.post(path + "/share", {"recipient": "QA lead"}).status_code == 403  # off by default
    assert tenant.admin.call("PATCH", f"/v1/orgs/{tenant.org}", {"external_sharing": True}).status_code == 200
    shared = tenant.admin.post(path + "/share", {"artifact": "report", "expires_in": 7200, "recipient": "QA lead"})
    assert shared.status_code == 201
    assert shared.json()["expires_in"] == 7200
    report = requests.get(shared.json()["url"], timeout=60)
    assert report.status_code == 200
    assert report.text.startswith("<!DOCTYPE html>")
    too_long = tenant.admin.post(path + "/share", {"expires_in": 30 * 24 * 3600, "recipient": "x"})
    assert too_long.status_code == 422

    listed = tenant.admin.get(f"/v1/orgs/{tenant.org}/projects/{project}/jobs").json()["jobs"]
    assert [j["job"] for j in listed] == [job["job"]]

    events = tenant.admin.get(f"/v1/orgs/{tenant.org}/audit").json()["events"]
    actions = [e["action"] for e in events]
    assert actions[:3] == ["org.create", "project.create", "job.submit"]
    assert "job.start" in actions
    assert actions.count("pack.download") == 3
    (share_event,) = [e for e in events if e["action"] == "pack.share" and e["outcome"] == "success"]
    assert share_event["details"]["recipient"] == "QA lead"
    assert share_event["target"].endswith("/report")
    assert all(e["actor"] == f"{tenant.org}-admin" for e in events)

    usage = tenant.admin.get(f"/v1/orgs/{tenant.org}/usage").json()
    assert usage["total"]["molecules"] == 25

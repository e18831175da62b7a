"""Acceptance criteria for API jobs (``acceptance.v1``) over real HTTP: refused with the CLI's own messages, kept on
the job record with its sha256, and applied by the finalizer exactly as ``hetero2 run --acceptance`` applies them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from hetero_core.acceptance import load_acceptance
from hetero_core.errors import ConfigError
from tests.api.test_user_path import FAST, upload, wait_for
from tests.conftest import DEFAULT_CRITERIA
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from tests.api.conftest import Tenant

STRICT_CRITERIA: dict[str, Any] = {"min_judged": 5, "alpha": 0.01, "min_hard_pairs": 0}
STRICT = {"schema_version": "acceptance.v1", "criteria": STRICT_CRITERIA}

BAD_DOCUMENTS: dict[str, Any] = {
    "unknown criterion": {"schema_version": "acceptance.v1", "criteria": {"alpah": 0.01}},
    "unknown top-level field": {"schema_version": "acceptance.v1", "critera": {}},
    "wrong schema version": {"schema_version": "acceptance.v2"},
    "alpha out of range": {"schema_version": "acceptance.v1", "criteria": {"alpha": 0.9}},
    "criteria not an object": {"schema_version": "acceptance.v1", "criteria": [1]},
    "not JSON (file text)": "{not json",
    "not an object (file text)": "[1, 2]",
}


def _jobs(tenant: Tenant, project: str) -> str:
    return f"/v1/orgs/{tenant.org}/projects/{project}/jobs"


def _cli_message(document: Any, folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """What ``hetero2 run --acceptance acceptance.json`` says about the same document, from its folder."""
    text = document if isinstance(document, str) else json.dumps(document, sort_keys=True, indent=2) + "\n"
    (folder / "acceptance.json").write_text(text, encoding="utf-8")
    monkeypatch.chdir(folder)
    with pytest.raises(ConfigError) as refused:
        load_acceptance(Path("acceptance.json"))
    return str(refused.value)


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_a_bad_acceptance_document_is_refused_with_the_clis_message(
    tenant: Tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    project = tenant.project()
    document = BAD_DOCUMENTS[case]
    response = tenant.admin.post(
        _jobs(tenant, project), {"input_name": "m.csv", "expected_rows": 3, "acceptance": document}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_acceptance"
    assert error["message"] == _cli_message(document, tmp_path, monkeypatch)
    assert error["details"][0]["loc"] == ["body", "acceptance"]
    assert tenant.admin.get(_jobs(tenant, project)).json()["jobs"] == [], "nothing was created"


def test_an_oversized_acceptance_document_is_refused(tenant: Tenant) -> None:
    project = tenant.project()
    huge = {"schema_version": "acceptance.v1", "description": "x" * 20_000}
    response = tenant.admin.post(
        _jobs(tenant, project), {"input_name": "m.csv", "expected_rows": 3, "acceptance": huge}
    )
    assert response.status_code == 422
    assert "at most 16384" in response.json()["error"]["message"]


def test_a_job_without_acceptance_shows_the_default_criteria(tenant: Tenant) -> None:
    project = tenant.project()
    created = tenant.admin.post(_jobs(tenant, project), {"input_name": "m.csv", "expected_rows": 3})
    assert created.status_code == 201
    assert created.json()["job"]["acceptance"] == {
        "source": "default",
        "name": None,
        "sha256": None,
        "criteria": DEFAULT_CRITERIA,
    }


def test_a_jobs_acceptance_decides_its_pack_and_is_recorded_with_its_sha256(tenant: Tenant) -> None:
    project = tenant.project()
    data = input_csv(distinct_molecules(12))
    created = tenant.admin.post(
        _jobs(tenant, project),
        {
            "input_name": "molecules.csv",
            "expected_rows": 12,
            "parameters": {**FAST, "scorer": "good"},
            "acceptance": STRICT,
            "acceptance_name": "strict.json",
        },
    )
    assert created.status_code == 201, created.text
    canonical = (json.dumps(STRICT, sort_keys=True, indent=2) + "\n").encode()
    shown = created.json()["job"]["acceptance"]
    assert shown["source"] == "file"
    assert shown["name"] == "strict.json"
    assert shown["sha256"] == hashlib.sha256(canonical).hexdigest()
    assert shown["criteria"] == {**DEFAULT_CRITERIA, **STRICT_CRITERIA}

    upload(created.json()["uploads"]["input"], data)
    path = f"{_jobs(tenant, project)}/{created.json()['job']['job']}"
    assert tenant.admin.post(path + "/start").status_code == 202
    job = wait_for(tenant.admin, path)
    assert job["state"] == "SUCCEEDED", job
    # 12 judged molecules: the defaults (min_judged 30) would say INCONCLUSIVE; min_judged 5 lets `good` be GO
    assert job["decision"]["outcome"] == "GO"
    assert job["acceptance"] == shown

    manifest_url = tenant.admin.get(path + "/download?artifact=manifest").json()["url"]
    manifest = requests.get(manifest_url, timeout=60).json()
    assert manifest["acceptance"] == {
        "schema_version": "acceptance.v1",
        "source": "file",
        "path": "strict.json",
        "sha256": shown["sha256"],
        "criteria": shown["criteria"],
    }
    results = tenant.admin.get(path + "/results").json()
    assert results["decision"]["criteria"] == {**shown["criteria"], "source": "file"}

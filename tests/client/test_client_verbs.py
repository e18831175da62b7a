"""The client verbs the web dashboard has too: retry, share, delete, usage, audit (``Client``/``Job`` and
``hetero2 remote``), against the local server over real HTTP."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
import requests

from hetero2_client.cli import EXIT_OK, EXIT_USAGE, main
from tests.client.conftest import FAST, PROJECT, Finished, printed

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.usefixtures("service_env")
def test_share_prints_a_link_that_downloads_the_pack(finished: Finished, capsys: pytest.CaptureFixture[str]) -> None:
    # links for people outside the org are off until an org admin turns them on (issue 14)
    owner = finished.tenant
    assert owner.admin.call("PATCH", f"/v1/orgs/{owner.org}", {"external_sharing": True}).status_code == 200
    assert main(["remote", "share", finished.job.id, "--recipient", "auditor@example.org"]) == EXIT_OK
    url = printed(capsys.readouterr().out).strip()
    answer = requests.get(url, timeout=30)
    assert answer.status_code == 200
    assert answer.content.startswith(b"PK")
    link = finished.job.share("auditor@example.org", artifact="manifest", expires_in=120)
    assert link["artifact"] == "manifest"
    assert link["expires_in"] == 120


@pytest.mark.usefixtures("service_env")
def test_retry_of_a_job_that_did_not_fail_is_a_conflict(finished: Finished, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remote", "retry", finished.job.id]) == EXIT_USAGE
    assert capsys.readouterr().err.startswith("hetero2 remote: error: 409 invalid_state:")


@pytest.mark.usefixtures("service_env")
def test_delete_removes_a_finished_job(finished: Finished, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = finished.client.create_job(finished.input_path, parameters=FAST)
    job.cancel()
    assert main(["remote", "delete", job.id]) == EXIT_OK
    assert printed(capsys.readouterr().out).startswith(f"deleted {PROJECT}/{job.id}")
    assert job.id not in [j.id for j in finished.client.jobs()]


@pytest.mark.usefixtures("service_env")
def test_usage_and_audit_print_the_orgs_json(finished: Finished, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remote", "usage"]) == EXIT_OK
    usage = json.loads(printed(capsys.readouterr().out))
    assert usage == finished.client.usage()
    assert main(["remote", "audit", "--limit", "5"]) == EXIT_OK
    audit = json.loads(printed(capsys.readouterr().out))
    assert audit == finished.client.audit(limit=5)
    assert json.dumps(audit).count('"action"') >= 1

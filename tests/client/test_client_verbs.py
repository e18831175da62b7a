"""The client verbs the web dashboard has too: retry, share (within the org and by link), delete, usage, audit,
the decoys-only export and the list's filters (``Client``/``Job`` and ``hetero2 remote``), against the local server
over real HTTP."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
import requests

from hetero2_client import Client
from hetero2_client.cli import EXIT_OK, EXIT_USAGE, main
from hetero_core.layout import DECOY_COLUMNS
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


@pytest.mark.usefixtures("service_env")
def test_share_with_a_member_who_then_sees_the_job_and_unshare(
    finished: Finished, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = finished.tenant
    reviewer = Client(finished.client.url, owner.service.issuer.token("reviewer-cli", owner.org), project=PROJECT)
    assert reviewer.shared_jobs() == []
    assert main(["remote", "share", finished.job.id, "--member", "reviewer-cli"]) == EXIT_OK
    assert printed(capsys.readouterr().out).strip() == f"job {finished.job.id} shared with reviewer-cli"
    assert [job.id for job in reviewer.shared_jobs()] == [finished.job.id]
    assert reviewer.job(finished.job.id).state == "SUCCEEDED"
    assert [s["user"] for s in finished.job.shares()] == ["reviewer-cli"]
    assert main(["remote", "unshare", finished.job.id, "--member", "reviewer-cli"]) == EXIT_OK
    assert reviewer.shared_jobs() == []


@pytest.mark.usefixtures("service_env")
def test_decoys_export_has_the_four_columns_and_no_score(
    finished: Finished, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "to-score.csv"
    assert main(["remote", "decoys", finished.job.id, "--out", str(out)]) == EXIT_OK
    assert printed(capsys.readouterr().out).strip() == f"decoys (no score column): {out}"
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == list(DECOY_COLUMNS)
    frame = finished.job.decoys()
    assert len(lines) - 1 == len(frame)
    assert lines[1].split(",", 3) == [str(frame.iloc[0][column]) for column in DECOY_COLUMNS]


@pytest.mark.usefixtures("service_env")
def test_a_cancelled_job_is_retried_and_list_filters_by_creator(
    finished: Finished, capsys: pytest.CaptureFixture[str]
) -> None:
    job = finished.client.create_job(finished.input_path, parameters=FAST)
    job.cancel()
    assert main(["remote", "retry", job.id]) == EXIT_OK
    assert job.refresh().state in {"QUEUED", "RUNNING", "SUCCEEDED"}
    job.wait(180, poll=0.2)
    creator = f"{finished.tenant.org}-admin"
    assert job.record["created_by"] == creator
    assert main(["remote", "list", "--created-by", creator, "--limit", "200"]) == EXIT_OK
    assert job.id in printed(capsys.readouterr().out)
    assert finished.client.jobs(created_by="someone-else") == []

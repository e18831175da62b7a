"""Acceptance files through the client and ``hetero2 remote submit --acceptance``: checked before anything is sent,
with ``hetero2 run``'s messages, and recorded in the service's manifest exactly as ``hetero2 run`` records them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from hetero2_client import Client
from hetero2_client.cli import EXIT_OK, EXIT_USAGE, main
from hetero_core import cli as hetero2_cli
from hetero_core.errors import ConfigError
from hetero_core.hashing import file_sha256
from hetero_core.layout import MANIFEST, METRICS
from tests.client.conftest import FAST, PROJECT, molecules_file, printed, token_of

if TYPE_CHECKING:
    from pathlib import Path

    from tests.api.conftest import Tenant

# Written by hand (not the service's canonical form): the manifest must carry this file's own sha256.
STRICT_TEXT = '{"schema_version": "acceptance.v1",\n "criteria": {"min_judged": 5, "min_hard_pairs": 0}}\n'


def test_remote_submit_with_an_acceptance_file_records_what_hetero2_run_records(
    tenant: Tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant.project(PROJECT)
    token, url = token_of(tenant), tenant.service.url
    molecules = molecules_file(tmp_path, 8)
    (tmp_path / "strict.json").write_text(STRICT_TEXT, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    flags = ["--k-decoys", "4", "--decoy-descriptors", "fast", "--scorer", "good"]

    argv = ["remote", "submit", str(molecules), "--url", url, "--token", token, "--project", PROJECT, *flags]
    assert main([*argv, "--acceptance", "strict.json", "--wait", "--poll", "0.2", "--quiet"]) == EXIT_OK
    out = printed(capsys.readouterr().out)
    assert out.startswith(f"job {out.split()[1]} started")
    assert f"criteria: acceptance file strict.json (sha256 {file_sha256(tmp_path / 'strict.json')})" in out
    assert "decision: GO" in out, "8 judged molecules decide under min_judged 5 (the defaults need 30)"

    job = Client(url, token, project=PROJECT).job(out.split()[1])
    service_manifest = json.loads(job.download("manifest", tmp_path / "service-manifest.json").read_text())

    assert hetero2_cli.main(["run", str(molecules), "--out", "cli-pack", "--acceptance", "strict.json", *flags]) == 0
    cli_manifest = json.loads((tmp_path / "cli-pack" / MANIFEST).read_text())
    assert service_manifest["acceptance"] == cli_manifest["acceptance"]
    assert cli_manifest["acceptance"]["source"] == "file"
    cli_decision = json.loads((tmp_path / "cli-pack" / METRICS).read_text())["decision"]
    assert job.results()["decision"]["criteria"] == cli_decision["criteria"]

    assert main(["remote", "status", job.id, "--url", url, "--token", token, "--project", PROJECT]) == EXIT_OK
    assert "criteria: acceptance file strict.json" in printed(capsys.readouterr().out)


def test_a_bad_acceptance_file_is_refused_before_a_job_is_created(
    tenant: Tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant.project(PROJECT)
    token, url = token_of(tenant), tenant.service.url
    (tmp_path / "typo.json").write_text('{"schema_version": "acceptance.v1", "criteria": {"alpah": 0.01}}')
    monkeypatch.chdir(tmp_path)
    client = Client(url, token, project=PROJECT)

    with pytest.raises(ConfigError, match=r"^typo.json: unknown field 'criteria.alpah'"):
        client.create_job(molecules_file(tmp_path, 3), acceptance="typo.json", **FAST)
    argv = ["remote", "submit", "molecules.csv", "--url", url, "--token", token, "--project", PROJECT]
    assert main([*argv, "--acceptance", "typo.json"]) == EXIT_USAGE
    assert "hetero2 remote: error: typo.json: unknown field 'criteria.alpah'" in capsys.readouterr().err
    assert client.jobs() == []


def test_an_acceptance_dict_is_sent_inline(project_client: Client, tmp_path: Path) -> None:
    document = {"schema_version": "acceptance.v1", "criteria": {"alpha": 0.01}}
    job = project_client.create_job(molecules_file(tmp_path, 3), acceptance=document, **FAST)
    assert job.record["acceptance"]["source"] == "file"
    assert job.record["acceptance"]["name"] == "acceptance.json"
    assert job.record["acceptance"]["criteria"]["alpha"] == 0.01

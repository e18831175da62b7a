"""``hetero2 remote``: submit --wait --out, status, list, download, verify, cancel, wait, and their exit codes."""

from __future__ import annotations

import argparse
import json
from importlib.metadata import EntryPoint
from typing import TYPE_CHECKING

import pytest

from functions.service.job_params import JobParameters
from hetero2_client.cli import (
    _PARAMETER_FLAGS,
    EXIT_JOB_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VERIFY_FAILED,
    EXIT_WAIT_TIMEOUT,
    job_parameters,
    main,
    register,
)
from hetero_core import cli as hetero2_cli
from tests.client.conftest import FAST, PROJECT, Finished, molecules_file, printed, token_of

if TYPE_CHECKING:
    from pathlib import Path

    from hetero2_client import Client
    from tests.api.conftest import Tenant


FAST_FLAGS = ["--k-decoys", "4", "--decoy-descriptors", "fast", "--scorer", "qed", "--chunk-rows", "10"]


def test_submit_wait_out_downloads_a_verified_pack_and_never_prints_the_token(
    tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant.project(PROJECT)
    token = token_of(tenant)
    url = tenant.service.url
    packs = tmp_path / "packs"
    argv = ["remote", "submit", str(molecules_file(tmp_path, 8)), "--url", url, "--token", token]
    argv += ["--project", PROJECT, *FAST_FLAGS, "--wait", "--out", str(packs), "--poll", "0.2"]

    assert main(argv) == EXIT_OK

    captured = capsys.readouterr()
    out = printed(captured.out)
    assert token not in captured.out + captured.err
    job_id = out.split()[1]
    assert f"job {job_id} started in {tenant.org}/{PROJECT} (9 rows)" in out
    assert f"job {job_id} ({tenant.org}/{PROJECT}): SUCCEEDED; rows 9/9" in out
    assert "PASS-rate" in out
    assert f"pack: {packs / f'{job_id}-evidence_pack.zip'}" in out
    assert f"members intact; signature valid against org {tenant.org}'s published key" in out
    assert (packs / f"{job_id}-evidence_pack.zip").is_file()

    status = ["remote", "status", f"{PROJECT}/{job_id}", "--url", url, "--token", token, "--json"]
    assert main(status) == EXIT_OK
    record = json.loads(printed(capsys.readouterr().out))
    assert (record["job"], record["state"], record["parameters"]["k_decoys"]) == (job_id, "SUCCEEDED", 4)
    assert record["decision"]["outcome"] == "INCONCLUSIVE"
    assert record["decision"]["sentence"].startswith("Only 8 molecules judged")


@pytest.mark.usefixtures("service_env")
def test_status_and_list_read_the_service_named_in_the_environment(
    finished: Finished, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["remote", "status", finished.job.id]) == EXIT_OK
    out = printed(capsys.readouterr().out)
    assert f"job {finished.job.id} ({finished.tenant.org}/{PROJECT}): SUCCEEDED; rows 13/13" in out
    assert "PASS-rate" in out
    # the decision comes first (SPEC §5): 13 molecules are too few to decide
    assert out.startswith("decision: INCONCLUSIVE — Only 12 molecules judged; a decision needs 30")
    assert "(better: p" in out
    assert "worse: p" in out

    assert main(["remote", "list", "--state", "SUCCEEDED"]) == EXIT_OK
    rows = [line.split("\t") for line in printed(capsys.readouterr().out).splitlines()]
    assert [finished.job.id, "SUCCEEDED", "13/13"] in [row[:3] for row in rows]


@pytest.mark.usefixtures("service_env")
def test_download_and_verify_the_pack_and_refuse_a_tampered_one(
    finished: Finished, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["remote", "download", finished.job.id, "--out", str(tmp_path / "pack.zip")]) == EXIT_OK
    captured = capsys.readouterr()
    assert f"pack: {tmp_path / 'pack.zip'}" in captured.out
    assert "verify: OK" in captured.out

    assert main(["remote", "verify", finished.job.id, str(tmp_path / "pack.zip")]) == EXIT_OK
    assert "verify: OK" in capsys.readouterr().out

    data = bytearray((tmp_path / "pack.zip").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "pack.zip").write_bytes(bytes(data))
    assert main(["remote", "verify", finished.job.id, str(tmp_path / "pack.zip")]) == EXIT_VERIFY_FAILED
    assert "verify: FAILED" in capsys.readouterr().err

    assert main(["remote", "download", finished.job.id, "--artifact", "report", "--out", str(tmp_path)]) == EXIT_OK
    assert (tmp_path / f"{finished.job.id}-report.html").is_file()


@pytest.mark.usefixtures("service_env")
def test_cancelling_a_finished_job_is_a_conflict_with_exit_2(
    finished: Finished, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["remote", "cancel", finished.job.id]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("hetero2 remote: error: 409 invalid_state:")
    assert "request_id" in err


def test_wait_exits_3_for_a_cancelled_job_and_4_when_time_runs_out(
    tenant: Tenant, project_client: Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waiting = project_client.create_job(molecules_file(tmp_path, 2), **FAST)
    cancelled = project_client.create_job(molecules_file(tmp_path, 2), **FAST).cancel()
    service = ["--url", tenant.service.url, "--token", token_of(tenant), "--project", PROJECT]

    assert main(["remote", "wait", cancelled.id, *service]) == EXIT_JOB_FAILED
    assert f"job {cancelled.id} ended CANCELLED" in capsys.readouterr().err
    assert main(["remote", "wait", waiting.id, "--timeout", "0", *service]) == EXIT_WAIT_TIMEOUT
    assert f"job {waiting.id} is still CREATED" in capsys.readouterr().err


def test_no_endpoint_is_exit_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HETERO2_URL", raising=False)
    monkeypatch.setenv("HETERO2_TOKEN", "secret-token")
    assert main(["remote", "list"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "HETERO2_URL" in err
    assert "secret-token" not in err


def test_a_missing_input_file_is_exit_2(
    service_env: Finished, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["remote", "submit", str(tmp_path / "absent.csv")]) == EXIT_USAGE
    assert "absent.csv: no such file" in capsys.readouterr().err


def _parsed(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hetero2")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["remote", "submit", "molecules.csv", *argv])


def test_only_the_parameters_given_are_sent() -> None:
    assert job_parameters(_parsed()) == {}
    args = _parsed("--k-decoys", "4", "--hard-mode", "--param", "q=0.9", "--param", "seed_by=id", "--param", "x=[1]")
    assert job_parameters(args) == {"k_decoys": 4, "hard_mode": True, "q": 0.9, "seed_by": "id", "x": [1]}
    assert job_parameters(_parsed("--decoy-cache")) == {"decoy_cache": True}


def test_every_flag_names_a_job_parameter() -> None:
    """A flag whose name the service does not know would be refused by every job (unknown fields are 422)."""
    assert set(_PARAMETER_FLAGS) <= set(JobParameters.model_fields)


def test_a_param_without_equals_is_exit_2(service_env: Finished, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remote", "submit", str(service_env.input_path), "--param", "k_decoys"]) == EXIT_USAGE
    assert "expected KEY=VALUE" in capsys.readouterr().err


def test_register_adds_remote_to_the_hetero2_parser() -> None:
    parser = argparse.ArgumentParser(prog="hetero2")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["remote", "status", "p/j", "--project", "x"])
    assert (args.command, args.remote_verb, args.job, args.project) == ("remote", "status", "p/j", "x")
    assert callable(args.handler)


@pytest.mark.usefixtures("service_env")
def test_hetero2_runs_remote_once_the_entry_point_is_installed(
    finished: Finished, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin = EntryPoint(name="remote", value="hetero2_client.cli:register", group=hetero2_cli.PLUGIN_GROUP)
    monkeypatch.setattr(hetero2_cli, "entry_points", lambda group: [plugin] if group == plugin.group else [])
    assert hetero2_cli.main(["remote", "status", finished.job.id]) == EXIT_OK
    assert f"job {finished.job.id} ({finished.tenant.org}/{PROJECT}): SUCCEEDED" in printed(capsys.readouterr().out)

"""Reproduce through the client and ``hetero2 remote reproduce`` over real HTTP: a succeeded job is re-run from its
manifest as a new job, and the outcome (REPRODUCED, or the member that differs) comes back with an exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hetero2_client import Client, ConflictError, ForbiddenError
from hetero2_client.cli import EXIT_OK, EXIT_USAGE, main
from tests.client.conftest import FAST, POLL, PROJECT, WAIT_SECONDS, molecules_file, printed, token_of

if TYPE_CHECKING:
    from pathlib import Path

    from tests.api.conftest import Tenant


def test_a_job_reproduced_from_the_client_and_from_remote_reproduce(
    tenant: Tenant, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant.project(PROJECT)
    token, url = token_of(tenant), tenant.service.url
    client = Client(url, token, project=PROJECT)
    original = client.submit(molecules_file(tmp_path, 6), **FAST).wait(WAIT_SECONDS, poll=POLL)

    reproduced = original.reproduce().wait(WAIT_SECONDS, poll=POLL)
    assert reproduced.id != original.id
    assert reproduced.record["reproduce_of"] == original.id
    assert reproduced.reproduction is not None
    assert reproduced.reproduction["outcome"] == "REPRODUCED"
    assert reproduced.manifest() == original.manifest()

    argv = ["remote", "reproduce", original.id, "--url", url, "--token", token, "--project", PROJECT]
    assert main([*argv, "--poll", "0.2", "--quiet"]) == EXIT_OK
    lines = printed(capsys.readouterr().out).splitlines()
    assert lines[0].startswith("job j")
    assert lines[0].endswith(f"reproduces {original.id} in {tenant.org}/{PROJECT}")
    assert lines[-1] == f"REPRODUCED: job {original.id}: 6 members identical"


def test_reproduce_is_refused_to_viewers_and_for_jobs_without_a_pack(
    tenant: Tenant, project_client: Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    created = project_client.create_job(molecules_file(tmp_path, 3), **FAST)
    with pytest.raises(ConflictError) as refused:
        created.reproduce()
    assert refused.value.code == "not_reproducible"

    viewer = tenant.member(PROJECT, "viewer", "view")
    argv = ["remote", "reproduce", created.id, "--url", tenant.service.url, "--token", str(viewer.token)]
    assert main([*argv, "--project", PROJECT]) == EXIT_USAGE
    assert "403 forbidden" in capsys.readouterr().err
    with pytest.raises(ForbiddenError):
        Client(tenant.service.url, str(viewer.token), project=PROJECT).job(created.id).reproduce()

"""``hetero2 serve`` as a user starts it, and docs/client.md's first example run exactly as written against it:
the banner names the project, the service's JSON log lines stay hidden, and a demo-sized job runs in several
chunks so that progress moves."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import requests

from functions.local.server import free_port
from tests.api.serve_process import clean_environment, exports, read_banner, start_serve

DOCS = Path(__file__).resolve().parents[2] / "docs" / "client.md"


def _first_python_block(markdown: str) -> str:
    match = re.search(r"```python\n(.*?)```", markdown, re.DOTALL)
    assert match is not None, "docs/client.md has no python block"
    return match.group(1)


def test_the_first_client_example_runs_as_written_against_hetero2_serve(tmp_path: Path) -> None:
    clean = clean_environment()
    process = start_serve(free_port())
    try:
        banner = read_banner(process, "Ctrl-C")
        exported = exports(banner)
        # the client's three, and SCIM's two for the demo org's IdP (docs/api.md)
        client, scim = {"HETERO2_URL", "HETERO2_TOKEN", "HETERO2_PROJECT"}, {"HETERO2_SCIM_URL", "HETERO2_SCIM_TOKEN"}
        assert set(exported) == client | scim
        assert exported["HETERO2_PROJECT"] == "demo-project"
        example = subprocess.run(
            [sys.executable, "-c", _first_python_block(DOCS.read_text(encoding="utf-8"))],
            cwd=tmp_path,
            env={**clean, **exported},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert example.returncode == 0, example.stderr
        packs = list((tmp_path / "packs").glob("*-evidence_pack.zip"))
        assert len(packs) == 1
        job_id = packs[0].name.removesuffix("-evidence_pack.zip")
        job = requests.get(
            f"{exported['HETERO2_URL']}/v1/orgs/demo/projects/demo-project/jobs/{job_id}",
            headers={"Authorization": f"Bearer {exported['HETERO2_TOKEN']}"},
            timeout=30,
        ).json()
        assert job["state"] == "SUCCEEDED"
        assert job["progress"]["chunks_total"] >= 5  # 44 drugs in chunks of ~9: the progress bar moves
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    printed = [line for line in "".join(banner).splitlines() + out.splitlines() if line.strip()]
    assert not [line for line in printed if line.lstrip().startswith("{")], "JSON log lines without --verbose"

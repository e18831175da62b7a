"""``hetero2 serve`` itself, as a user starts it: a separate process, its printed token, real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec

from functions.local.server import free_port
from tests.api.serve_process import HarnessIdp, serve_with_issuer_key


def test_serve_prints_a_working_token_for_the_demo_org_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    token_file = tmp_path / "token"
    hetero2 = Path(sys.executable).parent / "hetero2"
    process = subprocess.Popen(
        [str(hetero2), "serve", "--port", str(port), "--token-file", str(token_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HETERO2_"))},
    )
    try:
        deadline = time.monotonic() + 180  # seconds on an idle machine, minutes on a busy 2-core one
        while not token_file.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        if not token_file.exists():  # stop it before reading its stderr: a running server never closes the pipe
            process.kill()
            pytest.fail(process.communicate(timeout=30)[1] or "no token file")
        token = token_file.read_text().strip()
        base = f"http://127.0.0.1:{port}"
        org = requests.get(f"{base}/v1/orgs/demo", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert org.status_code == 200
        assert org.json()["your_role"] == "org_admin"
        projects = requests.get(
            f"{base}/v1/orgs/demo/projects", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert [p["project"] for p in projects.json()["projects"]] == ["demo-project"]
        assert requests.get(f"{base}/v1/orgs/demo", timeout=30).status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert f"export HETERO2_URL=http://127.0.0.1:{port}" in out
    assert "export HETERO2_TOKEN=" in out
    assert "export HETERO2_PROJECT=demo-project" in out
    assert f"web dashboard: http://127.0.0.1:{port}/" in out


def test_serve_trusts_tokens_minted_with_the_issuer_key_for_any_org(tmp_path: Path) -> None:
    """A test harness acting as the identity provider: its own P-256 key, tokens for two orgs, no server code."""
    with serve_with_issuer_key(tmp_path) as served:
        base, mint = served.base, served.idp.headers
        for org in ("harness-a", "harness-b"):
            created = requests.post(f"{base}/v1/orgs", json={"name": org}, headers=mint(f"{org}-boss", org), timeout=60)
            assert created.status_code == 201, created.text
            assert created.json()["your_role"] == "org_admin"
        # tenant isolation holds for minted tokens as for any other
        assert (
            requests.get(
                f"{base}/v1/orgs/harness-b", headers=mint("harness-a-boss", "harness-a"), timeout=30
            ).status_code
            == 404
        )
        member = requests.get(f"{base}/v1/orgs/harness-a", headers=mint("someone", "harness-a"), timeout=30)
        assert member.status_code == 200
        assert member.json()["your_role"] == "member"
        # a token from any other key is still refused
        idp = served.idp
        forged = HarnessIdp(ec.generate_private_key(ec.SECP256R1()), idp.kid, idp.issuer, idp.audience)
        assert (
            requests.get(f"{base}/v1/orgs/harness-a", headers=forged.headers("x", "harness-a"), timeout=30).status_code
            == 401
        )

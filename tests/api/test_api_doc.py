"""docs/api.md's bash blocks, run in order against the local server: the documented curl calls work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from functions.local.server import LocalService

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", API_DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_every_curl_example_in_api_md_runs(service: LocalService, tmp_path: Path) -> None:
    blocks = _bash_blocks()
    assert len(blocks) >= 7
    token = service.seed_demo()
    script = "set -euo pipefail\n" + "\n".join(blocks)
    env = {
        **os.environ,
        "HETERO2_URL": service.url,
        "HETERO2_TOKEN": token,
        "HETERO2_SCIM_URL": f"{service.url}/scim/v2",
        "HETERO2_SCIM_TOKEN": service.scim_token or "",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "SUCCEEDED" in result.stdout
    assert "verify: OK" in result.stdout

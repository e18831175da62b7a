"""checkov 3 (an independent IaC policy suite) over every synthesized template: no failed check; each skipped one is
skipped on its resource with a reason from infra_cdk/checkov.py that docs/security.md quotes word for word.

checkov pins old boto3/networkx/packaging, so it lives in a venv of its own (``.venv-iac``, made by ``make setup``
from the ``iac`` group of uv.lock), and runs here as a process.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infra_cdk.checkov import REASONS

if TYPE_CHECKING:
    from tests.infra.conftest import Synthesized

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-iac" / "bin" / "checkov"


@pytest.fixture(scope="module")
def reports(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    assert CHECKOV.exists(), "checkov is not installed: run `make setup` (it makes .venv-iac from uv.lock's iac group)"
    found = {}
    for stack in synthesized.templates:
        template = synthesized.outdir / f"{stack}.template.json"
        run = subprocess.run(
            [str(CHECKOV), "-f", str(template), "--framework", "cloudformation", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert run.returncode in (0, 1), run.stderr[-2000:]
        report = json.loads(run.stdout)
        found[stack] = report[0] if isinstance(report, list) else report
    return found


def test_checkov_reports_no_failed_check(reports: dict[str, dict[str, Any]]) -> None:
    for stack, report in reports.items():
        failed = [(f["check_id"], f["resource"]) for f in report["results"].get("failed_checks", [])]
        assert failed == [], stack
        assert report["summary"]["passed"] > 300


def test_every_skip_carries_a_registered_reason_that_the_docs_quote(reports: dict[str, dict[str, Any]]) -> None:
    docs = " ".join((ROOT / "docs" / "security.md").read_text(encoding="utf-8").split())
    used = set()
    for report in reports.values():
        for skipped in report["results"].get("skipped_checks", []):
            check = skipped["check_id"]
            assert skipped["check_result"]["suppress_comment"] == REASONS[check], check
            used.add(check)
    assert used == set(REASONS)
    for check, reason in REASONS.items():
        assert f"| {check} |" in docs
        assert reason in docs, f"docs/security.md does not quote the reason for {check}"

"""``python -m infra_cdk.app`` is what ``cdk.json`` runs; it must synthesize on its own, without the CDK CLI.

The CLI passes ``cdk.json``'s context (the feature flags) in ``CDK_CONTEXT_JSON``; run bare, the app reads them
itself. Without them the access-log bucket fails synth (``objectOwnership must be set to "ObjectWriter"``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra_cdk.app import CUSTOMERS_CONTEXT_KEY, EXAMPLE_CUSTOMERS
from infra_cdk.assets import REPO_ROOT
from infra_cdk.config import load_customer_configs

ENV_BASE = {
    key: value for key, value in os.environ.items() if key not in {"CDK_CONTEXT_JSON", "CDK_OUTDIR", "PYTHONPATH"}
}


def _run_app(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infra_cdk.app"],
        cwd=cwd,
        env={**ENV_BASE, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.slow  # ~20 s (a cold jsii process and one stack); .ci/run and `make infra` run it
def test_python_m_infra_cdk_app_synthesizes_alone_with_cdk_json_flags(tmp_path: Path) -> None:
    # One example customer keeps it short; the folder and one speed-up come in as the CLI would pass them, so this
    # also proves that what the CLI passes is laid over cdk.json's context, not instead of it.
    customers = tmp_path / "customers"
    customers.mkdir()
    example = sorted(EXAMPLE_CUSTOMERS.glob("*.json"))[0]
    shutil.copy(example, customers / example.name)
    (config,) = load_customer_configs(customers)
    cli_context = {CUSTOMERS_CONTEXT_KEY: str(customers), "@aws-cdk/core:validateAgainstDefaultRules": False}
    outdir = tmp_path / "cdk.out"

    result = _run_app(
        tmp_path,  # not the checkout: nothing may depend on the working folder
        {"CDK_CONTEXT_JSON": json.dumps(cli_context), "CDK_OUTDIR": str(outdir)},
    )

    assert result.returncode == 0, result.stderr[-4000:]
    assert "Traceback" not in result.stderr
    template = json.loads((outdir / f"{config.stack_name}.template.json").read_text(encoding="utf-8"))
    # From cdk.json alone ("versionReporting": false): no CDK metadata resource.
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::CDK::Metadata"]
    # From cdk.json's feature flag @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy: access logs are delivered under
    # a bucket policy, so no bucket needs the LogDeliveryWrite ACL and every one enforces bucket-owner ownership.
    buckets = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    assert any("LoggingConfiguration" in bucket for bucket in buckets)
    for bucket in buckets:
        assert "AccessControl" not in bucket
        assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]

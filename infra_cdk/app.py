"""Entry point of ``cdk synth`` / ``cdk deploy`` (cdk.json runs ``.venv/bin/python -m infra_cdk.app``).

:func:`build_app` is what the tests call: the same stacks, the same cdk-nag checks, the same feature flags
(read from ``cdk.json``), with a choice of configs folder, assets and output folder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra_cdk.assets import REPO_ROOT, AssetPaths
from infra_cdk.config import load_customer_configs
from infra_cdk.contract import STATE_MACHINE_FILE
from infra_cdk.errors import CustomerConfigError
from infra_cdk.orchestration import read_definition
from infra_cdk.stack import Hetero2Stack

CUSTOMERS_CONTEXT_KEY: Final = "hetero2:customersDir"
DEFAULT_CUSTOMERS_DIR: Final = "deploy/customers"
EXAMPLE_CUSTOMERS: Final = REPO_ROOT / DEFAULT_CUSTOMERS_DIR


def cdk_json_context(repo_root: Path = REPO_ROOT) -> dict[str, Any]:
    """The feature flags and settings in ``cdk.json``; the CLI passes them itself, tests need them read."""
    document = json.loads((repo_root / "cdk.json").read_text(encoding="utf-8"))
    context = document.get("context", {})
    if not isinstance(context, dict):
        raise TypeError("cdk.json: context must be an object")
    if document.get("versionReporting") is False:
        context["aws:cdk:version-reporting"] = False
    return context


def build_app(
    customers_dir: Path,
    *,
    assets: AssetPaths | None = None,
    outdir: Path | None = None,
    context: dict[str, Any] | None = None,
    nag_checks: bool = True,
) -> cdk.App:
    """One stack per config in ``customers_dir``, with cdk-nag's AwsSolutions pack checking them at synth."""
    assets = assets or AssetPaths()
    configs = load_customer_configs(customers_dir)
    definition = read_definition(assets.repo_root / STATE_MACHINE_FILE)
    app = cdk.App(outdir=str(outdir) if outdir else None, context=context)
    for config in configs:
        Hetero2Stack(app, config=config, assets=assets, definition=definition)
    if nag_checks:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> int:
    """What ``cdk.json`` runs. ``cdk.json``'s context is read here, so ``python -m infra_cdk.app`` alone synthesizes
    with the same feature flags as ``cdk synth``; what the CDK CLI passes (``CDK_CONTEXT_JSON``: ``-c``,
    ``cdk.context.json``) overrides it, as ``cdk.App`` applies the environment's context over the given one.
    """
    context = cdk_json_context()
    probe = cdk.App(context=context)
    folder = probe.node.try_get_context(CUSTOMERS_CONTEXT_KEY) or DEFAULT_CUSTOMERS_DIR
    customers_dir = Path(folder) if Path(folder).is_absolute() else REPO_ROOT / folder
    try:
        app = build_app(customers_dir, context=context)
    except CustomerConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The infrastructure tier: the CDK app synthesized once per session from the example customer configs.

Synth (jsii + Node, no Docker, no AWS account) takes most of this tier's time, so one session fixture builds
the app with cdk-nag attached, keeps a synth failure instead of raising it (the nag test reports it), and
hands every test the templates as plain JSON plus ``aws_cdk.assertions.Template`` views of them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
from aws_cdk import assertions

from infra_cdk.app import EXAMPLE_CUSTOMERS, build_app, cdk_json_context
from infra_cdk.assets import AssetPaths
from infra_cdk.config import CustomerConfig, load_customer_configs

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

Json = dict[str, Any]
DEFAULT_RULES_FLAG = "@aws-cdk/core:validateAgainstDefaultRules"


@dataclass
class Synthesized:
    """What the tests read: per stack name, its config, its template and the cloud-assembly folder."""

    outdir: Path
    configs: dict[str, CustomerConfig]
    templates: dict[str, Json]
    acknowledgements: list[tuple[str, str, str]]
    error: Exception | None = None
    _views: dict[str, assertions.Template] = field(default_factory=dict)

    def view(self, stack: str) -> assertions.Template:
        if stack not in self._views:
            self._views[stack] = assertions.Template.from_json(self.templates[stack])
        return self._views[stack]

    def resources(self, stack: str, kind: str) -> dict[str, Json]:
        return {
            logical: resource
            for logical, resource in self.templates[stack]["Resources"].items()
            if resource["Type"] == kind
        }


def _acknowledgements(app: Any) -> Iterator[tuple[str, str, str]]:
    """(construct path, rule id, reason) of every cdk-nag acknowledgement recorded in the construct tree.

    CDK records its own acknowledgements of its built-in template checks the same way; those are not ours.
    """
    key = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != key:
                continue
            for rule, reason in dict(entry.data).items():
                rule_id = str(rule).removeprefix("Annotation::")
                if rule_id.startswith("AwsSolutions-"):
                    yield construct.node.path, rule_id, str(reason)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk.out")
    # A built layer is a folder with python/ in it; the stub keeps the placeholder warning out of the run.
    layer = tmp_path_factory.mktemp("layer")
    (layer / "python").mkdir()
    context = cdk_json_context()
    # CDK's built-in template rules duplicate cfn-lint, which this tier runs itself, and double synth time.
    context[DEFAULT_RULES_FLAG] = False
    app = build_app(EXAMPLE_CUSTOMERS, assets=AssetPaths(layer_dir=layer), outdir=outdir, context=context)
    error: Exception | None = None
    try:
        app.synth()
    except RuntimeError as failure:  # cdk-nag findings: the templates are written, the report says why
        error = failure
    configs = {config.stack_name: config for config in load_customer_configs(EXAMPLE_CUSTOMERS)}
    templates = {name: json.loads((outdir / f"{name}.template.json").read_text(encoding="utf-8")) for name in configs}
    return Synthesized(
        outdir=outdir,
        configs=configs,
        templates=templates,
        acknowledgements=list(_acknowledgements(app)),
        error=error,
    )


@pytest.fixture(params=sorted(config.stack_name for config in load_customer_configs(EXAMPLE_CUSTOMERS)))
def stack(request: pytest.FixtureRequest) -> str:
    """Each example customer region in turn."""
    return str(request.param)

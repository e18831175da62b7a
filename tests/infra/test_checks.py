"""The reviewers' checks: cdk-nag AwsSolutions with nothing unacknowledged, every acknowledgement documented,
cfn-lint with no errors (the inline ASL included)."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint  # type: ignore[import-untyped]

from infra_cdk.assets import REPO_ROOT
from infra_cdk.nag import REASONS

if TYPE_CHECKING:
    from pathlib import Path

    from tests.infra.conftest import Synthesized

SECURITY_DOC = REPO_ROOT / "docs" / "security.md"


def _nag_violations(outdir: Path) -> list[str]:
    report = json.loads((outdir / "validation-report.json").read_text(encoding="utf-8"))
    return [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == "AwsSolutions"
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


def test_cdk_nag_aws_solutions_has_no_unacknowledged_findings(synthesized: Synthesized) -> None:
    if synthesized.error is not None:
        pytest.fail("cdk-nag findings:\n" + "\n".join(_nag_violations(synthesized.outdir)))
    assert _nag_violations(synthesized.outdir) == []


def test_cdk_nag_is_really_checking(tmp_path: Path) -> None:
    """The same plugin on a topic with neither TLS enforcement nor a key must stop synth."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Probe")
    sns.Topic(stack, "Plain")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    assert any(finding.startswith("AwsSolutions-SNS3 ") for finding in _nag_violations(tmp_path))


def test_every_acknowledgement_has_a_registered_reason(synthesized: Synthesized) -> None:
    reasons = set(REASONS.values())
    assert synthesized.acknowledgements
    for path, rule, reason in synthesized.acknowledgements:
        assert reason in reasons, (path, rule)


def test_every_acknowledgement_sits_on_one_resource_not_a_stack(synthesized: Synthesized) -> None:
    for path, rule, _ in synthesized.acknowledgements:
        assert path.count("/") >= 2, f"{rule} acknowledged on {path}, which is a whole stack or scope"


def test_every_reason_is_listed_word_for_word_in_the_security_doc(synthesized: Synthesized) -> None:
    text = " ".join(SECURITY_DOC.read_text(encoding="utf-8").split())
    used = Counter(reason for _, _, reason in synthesized.acknowledgements)
    for key, reason in REASONS.items():
        assert used[reason], f"reason {key!r} is registered but never used"
        assert reason in text, f"reason {key!r} is missing from {SECURITY_DOC.name}"


def _lint(template: dict[str, Any], region: str) -> list[str]:
    return [
        f"{match.rule.id} {match.message}"
        for match in lint(json.dumps(template), config=ManualArgs(regions=[region]))
        if match.rule.id.startswith("E")
    ]


def test_cfn_lint_finds_no_errors(synthesized: Synthesized, stack: str) -> None:
    assert _lint(synthesized.templates[stack], synthesized.configs[stack].region) == []


def test_cfn_lint_checks_the_inline_state_machine(synthesized: Synthesized) -> None:
    """A broken state in the ASL is a cfn-lint error, so the test above does cover the definition."""
    stack, template = next(iter(synthesized.templates.items()))
    machine = {
        logical: resource
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    }
    ((logical, resource),) = machine.items()
    broken = json.loads(json.dumps(resource))
    broken["DependsOn"] = []
    broken["Properties"]["DefinitionString"] = resource["Properties"]["DefinitionString"].replace(
        '"Type": "Succeed"', '"Type": "Succeeded"'
    )
    minimal = {"Parameters": template.get("Parameters", {}), "Resources": {logical: broken}}
    errors = _lint(minimal, synthesized.configs[stack].region)
    assert any(error.startswith("E3601") and "Succeeded" in error for error in errors), errors

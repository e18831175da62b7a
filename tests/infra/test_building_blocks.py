"""Pieces that do not need the whole app: the grant guard, finding ids, the ASL reader, key versions."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from infra_cdk import contract, nag
from infra_cdk.app import EXAMPLE_CUSTOMERS, cdk_json_context
from infra_cdk.assets import REPO_ROOT
from infra_cdk.config import load_customer_config
from infra_cdk.data import DataStore
from infra_cdk.errors import AslSubstitutionError
from infra_cdk.orchestration import read_definition

if TYPE_CHECKING:
    from pathlib import Path


def _stack() -> tuple[cdk.Stack, iam.Role, s3.Bucket]:
    stack = cdk.Stack(cdk.App(), "Probe", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    return stack, role, s3.Bucket(stack, "Bucket")


def test_a_wildcard_action_is_refused() -> None:
    _, role, bucket = _stack()
    with pytest.raises(ValueError, match="wildcard actions are not allowed"):
        nag.add_statement(role, actions=["s3:Get*"], resources=[bucket.bucket_arn])


def test_a_wildcard_resource_needs_a_registered_reason() -> None:
    _, role, bucket = _stack()
    with pytest.raises(ValueError, match=r"needs a wildcard_reason"):
        nag.add_statement(role, actions=["s3:GetObject"], resources=[f"{bucket.bucket_arn}/tenants/acme/*"])
    with pytest.raises(KeyError):
        nag.add_statement(
            role,
            actions=["s3:GetObject"],
            resources=[f"{bucket.bucket_arn}/tenants/acme/*"],
            wildcard_reason="because",
        )


def test_wildcard_findings_are_spelled_like_cdk_nag() -> None:
    stack, role, bucket = _stack()
    logical = stack.resolve(stack.get_logical_id(bucket.node.default_child))  # type: ignore[arg-type]
    resources = [bucket.bucket_arn, f"{bucket.bucket_arn}/tenants/acme/*", "*"]
    assert list(nag.wildcard_resources(role, resources)) == [
        f"Resource::<{logical}.Arn>/tenants/acme/*",
        "Resource::*",
    ]


def test_flatten_reference_covers_the_intrinsics() -> None:
    assert nag.flatten_reference({"Ref": "Queue"}) == "<Queue>"
    assert nag.flatten_reference({"Fn::Sub": "arn:${AWS::Partition}:s3:::b/*"}) == "arn:<AWS::Partition>:s3:::b/*"
    assert nag.flatten_reference({"Fn::Join": ["/", ["a", {"Fn::GetAtt": ["T", "Arn"]}]]}) == "a/<T.Arn>"
    assert nag.flatten_reference({"Fn::ImportValue": "Shared"}) == "Shared"
    assert nag.flatten_reference(7) == "7"


def test_only_aws_solutions_rules_are_acknowledged() -> None:
    _, role, _ = _stack()
    with pytest.raises(ValueError, match="is not an AwsSolutions- rule id"):
        nag.acknowledge(role, "HIPAA.Security-IAMNoInlinePolicy", "xray")


def test_the_asl_file_uses_exactly_the_contract_substitutions() -> None:
    text = read_definition(REPO_ROOT / contract.STATE_MACHINE_FILE)
    assert "${PlanFunctionArn}" in text


def test_an_asl_with_an_unknown_or_missing_substitution_is_refused(tmp_path: Path) -> None:
    original = (REPO_ROOT / contract.STATE_MACHINE_FILE).read_text(encoding="utf-8")
    renamed = tmp_path / "renamed.asl.json"
    renamed.write_text(original.replace("${ArtifactBucket}", "${Bucket}"), encoding="utf-8")
    with pytest.raises(AslSubstitutionError, match=r"unknown: \['Bucket'\], unused: \['ArtifactBucket'\]"):
        read_definition(renamed)


def _signing_keys(version: int) -> dict[str, str]:
    """Logical ids of org acme-tox's signing alias and the key it targets, at a signing-key version."""
    config = load_customer_config(EXAMPLE_CUSTOMERS / "acme-pharma-eu-central-1.json")
    tenants = tuple(
        tenant.model_copy(update={"signing_key_version": version}) if tenant.org == "acme-tox" else tenant
        for tenant in config.tenants
    )
    stack = cdk.Stack(
        cdk.App(context=cdk_json_context()), "Keys", env=cdk.Environment(account=config.account, region=config.region)
    )
    data = DataStore(stack, "Data", config=config.model_copy(update={"tenants": tenants}))
    alias = data.node.find_child("SigningAlias-acme-tox").node.default_child
    key = data.tenants["acme-tox"].signing.node.default_child
    assert isinstance(alias, cdk.CfnResource)
    assert isinstance(key, cdk.CfnResource)
    return {"alias": stack.resolve(alias.logical_id), "key": stack.resolve(key.logical_id)}


def test_a_new_signing_key_version_moves_the_same_alias_to_a_new_key() -> None:
    first, second = _signing_keys(1), _signing_keys(2)
    assert first["alias"] == second["alias"], "the alias updates in place"
    assert first["key"] != second["key"], "a new key; the old one is retained by its removal policy"


def test_the_service_modules_the_cdk_app_imports_load_no_aws_sdk_and_no_engine() -> None:
    """infra_cdk reads names (env, layout, table keys, ids, settings, the SCIM path) from functions/ without boto3
    or RDKit."""
    code = (
        "import sys\n"
        "import functions.service.env, functions.service.layout, functions.service.table\n"
        "import functions.service.ids, functions.service.settings, functions.scim.paths\n"
        "print(','.join(m for m in ('boto3', 'botocore', 'rdkit', 'numpy') if m in sys.modules))\n"
    )
    command = [sys.executable, "-c", code]
    loaded = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert loaded.stdout.strip() == ""


def test_the_error_classes_live_in_infra_cdk_errors_and_still_import_from_their_old_modules() -> None:
    """One errors module for the CDK app (as the service has); code that imported them from config or orchestration
    keeps working."""
    from infra_cdk import config, errors, orchestration  # noqa: PLC0415 - the import paths are what is tested

    assert config.CustomerConfigError is errors.CustomerConfigError
    assert orchestration.AslSubstitutionError is errors.AslSubstitutionError
    assert errors.CustomerConfigError.__module__ == errors.AslSubstitutionError.__module__ == "infra_cdk.errors"

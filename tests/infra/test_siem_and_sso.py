"""The synthesized SIEM export (stream → function → export prefix and bus, with its dead-letter queue) and SAML
sign-in (Cognito pool, SAML provider from the config's metadata, the dashboard's PKCE client, the API trusting the
pool's ID tokens), checked on the example configs; a config naming a metadata file is synthesized on its own."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from functions.service import env
from functions.service.settings import AUDIT_DETAIL_TYPE, AUDIT_EVENT_SOURCE
from infra_cdk.app import EXAMPLE_CUSTOMERS, build_app, cdk_json_context
from infra_cdk.assets import AssetPaths
from infra_cdk.config import CustomerConfigError, load_customer_config
from infra_cdk.sso import GROUPS_CLAIM, ORG_CLAIM

if TYPE_CHECKING:
    from pathlib import Path

    from tests.infra.conftest import Json, Synthesized

ACME = "Hetero2-acme-pharma-eu-central-1"
BOREALIS = "Hetero2-borealis-bio-us-east-2"


def _function(synthesized: Synthesized, stack: str, handler: str) -> tuple[str, Json]:
    (found,) = [
        (logical, resource)
        for logical, resource in synthesized.resources(stack, "AWS::Lambda::Function").items()
        if resource["Properties"].get("Handler") == handler
    ]
    return found


def test_the_audit_table_streams_new_images_to_the_export_function_with_a_dead_letter_queue(
    synthesized: Synthesized, stack: str
) -> None:
    (table,) = [
        t for logical, t in synthesized.resources(stack, "AWS::DynamoDB::Table").items() if "AuditTable" in logical
    ]
    assert table["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    logical, function = _function(synthesized, stack, "functions.handlers.siem_export.handler")
    (mapping,) = synthesized.resources(stack, "AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert properties["FunctionName"] == {"Ref": logical}
    assert "StreamArn" in json.dumps(properties["EventSourceArn"])
    assert properties["BisectBatchOnFunctionError"] is True
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["ParallelizationFactor"] == 1
    assert 0 < properties["MaximumRetryAttempts"] <= 10
    queue, _ = next(iter(synthesized.resources(stack, "AWS::SQS::Queue").items()))
    assert properties["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}}
    variables = function["Properties"]["Environment"]["Variables"]
    config = synthesized.configs[stack]
    assert variables[env.ANCHOR_EVERY] == str(config.audit_anchor_every)
    assert {env.AUDIT_BUS, env.ANCHOR_BUCKET, env.BUCKET} <= set(variables)


def test_the_audit_bus_is_encrypted_and_orgs_with_a_customer_bus_get_their_own_rule(
    synthesized: Synthesized, stack: str
) -> None:
    (bus,) = synthesized.resources(stack, "AWS::Events::EventBus").values()
    assert "KmsKeyIdentifier" in bus["Properties"]
    forwarding = {
        json.dumps(rule["Properties"]["EventPattern"]["detail"]["metadata"]["tenant_uid"]): rule["Properties"]
        for rule in synthesized.resources(stack, "AWS::Events::Rule").values()
        if "EventBusName" in rule["Properties"]
    }
    wanted = {t.org: t.siem_event_bus_arn for t in synthesized.configs[stack].tenants if t.siem_event_bus_arn}
    assert set(forwarding) == {json.dumps([org]) for org in wanted}
    for org, arn in wanted.items():
        rule = forwarding[json.dumps([org])]
        assert rule["EventPattern"]["source"] == [AUDIT_EVENT_SOURCE]
        assert rule["EventPattern"]["detail-type"] == [AUDIT_DETAIL_TYPE]
        (target,) = rule["Targets"]
        assert target["Arn"] == arn
        assert "DeadLetterConfig" in target


def test_the_export_function_writes_only_the_export_area_and_publishes_only_to_the_audit_bus(
    synthesized: Synthesized, stack: str
) -> None:
    _, function = _function(synthesized, stack, "functions.handlers.siem_export.handler")
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in synthesized.resources(stack, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    puts = [s for s in statements if "s3:PutObject" in json.dumps(s["Action"])]
    for resource in [r for s in puts for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]:
        flat = json.dumps(resource)
        assert "/exports/audit/*" in flat or "anchors/*" in flat, flat
    (bus_grant,) = [s for s in statements if s["Action"] == "events:PutEvents"]
    assert "AuditBus" in json.dumps(bus_grant["Resource"])
    assert not [s for s in statements if "dynamodb:PutItem" in json.dumps(s["Action"])]


def test_an_orgs_siem_readers_may_read_its_export_prefix_and_nothing_else(synthesized: Synthesized) -> None:
    config = synthesized.configs[ACME]
    readers = {t.org: t.siem_readers for t in config.tenants}
    assert readers["acme-discovery"]
    assert not readers["acme-tox"]
    policies = synthesized.resources(ACME, "AWS::S3::BucketPolicy").values()
    granted = [
        statement
        for policy in policies
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Sid", "").startswith("SiemExport")
    ]
    assert {s["Sid"] for s in granted} == {"SiemExportReadAcmeDiscovery", "SiemExportListAcmeDiscovery"}
    for statement in granted:
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"AWS": readers["acme-discovery"][0]}
        assert "tenants/acme-discovery/exports/audit/ocsf/" in json.dumps(statement)
        assert set(_actions(statement)) <= {"s3:GetObject", "s3:ListBucket"}
    key_grants = [
        (logical, statement)
        for logical, key in synthesized.resources(ACME, "AWS::KMS::Key").items()
        for statement in key["Properties"]["KeyPolicy"]["Statement"]
        if statement.get("Sid") == "SiemReadersThroughS3"
    ]
    ((logical, statement),) = key_grants
    assert "DataKeyacmediscovery" in logical.replace("-", "")
    assert _actions(statement) == ["kms:Decrypt"]
    assert "kms:ViaService" in statement["Condition"]["StringEquals"]


def _actions(statement: Json) -> list[str]:
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


def test_saml_sign_in_is_a_federated_only_pool_with_a_pkce_client_the_api_trusts(synthesized: Synthesized) -> None:
    config = synthesized.configs[ACME]
    assert config.saml is not None
    (pool,) = synthesized.resources(ACME, "AWS::Cognito::UserPool").values()
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert {a["Name"] for a in pool["Properties"]["Schema"]} >= {"org", "groups"}
    (provider,) = synthesized.resources(ACME, "AWS::Cognito::UserPoolIdentityProvider").values()
    assert provider["Properties"]["ProviderType"] == "SAML"
    assert provider["Properties"]["ProviderDetails"]["MetadataURL"] == config.saml.metadata_url
    mapping = provider["Properties"]["AttributeMapping"]
    assert mapping[ORG_CLAIM] == config.saml.org_attribute
    assert mapping[GROUPS_CLAIM] == config.saml.groups_attribute
    (client,) = synthesized.resources(ACME, "AWS::Cognito::UserPoolClient").values()
    properties = client["Properties"]
    assert properties.get("GenerateSecret", False) is False
    assert properties["AllowedOAuthFlows"] == ["code"]
    assert properties["SupportedIdentityProviders"] == [config.saml.provider_name]
    (domain,) = synthesized.resources(ACME, "AWS::Cognito::UserPoolDomain").values()
    assert domain["Properties"]["Domain"] == config.saml.domain_prefix
    for handler in ("functions.handlers.api.handler", "functions.handlers.authorizer.handler"):
        variables = _function(synthesized, ACME, handler)[1]["Properties"]["Environment"]["Variables"]
        issuers = json.dumps(variables[env.SSO_ISSUERS])
        assert ORG_CLAIM in issuers
        assert GROUPS_CLAIM in issuers
        assert json.loads(variables[env.GROUP_ROLES]) == config.group_roles
        assert variables[env.GROUP_CLAIM] == config.oidc.group_claim


def test_without_saml_there_is_no_user_pool_and_one_trusted_issuer(synthesized: Synthesized) -> None:
    assert not synthesized.resources(BOREALIS, "AWS::Cognito::UserPool")
    variables = _function(synthesized, BOREALIS, "functions.handlers.api.handler")[1]["Properties"]["Environment"]
    assert env.SSO_ISSUERS not in variables["Variables"]


def _acme_with(tmp_path: Path, **saml: Any) -> Path:
    document = json.loads((EXAMPLE_CUSTOMERS / "acme-pharma-eu-central-1.json").read_text())
    document["saml"] = {key: value for key, value in {**document["saml"], **saml}.items() if value is not None}
    folder = tmp_path / "customers"
    folder.mkdir(exist_ok=True)
    (folder / "acme.json").write_text(json.dumps(document))
    return folder


METADATA = """<?xml version="1.0"?>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.acme-pharma.example/saml">
  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
      Location="https://idp.acme-pharma.example/saml/sso"/>
  </IDPSSODescriptor>
</EntityDescriptor>
"""


@pytest.mark.slow
def test_saml_metadata_from_a_file_next_to_the_config_is_synthesized_and_nag_clean(tmp_path: Path) -> None:
    folder = _acme_with(tmp_path, metadata_url=None, metadata_file="acme-idp.xml")
    (folder / "acme-idp.xml").write_text(METADATA)
    layer = tmp_path / "layer"
    (layer / "python").mkdir(parents=True)
    app = build_app(folder, assets=AssetPaths(layer_dir=layer), outdir=tmp_path / "out", context=cdk_json_context())
    app.synth()  # cdk-nag findings would raise here
    template = json.loads((tmp_path / "out" / f"{ACME}.template.json").read_text())
    (provider,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Cognito::UserPoolIdentityProvider"]
    assert provider["Properties"]["ProviderDetails"]["MetadataFile"] == METADATA


@pytest.mark.parametrize(
    ("saml", "field"),
    [
        ({"metadata_file": "idp.xml"}, "saml"),  # both a URL and a file
        ({"metadata_url": "http://idp.example/metadata"}, "saml.metadata_url"),
        ({"metadata_url": None, "metadata_file": "../secrets/idp.xml"}, "saml"),
        ({"domain_prefix": "Not A Prefix"}, "saml.domain_prefix"),
    ],
)
def test_a_saml_config_that_cannot_deploy_is_refused(tmp_path: Path, saml: dict[str, Any], field: str) -> None:
    folder = _acme_with(tmp_path, **saml)
    with pytest.raises(CustomerConfigError) as refused:
        load_customer_config(folder / "acme.json")
    assert (refused.value.field or "").startswith(field)


def test_a_missing_metadata_file_is_refused_at_synth(tmp_path: Path) -> None:
    folder = _acme_with(tmp_path, metadata_url=None, metadata_file="absent.xml")
    config = load_customer_config(folder / "acme.json")
    with pytest.raises(CustomerConfigError, match=r"saml\.metadata_file"):
        _ = config.saml_metadata


@pytest.mark.parametrize(
    "tenant", [{"group_roles": {"admins": "admin"}}, {"siem_event_bus_arn": "arn:aws:sqs:eu-central-1:1:q"}]
)
def test_a_tenant_with_a_bad_group_mapping_or_bus_is_refused(tmp_path: Path, tenant: dict[str, Any]) -> None:
    folder = _acme_with(tmp_path)
    document = json.loads((folder / "acme.json").read_text())
    document["tenants"][1].update(tenant)
    (folder / "acme.json").write_text(json.dumps(document))
    with pytest.raises(CustomerConfigError, match=r"tenants\[1\]"):
        load_customer_config(folder / "acme.json")

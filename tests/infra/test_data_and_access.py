"""The security promises about data: encryption, a key per tenant, TLS only, no public access, PITR,
an append-only audit table, and IAM that names every action and stays inside the tenants' prefixes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk import assertions

from infra_cdk.contract import data_key_alias, signing_key_alias
from infra_cdk.data import AUDIT_TABLE_FORBIDDEN, KEY_ADMIN_ACTIONS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.infra.conftest import Json, Synthesized

USE_ACTIONS = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:Sign", "kms:ReEncryptFrom"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _identity_statements(synthesized: Synthesized, stack: str) -> Iterator[tuple[str, Json]]:
    """(policy logical id, statement) of every IAM identity policy: managed, inline and role-embedded."""
    for logical, resource in synthesized.templates[stack]["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [properties["PolicyDocument"]]
        elif resource["Type"] == "AWS::IAM::Role":
            documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        else:
            continue
        for document in documents:
            for statement in document["Statement"]:
                yield logical, statement


def _logical_id(synthesized: Synthesized, stack: str, kind: str, fragment: str) -> str:
    matches = [logical for logical in synthesized.resources(stack, kind) if fragment in logical]
    assert len(matches) == 1, f"{kind} {fragment}: {matches}"
    return matches[0]


def _alias_target(synthesized: Synthesized, stack: str, alias: str) -> str:
    for resource in synthesized.resources(stack, "AWS::KMS::Alias").values():
        if resource["Properties"]["AliasName"] == alias:
            return str(resource["Properties"]["TargetKeyId"]["Fn::GetAtt"][0])
    raise AssertionError(f"no alias {alias}")


def test_artifact_bucket_is_private_versioned_kms_encrypted_and_logged(synthesized: Synthesized, stack: str) -> None:
    synthesized.view(stack).has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "BucketKeyEnabled": True,
                        "ServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": assertions.Match.any_value(),
                        },
                    }
                ]
            },
            "LoggingConfiguration": {"DestinationBucketName": assertions.Match.any_value()},
            "VersioningConfiguration": {"Status": "Enabled"},
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
        },
    )


def test_every_bucket_blocks_public_access_and_disables_acls(synthesized: Synthesized, stack: str) -> None:
    buckets = synthesized.resources(stack, "AWS::S3::Bucket")
    assert len(buckets) == 4  # artifacts, access logs, audit anchors, the web dashboard's site
    for bucket in buckets.values():
        properties = bucket["Properties"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        assert "BucketEncryption" in properties


def test_every_bucket_policy_refuses_plain_http_and_old_tls(synthesized: Synthesized, stack: str) -> None:
    policies = synthesized.resources(stack, "AWS::S3::BucketPolicy")
    assert len(policies) == 4  # one per bucket
    for policy in policies.values():
        denials = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert any(s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}} for s in denials)
        assert any(s.get("Condition") == {"NumericLessThan": {"s3:TlsVersion": 1.2}} for s in denials), (
            "TLS 1.2 minimum"
        )


@pytest.mark.parametrize(
    ("rule_id", "area"),
    [
        # the projects only: tenants/ORG/keys/ (every public key that ever signed a pack) never expires
        pytest.param("retention", "projects/", id="projects"),
        pytest.param("decoy-cache", "decoy-cache/", id="decoy-cache"),
    ],
)
def test_tenant_data_expires_after_the_orgs_retention(
    synthesized: Synthesized, stack: str, rule_id: str, area: str
) -> None:
    config = synthesized.configs[stack]
    artifacts = synthesized.resources(stack, "AWS::S3::Bucket")[
        _logical_id(synthesized, stack, "AWS::S3::Bucket", "Artifacts")
    ]
    rules = {rule["Id"]: rule for rule in artifacts["Properties"]["LifecycleConfiguration"]["Rules"]}
    for tenant in config.tenants:
        rule = rules[f"{rule_id}-{tenant.org}"]
        assert rule["Prefix"] == f"tenants/{tenant.org}/{area}"
        assert rule["ExpirationInDays"] == tenant.retention_days
        assert rule["Status"] == "Enabled"


def test_each_org_has_its_own_rotating_data_key_and_p256_signing_key(synthesized: Synthesized, stack: str) -> None:
    config = synthesized.configs[stack]
    keys = synthesized.resources(stack, "AWS::KMS::Key")
    assert len(keys) == 1 + 2 * len(config.tenants)  # platform key + two per org
    data_keys = set()
    for org in config.orgs:
        data_key = keys[_alias_target(synthesized, stack, data_key_alias(org))]["Properties"]
        signing_key = keys[_alias_target(synthesized, stack, signing_key_alias(org))]["Properties"]
        assert data_key["EnableKeyRotation"] is True
        assert (signing_key["KeySpec"], signing_key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
        data_keys.add(_alias_target(synthesized, stack, data_key_alias(org)))
    assert len(data_keys) == len(config.tenants), "no two orgs share a key"


def test_key_policies_give_the_account_administration_only(synthesized: Synthesized, stack: str) -> None:
    """Usage comes only from statements that name roles of this stack (or configured drop-folder uploaders and SIEM
    readers)."""
    config = synthesized.configs[stack]
    uploaders = {arn for tenant in config.tenants for arn in (*tenant.drop_folder_principals, *tenant.siem_readers)}
    roles = set(synthesized.resources(stack, "AWS::IAM::Role"))
    for logical, key in synthesized.resources(stack, "AWS::KMS::Key").items():
        for statement in key["Properties"]["KeyPolicy"]["Statement"]:
            actions = set(_as_list(statement["Action"]))
            assert not any("*" in action for action in actions), f"{logical}: {actions}"
            principal = statement["Principal"]
            if statement.get("Sid") == "KeyAdministrationByTheAccount":
                assert actions == set(KEY_ADMIN_ACTIONS)
                continue
            if "Service" in principal or "dynamodb." in str(statement.get("Condition")):
                assert "Platform" in logical, f"only the platform key serves AWS services: {logical}"
                continue
            for arn in _as_list(principal["AWS"]):
                named_role = isinstance(arn, dict) and arn["Fn::GetAtt"][0] in roles
                assert named_role or arn in uploaders, f"{logical}: {arn}"


def test_tables_have_pitr_deletion_protection_and_the_platform_key(synthesized: Synthesized, stack: str) -> None:
    tables = synthesized.resources(stack, "AWS::DynamoDB::Table")
    assert len(tables) == 3
    for table in tables.values():
        properties = table["Properties"]
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert properties["DeletionProtectionEnabled"] is True
        assert properties["SSESpecification"]["SSEEnabled"] is True
        assert properties["SSESpecification"]["SSEType"] == "KMS"
        assert table["DeletionPolicy"] == "Retain"


def test_audit_table_refuses_updates_and_deletes_to_everyone(synthesized: Synthesized, stack: str) -> None:
    audit = _logical_id(synthesized, stack, "AWS::DynamoDB::Table", "AuditTable")
    policy = synthesized.resources(stack, "AWS::DynamoDB::Table")[audit]["Properties"]["ResourcePolicy"]
    statements = policy["PolicyDocument"]["Statement"]
    denied = {
        action
        for statement in statements
        if statement["Effect"] == "Deny" and statement["Principal"] == {"AWS": "*"} and "Condition" not in statement
        for action in _as_list(statement["Action"])
    }
    assert denied == set(AUDIT_TABLE_FORBIDDEN)
    assert "dynamodb:DeleteTable" in denied
    # PutItem (which could overwrite an event) is denied to every principal but the roles that append events
    (put,) = [s for s in statements if s["Effect"] == "Deny" and s["Action"] == "dynamodb:PutItem"]
    writers = put["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    appenders = {
        logical
        for logical, statement in _identity_statements(synthesized, stack)
        if audit in str(statement["Resource"]) and "dynamodb:PutItem" in _as_list(statement["Action"])
    }
    assert len(writers) == len(appenders) == 7  # the functions that append events, and the Fargate worker
    assert all(set(writer) == {"Fn::GetAtt"} and writer["Fn::GetAtt"][1] == "Arn" for writer in writers)


def test_audit_anchors_go_to_an_object_lock_bucket_in_compliance_mode(synthesized: Synthesized, stack: str) -> None:
    config = synthesized.configs[stack]
    anchors = synthesized.resources(stack, "AWS::S3::Bucket")[
        _logical_id(synthesized, stack, "AWS::S3::Bucket", "AuditAnchors")
    ]["Properties"]
    assert anchors["ObjectLockEnabled"] is True
    retention = anchors["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert retention == {"Mode": "COMPLIANCE", "Days": config.audit_anchor_retention_days}
    assert anchors["VersioningConfiguration"] == {"Status": "Enabled"}
    assert anchors["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    rules = synthesized.resources(stack, "AWS::Events::Rule")
    assert any(rule["Properties"].get("ScheduleExpression") == "rate(1 hour)" for rule in rules.values())


def test_no_role_may_change_the_audit_log(synthesized: Synthesized, stack: str) -> None:
    audit = _logical_id(synthesized, stack, "AWS::DynamoDB::Table", "AuditTable")
    granted: set[str] = set()
    streamed: set[str] = set()
    for _, statement in _identity_statements(synthesized, stack):
        if audit in str(statement["Resource"]):
            actions = set(_as_list(statement["Action"]))
            # the SIEM export reads the table's stream (new images): reading, never writing
            if "StreamArn" in str(statement["Resource"]):
                streamed |= actions
            else:
                granted |= actions
    assert granted == {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"}
    assert streamed == {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}


def test_no_allow_statement_has_a_wildcard_action(synthesized: Synthesized, stack: str) -> None:
    checked = 0
    for logical, resource in synthesized.templates[stack]["Resources"].items():
        for statement in _all_statements(resource):
            if statement["Effect"] == "Allow":
                checked += 1
                wild = [action for action in _as_list(statement["Action"]) if "*" in action]
                assert not wild, f"{logical}: {wild}"
    assert checked > 50


def _all_statements(resource: Json) -> Iterator[Json]:
    """Statements of identity and resource policies alike (IAM, KMS, S3, SQS, SNS, DynamoDB)."""
    properties = resource.get("Properties", {})
    for name in ("PolicyDocument", "KeyPolicy"):
        if isinstance(properties.get(name), dict):
            yield from properties[name]["Statement"]
    policies = properties.get("Policies", [])
    for policy in policies if isinstance(policies, list) else []:  # a user pool's Policies is its password policy
        yield from policy["PolicyDocument"]["Statement"]
    resource_policy = properties.get("ResourcePolicy")
    if isinstance(resource_policy, dict):
        yield from resource_policy["PolicyDocument"]["Statement"]


def test_object_grants_stay_inside_the_configured_tenant_prefixes(synthesized: Synthesized, stack: str) -> None:
    config = synthesized.configs[stack]
    bucket = _logical_id(synthesized, stack, "AWS::S3::Bucket", "Artifacts")
    object_resources = 0
    for logical, statement in _identity_statements(synthesized, stack):
        for resource in _as_list(statement["Resource"]):
            if not (isinstance(resource, dict) and "Fn::Join" in resource):
                continue
            parts = resource["Fn::Join"][1]
            if parts[0] != {"Fn::GetAtt": [bucket, "Arn"]}:
                continue
            object_resources += 1
            suffix = "".join(str(part) for part in parts[1:])
            assert any(suffix.startswith(f"/tenants/{org}/") for org in config.orgs), f"{logical}: {suffix}"
    assert object_resources >= 2 * len(config.tenants)


def test_table_grants_are_limited_to_the_tenants_partition_keys(synthesized: Synthesized, stack: str) -> None:
    config = synthesized.configs[stack]
    expected = sorted(pattern for org in config.orgs for pattern in (f"ORG#{org}", f"ORG#{org}#*"))
    main = _logical_id(synthesized, stack, "AWS::DynamoDB::Table", "MainTable")
    grants = [
        (policy, statement)
        for policy, statement in _identity_statements(synthesized, stack)
        if statement["Resource"] == {"Fn::GetAtt": [main, "Arn"]}
    ]
    keyed = [statement for _, statement in grants if "ForAllValues:StringLike" in statement.get("Condition", {})]
    assert len(keyed) == 12  # every function (ScimAuthorizer included) and the Fargate worker
    for statement in keyed:
        assert sorted(statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]) == expected
    # The job queue's one partition, shared by the tenants (its entries name the org): whoever releases a slot or
    # dispatches (Api, DropTrigger, Finalize, the Fargate worker, MarkFailed, Reconcile), and nothing more.
    queue = [statement for _, statement in grants if "ForAllValues:StringEquals" in statement.get("Condition", {})]
    assert len(queue) == 6
    for statement in queue:
        assert statement["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["QUEUE"]}}
    # The grants a partition-key condition cannot cover: the Scan of org records by the daily retention pass
    # and by the hourly audit anchoring (which finds the orgs to anchor that way).
    unkeyed = sorted((policy, statement["Action"]) for policy, statement in grants if "Condition" not in statement)
    assert len(unkeyed) == 2
    assert "AuditAnchor" in unkeyed[0][0]
    assert "Retention" in unkeyed[1][0]
    assert {action for _, action in unkeyed} == {"dynamodb:Scan"}


def test_drop_folder_uploaders_must_use_their_orgs_key(synthesized: Synthesized, stack: str) -> None:
    config = synthesized.configs[stack]
    bucket = _logical_id(synthesized, stack, "AWS::S3::Bucket", "Artifacts")
    policy = next(
        resource["Properties"]["PolicyDocument"]["Statement"]
        for resource in synthesized.resources(stack, "AWS::S3::BucketPolicy").values()
        if resource["Properties"]["Bucket"] == {"Ref": bucket}
    )
    for tenant in config.tenants:
        if not tenant.drop_folder_principals:
            continue
        uploaders = set(tenant.drop_folder_principals)
        denials = [
            s
            for s in policy
            if s["Effect"] == "Deny" and set(_as_list(s.get("Principal", {}).get("AWS", []))) == uploaders
        ]
        assert len(denials) == 1
        key = _alias_target(synthesized, stack, data_key_alias(tenant.org))
        condition = denials[0]["Condition"]["StringNotEquals"]
        assert condition == {"s3:x-amz-server-side-encryption-aws-kms-key-id": {"Fn::GetAtt": [key, "Arn"]}}


def test_functions_use_their_own_role_with_no_managed_policy(synthesized: Synthesized, stack: str) -> None:
    functions = synthesized.resources(stack, "AWS::Lambda::Function")
    roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()}
    assert len(roles) == len(functions) == 12  # ScimAuthorizer and SiemExport the eleventh and twelfth
    for role in synthesized.resources(stack, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_kms_use_is_never_granted_on_every_key(synthesized: Synthesized, stack: str) -> None:
    """Encrypt/Decrypt/Sign in an identity policy always name the keys."""
    for logical, statement in _identity_statements(synthesized, stack):
        if USE_ACTIONS & set(_as_list(statement["Action"])):
            assert statement["Resource"] != "*", logical


def _decoy_cache_grants(synthesized: Synthesized, stack: str) -> dict[str, tuple[set[str], set[str]]]:
    """Policy logical id → (actions, object suffixes) of every statement that names a decoy-cache object."""
    grants: dict[str, tuple[set[str], set[str]]] = {}
    for logical, statement in _identity_statements(synthesized, stack):
        suffixes = {
            "".join(str(part) for part in resource["Fn::Join"][1][1:])
            for resource in _as_list(statement["Resource"])
            if isinstance(resource, dict) and "Fn::Join" in resource
        }
        cached = {suffix for suffix in suffixes if "decoy-cache" in suffix}
        if cached:
            actions, objects = grants.setdefault(logical, (set(), set()))
            actions.update(_as_list(statement["Action"]))
            objects.update(cached)
    return grants


def test_only_the_chunk_runners_reach_the_decoy_cache_each_org_its_own(synthesized: Synthesized, stack: str) -> None:
    config = synthesized.configs[stack]
    grants = _decoy_cache_grants(synthesized, stack)
    assert sorted(grants) == sorted(
        logical for logical in grants if "RunChunk" in logical or "FargateWorker" in logical
    ), grants
    assert {"RunChunk", "FargateWorker"} == {
        name for name in ("RunChunk", "FargateWorker") for logical in grants if name in logical
    }
    expected = {f"/tenants/{org}/decoy-cache/*" for org in config.orgs}
    for logical, (actions, objects) in grants.items():
        assert actions == {"s3:GetObject", "s3:PutObject"}, logical
        assert objects == expected, logical

"""Where the data lives: the artifact bucket, the per-org KMS keys, the DynamoDB tables.

Keys carry their own usage grants (key policies name the roles that may use them), so an IAM policy added
somewhere else in the account cannot reach a tenant's data key; the account root keeps only key
administration, which CloudFormation needs to update the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from functions.service.layout import (
    INBOX_AREA,
    OUTBOX_AREA,
    audit_export_prefix,
    decoy_cache_prefix,
    org_prefix,
    projects_prefix,
)
from infra_cdk import nag
from infra_cdk.contract import KMS_ALIAS_PREFIX, data_key_alias, signing_key_alias

if TYPE_CHECKING:
    from collections.abc import Sequence

    from infra_cdk.config import CustomerConfig

# Key administration only: no Encrypt/Decrypt/Sign, so usage comes from the statements naming roles.
KEY_ADMIN_ACTIONS: Final = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:GetPublicKey",
    "kms:ListGrants",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
DATA_KEY_USE: Final = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
NONCURRENT_VERSION_DAYS: Final = 30
ACCESS_LOG_DAYS: Final = 365
AUDIT_TABLE_FORBIDDEN: Final = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:DeleteTable",
    "dynamodb:PartiQLDelete",
    "dynamodb:PartiQLUpdate",
    "dynamodb:UpdateItem",
)


def _admin_only_policy() -> iam.PolicyDocument:
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="KeyAdministrationByTheAccount",
                principals=[iam.AccountRootPrincipal()],
                actions=list(KEY_ADMIN_ACTIONS),
                resources=["*"],
            )
        ]
    )


@dataclass(frozen=True, slots=True)
class TenantKeys:
    """One org's keys: SSE-KMS for its objects, ECDSA P-256 for its evidence-pack signatures."""

    org: str
    data: kms.Key
    signing: kms.Key


def private_bucket(scope: Construct, construct_id: str, **properties: Any) -> s3.Bucket:
    """A bucket with the baseline every bucket here has: no public access, TLS 1.2+ only, versioned, ACLs off."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        **properties,
    )


class DataStore(Construct):
    """Bucket, keys and tables of one customer deployment; every store is encrypted and kept on stack delete."""

    def __init__(self, scope: Construct, construct_id: str, *, config: CustomerConfig) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.platform_key = kms.Key(
            self,
            "PlatformKey",
            description=f"HETERO-2 {config.customer}: tables, logs, alarm topic, dead-letter queue, bucket default",
            alias=f"{KMS_ALIAS_PREFIX}/platform",
            enable_key_rotation=True,
            policy=_admin_only_policy(),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self._allow_services_on_platform_key(stack)
        self.tenants: dict[str, TenantKeys] = {
            tenant.org: self._tenant_keys(tenant.org, config.customer, tenant.signing_key_version)
            for tenant in config.tenants
        }
        self.access_logs = self._access_log_bucket()
        self.bucket = self._artifact_bucket(config)
        self._open_drop_folders(config)
        self._open_audit_exports(config)
        self.table = self._table("MainTable", "pk", "sk")
        # The stream feeds the SIEM export and the every-N anchors (infra_cdk/siem.py); new images only.
        self.audit_table = self._table("AuditTable", "pk", "sk", stream=dynamodb.StreamViewType.NEW_IMAGE)
        for action in AUDIT_TABLE_FORBIDDEN:
            # Append-only for everyone, administrators included; changing this is a visible policy change.
            self.audit_table.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=f"AppendOnly{action.split(':')[1]}",
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=[action],
                    resources=["*"],
                )
            )
        self.idempotency_table = self._table("IdempotencyTable", "id", None, ttl="expiration")
        self.anchor_retention_days = config.audit_anchor_retention_days
        self.anchor_bucket = self._anchor_bucket(config)

    def _anchor_bucket(self, config: CustomerConfig) -> s3.Bucket:
        """Signed audit-chain heads (functions/service/audit_anchor.py), locked in COMPLIANCE mode: no principal,
        the account root included, can delete or overwrite one before its retention ends."""
        return private_bucket(
            self,
            "AuditAnchors",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.platform_key,
            bucket_key_enabled=True,
            object_lock_enabled=True,
            object_lock_default_retention=s3.ObjectLockRetention.compliance(
                cdk.Duration.days(config.audit_anchor_retention_days)
            ),
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="anchors/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def restrict_audit_writes(self, writers: Sequence[iam.IRole]) -> None:
        """PutItem on the audit table for the writer roles only; nobody else may put (or overwrite) an event.

        A resource policy cannot require the writers' ``attribute_not_exists`` condition (DynamoDB has no
        condition key for it); the writers' code always sends it (functions/service/audit_log.py).
        """
        self.audit_table.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PutOnlyByTheAuditWriters",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["dynamodb:PutItem"],
                resources=["*"],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": [role.role_arn for role in writers]}},
            )
        )

    def _allow_services_on_platform_key(self, stack: cdk.Stack) -> None:
        key = self.platform_key
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsEncryptsThisAccountsLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Decrypt",
                    "kms:DescribeKey",
                    "kms:Encrypt",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                        )
                    }
                },
            )
        )
        for service, sid in (
            ("cloudwatch.amazonaws.com", "AlarmsPublishToTheEncryptedTopic"),
            ("events.amazonaws.com", "EventBridgeSendsToTheEncryptedDeadLetterQueue"),
        ):
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal(service)],
                    actions=["kms:Decrypt", "kms:GenerateDataKey"],
                    resources=["*"],
                    conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
                )
            )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DynamoDBTablesOfThisAccount",
                principals=[iam.AccountRootPrincipal()],
                actions=["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"dynamodb.{stack.region}.amazonaws.com",
                        "kms:CallerAccount": stack.account,
                    }
                },
            )
        )

    def _tenant_keys(self, org: str, customer: str, signing_version: int) -> TenantKeys:
        data = kms.Key(
            self,
            f"DataKey-{org}",
            description=f"HETERO-2 {customer}: SSE-KMS key of org {org}'s objects",
            alias=data_key_alias(org),
            enable_key_rotation=True,
            policy=_admin_only_policy(),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # A new version is a new key (the old one is retained, so packs signed with it still verify against
        # its public key); the alias is its own resource, so moving it to the new key is an in-place update.
        signing = kms.Key(
            self,
            f"SigningKey-{org}" if signing_version == 1 else f"SigningKey-{org}-v{signing_version}",
            description=f"HETERO-2 {customer}: evidence-pack signing key of org {org} (version {signing_version})",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            policy=_admin_only_policy(),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        kms.Alias(self, f"SigningAlias-{org}", alias_name=signing_key_alias(org), target_key=signing)
        for key in (data, signing):
            cdk.Tags.of(key).add("hetero2:org", org)
        return TenantKeys(org=org, data=data, signing=signing)

    def _access_log_bucket(self) -> s3.Bucket:
        bucket = private_bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=cdk.Duration.days(ACCESS_LOG_DAYS),
                    noncurrent_version_expiration=cdk.Duration.days(NONCURRENT_VERSION_DAYS),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        nag.acknowledge(bucket, "AwsSolutions-S1", "access-log-bucket")
        return bucket

    def _artifact_bucket(self, config: CustomerConfig) -> s3.Bucket:
        rules = [
            s3.LifecycleRule(
                id=f"retention-{tenant.org}",
                # projects/ only: the published public keys (tenants/ORG/keys/) verify old packs and never expire
                prefix=projects_prefix(tenant.org),
                expiration=cdk.Duration.days(tenant.retention_days),
                noncurrent_version_expiration=cdk.Duration.days(NONCURRENT_VERSION_DAYS),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
            )
            for tenant in config.tenants
        ]
        # The decoy cache holds the org's molecules too: it is kept no longer than the org keeps its jobs.
        rules += [
            s3.LifecycleRule(
                id=f"decoy-cache-{tenant.org}",
                prefix=decoy_cache_prefix(tenant.org),
                expiration=cdk.Duration.days(tenant.retention_days),
                noncurrent_version_expiration=cdk.Duration.days(NONCURRENT_VERSION_DAYS),
            )
            for tenant in config.tenants
        ]
        rules.append(s3.LifecycleRule(id="remove-expired-delete-markers", expired_object_delete_marker=True))
        bucket = private_bucket(
            self,
            "Artifacts",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.platform_key,
            bucket_key_enabled=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="artifacts/",
            lifecycle_rules=rules,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # EventBridge delivery is a bucket property; CDK's notification custom resource (a Lambda with an
        # AWS managed policy) is not needed for it.
        cfn = bucket.node.default_child
        if not isinstance(cfn, s3.CfnBucket):
            raise TypeError("the artifact bucket has no CfnBucket")
        cfn.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(event_bridge_enabled=True)
        )
        return bucket

    def _bucket_statement(
        self,
        org: str,
        principals: list[iam.IPrincipal],
        sid: str,
        actions: list[str],
        resources: list[str],
        **extra: Any,
    ) -> None:
        """One bucket-policy statement for an org's outside principals (its sid carries the org)."""
        statement = iam.PolicyStatement(
            sid=f"{sid}{_sid(org)}", principals=principals, actions=actions, resources=resources, **extra
        )
        self.bucket.add_to_resource_policy(statement)

    def _listing_below(self, org: str, principals: list[iam.IPrincipal], sid: str, prefix: str) -> None:
        """A bucket-policy statement letting an org's outside principals list the bucket below ``prefix`` only."""
        self._bucket_statement(
            org,
            principals,
            sid,
            ["s3:ListBucket"],
            [self.bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
        )

    def _open_drop_folders(self, config: CustomerConfig) -> None:
        """Let each tenant's named uploaders put into its inbox and read its outbox, under its own key only."""
        for tenant in config.tenants:
            if not tenant.drop_folder_principals:
                continue
            principals: list[iam.IPrincipal] = [iam.ArnPrincipal(arn) for arn in tenant.drop_folder_principals]
            org_objects = f"{self.bucket.bucket_arn}/{org_prefix(tenant.org)}"
            key = self.tenants[tenant.org].data
            uploaders_may = partial(self._bucket_statement, tenant.org, principals)
            uploaders_may("DropFolderUpload", ["s3:PutObject"], [f"{org_objects}{INBOX_AREA}"])
            uploaders_may(
                "DropFolderOnlyWithTheOrgKey",
                ["s3:PutObject"],
                [f"{org_objects}{INBOX_AREA}"],
                effect=iam.Effect.DENY,
                conditions={
                    "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key.key_arn},
                    "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
                },
            )
            uploaders_may("DropFolderResults", ["s3:GetObject"], [f"{org_objects}{OUTBOX_AREA}"])
            self._listing_below(tenant.org, principals, "DropFolderList", projects_prefix(tenant.org))
            _key_allows_through_s3(key, "DropFolderUploadersThroughS3", principals, DATA_KEY_USE)

    def _open_audit_exports(self, config: CustomerConfig) -> None:
        """Let each tenant's SIEM readers list and read its audit export prefix, decrypting with its key via S3."""
        for tenant in config.tenants:
            if not tenant.siem_readers:
                continue
            principals: list[iam.IPrincipal] = [iam.ArnPrincipal(arn) for arn in tenant.siem_readers]
            readers_may = partial(self._bucket_statement, tenant.org, principals)
            export = audit_export_prefix(tenant.org)
            readers_may("SiemExportRead", ["s3:GetObject"], [f"{self.bucket.bucket_arn}/{export}*"])
            self._listing_below(tenant.org, principals, "SiemExportList", export)
            _key_allows_through_s3(self.tenants[tenant.org].data, "SiemReadersThroughS3", principals, ["kms:Decrypt"])

    def _table(
        self,
        construct_id: str,
        partition: str,
        sort: str | None,
        *,
        ttl: str | None = None,
        stream: dynamodb.StreamViewType | None = None,
    ) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=partition, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=sort, type=dynamodb.AttributeType.STRING) if sort else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.platform_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            time_to_live_attribute=ttl,
            stream=stream,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    # Grants: key policies name the role; the role's own policy names the key (both are needed for a
    # key whose policy does not delegate usage to IAM).

    def grant_key_lookup(self, role: iam.Role) -> None:
        """DescribeKey on both keys of every org: the service finds an org's keys by alias before any S3 call."""
        for keys in self.tenants.values():
            for key in (keys.data, keys.signing):
                _key_policy_names(key, role, "Describe", ["kms:DescribeKey"])
        nag.add_statement(
            role,
            actions=["kms:DescribeKey"],
            resources=[key.key_arn for keys in self.tenants.values() for key in (keys.data, keys.signing)],
        )

    def grant_data_keys(self, role: iam.Role) -> None:
        """SSE-KMS use of every org's data key, through S3 only."""
        for keys in self.tenants.values():
            _key_policy_names(
                keys.data,
                role,
                "ObjectsThroughS3",
                DATA_KEY_USE,
                conditions=_via_s3(keys.data),
            )
        nag.add_statement(role, actions=DATA_KEY_USE, resources=[keys.data.key_arn for keys in self.tenants.values()])

    def grant_signing(self, role: iam.Role, *, sign: bool) -> None:
        """Evidence-pack signatures: Sign for the finalizer, public key and Verify for readers."""
        actions = ["kms:GetPublicKey", "kms:Verify", *(["kms:Sign"] if sign else [])]
        for keys in self.tenants.values():
            _key_policy_names(keys.signing, role, "Signatures", actions)
        nag.add_statement(role, actions=actions, resources=[keys.signing.key_arn for keys in self.tenants.values()])

    def grant_platform_key(self, role: iam.Role) -> None:
        """Table items and bucket-default objects are under the platform key."""
        actions = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
        _key_policy_names(self.platform_key, role, "Platform", actions)
        nag.add_statement(role, actions=actions, resources=[self.platform_key.key_arn])


def _key_policy_names(key: kms.Key, role: iam.Role, sid: str, actions: Sequence[str], **extra: Any) -> None:
    """The key's half of a grant: its policy names the role (the role's own policy names the key)."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"{sid}{_sid(role.node.id)}", principals=[role], actions=list(actions), resources=["*"], **extra
        )
    )


def _key_allows_through_s3(key: kms.Key, sid: str, principals: list[iam.IPrincipal], actions: Sequence[str]) -> None:
    """A key-policy statement for principals outside the stack: the key only in S3's calls on their behalf."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid, principals=principals, actions=list(actions), resources=["*"], conditions=_via_s3(key)
        )
    )


def _via_s3(key: kms.Key) -> dict[str, Any]:
    """The key-policy condition that limits a statement to SSE-KMS: calls S3 makes in the key's region."""
    return {"StringEquals": {"kms:ViaService": f"s3.{cdk.Stack.of(key).region}.amazonaws.com"}}


def _sid(text: str) -> str:
    """A statement id from an org id or construct id (Sids are alphanumeric)."""
    return "".join(part.capitalize() for part in text.replace("_", "-").split("-") if part.isalnum())

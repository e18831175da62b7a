"""Per-org KMS keys: a symmetric data key (SSE-KMS for every object of the org) and an ECDSA P-256 signing key.

Keys are found by alias, ``{prefix}/{org}/data`` and ``{prefix}/{org}/signing``, so nothing has to store key ids
and a key can be rotated (data) or replaced (signing) behind the alias.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from cryptography.hazmat.primitives import serialization

from functions.service.errors import TenantAccessError
from functions.service.ids import checked_id
from hetero_core.pack import public_key_id

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_kms.literals import KeySpecType, KeyUsageTypeType, MessageTypeType
    from mypy_boto3_kms.type_defs import KeyMetadataTypeDef, TagTypeDef

# KMS Sign takes at most 4096 bytes as a RAW message; larger manifests are signed as a SHA-256 digest
# (same signature: ECDSA_SHA_256 over the same bytes).
KMS_RAW_MESSAGE_LIMIT = 4096
SIGNING_ALGORITHM: Final = "ECDSA_SHA_256"


@dataclass(frozen=True, slots=True)
class OrgKeys:
    org: str
    data_key_arn: str
    signing_key_arn: str


class TenantKeys:
    """Creates and finds each org's keys."""

    def __init__(self, kms: KMSClient, alias_prefix: str) -> None:
        self._kms = kms
        self._prefix = alias_prefix.rstrip("/")
        self._cache: dict[str, OrgKeys] = {}

    def data_alias(self, org: str) -> str:
        return f"{self._prefix}/{checked_id(org, 'org')}/data"

    def signing_alias(self, org: str) -> str:
        return f"{self._prefix}/{checked_id(org, 'org')}/signing"

    def _create_key(self, org: str, what: str, usage: KeyUsageTypeType, spec: KeySpecType) -> KeyMetadataTypeDef:
        """One key of the org, tagged with it (the tag is what an auditor filters KMS keys by)."""
        tags: list[TagTypeDef] = [{"TagKey": "hetero2:org", "TagValue": org}]
        created = self._kms.create_key(
            Description=f"HETERO-2 {what} of org {org}", KeyUsage=usage, KeySpec=spec, Tags=tags
        )
        return created["KeyMetadata"]

    def create_org_keys(self, org: str) -> OrgKeys:
        """Idempotent: an org that already has its keys gets them back unchanged."""
        existing = self._lookup(org)
        if existing is not None:
            return existing
        data = self._create_key(org, "data key", "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT")
        self._kms.enable_key_rotation(KeyId=data["KeyId"])
        signing = self._create_key(org, "evidence-pack signing key", "SIGN_VERIFY", "ECC_NIST_P256")
        try:
            self._kms.create_alias(AliasName=self.data_alias(org), TargetKeyId=data["KeyId"])
            self._kms.create_alias(AliasName=self.signing_alias(org), TargetKeyId=signing["KeyId"])
        except self._kms.exceptions.AlreadyExistsException:
            # another creator won the race: its keys are the org's; ours must not linger as orphans
            self._discard(data["KeyId"], signing["KeyId"])
            winner = self._lookup(org)
            if winner is None:
                raise
            return winner
        keys = OrgKeys(org, data["Arn"], signing["Arn"])
        self._cache[org] = keys
        return keys

    def _discard(self, *key_ids: str) -> None:
        """Schedule keys this call created but lost the alias race with (7 days: KMS's minimum)."""
        for key_id in key_ids:
            aliases = self._kms.list_aliases(KeyId=key_id).get("Aliases", [])
            for alias in aliases:
                self._kms.delete_alias(AliasName=alias["AliasName"])
            self._kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    def keys_of(self, org: str) -> OrgKeys:
        keys = self._lookup(org)
        if keys is None:
            raise TenantAccessError(f"org {org!r} has no keys (unknown org)")
        return keys

    def _lookup(self, org: str) -> OrgKeys | None:
        if org in self._cache:
            return self._cache[org]
        try:
            data = self._kms.describe_key(KeyId=self.data_alias(org))["KeyMetadata"]["Arn"]
            signing = self._kms.describe_key(KeyId=self.signing_alias(org))["KeyMetadata"]["Arn"]
        except self._kms.exceptions.NotFoundException:
            return None
        keys = OrgKeys(org, data, signing)
        self._cache[org] = keys
        return keys

    def signer(self, org: str) -> KmsSigner:
        return KmsSigner(self._kms, self.keys_of(org).signing_key_arn)

    def public_key_pem(self, org: str) -> bytes:
        return self.signer(org).public_key_pem()


class KmsSigner:
    """The engine's ``Signer`` backed by an asymmetric KMS key: the private key never leaves KMS."""

    def __init__(self, kms: KMSClient, key_arn: str) -> None:
        self._kms = kms
        self._key_arn = key_arn
        self._public_pem: bytes | None = None
        self.key_id = public_key_id(self.public_key_pem())

    def public_key_pem(self) -> bytes:
        if self._public_pem is None:
            der = self._kms.get_public_key(KeyId=self._key_arn)["PublicKey"]
            key = serialization.load_der_public_key(der)
            self._public_pem = key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        return self._public_pem

    def sign(self, data: bytes) -> bytes:
        raw = len(data) <= KMS_RAW_MESSAGE_LIMIT
        message = data if raw else hashlib.sha256(data).digest()
        message_type: MessageTypeType = "RAW" if raw else "DIGEST"
        response = self._kms.sign(
            KeyId=self._key_arn, Message=message, MessageType=message_type, SigningAlgorithm=SIGNING_ALGORITHM
        )
        signature: bytes = response["Signature"]
        return signature

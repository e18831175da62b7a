"""The artifact store: one org's view of the bucket. Every write is SSE-KMS under that org's data key, and
every key is checked against the org's prefix, so a handler working for org A cannot read or write org B's data
even if an event hands it B's key.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from functions.service.errors import TransientServiceError
from functions.service.tenancy import require_in_org

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

_TRANSIENT_CODES = {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "ThrottlingException"}
PRESIGN_SECONDS = 900


class ForeignObjectError(Exception):
    """An object under the org's prefix that was not written under the org's data key: never trusted."""


def _raise_transient(exc: ClientError) -> None:
    if exc.response.get("Error", {}).get("Code") in _TRANSIENT_CODES:
        raise TransientServiceError(str(exc)) from exc


class ArtifactStore:
    def __init__(self, s3: S3Client, bucket: str, org: str, data_key_arn: str) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.org = org
        self._kms_key = data_key_arn

    def _encryption(self) -> dict[str, str]:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key}

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        require_in_org(self.org, key)
        try:
            self._s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                ServerSideEncryption="aws:kms",
                SSEKMSKeyId=self._kms_key,
            )
        except ClientError as exc:
            _raise_transient(exc)
            raise

    def put_json(self, key: str, obj: object) -> None:
        self.put_bytes(key, json.dumps(obj, separators=(",", ":"), sort_keys=True).encode(), "application/json")

    def upload_file(self, key: str, path: Path, content_type: str = "application/octet-stream") -> None:
        require_in_org(self.org, key)
        extra = {**self._encryption(), "ContentType": content_type}
        self._s3.upload_file(str(path), self.bucket, key, ExtraArgs=extra)

    def copy(self, source_key: str, target_key: str) -> None:
        """Server-side copy inside the org (multipart for large objects), re-encrypted under the org's key."""
        require_in_org(self.org, source_key)
        require_in_org(self.org, target_key)
        self._s3.copy({"Bucket": self.bucket, "Key": source_key}, self.bucket, target_key, ExtraArgs=self._encryption())

    def get_bytes(self, key: str) -> bytes:
        require_in_org(self.org, key)
        try:
            body: bytes = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            _raise_transient(exc)
            raise
        return body

    def get_own_bytes(self, key: str) -> bytes | None:
        """The object's bytes if it exists and is SSE-KMS under this org's data key (one GET: the response says how
        it was encrypted); None when it does not exist; :class:`ForeignObjectError` when it is not under our key."""
        require_in_org(self.org, key)
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            _raise_transient(exc)
            raise
        body: bytes = response["Body"].read()
        if response.get("ServerSideEncryption") != "aws:kms" or response.get("SSEKMSKeyId") != self._kms_key:
            raise ForeignObjectError(f"{key} is not encrypted under the org's data key")
        return body

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))

    def download_file(self, key: str, path: Path) -> None:
        require_in_org(self.org, key)
        self._s3.download_file(self.bucket, key, str(path))

    def exists(self, key: str) -> bool:
        require_in_org(self.org, key)
        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def encrypted_with_own_key(self, key: str) -> bool:
        """True when the object is SSE-KMS under this org's data key. An object written under this org's prefix
        with anything else (another org's key, via a stolen presigned URL; or no KMS at all) is not trusted."""
        require_in_org(self.org, key)
        head = self._s3.head_object(Bucket=self.bucket, Key=key)
        return bool(head.get("ServerSideEncryption") == "aws:kms" and head.get("SSEKMSKeyId") == self._kms_key)

    def list_keys(self, prefix: str) -> Iterator[str]:
        require_in_org(self.org, prefix)
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object (all versions) under ``prefix``; returns how many keys went."""
        require_in_org(self.org, prefix)
        deleted = 0
        paginator = self._s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            objects: list[ObjectIdentifierTypeDef] = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            for start in range(0, len(objects), 1000):
                batch = objects[start : start + 1000]
                self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
                deleted += len(batch)
        return deleted

    def presign_put(self, key: str, content_type: str = "application/octet-stream") -> dict[str, Any]:
        """A URL the client PUTs to; the signed headers force SSE-KMS under this org's key."""
        require_in_org(self.org, key)
        params = {"Bucket": self.bucket, "Key": key, "ContentType": content_type, **self._encryption()}
        url = self._s3.generate_presigned_url("put_object", Params=params, ExpiresIn=PRESIGN_SECONDS)
        headers = {
            "Content-Type": content_type,
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": self._kms_key,
        }
        return {"url": url, "method": "PUT", "headers": headers, "expires_in": PRESIGN_SECONDS}

    def presign_get(self, key: str, download_name: str | None = None, expires_in: int = PRESIGN_SECONDS) -> str:
        require_in_org(self.org, key)
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if download_name:
            params["ResponseContentDisposition"] = f'attachment; filename="{download_name}"'
        url: str = self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        return url

"""The artifact store: one org's view of the bucket. Every write is SSE-KMS under that org's data key, and
every key is checked against the org's prefix, so a handler working for org A cannot read or write org B's data
even if an event hands it B's key.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from functions.service.conditional import is_existing_object
from functions.service.errors import TransientServiceError
from functions.service.tenancy import require_in_org
from hetero_core.pack import Span

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from pathlib import Path

    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, ObjectIdentifierTypeDef, PutObjectRequestTypeDef

    from hetero_core.pack import Piece

_TRANSIENT_CODES = {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "ThrottlingException"}
PRESIGN_SECONDS = 900
# S3's multipart limits: every part but the last at least 5 MiB, a copied part at most 5 GiB, 10,000 parts.
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_COPY_PART_BYTES = 5 * 1024**3
MAX_BUFFERED_PART_BYTES = 64 * 1024 * 1024
_READ_BYTES = 8 * 1024 * 1024
COMPOSE_THREADS = 16  # parts copied or uploaded at once: S3 copies server-side, the wait is per request


@dataclass(slots=True)
class ComposeStats:
    """How an object was joined: bytes copied inside S3 (never read here), bytes read or sent from memory."""

    parts: int = 0
    copied_parts: int = 0
    copied_bytes: int = 0
    read_bytes: int = 0
    sent_bytes: int = 0

    def add(self, other: ComposeStats) -> None:
        for name in ("parts", "copied_parts", "copied_bytes", "read_bytes", "sent_bytes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _merged(pieces: Iterable[Piece]) -> list[Piece]:
    """Adjacent byte ranges of one object become one range; adjacent bytes pieces stay as they are."""
    out: list[Piece] = []
    for piece in pieces:
        last = out[-1] if out else None
        if (
            isinstance(piece, Span)
            and isinstance(last, Span)
            and last.source == piece.source
            and last.offset + last.length == piece.offset
        ):
            out[-1] = Span(last.source, last.offset, last.length + piece.length)
        elif (isinstance(piece, Span) and piece.length == 0) or (isinstance(piece, bytes) and not piece):
            continue
        else:
            out.append(piece)
    return out


class ForeignObjectError(Exception):
    """An object under the org's prefix that was not written under the org's data key: never trusted."""


def _raise_transient(exc: ClientError) -> None:
    if exc.response.get("Error", {}).get("Code") in _TRANSIENT_CODES:
        raise TransientServiceError(str(exc)) from exc


def plan_parts(pieces: Sequence[Piece]) -> list[Span | list[Piece]]:
    """Cut pieces into multipart parts: a span of 5 MiB or more is copied (a ``Span`` part, ≤ 5 GiB each), the rest
    is gathered into buffered parts (lists of pieces to read and send), each at least 5 MiB except the last.

    When a short buffer stands before a big span, only the span's first bytes join the buffer to bring it to
    5 MiB, so at most ~5 MiB is read per change between memory and a copied span, plus every span under 5 MiB.
    """
    parts: list[Span | list[Piece]] = []
    buffer: list[Piece] = []
    buffered = 0

    def flush() -> None:
        nonlocal buffer, buffered
        if buffer:
            parts.append(buffer)
        buffer, buffered = [], 0

    for piece in _merged(pieces):
        if isinstance(piece, bytes):
            buffer.append(piece)
            buffered += len(piece)
        else:
            span = piece
            if buffer and buffered < MIN_PART_BYTES:
                need = MIN_PART_BYTES - buffered
                if span.length - need < MIN_PART_BYTES:
                    buffer.append(span)
                    buffered += span.length
                    continue
                buffer.append(Span(span.source, span.offset, need))
                span = Span(span.source, span.offset + need, span.length - need)
            flush()
            if span.length >= MIN_PART_BYTES:
                for start in range(span.offset, span.offset + span.length, MAX_COPY_PART_BYTES):
                    end = min(start + MAX_COPY_PART_BYTES, span.offset + span.length)
                    parts.append(Span(span.source, start, end - start))
            else:
                buffer.append(span)
                buffered += span.length
        if buffered >= MAX_BUFFERED_PART_BYTES:
            flush()
    if buffer or not parts:
        parts.append(buffer)
    return parts


class ArtifactStore:
    def __init__(self, s3: S3Client, bucket: str, org: str, data_key_arn: str) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.org = org
        self._kms_key = data_key_arn

    def _encryption(self) -> dict[str, str]:
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key}

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._put(key, data, content_type, if_none_match="")

    def _put(self, key: str, data: bytes, content_type: str, *, if_none_match: str) -> None:
        require_in_org(self.org, key)
        request: PutObjectRequestTypeDef = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": data,
            "ContentType": content_type,
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": self._kms_key,
        }
        if if_none_match:
            request["IfNoneMatch"] = if_none_match
        try:
            self._s3.put_object(**request)
        except ClientError as exc:
            _raise_transient(exc)
            raise

    def put_new(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> bool:
        """Write ``key`` only if it does not exist (S3 conditional put): False if it did, which a redelivered
        event means; the object first written stays, byte for byte."""
        try:
            self._put(key, data, content_type, if_none_match="*")
        except ClientError as exc:
            if is_existing_object(exc):
                return False
            raise
        return True

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

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """``length`` bytes of an object from ``offset`` (one ranged GET)."""
        require_in_org(self.org, key)
        if length <= 0:
            return b""
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={offset}-{offset + length - 1}")
        except ClientError as exc:
            _raise_transient(exc)
            raise
        body: bytes = response["Body"].read()
        if len(body) != length:
            raise ValueError(f"{key}: asked for {length} bytes at {offset}, got {len(body)}")
        return body

    def sha256(self, key: str) -> str:
        """sha256 of an object's bytes, streamed in one GET (nothing is kept)."""
        require_in_org(self.org, key)
        digest = hashlib.sha256()
        body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        while chunk := body.read(_READ_BYTES):
            digest.update(chunk)
        return digest.hexdigest()

    def compose(self, key: str, pieces: Sequence[Piece], content_type: str) -> ComposeStats:
        """Write one object from pieces: bytes from memory, spans of objects copied inside S3 (``UploadPartCopy``).

        S3 wants every part but the last to be at least 5 MiB (:func:`plan_parts` says how pieces become parts);
        parts go up ``COMPOSE_THREADS`` at a time.
        """
        require_in_org(self.org, key)
        merged = _merged(pieces)
        for piece in merged:
            if isinstance(piece, Span):
                require_in_org(self.org, piece.source)
        stats = ComposeStats()
        total = sum(p.length if isinstance(p, Span) else len(p) for p in merged)
        if total < MIN_PART_BYTES:  # one part anyway: a plain PUT
            data = b"".join(self._read_piece(p, stats) for p in merged)
            self.put_bytes(key, data, content_type)
            stats.parts = 1
            return stats
        upload_id = self._s3.create_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            ContentType=content_type,
            **self._encryption(),  # type: ignore[arg-type]
        )["UploadId"]
        try:
            parts = self._upload_parts(key, upload_id, merged, stats)
            self._s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return stats

    def _read_piece(self, piece: Piece, stats: ComposeStats) -> bytes:
        if isinstance(piece, bytes):
            stats.sent_bytes += len(piece)
            return piece
        stats.read_bytes += piece.length
        return self.get_range(piece.source, piece.offset, piece.length)

    def _upload_parts(
        self, key: str, upload_id: str, pieces: Sequence[Piece], stats: ComposeStats
    ) -> list[CompletedPartTypeDef]:
        """Upload the planned parts, ``COMPOSE_THREADS`` at a time (boto3 clients are thread-safe)."""
        plan = plan_parts(pieces)

        def upload(numbered: tuple[int, Span | list[Piece]]) -> tuple[CompletedPartTypeDef, ComposeStats]:
            number, part = numbered
            own = ComposeStats()
            if isinstance(part, Span):
                source, first, last = part.source, part.offset, part.offset + part.length - 1
                result = self._s3.upload_part_copy(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                    CopySource={"Bucket": self.bucket, "Key": source}, CopySourceRange=f"bytes={first}-{last}",
                )  # fmt: skip
                own.copied_parts, own.copied_bytes = 1, part.length
                return {"PartNumber": number, "ETag": result["CopyPartResult"]["ETag"]}, own
            body = b"".join(self._read_piece(piece, own) for piece in part)
            etag = self._s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)
            return {"PartNumber": number, "ETag": etag["ETag"]}, own

        with ThreadPoolExecutor(max_workers=COMPOSE_THREADS) as pool:
            done = list(pool.map(upload, enumerate(plan, start=1)))
        for _part, own in done:
            stats.add(own)
        stats.parts = len(done)
        return [part for part, _own in done]

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

"""Joining an object from pieces with S3 multipart UploadPartCopy, at S3's real 5 MiB minimum part size (moto
enforces it when the upload completes, like S3): big spans are copied, never read; small ones are grouped."""

from __future__ import annotations

import hashlib
import random
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from functions.service.artifacts import MIN_PART_BYTES, ArtifactStore
from hetero_core.pack import Piece, Span
from tests.service.harness import REGION

if TYPE_CHECKING:
    from collections.abc import Iterator

BUCKET = "compose-bucket"
PREFIX = "tenants/org-a/projects/p/jobs/j/"
MIB = 1024 * 1024


@pytest.fixture
def store(aws_env: None) -> Iterator[ArtifactStore]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        key = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
        yield ArtifactStore(s3, BUCKET, "org-a", key)


def _put(store: ArtifactStore, name: str, size: int) -> tuple[str, bytes]:
    data = random.Random(name).randbytes(size)
    store.put_bytes(PREFIX + name, data)
    return PREFIX + name, data


def test_moto_enforces_the_minimum_part_size(store: ArtifactStore) -> None:
    """Why compose groups small pieces: a multipart upload with a small part that is not the last fails."""
    s3 = store._s3
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=PREFIX + "raw")["UploadId"]
    parts = []
    for number in (1, 2):
        etag = s3.upload_part(Bucket=BUCKET, Key=PREFIX + "raw", UploadId=upload, PartNumber=number, Body=b"x" * 1024)
        parts.append({"PartNumber": number, "ETag": etag["ETag"]})
    with pytest.raises(ClientError, match="EntityTooSmall"):
        s3.complete_multipart_upload(
            Bucket=BUCKET,
            Key=PREFIX + "raw",
            UploadId=upload,
            MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
        )


def test_big_spans_are_copied_small_ones_read_and_the_bytes_are_exact(store: ArtifactStore) -> None:
    big, big_data = _put(store, "big.slices", 2 * MIN_PART_BYTES + 12345)
    small, small_data = _put(store, "small.slices", MIB)
    pieces: list[Piece] = [
        b"local header",
        Span(big, 0, 1000),
        Span(big, 1000, len(big_data) - 1000),  # adjacent: merged into one span
        Span(small, 0, MIB),
        b"central directory",
        Span(big, 7, MIN_PART_BYTES),
    ]
    stats = store.compose(PREFIX + "pack.zip", pieces, "application/zip")
    expected = b"local header" + big_data + small_data + b"central directory" + big_data[7 : 7 + MIN_PART_BYTES]
    assert store.get_bytes(PREFIX + "pack.zip") == expected
    assert stats.copied_parts >= 1
    # read: what fills the header's part to 5 MiB, the 1 MiB span, and what fills that part again
    assert stats.read_bytes <= 2 * MIN_PART_BYTES + MIB
    assert stats.copied_bytes + stats.read_bytes + stats.sent_bytes == len(expected)
    assert store.sha256(PREFIX + "pack.zip") == hashlib.sha256(expected).hexdigest()


def test_a_small_object_is_one_put(store: ArtifactStore) -> None:
    small, data = _put(store, "small.slices", 1000)
    stats = store.compose(PREFIX + "summary.csv", [b"id,smiles\n", Span(small, 10, 500)], "text/csv")
    assert store.get_bytes(PREFIX + "summary.csv") == b"id,smiles\n" + data[10:510]
    assert (stats.parts, stats.copied_parts) == (1, 0)


def test_compose_refuses_a_span_of_another_org(store: ArtifactStore) -> None:
    with pytest.raises(Exception, match="org"):
        store.compose(PREFIX + "x", [Span("tenants/org-b/projects/p/jobs/j/results/000000.slices", 0, 1)], "text/csv")

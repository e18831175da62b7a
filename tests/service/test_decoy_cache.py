"""The service's decoy cache on moto: an org's second job is served from its own cache, another org's job is not,
every entry is under the org's prefix and KMS key, and an entry that is damaged or not under the org's key is
rebuilt, never used. The counts are on the job record (and so in ``remote status``), never in the pack."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import pytest

from functions.api.routes_jobs import job_out
from functions.service import layout
from functions.service.decoy_cache import OrgDecoyStore
from functions.service.jobs import CACHE_COUNTERS
from hetero2_client.cli import describe
from hetero2_client.job import Job
from hetero_core.cache import CorruptEntryError
from tests.service.conftest import job_ref
from tests.service.harness import PipelineHarness, submit
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from functions.service.tenancy import JobRef
    from hetero2_client.client import Client

FAST = {"k_decoys": 4, "decoy_descriptors": "fast", "scorer": "mock", "chunk_rows": 3}
N = 7


def _run(pipeline: PipelineHarness, ref: JobRef) -> dict[str, int]:
    arn = submit(pipeline, ref, input_csv(distinct_molecules(N)), FAST)
    assert pipeline.wait(arn)["status"] == "SUCCEEDED"
    item = pipeline.context.jobs.get(ref).item
    assert int(item["rows_ok"]) == N
    return {name: int(item.get(attribute, 0)) for name, attribute in CACHE_COUNTERS.items()}


def _entries(pipeline: PipelineHarness, org: str) -> list[str]:
    return list(pipeline.context.store(org).list_keys(layout.decoy_cache_prefix(org)))


def test_an_orgs_second_job_hits_its_cache_and_another_orgs_job_does_not(
    pipeline: PipelineHarness, org_a: str, org_b: str
) -> None:
    assert _run(pipeline, job_ref(org_a, "first")) == {"hits": 0, "misses": N, "corrupt": 0, "unwritable": 0}
    assert _run(pipeline, job_ref(org_a, "second", project="another")) == {
        "hits": N,
        "misses": 0,
        "corrupt": 0,
        "unwritable": 0,
    }
    assert _run(pipeline, job_ref(org_b, "same-molecules")) == {"hits": 0, "misses": N, "corrupt": 0, "unwritable": 0}

    bucket = pipeline.context.settings.bucket
    for org in (org_a, org_b):
        entries = _entries(pipeline, org)
        assert len(entries) == N
        data_key = pipeline.context.keys.keys_of(org).data_key_arn
        for key in entries:
            assert key.startswith(f"tenants/{org}/decoy-cache/")
            head = pipeline.context.s3.head_object(Bucket=bucket, Key=key)
            assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", data_key)


def test_the_counts_are_on_the_job_record_and_in_remote_status(pipeline: PipelineHarness, org_a: str) -> None:
    _run(pipeline, job_ref(org_a, "cold"))
    ref = job_ref(org_a, "warm")
    _run(pipeline, ref)
    out = job_out(pipeline.context.jobs.get(ref), pipeline.context)
    assert out.progress.decoy_cache.model_dump() == {"hits": N, "misses": 0, "corrupt": 0, "unwritable": 0}
    job = Job(cast("Client", None), out.model_dump())  # describe() reads the record only
    assert f"decoy cache {N} hits, 0 misses, 0 corrupt entries rebuilt" in describe(job)


def test_a_damaged_entry_or_one_not_under_the_orgs_key_is_rebuilt(
    pipeline: PipelineHarness, org_a: str, org_b: str
) -> None:
    _run(pipeline, job_ref(org_a, "fill"))
    truncated, foreign = sorted(_entries(pipeline, org_a))[:2]
    store = pipeline.context.store(org_a)
    store.put_bytes(truncated, store.get_bytes(truncated)[:-20])
    # the same bytes under this prefix, but encrypted with another org's key (as a leaked presigned URL could)
    pipeline.context.s3.put_object(
        Bucket=pipeline.context.settings.bucket,
        Key=foreign,
        Body=store.get_bytes(foreign),
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=pipeline.context.keys.keys_of(org_b).data_key_arn,
    )
    assert _run(pipeline, job_ref(org_a, "heal")) == {"hits": N - 2, "misses": 0, "corrupt": 2, "unwritable": 0}
    assert _run(pipeline, job_ref(org_a, "healed")) == {"hits": N, "misses": 0, "corrupt": 0, "unwritable": 0}


def test_the_store_refuses_an_entry_not_under_the_orgs_key(pipeline: PipelineHarness, org_a: str) -> None:
    key = "ab" * 32
    pipeline.context.s3.put_object(
        Bucket=pipeline.context.settings.bucket, Key=layout.decoy_cache_entry_key(org_a, key), Body=b"x"
    )
    with pytest.raises(CorruptEntryError, match="not encrypted under the org's data key"):
        OrgDecoyStore(pipeline.context.store(org_a)).read(key)
    assert OrgDecoyStore(pipeline.context.store(org_a)).read("cd" * 32) is None


@pytest.mark.parametrize("bad", ["../other-org", "AB" * 32, "ab" * 31])
def test_a_cache_key_is_64_hex_digits_never_a_path(bad: str) -> None:
    with pytest.raises(ValueError, match="not a decoy cache key"):
        layout.decoy_cache_entry_key("org-a", bad)


@pytest.mark.parametrize("bad", ["../keys", "ABCDEF12", "abc1234", "a" * 65, "abcd1234.pem"])
def test_a_public_key_id_is_8_to_64_hex_digits_never_a_path(bad: str) -> None:
    with pytest.raises(ValueError, match="not a public key id"):
        layout.org_public_key_version_key("org-a", bad)
    assert layout.org_public_key_version_key("org-a", "abcd1234") == "tenants/org-a/keys/abcd1234.pem"

"""The service's decoy cache on moto: an org's second job is served from its own cache, another org's job is not,
every entry is under the org's prefix and KMS key, and an entry that is damaged or not under the org's key is
rebuilt, never used. The counts are on the job record (and so in ``remote status``), never in the pack."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from functions.api.routes_jobs import job_out
from functions.service import layout
from functions.service.artifacts import COMPOSE_THREADS
from functions.service.context import S3_CONNECTIONS
from functions.service.decoy_cache import CACHE_READ_THREADS, OrgDecoyStore
from functions.service.jobs import CACHE_COUNTERS
from hetero2_client.cli import describe
from hetero2_client.job import Job
from hetero_core.cache import CorruptEntryError
from tests.service.conftest import job_ref
from tests.service.harness import PipelineHarness, submit
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from collections.abc import Iterator

    from functions.service.tenancy import JobRef
    from hetero2_client.client import Client

FAST = {"k_decoys": 4, "decoy_descriptors": "fast", "scorer": "mock", "chunk_rows": 3, "decoy_cache": True}
N = 7


def _run(pipeline: PipelineHarness, ref: JobRef, params: dict[str, Any] = FAST) -> dict[str, int]:
    arn = submit(pipeline, ref, input_csv(distinct_molecules(N)), params)
    assert pipeline.wait(arn)["status"] == "SUCCEEDED"
    item = pipeline.context.jobs.get(ref).item
    assert int(item["rows_ok"]) == N
    return {name: int(item.get(attribute, 0)) for name, attribute in CACHE_COUNTERS.items()}


def _members(pipeline: PipelineHarness, ref: JobRef) -> dict[str, bytes]:
    """The pack's row tables, which must not depend on the cache."""
    store = pipeline.context.store(ref.org)
    return {name: store.get_bytes(layout.pack_prefix(ref) + name) for name in ("summary.csv", "decoys.csv")}


@contextmanager
def _cache_gets(pipeline: PipelineHarness, failing: frozenset[str] = frozenset()) -> Iterator[list[tuple[str, str]]]:
    """Every GetObject of a decoy cache entry, as (entry file name, thread name); a read of an entry in ``failing``
    is answered with S3's SlowDown, as botocore raises it once its own retries are spent."""
    seen: list[tuple[str, str]] = []

    def hook(**kwargs: Any) -> Any:  # an answer (response, parsed) stops the call before it is sent
        path = str(kwargs["params"]["url_path"])
        if "/decoy-cache/" not in path:
            return None
        name = path.rsplit("/", 1)[-1]
        seen.append((name, threading.current_thread().name))
        if name not in failing:
            return None
        error = {"Code": "SlowDown", "Message": "Please reduce your request rate."}
        return AWSResponse("https://s3", 503, HTTPHeaders(), None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 503},
        }

    events = pipeline.context.s3.meta.events
    events.register("before-call.s3.GetObject", hook)
    try:
        yield seen
    finally:
        events.unregister("before-call.s3.GetObject", hook)


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


def test_a_job_reads_and_writes_the_cache_only_when_it_asks_for_it(pipeline: PipelineHarness, org_a: str) -> None:
    """Each entry is an S3 object: a GET per molecule and a PUT per new one cost more than the chunk's compute
    (docs/cost.md), so the cache is a job's choice (``decoy_cache``), off by default."""
    by_default = {name: value for name, value in FAST.items() if name != "decoy_cache"}
    nothing = {"hits": 0, "misses": 0, "corrupt": 0, "unwritable": 0}
    assert _run(pipeline, job_ref(org_a, "plain"), by_default) == nothing
    assert _entries(pipeline, org_a) == []
    assert _run(pipeline, job_ref(org_a, "cached"), FAST) == {**nothing, "misses": N}
    with _cache_gets(pipeline) as gets:
        assert _run(pipeline, job_ref(org_a, "plain-again"), by_default) == nothing
    assert gets == []
    assert len(_entries(pipeline, org_a)) == N


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


def test_a_warm_job_gets_each_rows_entry_once_on_read_ahead_threads_and_writes_the_same_pack_rows(
    pipeline: PipelineHarness, org_a: str
) -> None:
    cold = job_ref(org_a, "cold-pack")
    _run(pipeline, cold)
    names = sorted(key.rsplit("/", 1)[-1] for key in _entries(pipeline, org_a))
    warm = job_ref(org_a, "warm-pack")
    with _cache_gets(pipeline) as gets:
        assert _run(pipeline, warm) == {"hits": N, "misses": 0, "corrupt": 0, "unwritable": 0}
    assert sorted(name for name, _thread in gets) == names, "one GET a warm row, no other key tried"
    assert all(thread.startswith("decoy-cache-read") for _name, thread in gets)
    assert _members(pipeline, warm) == _members(pipeline, cold)


def test_an_s3_error_on_some_reads_costs_only_those_rows_cache(pipeline: PipelineHarness, org_a: str) -> None:
    cold = job_ref(org_a, "cold-errors")
    _run(pipeline, cold)
    failing = frozenset(sorted(key.rsplit("/", 1)[-1] for key in _entries(pipeline, org_a))[1:3])
    warm = job_ref(org_a, "warm-errors")
    with _cache_gets(pipeline, failing) as gets:
        assert _run(pipeline, warm) == {"hits": N - 2, "misses": 0, "corrupt": 0, "unwritable": 2}
    assert len(gets) == N
    assert _members(pipeline, warm) == _members(pipeline, cold)
    assert _run(pipeline, job_ref(org_a, "after-errors"))["hits"] == N, "the entries themselves were never touched"


def test_the_s3_client_keeps_a_connection_for_every_request_sent_at_once(pipeline: PipelineHarness) -> None:
    config: Any = pipeline.context.s3.meta.config  # botocore-stubs omit Config's pool size and retries
    assert config.max_pool_connections == S3_CONNECTIONS >= max(COMPOSE_THREADS, CACHE_READ_THREADS)
    assert config.retries["mode"] == "standard"


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

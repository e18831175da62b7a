"""Reproduce jobs through the real state machine on moto: the original's stored input is re-run with its
parameters and acceptance criteria, then every member is compared with the original pack.

The faults are made where a real one would come from: a pack member or manifest edited in storage, an input
replaced after the run, a pack made by other library versions (its manifest says so).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from functions.service import layout
from functions.service.job_acceptance import job_acceptance
from functions.service.jobs import JobState
from functions.service.reproduction import NotReproducibleError, start_reproduction
from functions.service.submission import start_job
from hetero_core.layout import MANIFEST, SUMMARY
from tests.service.conftest import job_ref
from tests.service.harness import PipelineHarness, submit
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from functions.service.jobs import JobRecord
    from functions.service.tenancy import JobRef

FAST = {"k_decoys": 4, "decoy_descriptors": "fast", "scorer": "random", "chunk_rows": 4}
STRICT = '{"schema_version": "acceptance.v1", "criteria": {"min_judged": 3, "min_hard_pairs": 0}}\n'


def _original(pipeline: PipelineHarness, org: str) -> JobRef:
    """A job as the API makes one with an acceptance document: record, input upload, start, run to the end."""
    ref = job_ref(org, "original")
    data = input_csv(distinct_molecules(9))
    ctx = pipeline.context
    ctx.jobs.create(ref, params=FAST, input_name="input.csv", acceptance=job_acceptance(STRICT, "strict.json"))
    ctx.store(org).put_bytes(layout.input_key(ref, "input.csv"), data, "text/csv")
    start_job(ctx, ref)
    assert pipeline.wait(str(ctx.jobs.get(ref).get("execution_arn")))["status"] == "SUCCEEDED"
    return ref


def _reproduce(pipeline: PipelineHarness, original: JobRef, *, allow_version_drift: bool = False) -> JobRecord:
    started = start_reproduction(
        pipeline.context, original, allow_version_drift=allow_version_drift, created_by="tester"
    )
    pipeline.wait(str(pipeline.context.jobs.get(started.ref).get("execution_arn")))
    return pipeline.context.jobs.get(started.ref)


def _edit_original(pipeline: PipelineHarness, ref: JobRef, member: str, edit: Any) -> None:
    store = pipeline.context.store(ref.org)
    key = layout.pack_member_key(ref, member)
    store.put_bytes(key, edit(store.get_bytes(key)))


def test_an_untouched_pack_is_reproduced_with_its_acceptance_criteria(pipeline: PipelineHarness, org_a: str) -> None:
    original = _original(pipeline, org_a)
    reproduced = _reproduce(pipeline, original)
    assert reproduced.state == JobState.SUCCEEDED
    assert reproduced.get("reproduction") == {
        "outcome": "REPRODUCED",
        "members_compared": 6,
        "member": None,
        "where": None,
        "drift": [],
        "of": "original",
    }
    assert reproduced.get("acceptance") == pipeline.context.jobs.get(original).get("acceptance")
    store = pipeline.context.store(org_a)
    manifest = json.loads(store.get_bytes(layout.pack_member_key(reproduced.ref, MANIFEST)))
    assert manifest["service"]["job"] == "original", "the re-created pack is the original's, ids and time included"
    assert manifest["acceptance"]["path"] == "strict.json"
    assert manifest["acceptance"]["criteria"]["min_judged"] == 3


def test_an_edited_member_is_named_with_the_line_that_differs(pipeline: PipelineHarness, org_a: str) -> None:
    original = _original(pipeline, org_a)
    _edit_original(pipeline, original, SUMMARY, lambda data: data.replace(b",OK,", b",SKIP,", 1))
    outcome = _reproduce(pipeline, original).get("reproduction")
    assert outcome["outcome"] == "DIFFERS"
    assert outcome["member"] == SUMMARY
    assert outcome["where"].startswith("line 2: ")
    assert ",SKIP," in outcome["where"]


def test_a_version_drift_is_named_and_refused_unless_allowed(pipeline: PipelineHarness, org_a: str) -> None:
    original = _original(pipeline, org_a)

    def older_rdkit(data: bytes) -> bytes:
        manifest = json.loads(data)
        manifest["runtime"]["rdkit"] = "2000.01.1"
        return json.dumps(manifest).encode()

    _edit_original(pipeline, original, MANIFEST, older_rdkit)
    refused = _reproduce(pipeline, original)
    assert refused.state == JobState.FAILED
    message = refused.get("error")["message"]
    assert "version drift: rdkit 2000.01.1 in the pack, " in message
    assert message.endswith("(re-run anyway with allow_version_drift)")

    allowed = _reproduce(pipeline, original, allow_version_drift=True)
    assert allowed.state == JobState.SUCCEEDED
    outcome = allowed.get("reproduction")
    assert outcome["outcome"] == "DIFFERS"
    assert outcome["member"] == MANIFEST
    assert outcome["where"].startswith('at runtime.rdkit: "2000.01.1" in the pack')
    assert len(outcome["drift"]) == 1
    assert outcome["drift"][0].startswith("rdkit 2000.01.1 in the pack, ")


def test_an_input_replaced_after_the_run_is_refused_naming_its_sha256(pipeline: PipelineHarness, org_a: str) -> None:
    original = job_ref(org_a, "original")
    data = input_csv(distinct_molecules(9))
    assert pipeline.wait(submit(pipeline, original, data, FAST))["status"] == "SUCCEEDED"
    store = pipeline.context.store(org_a)
    store.put_bytes(layout.input_key(original, "input.csv"), data.replace(b"m00001", b"m00009", 1))

    refused = _reproduce(pipeline, original)
    assert refused.state == JobState.FAILED
    assert "is not the molecules file the pack was made from (input.csv, sha256 " in refused.get("error")["message"]


def test_only_a_succeeded_original_can_be_reproduced(pipeline: PipelineHarness, org_a: str) -> None:
    created = job_ref(org_a, "created")
    pipeline.context.jobs.create(created, params=FAST, input_name="input.csv")
    with pytest.raises(NotReproducibleError, match="is CREATED; only a job that succeeded"):
        start_reproduction(pipeline.context, created, allow_version_drift=False, created_by="tester")

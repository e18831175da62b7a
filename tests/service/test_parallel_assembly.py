"""Parallel pack assembly through the real state machine: chunk workers write their slices, finalize joins them in
S3 with UploadPartCopy, and the pack verifies with the org's key and has the CLI's members byte for byte.

S3's 5 MiB minimum part size (moto enforces it on complete) is lowered to 64 KiB here, in moto and in the store
alike, so these jobs' few-hundred-kilobyte chunk objects are copied rather than read, as 1,000,000-molecule jobs'
are at the real limit (``tests/service/test_compose.py`` runs the real limit).
"""

from __future__ import annotations

import json
import re
import zipfile
from typing import TYPE_CHECKING, Any

import moto.s3.models
import pytest

from functions.service import artifacts, layout, tenant_keys
from functions.service.jobs import JobState
from hetero_core.cli import main as hetero2
from hetero_core.layout import CHECKSUMS, MANIFEST, PUBLIC_KEY, REPORT, SIGNATURE, ZIP
from tests.service.conftest import job_ref
from tests.service.harness import PipelineHarness, submit
from tests.service.molecules import distinct_molecules, input_csv

if TYPE_CHECKING:
    from pathlib import Path

PARAMS = {"k_decoys": 4, "decoy_descriptors": "fast", "scorer": "mock"}
CLI_FLAGS = ["--k-decoys", "4", "--decoy-descriptors", "fast", "--scorer", "mock"]
TEST_PART_BYTES = 64 * 1024
# what differs between a service pack and a CLI pack of the same rows: the manifest (its service block), what is
# computed from it, the report's row showing that block, and the signature pair (the CLI run here is unsigned)
SERVICE_DEPENDENT = {MANIFEST, CHECKSUMS, SIGNATURE, PUBLIC_KEY, REPORT}
SERVICE_ROW = re.compile(rb"<tr><th>Service</th><td>[^\n]*</td></tr>\n")


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", TEST_PART_BYTES)
    monkeypatch.setattr(artifacts, "MIN_PART_BYTES", TEST_PART_BYTES)
    # A manifest over 4 KiB (per-slice hashes: past ~10,000 rows) is signed by KMS as a SHA-256 digest, which moto
    # does not implement (it signs the digest as a message); sign RAW here, which moto accepts at any length.
    monkeypatch.setattr(tenant_keys, "KMS_RAW_MESSAGE_LIMIT", 1 << 20)


def _molecules(n: int) -> list[str]:
    """n SMILES, one of them invalid (a SKIP row with no decoy lines); repeats are fine, ids stay distinct."""
    base = distinct_molecules(min(n, 2000))
    smiles = [base[i % len(base)] for i in range(n)]
    smiles[n // 3] = "not-a-smiles"
    return smiles


def _service_and_cli_packs(
    pipeline: PipelineHarness, org: str, tmp_path: Path, n: int, chunk_rows: int, caplog: pytest.LogCaptureFixture
) -> tuple[Path, Path, dict[str, Any]]:
    ref = job_ref(org, f"assembly-{n}")
    data = input_csv(_molecules(n))
    arn = submit(pipeline, ref, data, {**PARAMS, "chunk_rows": chunk_rows})
    assert pipeline.wait(arn, timeout=3600)["status"] == "SUCCEEDED"
    job = pipeline.context.jobs.get(ref)
    assert job.state == JobState.SUCCEEDED
    assert job.get("rows_done") == n

    store = pipeline.context.store(org)
    service_zip = tmp_path / "service.zip"
    service_zip.write_bytes(store.get_bytes(layout.pack_prefix(ref) + ZIP))
    key = tmp_path / "org.pem"
    key.write_bytes(pipeline.context.keys.public_key_pem(org))
    assert hetero2(["verify", str(service_zip), "--public-key", str(key)]) == 0
    with zipfile.ZipFile(service_zip) as archive:
        assert archive.testzip() is None
        for name in archive.namelist():  # the loose objects are the zip's members
            assert store.get_bytes(layout.pack_prefix(ref) + name) == archive.read(name), name

    joined = [r.__dict__ for r in caplog.records if r.getMessage() == "pack joined in S3"]
    assert joined, "finalize logged no join"
    assert joined[0]["copied_parts"] > 0, "finalize copied nothing inside S3"

    source = tmp_path / "input.csv"
    source.write_bytes(data)
    cli = tmp_path / "cli"
    created_at = str(job.get("created_at"))
    flags = [*CLI_FLAGS, "--created-at", created_at, "--workers", "2", "--quiet"]
    assert hetero2(["run", str(source), "--out", str(cli), *flags]) == 0
    return service_zip, cli, {"created_at": created_at, "joined": joined[0]}


def _assert_same_members(service_zip: Path, cli: Path) -> None:
    with zipfile.ZipFile(service_zip) as archive:
        names = set(archive.namelist())
        assert names - {SIGNATURE, PUBLIC_KEY} == {p.name for p in cli.iterdir()} - {ZIP}
        for name in sorted(names - SERVICE_DEPENDENT):
            assert archive.read(name) == (cli / name).read_bytes(), f"{name} differs between service and CLI"
        service_manifest = json.loads(archive.read(MANIFEST))
        report, rows_removed = SERVICE_ROW.subn(b"", archive.read(REPORT))
    assert rows_removed == 1
    assert report == (cli / REPORT).read_bytes(), "report.html differs beyond its service row"
    cli_manifest = json.loads((cli / MANIFEST).read_text(encoding="utf-8"))
    assert service_manifest.pop("service")["org"] == "org-a"
    service_manifest.pop("signature")
    for manifest in (service_manifest, cli_manifest):  # report.html shows the service block: its entry differs
        manifest["files"] = [entry for entry in manifest["files"] if entry["path"] != REPORT]
    assert service_manifest == cli_manifest  # per-slice hashes included: same slices, same bytes


def test_parallel_assembly_matches_the_cli_pack(
    pipeline: PipelineHarness, org_a: str, tmp_path: Path, small_parts: None, caplog: pytest.LogCaptureFixture
) -> None:
    """3 chunks of whole slices (the planner's own sizing rounds to slices): every slice written by a worker."""
    service_zip, cli, _facts = _service_and_cli_packs(pipeline, org_a, tmp_path, 2_500, 1_000, caplog)
    _assert_same_members(service_zip, cli)


@pytest.mark.slow
def test_twenty_thousand_molecules_assembled_in_parallel_match_the_cli_pack(
    pipeline: PipelineHarness, org_a: str, tmp_path: Path, small_parts: None, caplog: pytest.LogCaptureFixture
) -> None:
    """20,000 rows in 8 chunks of 2,500: chunk boundaries cut slices in half, which finalize stitches; the members
    are still the CLI's byte for byte."""
    service_zip, cli, _facts = _service_and_cli_packs(pipeline, org_a, tmp_path, 20_000, 2_500, caplog)
    _assert_same_members(service_zip, cli)

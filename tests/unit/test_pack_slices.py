"""Parallel pack assembly: slices at fixed row boundaries, shares stitched in any chunking, exact metric merges,
CRC-32 combination and the zip built from pieces. The bytes must not depend on how the rows were chunked."""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
import subprocess
import zipfile
import zlib
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, TypedDict

import pytest

from hetero_core.chunks import RowResult, process_rows
from hetero_core.config import RunConfig
from hetero_core.io import InputScan
from hetero_core.layout import DECOYS, MANIFEST, SUMMARY, ZIP
from hetero_core.pack import (
    ResultCollector,
    ScorerFacts,
    ShareFolder,
    assemble_pack,
    chunk_share,
    seal_stitched,
    stitch_shares,
)
from hetero_core.pack._assembly import build_metrics
from hetero_core.pack._crc import crc32_combine, crc32_concat
from hetero_core.pack._slices import FINAL_BLOCK, SLICE_ROWS, MemberTables, slice_of_row
from hetero_core.pack._writer import PackBuilder, json_bytes
from hetero_core.pack._zipstream import Span, ZipEntry, zip_pieces
from hetero_core.records import InputRow
from hetero_core.scores import make_scorer

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from hetero_core.pack import ChunkShare, Piece, StitchedMember

CONFIG = RunConfig(k_decoys=3, decoy_descriptors="fast")
CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)
ROWS = 2 * SLICE_ROWS + 337  # three slices, the last one short
SEEDS = ("CC(=O)Oc1ccccc1C(=O)O", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "not-a-smiles", "c1ccccc1O", "CCN(CC)CCOC(=O)c1ccccc1N")


@cache
def _seed_results() -> tuple[RowResult, ...]:
    rows = [InputRow(i + 1, i + 2, f"s{i}", smiles, {"batch": str(i)}) for i, smiles in enumerate(SEEDS)]
    return tuple(process_rows(rows, CONFIG, make_scorer("mock")))


def _results() -> list[RowResult]:
    """ROWS results made from a few real ones: equal slacks tie across chunks, SKIP rows exceed the problem list."""
    seeds = _seed_results()
    out = []
    for index in range(1, ROWS + 1):
        seed = seeds[(index - 1) % len(seeds)]
        summary = {**seed.summary, "id": f"m{index}"}
        decoys = [{**d, "molecule_id": f"m{index}"} for d in seed.decoys]
        out.append(dataclasses.replace(seed, index=index, id=f"m{index}", summary=summary, decoys=decoys))
    return out


class _RunFacts(TypedDict):
    """What a pack says about its run, given alike to the CLI's assembly and to the service's seal."""

    input_name: str
    scan: InputScan
    config: RunConfig
    scorer: ScorerFacts
    created_at: datetime


def _facts() -> _RunFacts:
    scan = InputScan(
        format="csv", rows=ROWS, columns=("id", "smiles", "batch"), extra_columns=("batch",), sha256="0" * 64
    )
    return _RunFacts(
        input_name="input.csv", scan=scan, config=CONFIG, scorer=ScorerFacts("mock"), created_at=CREATED_AT
    )


def _shares(chunk_rows: int) -> list[tuple[ChunkShare, str | bytes]]:
    results = _results()
    tables = MemberTables(["batch"])
    shares: list[tuple[ChunkShare, str | bytes]] = []
    for start in range(0, ROWS, chunk_rows):
        share, data, _ = chunk_share(
            results[start : start + chunk_rows], first_row=start + 1, total_rows=ROWS, tables=tables, config=CONFIG
        )
        shares.append((share, data))
    return shares


def _joined(pieces: Sequence[Piece]) -> bytes:
    assert all(isinstance(piece, bytes) for piece in pieces), "in-memory shares give bytes pieces only"
    return b"".join(piece for piece in pieces if isinstance(piece, bytes))


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CLI's pack of the rows, made once (``assemble_pack`` streams them through ``PackBuilder``)."""
    out = tmp_path_factory.mktemp("slices") / "cli"
    assemble_pack(iter(_results()), out, **_facts())
    return out


def test_rows_fall_in_fixed_slices() -> None:
    assert [slice_of_row(i) for i in (1, SLICE_ROWS, SLICE_ROWS + 1, 2 * SLICE_ROWS + 1)] == [1, 1, 2, 3]


@pytest.mark.parametrize("length", [0, 1, 7, 4096, 1 << 20])
def test_crc32_combine_equals_zlib_on_the_concatenation(length: int) -> None:
    rng = random.Random(length)
    first, second = rng.randbytes(rng.randrange(0, 5000)), rng.randbytes(length)
    assert crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second)) == zlib.crc32(first + second)
    parts = [rng.randbytes(rng.randrange(0, 300)) for _ in range(30)]
    assert crc32_concat((zlib.crc32(p), len(p)) for p in parts) == zlib.crc32(b"".join(parts))
    with pytest.raises(ValueError, match="length2"):
        crc32_combine(0, 0, -1)


@pytest.mark.parametrize("chunk_rows", [ROWS, SLICE_ROWS, 700, 37])
def test_stitched_members_do_not_depend_on_the_chunking(cli: Path, chunk_rows: int) -> None:
    cli_manifest = json.loads((cli / MANIFEST).read_text(encoding="utf-8"))
    members = stitch_shares(_shares(chunk_rows), total_rows=ROWS, tables=MemberTables(["batch"]))
    for name in (SUMMARY, DECOYS):
        member: StitchedMember = members[name]
        text = _joined(member.text)
        assert text == (cli / name).read_bytes()
        # the segments are one valid deflate stream once closed by the final block
        assert zlib.decompress(_joined(member.deflate) + FINAL_BLOCK, -15) == text
        entry = member.zip_entry(name)
        assert (entry.crc, entry.size) == (zlib.crc32(text), len(text))
        listed = next(e for e in cli_manifest["files"] if e["path"] == name)
        assert [info.to_manifest() for info in member.slices] == listed["slices"]
        assert len(member.slices) == 1 + 3  # the header, then one per started 1,000 rows


@pytest.mark.parametrize("chunk_rows", [SLICE_ROWS, 37])
def test_partial_metrics_merge_to_the_serial_ones_bit_for_bit(chunk_rows: int) -> None:
    serial = ResultCollector.for_config(CONFIG)
    for result in _results():
        serial.add(result)
    merged = ResultCollector.for_config(CONFIG)
    for share, _data in _shares(chunk_rows):
        merged.absorb(json.loads(json.dumps(share.metrics)))  # through JSON, as between worker and finalize
    assert merged.state() == serial.state()
    facts = ScorerFacts("mock")
    assert json_bytes(build_metrics(merged, CONFIG, facts)) == json_bytes(build_metrics(serial, CONFIG, facts))
    assert len(merged.problems) == 25
    assert len(merged.worst_molecules()) == 10


def test_a_dense_similarity_grid_from_an_older_share_merges_like_the_sparse_one() -> None:
    """Shares written before the grid went sparse listed every one of its 10,001 cells."""
    serial = ResultCollector.for_config(CONFIG)
    for result in _results():
        serial.add(result)
    state = json.loads(json.dumps(serial.state()))
    dense = [0] * 10_001
    for cell, count in state["realism"]["fine"].items():
        dense[int(cell)] = count
    older = ResultCollector.for_config(CONFIG)
    older.absorb({**state, "realism": {**state["realism"], "fine": dense}})
    assert older.state() == serial.state()


@pytest.mark.parametrize("chunk_rows", [ROWS, SLICE_ROWS, 700, 37, 16, 1])
def test_a_pack_fed_folded_chunks_is_the_cli_pack_zip_included(cli: Path, tmp_path: Path, chunk_rows: int) -> None:
    """What ``run_audit`` does: chunks folded where they were computed (formatted, metrics partial), appended."""
    results = _results()
    folder = ShareFolder(MemberTables(["batch"], scored=True), ROWS, CONFIG)
    chunks = (folder(results[start : start + chunk_rows]) for start in range(0, ROWS, chunk_rows))
    out = tmp_path / "folded"
    assemble_pack(chunks, out, **_facts())
    for name in sorted(p.name for p in cli.iterdir()):
        assert (out / name).read_bytes() == (cli / name).read_bytes(), name


def test_a_pack_is_fed_rows_or_shares_never_both(tmp_path: Path) -> None:
    results = _results()
    folder = ShareFolder(MemberTables(["batch"], scored=True), ROWS, CONFIG)
    with PackBuilder(tmp_path / "mixed", extra_columns=["batch"], scored=True) as builder:
        builder.add_summary_row(results[0].summary)
        with pytest.raises(ValueError, match="not both"):
            builder.add_share(folder(results[1:3]).share, b"")
    gap = PackBuilder(tmp_path / "gap", extra_columns=["batch"], scored=True)
    with gap, pytest.raises(ValueError, match="not consecutive"):
        gap.add_share(folder(results[1:3]).share, b"")


def test_sealed_pack_from_shares_is_the_cli_pack_zip_included(cli: Path) -> None:
    shares = _shares(700)
    collector = ResultCollector.for_config(CONFIG)
    for share, _data in shares:
        collector.absorb(share.metrics)
    members = stitch_shares(shares, total_rows=ROWS, tables=MemberTables(["batch"]))
    sealed = seal_stitched(members, collector, **_facts())
    for name, data in sealed.small.items():
        assert data == (cli / name).read_bytes(), name
    assert _joined(sealed.zip) == (cli / ZIP).read_bytes()


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip not installed")
def test_the_zip_passes_unzip_t(cli: Path) -> None:
    result = subprocess.run(["unzip", "-t", str(cli / ZIP)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors detected" in result.stdout


def test_zip64_records_when_a_member_passes_the_limit(tmp_path: Path) -> None:
    """A >2 GiB member cannot be made in a unit test; its records can: zipfile must read sizes and offsets back."""
    big = 3 * 1024**3
    entries = [ZipEntry("a.csv", 0, big, (b"\x03\x00",)), ZipEntry("b.json", 0, 0, (b"\x03\x00",))]
    pieces = zip_pieces(entries, (2026, 1, 1, 0, 0, 0))
    path = tmp_path / "z.zip"
    path.write_bytes(b"".join(p for p in pieces if isinstance(p, bytes)))
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    assert [(i.filename, i.file_size, i.compress_size) for i in infos] == [("a.csv", big, 2), ("b.json", 0, 2)]
    assert infos[1].header_offset == infos[0].header_offset + 30 + len("a.csv") + 20 + 2


def test_spans_are_kept_as_spans_for_the_caller_to_join() -> None:
    entry = ZipEntry("x", 0, 10, (Span("key", 5, 7), b"\x03\x00"))
    pieces = zip_pieces([entry], (2026, 1, 1, 0, 0, 0))
    assert Span("key", 5, 7) in pieces
    assert entry.compressed_size == 9

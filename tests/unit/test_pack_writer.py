"""The evidence pack writer: members, CSV safety, JSON style, checksums, signature, deterministic zip, atomic output."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from hetero_core import layout
from hetero_core.errors import PackOutputError, SigningError
from hetero_core.pack import LocalKeySigner, PackInfo, Signer, generate_private_key_pem
from hetero_core.pack import _writer as pack_writer
from hetero_core.pack._signing import verify_signature
from hetero_core.pack._writer import PackBuilder, write_json
from hetero_core.pack._zipstream import Piece
from hetero_core.reasons import SkipReason, Status, Verdict, Warning_

SLICED = (layout.SUMMARY, layout.DECOYS)
CREATED_AT = datetime(2025, 3, 14, 15, 9, 26, tzinfo=UTC)
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"
INJECTION = '=HYPERLINK("http://evil.example","click")'


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


SUMMARY_ROWS: list[dict[str, object]] = [
    {
        "id": "aspirin",
        "status": Status.OK,
        "verdict": Verdict.PASS,
        "auc": 0.9333333333,
        "slack": 0.13,
        "n_decoys": 2,
        "warnings": [],
        "smiles": ASPIRIN,
        "mw": 180.159,
        "input_assay": "COX-1",
    },
    {
        "id": "caffeine",
        "status": Status.OK,
        "verdict": Verdict.FAIL,
        "auc": 0.41,
        "slack": -0.05,
        "n_decoys": 1,
        "warnings": [Warning_.FEWER_DECOYS_THAN_REQUESTED],
        "smiles": CAFFEINE,
        "input_assay": INJECTION,
    },
    {
        "id": "row_3",
        "status": Status.SKIP,
        "reason": SkipReason.INVALID_SMILES,
        "verdict": Verdict.SKIP,
        "auc": math.nan,
        "smiles": "C1CC",
        "input_assay": "-1+2",
    },
]
DECOY_ROWS: list[dict[str, object]] = [
    {"molecule_id": "aspirin", "role": "original", "hash": _sha(ASPIRIN), "smiles": ASPIRIN},
    {
        "molecule_id": "aspirin",
        "role": "decoy",
        "hash": _sha("CC(=O)c1ccccc1OC(=O)O"),
        "smiles": "CC(=O)c1ccccc1OC(=O)O",
    },
    {
        "molecule_id": "aspirin",
        "role": "decoy",
        "hash": _sha("COC(=O)c1ccccc1C(C)=O"),
        "smiles": "COC(=O)c1ccccc1C(C)=O",
    },
    {"molecule_id": "caffeine", "role": "original", "hash": _sha(CAFFEINE), "smiles": CAFFEINE},
    {
        "molecule_id": "caffeine",
        "role": "decoy",
        "hash": _sha("Cn1cnc2c1n(C)c(=O)n(C)c2=O"),
        "smiles": "Cn1cnc2c1n(C)c(=O)n(C)c2=O",
    },
]
METRICS_IN: dict[str, object] = {
    "counts": {"OK": 2, "SKIP": 1, "ERROR": 0},
    "pass_rate": 0.5,
    "median_slack": math.nan,
    "realism": [1.0, math.inf, {"worst": -math.inf}],
}
MANIFEST_IN: dict[str, object] = {
    "schema_version": layout.MANIFEST_SCHEMA,
    "engine": {"name": "hetero2", "version": "0.1.0"},
    "created_at": CREATED_AT.isoformat(),
    "parameters": {"n_decoys": 2, "seed": 7},
}
INDEX_MD = "# HETERO-2 audit\n\nOK 2 · SKIP 1 · ERROR 0\n"
DATA_MEMBERS = (layout.DECOYS, layout.INDEX, layout.METRICS, layout.REPORT, layout.SUMMARY)


@pytest.fixture(scope="module")
def signer() -> LocalKeySigner:
    return LocalKeySigner.from_pem_bytes(generate_private_key_pem())


def _build(
    out_dir: Path,
    *,
    signer: Signer | None = None,
    created_at: datetime = CREATED_AT,
    summary_rows: Sequence[Mapping[str, object]] = SUMMARY_ROWS,
) -> PackInfo:
    with PackBuilder(out_dir, extra_columns=["assay"]) as builder:
        for row in summary_rows:
            builder.add_summary_row(row)
        builder.add_decoy_rows(iter(DECOY_ROWS))
        return builder.finish(
            metrics=METRICS_IN, manifest=MANIFEST_IN, index_md=INDEX_MD, created_at=created_at, signer=signer
        )


def _hidden(parent: Path) -> list[str]:
    """Staging or retired folders the writer may have left behind."""
    return sorted(entry.name for entry in parent.iterdir() if entry.name.startswith("."))


def _members(folder: Path) -> dict[str, bytes]:
    return {entry.name: entry.read_bytes() for entry in sorted(folder.iterdir())}


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


# --- members and their content -------------------------------------------------------------------------------


def test_unsigned_pack_has_required_members_and_zip_only(tmp_path: Path) -> None:
    info = _build(tmp_path / "pack")
    assert sorted(os.listdir(info.path)) == sorted((*layout.REQUIRED_MEMBERS, layout.ZIP))
    assert info.path == tmp_path / "pack"
    assert info.zip_path == tmp_path / "pack" / layout.ZIP
    assert info.signed is False
    assert _hidden(tmp_path) == []


def test_signed_pack_adds_signature_and_public_key(tmp_path: Path, signer: LocalKeySigner) -> None:
    info = _build(tmp_path / "pack", signer=signer)
    assert sorted(os.listdir(info.path)) == sorted(
        (*layout.REQUIRED_MEMBERS, layout.SIGNATURE, layout.PUBLIC_KEY, layout.ZIP)
    )
    assert info.signed is True
    assert _hidden(tmp_path) == []


def test_summary_csv_header_rows_and_input_order(tmp_path: Path) -> None:
    info = _build(tmp_path / "pack")
    rows = _read_csv(info.path / layout.SUMMARY)
    header = rows[0]
    assert header == [*layout.SUMMARY_COLUMNS, layout.EXTRA_COLUMN_PREFIX + "assay"]
    records = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert [record["id"] for record in records] == ["aspirin", "caffeine", "row_3"]
    aspirin, caffeine, skipped = records
    assert aspirin["status"] == "OK"
    assert aspirin["verdict"] == "PASS"
    assert aspirin["auc"] == "0.933333"
    assert aspirin["mw"] == "180.159"
    assert aspirin["n_decoys"] == "2"
    assert aspirin["smiles"] == ASPIRIN  # '=' inside a SMILES is not at the start: untouched
    assert aspirin["warnings"] == ""
    assert aspirin["gate"] == ""  # absent key → empty cell
    assert caffeine["warnings"] == "fewer_decoys_than_requested"
    assert skipped["reason"] == "invalid_smiles"
    assert skipped["auc"] == ""  # NaN never reaches a pack


def test_summary_csv_neutralises_injection_but_not_negative_numbers(tmp_path: Path) -> None:
    info = _build(tmp_path / "pack")
    rows = _read_csv(info.path / layout.SUMMARY)
    header = rows[0]
    caffeine = dict(zip(header, rows[2], strict=True))
    skipped = dict(zip(header, rows[3], strict=True))
    assert caffeine["input_assay"] == "'" + INJECTION
    assert skipped["input_assay"] == "'-1+2"
    assert caffeine["slack"] == "-0.05"
    raw = (info.path / layout.SUMMARY).read_text(encoding="utf-8")
    assert ",-0.05," in raw
    assert "\r" not in raw
    assert raw.endswith("\n")


def test_decoys_csv_unscored_header_and_rows(tmp_path: Path) -> None:
    info = _build(tmp_path / "pack")
    rows = _read_csv(info.path / layout.DECOYS)
    assert rows[0] == list(layout.DECOY_COLUMNS)
    assert rows[1:] == [[str(row[column]) for column in layout.DECOY_COLUMNS] for row in DECOY_ROWS]


def test_decoys_csv_scored_header(tmp_path: Path) -> None:
    with PackBuilder(tmp_path / "pack", scored=True) as builder:
        builder.add_decoy_rows([{**DECOY_ROWS[1], "score": -1.25, "weight": 1.0}, {**DECOY_ROWS[2]}])
        info = builder.finish(metrics={}, manifest={}, index_md="", created_at=CREATED_AT)
    rows = _read_csv(info.path / layout.DECOYS)
    assert rows[0] == list(layout.SCORED_DECOY_COLUMNS)
    assert rows[1][-2:] == ["-1.25", "1.0"]
    assert rows[2][-2:] == ["", ""]


def test_summary_header_without_extra_columns(tmp_path: Path) -> None:
    with PackBuilder(tmp_path / "pack") as builder:
        info = builder.finish(metrics={}, manifest={}, index_md="", created_at=CREATED_AT)
    assert _read_csv(info.path / layout.SUMMARY) == [list(layout.SUMMARY_COLUMNS)]


def test_metrics_json_nan_and_inf_become_null_in_canonical_style(tmp_path: Path) -> None:
    info = _build(tmp_path / "pack")
    text = (info.path / layout.METRICS).read_text(encoding="utf-8")
    expected = {
        "counts": {"OK": 2, "SKIP": 1, "ERROR": 0},
        "pass_rate": 0.5,
        "median_slack": None,
        "realism": [1.0, None, {"worst": None}],
    }
    assert json.loads(text) == expected
    assert text == json.dumps(expected, sort_keys=True, indent=2) + "\n"
    assert "NaN" not in text
    assert "Infinity" not in text


def test_write_json_returns_the_bytes_it_wrote(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    data = write_json(target, {"b": np.float64("nan"), "a": (np.int64(3), 0.25)})
    assert target.read_bytes() == data
    assert data == b'{\n  "a": [\n    3,\n    0.25\n  ],\n  "b": null\n}\n'


def test_write_json_refuses_what_json_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="datetime"):
        write_json(tmp_path / "x.json", {"when": CREATED_AT})


def test_index_md_is_utf8_with_unix_newlines(tmp_path: Path) -> None:
    with PackBuilder(tmp_path / "pack") as builder:
        info = builder.finish(
            metrics={}, manifest={}, index_md="# Audit\r\nPASS-rate · 50 %\rend\n", created_at=CREATED_AT
        )
    assert (info.path / layout.INDEX).read_bytes() == "# Audit\nPASS-rate · 50 %\nend\n".encode()


def test_manifest_keeps_caller_fields_and_lists_data_members(tmp_path: Path) -> None:
    info = _build(tmp_path / "pack")
    manifest = json.loads((info.path / layout.MANIFEST).read_text(encoding="utf-8"))
    for key, value in MANIFEST_IN.items():
        assert manifest[key] == value
    assert "signature" not in manifest
    assert [entry["path"] for entry in manifest["files"]] == sorted(DATA_MEMBERS)
    assert manifest["schema_version"] == layout.MANIFEST_SCHEMA == "hetero_manifest.v2"
    for entry in manifest["files"]:
        member = info.path / entry["path"]
        data = member.read_bytes()
        if entry["path"] in SLICED:
            # hetero_manifest.v2: the header line, then one slice per 1,000 input rows (here one)
            header_end = data.index(b"\n") + 1
            assert entry == {
                "path": entry["path"],
                "size": len(data),
                "slice_rows": 1000,
                "slices": [
                    {"size": header_end, "sha256": hashlib.sha256(data[:header_end]).hexdigest()},
                    {"size": len(data) - header_end, "sha256": hashlib.sha256(data[header_end:]).hexdigest()},
                ],
            }
            continue
        assert entry == {"path": entry["path"], "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    text = (info.path / layout.MANIFEST).read_text(encoding="utf-8")
    assert text == json.dumps(manifest, sort_keys=True, indent=2) + "\n"


def test_signed_manifest_declares_key_and_signature_verifies(tmp_path: Path, signer: LocalKeySigner) -> None:
    info = _build(tmp_path / "pack", signer=signer)
    manifest_bytes = (info.path / layout.MANIFEST).read_bytes()
    manifest = json.loads(manifest_bytes)
    assert manifest["signature"] == {
        "algorithm": "ECDSA_SHA_256",
        "key_id": signer.key_id,
        "public_key": layout.PUBLIC_KEY,
    }
    assert (info.path / layout.PUBLIC_KEY).read_bytes() == signer.public_key_pem()
    signature = (info.path / layout.SIGNATURE).read_bytes()
    assert signature == signer.sign(manifest_bytes)  # raw DER, deterministic
    assert verify_signature(signer.public_key_pem(), manifest_bytes, signature)


@pytest.mark.parametrize("reserved", ["files", "signature"])
def test_manifest_keys_owned_by_the_writer_are_refused(tmp_path: Path, reserved: str) -> None:
    builder = PackBuilder(tmp_path / "pack")
    with pytest.raises(ValueError, match=reserved):
        builder.finish(metrics={}, manifest={reserved: []}, index_md="", created_at=CREATED_AT)
    assert not (tmp_path / "pack").exists()
    assert _hidden(tmp_path) == []


# --- checksums -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signed", [False, True])
def test_checksums_cover_every_member_but_itself_and_the_zip(
    tmp_path: Path, signer: LocalKeySigner, signed: bool
) -> None:
    info = _build(tmp_path / "pack", signer=signer if signed else None)
    lines = (info.path / layout.CHECKSUMS).read_text(encoding="utf-8").splitlines()
    parsed = [re.fullmatch(r"([0-9a-f]{64})  (\S+)", line) for line in lines]
    assert all(match is not None for match in parsed)
    listed = {match.group(2): match.group(1) for match in parsed if match is not None}
    assert list(listed) == sorted(listed)
    # the sliced CSV members are covered by the manifest's per-slice sha256 instead (hetero_manifest.v2)
    assert set(listed) == set(os.listdir(info.path)) - {layout.CHECKSUMS, layout.ZIP, *SLICED}
    for name, digest in listed.items():
        assert hashlib.sha256((info.path / name).read_bytes()).hexdigest() == digest
    assert info.files == {
        **listed,
        layout.CHECKSUMS: hashlib.sha256((info.path / layout.CHECKSUMS).read_bytes()).hexdigest(),
        **{name: hashlib.sha256((info.path / name).read_bytes()).hexdigest() for name in SLICED},
    }


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils sha256sum not installed")
@pytest.mark.parametrize("signed", [False, True])
def test_coreutils_sha256sum_accepts_checksums(tmp_path: Path, signer: LocalKeySigner, signed: bool) -> None:
    info = _build(tmp_path / "pack", signer=signer if signed else None)
    result = subprocess.run(
        ["sha256sum", "--check", "--strict", layout.CHECKSUMS],
        cwd=info.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == len(info.files) - 1 - len(SLICED)


# --- the zip -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signed", [False, True])
def test_zip_entries_are_sorted_pinned_and_match_the_folder(
    tmp_path: Path, signer: LocalKeySigner, signed: bool
) -> None:
    info = _build(tmp_path / "pack", signer=signer if signed else None)
    assert hashlib.sha256(info.zip_path.read_bytes()).hexdigest() == info.zip_sha256
    with zipfile.ZipFile(info.zip_path) as archive:
        assert archive.testzip() is None
        entries = archive.infolist()
        names = [entry.filename for entry in entries]
        assert names == sorted(set(os.listdir(info.path)) - {layout.ZIP})
        for entry in entries:
            assert entry.date_time == (2025, 3, 14, 15, 9, 26)
            assert entry.external_attr >> 16 == 0o100644
            assert entry.create_system == 3
            assert entry.compress_type == zipfile.ZIP_DEFLATED
            assert entry.extra == b""
            assert entry.comment == b""
            assert not entry.is_dir()
            assert archive.read(entry) == (info.path / entry.filename).read_bytes()


_ZipStep = Callable[[Path, Iterable[Piece]], None]


def _touch_then_zip(real_write_pieces: _ZipStep) -> _ZipStep:
    """Wrap the zip step so every staged member gets an arbitrary mtime just before it is zipped."""

    def wrapper(path: Path, pieces: Iterable[Piece]) -> None:
        for offset, name in enumerate(sorted(os.listdir(path.parent))):
            os.utime(path.parent / name, (1_000_000_000 + offset, 1_234_567_890 + 97 * offset))
        real_write_pieces(path, pieces)

    return wrapper


@pytest.mark.parametrize("signed", [False, True])
def test_same_inputs_give_byte_identical_packs(
    tmp_path: Path, signer: LocalKeySigner, signed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _build(tmp_path / "first", signer=signer if signed else None)
    monkeypatch.setattr(pack_writer, "_write_pieces", _touch_then_zip(pack_writer._write_pieces))
    previous = os.umask(0o077)
    try:
        second = _build(tmp_path / "second", signer=signer if signed else None)
    finally:
        os.umask(previous)
    first_members, second_members = _members(first.path), _members(second.path)
    assert list(first_members) == list(second_members)
    for name, data in first_members.items():
        assert second_members[name] == data, f"{name} differs between two identical builds"
    assert first.zip_sha256 == second.zip_sha256
    assert first.files == second.files


def test_a_different_creation_time_changes_only_the_zip(tmp_path: Path) -> None:
    first = _build(tmp_path / "first")
    second = _build(tmp_path / "second", created_at=CREATED_AT + timedelta(days=1))
    first_members, second_members = _members(first.path), _members(second.path)
    assert {name for name in first_members if first_members[name] != second_members[name]} == {layout.ZIP}


@pytest.mark.parametrize(
    ("created_at", "expected"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), (1980, 1, 1, 0, 0, 0)),
        (datetime(2025, 3, 14, 17, 9, 26, tzinfo=timezone(timedelta(hours=2))), (2025, 3, 14, 15, 9, 26)),
        (datetime(2150, 1, 1, tzinfo=UTC), (2107, 12, 31, 23, 59, 58)),
    ],
)
def test_zip_timestamp_is_utc_and_clamped_to_the_zip_range(
    tmp_path: Path, created_at: datetime, expected: tuple[int, ...]
) -> None:
    info = _build(tmp_path / "pack", created_at=created_at)
    with zipfile.ZipFile(info.zip_path) as archive:
        assert {entry.date_time for entry in archive.infolist()} == {expected}


def test_naive_creation_time_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _build(tmp_path / "pack", created_at=datetime(2025, 3, 14, 15, 9, 26))
    assert not (tmp_path / "pack").exists()
    assert _hidden(tmp_path) == []


# --- staging, output folder, errors --------------------------------------------------------------------------


def test_rows_are_streamed_into_a_hidden_staging_folder(tmp_path: Path) -> None:
    out_dir = tmp_path / "pack"
    with PackBuilder(out_dir) as builder:
        builder.add_summary_row({"id": "aspirin", "smiles": ASPIRIN})
        staging = builder.staging_dir
        assert staging.parent == tmp_path
        assert staging.name.startswith(".pack.")
        assert (staging / layout.SUMMARY).exists()
        assert not out_dir.exists()
        builder.finish(metrics={}, manifest={}, index_md="", created_at=CREATED_AT)
    assert not staging.exists()
    assert out_dir.is_dir()


def _fail_mid_build(out_dir: Path) -> None:
    with PackBuilder(out_dir) as builder:
        builder.add_summary_row({"id": "caffeine", "smiles": CAFFEINE})
        assert builder.staging_dir.exists()
        raise KeyError("the audit crashed")


def test_exception_inside_the_block_removes_staging_and_is_reraised(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="the audit crashed"):
        _fail_mid_build(tmp_path / "pack")
    assert os.listdir(tmp_path) == []


def test_exception_leaves_a_previous_pack_untouched(tmp_path: Path) -> None:
    previous = _build(tmp_path / "pack")
    before = _members(previous.path)
    with pytest.raises(KeyError):
        _fail_mid_build(tmp_path / "pack")
    assert _members(previous.path) == before
    assert _hidden(tmp_path) == []


def test_leaving_the_block_without_finish_discards_the_pack(tmp_path: Path) -> None:
    with PackBuilder(tmp_path / "pack") as builder:
        builder.add_summary_row({"id": "aspirin"})
    assert os.listdir(tmp_path) == []
    with pytest.raises(RuntimeError, match="already finished or aborted"):
        builder.add_summary_row({"id": "aspirin"})


def test_builder_cannot_be_used_after_finish(tmp_path: Path) -> None:
    with PackBuilder(tmp_path / "pack") as builder:
        builder.finish(metrics={}, manifest={}, index_md="", created_at=CREATED_AT)
        with pytest.raises(RuntimeError, match="already finished"):
            builder.add_decoy_rows([DECOY_ROWS[0]])
        with pytest.raises(RuntimeError, match="already finished"):
            builder.finish(metrics={}, manifest={}, index_md="", created_at=CREATED_AT)
    assert (tmp_path / "pack" / layout.MANIFEST).is_file()


def test_unknown_summary_column_is_a_programming_error(tmp_path: Path) -> None:
    with PackBuilder(tmp_path / "pack", extra_columns=["assay"]) as builder:
        with pytest.raises(ValueError, match="unknown column"):
            builder.add_summary_row({"id": "aspirin", "assay": "COX-1"})  # needs the input_ prefix
        with pytest.raises(ValueError, match="unknown column"):
            builder.add_decoy_rows([{**DECOY_ROWS[0], "score": 0.5}])  # unscored pack has no score column
        info = builder.finish(metrics={}, manifest={}, index_md="", created_at=CREATED_AT)
    assert _read_csv(info.path / layout.SUMMARY)[1:] == []  # the refused row was not half-written
    assert _read_csv(info.path / layout.DECOYS)[1:] == []


def test_duplicate_extra_columns_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="duplicates"):
        PackBuilder(tmp_path / "pack", extra_columns=["assay", "assay"])
    assert os.listdir(tmp_path) == []


def test_non_pack_non_empty_out_dir_is_refused(tmp_path: Path) -> None:
    out_dir = tmp_path / "results"
    out_dir.mkdir()
    (out_dir / "thesis.docx").write_bytes(b"years of work")
    with pytest.raises(PackOutputError, match="not empty and is not an evidence pack") as excinfo:
        PackBuilder(out_dir)
    assert excinfo.value.path == str(out_dir)
    assert os.listdir(out_dir) == ["thesis.docx"]
    assert _hidden(tmp_path) == []


def test_out_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pack").write_text("not a folder")
    with pytest.raises(PackOutputError, match="not a folder"):
        PackBuilder(tmp_path / "pack")


def test_out_dir_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "pack").symlink_to(tmp_path / "real")
    with pytest.raises(PackOutputError, match="symbolic link"):
        PackBuilder(tmp_path / "pack")


def test_non_pack_appearing_during_the_build_is_not_overwritten(tmp_path: Path) -> None:
    out_dir = tmp_path / "pack"
    with PackBuilder(out_dir) as builder:
        out_dir.mkdir()
        (out_dir / "notes.txt").write_text("someone else's")
        with pytest.raises(PackOutputError):
            builder.finish(metrics={}, manifest={}, index_md="", created_at=CREATED_AT)
    assert os.listdir(out_dir) == ["notes.txt"]
    assert _hidden(tmp_path) == []


def test_empty_out_dir_is_used(tmp_path: Path) -> None:
    (tmp_path / "pack").mkdir()
    info = _build(tmp_path / "pack")
    assert (info.path / layout.MANIFEST).is_file()
    assert _hidden(tmp_path) == []


def test_missing_parent_folders_are_created(tmp_path: Path) -> None:
    info = _build(tmp_path / "runs" / "2025-03-14" / "pack")
    assert (info.path / layout.ZIP).is_file()


def test_previous_pack_is_replaced_whole(tmp_path: Path, signer: LocalKeySigner) -> None:
    _build(tmp_path / "pack", signer=signer)
    (tmp_path / "pack" / "stale_report.html").write_text("old")
    info = _build(tmp_path / "pack")  # unsigned this time: the old signature must not survive
    assert sorted(os.listdir(info.path)) == sorted((*layout.REQUIRED_MEMBERS, layout.ZIP))
    assert _hidden(tmp_path) == []


class _KmsLikeSigner:
    """Any object with key_id / sign / public_key_pem will do: the service's KMS signer has this shape."""

    key_id = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd"

    def __init__(self) -> None:
        self._inner = LocalKeySigner.from_pem_bytes(generate_private_key_pem())

    def sign(self, data: bytes) -> bytes:
        return self._inner.sign(data)

    def public_key_pem(self) -> bytes:
        return self._inner.public_key_pem()


class _BrokenSigner(_KmsLikeSigner):
    """A signer whose signature does not match its public key (e.g. a KMS key id pointing at another key)."""

    key_id = "arn:aws:kms:eu-west-1:111122223333:key/wrong"

    def __init__(self) -> None:
        super().__init__()
        self._other = LocalKeySigner.from_pem_bytes(generate_private_key_pem())

    def sign(self, data: bytes) -> bytes:
        return self._other.sign(data)


def test_signer_that_does_not_match_its_public_key_fails_the_build(tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="does not verify with its own public key"):
        _build(tmp_path / "pack", signer=_BrokenSigner())
    assert os.listdir(tmp_path) == []


def test_any_signer_protocol_implementation_is_accepted(tmp_path: Path) -> None:
    kms = _KmsLikeSigner()
    with PackBuilder(tmp_path / "pack") as builder:
        info = builder.finish(metrics={}, manifest={}, index_md="", created_at=CREATED_AT, signer=kms)
    manifest = json.loads((info.path / layout.MANIFEST).read_bytes())
    assert manifest["signature"]["key_id"] == kms.key_id
    assert verify_signature(
        kms.public_key_pem(), (info.path / layout.MANIFEST).read_bytes(), (info.path / layout.SIGNATURE).read_bytes()
    )


def test_large_member_is_streamed_into_the_zip_intact(tmp_path: Path) -> None:
    rows = [{"id": f"mol-{index:05d}", "smiles": ASPIRIN, "slack": index / 7} for index in range(3000)]
    info = _build(tmp_path / "pack", summary_rows=rows)
    with zipfile.ZipFile(info.zip_path) as archive:
        data = archive.read(layout.SUMMARY)
    assert data == (info.path / layout.SUMMARY).read_bytes()
    assert len(list(csv.reader(io.StringIO(data.decode())))) == 3001

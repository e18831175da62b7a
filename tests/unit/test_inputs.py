"""Input readers (SPEC §2): what a chemist's table turns into, and the clear error for every unusable file."""

from __future__ import annotations

import gzip
import hashlib
import os
import tracemalloc
from pathlib import Path

import pytest

from hetero_core.errors import ConfigError, InputFileError
from hetero_core.io import InputScan
from hetero_core.io import _inputs as inputs
from hetero_core.io._inputs import detect_format, file_sha256, read_rows, scan_input
from hetero_core.records import InputRow

DATA = Path(__file__).resolve().parents[1] / "data" / "inputs"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1c(=O)c2c(ncn2C)n(C)c1=O"
BENZENE = "c1ccccc1"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def file_error(path: Path, **kwargs: str) -> InputFileError:
    """The InputFileError the full read raises (nothing is raised before reading starts)."""
    with pytest.raises(InputFileError) as caught:
        list(read_rows(path, **kwargs))
    return caught.value


# detect_format ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hits.csv", "csv"),
        ("hits.CSV", "csv"),
        ("hits.tsv", "tsv"),
        ("hits.smi", "smi"),
        ("hits.sdf", "sdf"),
        ("hits.sd", "sdf"),
        ("hits.csv.gz", "csv"),
        ("hits.smi.GZ", "smi"),
        ("hits.sdf.gz", "sdf"),
        ("screen.v2.csv", "csv"),
    ],
)
def test_detect_format_from_suffix(name: str, expected: str) -> None:
    assert detect_format(name) == expected


@pytest.mark.parametrize("name", ["hits.xlsx", "hits.gz", "hits", "hits.csv.zip", "hits.txt"])
def test_detect_format_rejects_unknown_suffix_and_lists_accepted_ones(name: str) -> None:
    with pytest.raises(InputFileError) as caught:
        detect_format(name)
    assert caught.value.expected == inputs.ACCEPTED_SUFFIXES
    for suffix in (".csv", ".tsv", ".smi", ".sdf", ".sd", ".gz"):
        assert suffix in str(caught.value)


# CSV / TSV happy paths ----------------------------------------------------------------------------


def test_csv_with_id_column_yields_rows_in_order() -> None:
    rows = list(read_rows(DATA / "molecules.csv"))
    assert rows == [
        InputRow(index=1, line=2, id="aspirin-1", smiles=ASPIRIN, extra={"name": "aspirin"}),
        InputRow(index=2, line=3, id="caffeine-1", smiles=CAFFEINE, extra={"name": "caffeine"}),
        InputRow(index=3, line=4, id="benzene-1", smiles=BENZENE, extra={"name": "benzene"}),
    ]
    assert all(row.error is None for row in rows)


def test_tsv_with_id_column_yields_rows_in_order() -> None:
    rows = list(read_rows(DATA / "molecules.tsv"))
    assert [(row.index, row.line, row.id, row.smiles, row.extra) for row in rows] == [
        (1, 2, "aspirin-1", ASPIRIN, {"name": "aspirin"}),
        (2, 3, "caffeine-1", CAFFEINE, {"name": "caffeine"}),
        (3, 4, "benzene-1", BENZENE, {"name": "benzene"}),
    ]


def test_tsv_keeps_commas_inside_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "m.tsv", f"smiles\tnote\n{ASPIRIN}\tanalgesic, antipyretic\n")
    assert [row.extra for row in read_rows(path)] == [{"note": "analgesic, antipyretic"}]


def test_csv_without_id_column_names_rows_by_index(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", f"smiles\n{ASPIRIN}\n{CAFFEINE}\n")
    assert [(row.id, row.smiles) for row in read_rows(path)] == [("row_1", ASPIRIN), ("row_2", CAFFEINE)]


def test_csv_with_utf8_bom_matches_first_column(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", b"\xef\xbb\xbfid,smiles\nasp,CC(=O)Oc1ccccc1C(=O)O\n")
    assert [(row.id, row.smiles) for row in read_rows(path)] == [("asp", ASPIRIN)]


def test_csv_with_crlf_line_endings(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", f"id,smiles,name\r\nasp,{ASPIRIN},aspirin\r\n\r\nbz,{BENZENE},benzene\r\n")
    rows = list(read_rows(path))
    assert [(row.index, row.line, row.id, row.smiles, row.extra) for row in rows] == [
        (1, 2, "asp", ASPIRIN, {"name": "aspirin"}),
        (2, 4, "bz", BENZENE, {"name": "benzene"}),
    ]


def test_csv_quoted_commas_and_newlines_in_extra_column_keep_line_numbers(tmp_path: Path) -> None:
    text = (
        "id,smiles,comment\n"
        f'asp,{ASPIRIN},"analgesic, antipyretic"\n'
        f'caf,{CAFFEINE},"stimulant\nfound in coffee\r\nand tea"\n'
        f"bz,{BENZENE},solvent\n"
    )
    rows = list(read_rows(write(tmp_path, "m.csv", text)))
    assert [(row.index, row.line, row.id) for row in rows] == [(1, 2, "asp"), (2, 3, "caf"), (3, 6, "bz")]
    assert rows[0].extra == {"comment": "analgesic, antipyretic"}
    assert rows[1].extra == {"comment": "stimulant\nfound in coffee\r\nand tea"}


def test_csv_header_matched_ignoring_case_and_spaces(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", f" Name , SMILES ,\tID \naspirin,{ASPIRIN},asp\n")
    rows = list(read_rows(path))
    assert [(row.id, row.smiles, row.extra) for row in rows] == [("asp", ASPIRIN, {"Name": "aspirin"})]


def test_csv_extra_columns_kept_under_their_header_names(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", f"id,smiles,Vendor,pIC50, Batch \nasp,{ASPIRIN},Sigma,5.2, 7 \n")
    (row,) = read_rows(path)
    assert row.extra == {"Vendor": "Sigma", "pIC50": "5.2", "Batch": " 7 "}


def test_csv_custom_column_names(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", f"Compound_ID,Canonical_SMILES,id\nCHEMBL25,{ASPIRIN},7\n")
    (row,) = read_rows(path, id_column="compound_id", smiles_column="canonical_smiles")
    assert (row.id, row.smiles, row.extra) == ("CHEMBL25", ASPIRIN, {"id": "7"})


def test_csv_trims_id_and_smiles_but_not_extra_cells(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", f"id,smiles,note\n  asp  ,  {ASPIRIN}\t, keep me \n")
    (row,) = read_rows(path)
    assert (row.id, row.smiles, row.extra) == ("asp", ASPIRIN, {"note": " keep me "})


def test_csv_empty_id_becomes_row_index_counting_only_real_rows(tmp_path: Path) -> None:
    text = f"id,smiles\n\nasp,{ASPIRIN}\n   \n  ,{CAFFEINE}\n,{BENZENE}\n"
    rows = list(read_rows(write(tmp_path, "m.csv", text)))
    assert [(row.index, row.line, row.id) for row in rows] == [(1, 3, "asp"), (2, 5, "row_2"), (3, 6, "row_3")]


def test_csv_blank_lines_before_header_are_skipped(tmp_path: Path) -> None:
    rows = list(read_rows(write(tmp_path, "m.csv", f"\n\nid,smiles\nasp,{ASPIRIN}\n")))
    assert [(row.index, row.line, row.id) for row in rows] == [(1, 4, "asp")]


def test_csv_row_of_empty_cells_is_a_row_not_a_blank_line(tmp_path: Path) -> None:
    rows = list(read_rows(write(tmp_path, "m.csv", f"id,smiles\n,\nasp,{ASPIRIN}\n")))
    assert [(row.index, row.id, row.smiles) for row in rows] == [(1, "row_1", ""), (2, "asp", ASPIRIN)]


def test_csv_hostile_ids_are_kept_verbatim(tmp_path: Path) -> None:
    hostile = [
        "../../etc/passwd",
        "/etc/shadow",
        "C:\\Windows\\system32",
        "=cmd|' /C calc'!A0",
        "<script>alert(1)</script>",
        "'; DROP TABLE molecules; --",
        "$(rm -rf ~)",
        "アスピリン 🧪",
    ]
    lines = "".join(f'"{ident.replace(chr(34), chr(34) * 2)}",{BENZENE}\n' for ident in hostile)
    path = write(tmp_path, "m.csv", "id,smiles\n" + lines)
    assert [row.id for row in read_rows(path)] == hostile
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.csv"]


def test_csv_short_row_gets_empty_cells(tmp_path: Path) -> None:
    rows = list(read_rows(write(tmp_path, "m.csv", f"id,smiles,name\nasp,{ASPIRIN}\ncaf\n")))
    assert [(row.id, row.smiles, row.extra) for row in rows] == [
        ("asp", ASPIRIN, {"name": ""}),
        ("caf", "", {"name": ""}),
    ]


def test_csv_field_longer_than_default_csv_limit_is_read(tmp_path: Path) -> None:
    long_smiles = "C" * 500_000
    (row,) = read_rows(write(tmp_path, "m.csv", f"id,smiles\npolyethylene,{long_smiles}\n"))
    assert row.smiles == long_smiles


def test_csv_last_line_without_newline(tmp_path: Path) -> None:
    rows = list(read_rows(write(tmp_path, "m.csv", f"id,smiles\nasp,{ASPIRIN}")))
    assert [(row.id, row.smiles) for row in rows] == [("asp", ASPIRIN)]


def test_read_rows_streams_rows_before_a_later_fault(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", f"id,smiles\nasp,{ASPIRIN}\ncaf,{CAFFEINE},extra\n")
    rows = read_rows(path)
    assert next(rows).id == "asp"
    with pytest.raises(InputFileError) as caught:
        next(rows)
    assert caught.value.line == 3


@pytest.mark.parametrize(
    "count",
    [pytest.param(20_000, id="20k"), pytest.param(200_000, id="200k", marks=pytest.mark.slow)],
)
def test_read_rows_memory_stays_flat(tmp_path: Path, count: int) -> None:
    """Peak traced memory stays far below the file size: rows are streamed, never loaded whole."""
    path = tmp_path / "big.csv"
    note = "Enamine REAL space, make-on-demand, " * 3
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,smiles,vendor,batch\n")
        handle.writelines(f'mol-{n:06d},{ASPIRIN},"{note}",batch-{n % 97}\n' for n in range(count))
    assert path.stat().st_size > 3_000_000
    tracemalloc.start()
    try:
        seen = 0
        last = None
        for row in read_rows(path):
            seen += 1
            last = row
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    assert last is not None
    assert (last.index, last.line, last.id) == (count, count + 1, f"mol-{count - 1:06d}")
    assert peak < 1_000_000


# .smi --------------------------------------------------------------------------------------------


def test_smi_skips_comments_blank_lines_and_header() -> None:
    rows = list(read_rows(DATA / "molecules.smi"))
    assert [(row.index, row.line, row.id, row.smiles, row.extra) for row in rows] == [
        (1, 3, "aspirin", ASPIRIN, {}),
        (2, 5, "caffeine anhydrous", CAFFEINE, {}),
        (3, 6, "row_3", BENZENE, {}),
    ]


def test_smi_without_header_reads_first_line_as_molecule(tmp_path: Path) -> None:
    rows = list(read_rows(write(tmp_path, "m.smi", f"{BENZENE} benzene\r\n  {ASPIRIN}   aspirin  \r\n")))
    assert [(row.line, row.id, row.smiles) for row in rows] == [(1, "benzene", BENZENE), (2, "aspirin", ASPIRIN)]


def test_smi_header_only_recognised_before_first_molecule(tmp_path: Path) -> None:
    rows = list(read_rows(write(tmp_path, "m.smi", f"{BENZENE} benzene\nsmiles name\n")))
    assert [(row.id, row.smiles) for row in rows] == [("benzene", BENZENE), ("name", "smiles")]


# SDF ---------------------------------------------------------------------------------------------


def test_sdf_broken_record_in_the_middle_is_kept_with_error() -> None:
    rows = list(read_rows(DATA / "molecules.sdf"))
    assert [(row.index, row.line, row.id, row.error) for row in rows] == [
        (1, 1, "aspirin", None),
        (2, 39, "pentavalent carbon", "invalid_smiles"),
        (3, 62, "caffeine", None),
    ]
    assert [row.smiles for row in rows] == [ASPIRIN, "", CAFFEINE]
    assert rows[0].extra == {"CHEMBL_ID": "CHEMBL25", "MW": "180.16"}
    assert rows[1].extra == {"CHEMBL_ID": "BROKEN-1", "MW": "86.18"}


def test_sdf_id_from_named_property_case_insensitive() -> None:
    rows = list(read_rows(DATA / "molecules.sdf", sdf_id_property="chembl_id"))
    assert [row.id for row in rows] == ["CHEMBL25", "BROKEN-1", "CHEMBL113"]
    assert [row.extra for row in rows] == [{"MW": "180.16"}, {"MW": "86.18"}, {"MW": "194.19"}]


def test_sdf_missing_property_or_empty_name_becomes_row_index(tmp_path: Path) -> None:
    text = (DATA / "molecules.sdf").read_text(encoding="utf-8").replace("caffeine\n", "\n", 1)
    path = write(tmp_path, "m.sdf", text)
    assert [row.id for row in read_rows(path)] == ["aspirin", "pentavalent carbon", "row_3"]
    assert [row.id for row in read_rows(path, sdf_id_property="CAS")] == ["row_1", "row_2", "row_3"]


def test_sdf_last_record_without_terminator_and_trailing_blank_lines(tmp_path: Path) -> None:
    text = (DATA / "molecules.sdf").read_text(encoding="utf-8")
    first = text[: text.index("$$$$") + 5]
    rows = list(read_rows(write(tmp_path, "a.sdf", first + "\n\n")))
    assert [(row.id, row.smiles) for row in rows] == [("aspirin", ASPIRIN)]
    rows = list(read_rows(write(tmp_path, "b.sd", first.removesuffix("$$$$\n"))))
    assert [(row.id, row.smiles) for row in rows] == [("aspirin", ASPIRIN)]


def test_sdf_truncated_last_record_is_a_row_with_error(tmp_path: Path) -> None:
    text = (DATA / "molecules.sdf").read_text(encoding="utf-8")
    cut = text[: text.index("$$$$") + 5] + "caffeine\n     RDKit          2D\n\n 14 15  0  0\n"
    rows = list(read_rows(write(tmp_path, "m.sdf", cut)))
    assert [(row.index, row.line, row.id, row.smiles, row.error) for row in rows] == [
        (1, 1, "aspirin", ASPIRIN, None),
        (2, 39, "caffeine", "", "invalid_smiles"),
    ]


def test_sdf_with_crlf_line_endings(tmp_path: Path) -> None:
    text = (DATA / "molecules.sdf").read_text(encoding="utf-8").replace("\n", "\r\n")
    rows = list(read_rows(write(tmp_path, "m.sdf", text)))
    assert [(row.line, row.id, row.smiles, row.error) for row in rows] == [
        (1, "aspirin", ASPIRIN, None),
        (39, "pentavalent carbon", "", "invalid_smiles"),
        (62, "caffeine", CAFFEINE, None),
    ]


# gzip --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["molecules.csv", "molecules.tsv", "molecules.smi", "molecules.sdf"])
def test_gzip_reads_the_same_rows(tmp_path: Path, name: str) -> None:
    plain = DATA / name
    packed = write(tmp_path, name + ".gz", gzip.compress(plain.read_bytes()))
    assert list(read_rows(packed)) == list(read_rows(plain))


def test_gzip_suffix_on_plain_text_is_a_file_error(tmp_path: Path) -> None:
    error = file_error(write(tmp_path, "m.csv.gz", f"id,smiles\nasp,{ASPIRIN}\n"))
    assert "gzip" in str(error)


def test_truncated_gzip_is_a_file_error(tmp_path: Path) -> None:
    data = gzip.compress((DATA / "molecules.csv").read_bytes())
    error = file_error(write(tmp_path, "m.csv.gz", data[: len(data) // 2]))
    assert "gzip" in str(error)
    assert error.expected == "a complete gzip file"


# file-level faults -------------------------------------------------------------------------------


def test_missing_file_raises_at_call_time(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as caught:
        read_rows(tmp_path / "nowhere.csv")
    assert "does not exist" in str(caught.value)
    assert caught.value.path == str(tmp_path / "nowhere.csv")


def test_directory_raises_at_call_time(tmp_path: Path) -> None:
    (tmp_path / "plates.csv").mkdir()
    with pytest.raises(InputFileError, match="is a directory"):
        read_rows(tmp_path / "plates.csv")


def test_unknown_suffix_raises_at_call_time(tmp_path: Path) -> None:
    path = write(tmp_path, "m.xlsx", "id,smiles\n")
    with pytest.raises(InputFileError) as caught:
        read_rows(path)
    assert "'.xlsx'" in str(caught.value)
    assert ".csv" in str(caught.value)


@pytest.mark.parametrize("name", ["m.csv", "m.tsv", "m.smi", "m.sdf", "m.csv.gz"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    content = gzip.compress(b"") if name.endswith(".gz") else b""
    error = file_error(write(tmp_path, name, content))
    assert "empty" in error.reason
    assert error.line is None


@pytest.mark.parametrize("name", ["m.csv", "m.tsv", "m.smi", "m.sdf"])
def test_whitespace_only_file(tmp_path: Path, name: str) -> None:
    error = file_error(write(tmp_path, name, " \n\t\n\r\n  "))
    assert "only blank lines" in error.reason


def test_bom_only_file_counts_as_blank(tmp_path: Path) -> None:
    error = file_error(write(tmp_path, "m.csv", b"\xef\xbb\xbf\n"))
    assert "only blank lines" in error.reason


# A CSV that cannot be read as a table: its text, what the reason must say and the line it names.
CSV_FAULTS: dict[str, tuple[str, list[str], int]] = {
    "header-but-no-data-rows": ("\nid,smiles\n\n\n", ["no data rows"], 2),
    "no-smiles-column-lists-found-columns": (
        f"\nid,structure,name\nasp,{ASPIRIN},aspirin\n",
        ["no 'smiles' column", "'id', 'structure', 'name'"],
        2,
    ),
    "no-smiles-column-hints-at-tabs": (f"id\tsmiles\nasp\t{ASPIRIN}\n", ["tab-separated"], 1),
    "duplicate-columns": (f"id,smiles, SMILES \nasp,{ASPIRIN},{ASPIRIN}\n", ["duplicate column", "columns 2 and 3"], 1),
    "more-fields-than-header": (f"id,smiles\nasp,{ASPIRIN}\n\nbad,C,C,C\n", ["4 fields but the header has 2"], 4),
    "unterminated-quote": (f'id,smiles\nasp,{ASPIRIN}\n"caf,{CAFFEINE}\nbz,{BENZENE}\n', ["unterminated quote"], 3),
    "character-after-closing-quote": (f'id,smiles\nasp,{ASPIRIN}\n"caf"x,{CAFFEINE}\n', ["after a closing quote"], 3),
}


@pytest.mark.parametrize(("text", "phrases", "line"), CSV_FAULTS.values(), ids=CSV_FAULTS.keys())
def test_unusable_csv_is_refused_with_reason_and_line(tmp_path: Path, text: str, phrases: list[str], line: int) -> None:
    error = file_error(write(tmp_path, "m.csv", text))
    assert [phrase for phrase in phrases if phrase not in error.reason] == [], error.reason
    assert error.line == line


def test_smi_header_or_comments_but_no_molecules(tmp_path: Path) -> None:
    error = file_error(write(tmp_path, "m.smi", "# nothing yet\nsmiles id\n\n"))
    assert "no molecules after its header" in error.reason
    assert error.line == 2
    error = file_error(write(tmp_path, "c.smi", "# nothing yet\n"))
    assert "only comments" in error.reason


def test_named_id_column_missing_is_an_error(tmp_path: Path) -> None:
    error = file_error(write(tmp_path, "m.csv", f"id,smiles\nasp,{ASPIRIN}\n"), id_column="compound_id")
    assert "'compound_id'" in error.reason
    assert error.line == 1


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    content = f"id,smiles,name\nasp,{ASPIRIN},aspirin\n".encode() + b"caf,Cn1c(=O)c2c(ncn2C)n(C)c1=O,caf\xe9ine\n"
    error = file_error(write(tmp_path, "m.csv", content))
    assert "UTF-8" in str(error)
    assert "0xE9" in error.reason
    assert error.line == 3


def test_utf16_file_is_named_as_such(tmp_path: Path) -> None:
    error = file_error(write(tmp_path, "m.csv", f"id,smiles\nasp,{ASPIRIN}\n".encode("utf-16")))
    assert "UTF-16" in error.reason
    assert "UTF-8" in str(error)
    assert error.line == 1


def test_runaway_quote_stops_at_the_field_limit(tmp_path: Path) -> None:
    wax = f"wax,{'C' * 999}\n" * (inputs.MAX_FIELD_CHARS // 1000 + 1)
    path = write(tmp_path, "m.csv", f'id,smiles\nasp,{ASPIRIN}\n"caf,{CAFFEINE}\n{wax}')
    error = file_error(path)
    assert "unterminated quote" in error.reason
    assert "longer than 10,000,000 characters" in error.reason
    assert error.line == 3


@pytest.mark.parametrize("name", ["m.csv", "m.smi", "m.sdf"])
def test_nul_byte_names_the_line(tmp_path: Path, name: str) -> None:
    error = file_error(write(tmp_path, name, f"id,smiles\nasp,{ASPIRIN}\nbz,c1cc\x00ccc1\n"))
    assert "NUL" in error.reason
    assert error.line == 3


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("m.csv", f"smiles,id\n{ASPIRIN},asp\r{BENZENE},bz\r"),
        ("m.smi", f"smiles id\n{ASPIRIN} asp\r{BENZENE} bz\r"),
    ],
)
def test_bare_carriage_return_line_breaks(tmp_path: Path, name: str, text: str) -> None:
    error = file_error(write(tmp_path, name, text))
    assert "carriage return" in error.reason
    assert error.line == 2


def test_line_longer_than_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "MAX_LINE_BYTES", 100)
    error = file_error(write(tmp_path, "m.smi", f"{BENZENE} bz\n{'C' * 500} wax\n"))
    assert "longer than 100 bytes" in error.reason
    assert error.line == 2


def test_sdf_record_longer_than_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "MAX_SDF_RECORD_CHARS", 3_000)
    text = (DATA / "molecules.sdf").read_text(encoding="utf-8").replace("$$$$\n", "")
    error = file_error(write(tmp_path, "m.sdf", text))
    assert "SDF record" in error.reason
    assert error.line == 1


def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", f"id,smiles\nasp,{ASPIRIN}\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running with privileges that ignore file permissions")
        error = file_error(path)
        assert "cannot be opened" in error.reason
    finally:
        path.chmod(0o600)


@pytest.mark.parametrize(
    ("id_column", "smiles_column"),
    [("smiles", "smiles"), (" ID ", "id"), ("id", "  ")],
)
def test_inconsistent_column_arguments(tmp_path: Path, id_column: str, smiles_column: str) -> None:
    path = write(tmp_path, "m.csv", f"id,smiles\nasp,{ASPIRIN}\n")
    with pytest.raises(ConfigError):
        read_rows(path, id_column=id_column, smiles_column=smiles_column)


# scan_input / file_sha256 -------------------------------------------------------------------------


def test_scan_input_csv() -> None:
    path = DATA / "molecules.csv"
    assert scan_input(path) == InputScan(
        format="csv",
        rows=3,
        columns=("id", "smiles", "name"),
        extra_columns=("name",),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def test_scan_input_smi_and_sdf() -> None:
    smi = scan_input(DATA / "molecules.smi")
    assert (smi.format, smi.rows, smi.columns, smi.extra_columns) == ("smi", 3, ("smiles", "id"), ())
    sdf = scan_input(DATA / "molecules.sdf", sdf_id_property="CHEMBL_ID")
    assert (sdf.format, sdf.rows, sdf.columns, sdf.extra_columns) == ("sdf", 3, ("id", "smiles", "MW"), ("MW",))


def test_scan_input_of_gzip_hashes_the_compressed_bytes(tmp_path: Path) -> None:
    packed = write(tmp_path, "m.csv.gz", gzip.compress((DATA / "molecules.csv").read_bytes()))
    scan = scan_input(packed)
    assert (scan.format, scan.rows) == ("csv", 3)
    assert scan.sha256 == hashlib.sha256(packed.read_bytes()).hexdigest()


def test_scan_input_finds_a_fault_at_the_end(tmp_path: Path) -> None:
    path = write(tmp_path, "m.csv", f"id,smiles\nasp,{ASPIRIN}\n".encode() + b"bz,c1ccccc1,\xff\n")
    with pytest.raises(InputFileError) as caught:
        scan_input(path)
    assert caught.value.line == 3


def test_file_sha256_over_several_blocks(tmp_path: Path) -> None:
    content = bytes(range(256)) * 10_000
    path = write(tmp_path, "m.csv", content)
    assert file_sha256(path) == hashlib.sha256(content).hexdigest()


def test_file_sha256_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="does not exist"):
        file_sha256(tmp_path / "gone.csv")

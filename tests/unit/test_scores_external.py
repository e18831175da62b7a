"""Customer score files: hetero_scores.v2 (CSV / Parquet) and hetero_scores.v1 (JSON), SPEC §4."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import pickle
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hetero_core.errors import InputFileError, ScoresFileError
from hetero_core.hashing import smiles_hash
from hetero_core.io._inputs import MAX_FIELD_CHARS
from hetero_core.records import ScoredItem
from hetero_core.scores import Candidate, ExternalScores, Scorer, ScoreRequest, load_external_scores

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

# Canonical SMILES (RDKit), as the engine exports them.
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
ASPIRIN_ANHYDRIDE = "CC(=O)OC(=O)c1ccccc1O"  # aspirin's atoms, bonds rewired
ASPIRIN_ESTER = "COC(=O)c1ccccc1OC=O"  # another C9H8O4 rewiring
CAFFEINE = "Cn1c(=O)c2c(ncn2C)n(C)c1=O"
CAFFEINE_DECOY = "Cn1cnc2c1c(=O)n(C)c(=O)n2C"
BENZENE = "c1ccccc1"

HEADER = ["molecule_id", "role", "hash", "smiles", "score"]


def row(molecule_id: str, role: str, smiles: str, score: object = "", *extra: object) -> list[object]:
    return [molecule_id, role, smiles_hash(smiles), smiles, score, *extra]


def table_rows() -> list[list[object]]:
    """Aspirin with two decoys, caffeine with one: the decoys table the engine would export, scored."""
    return [
        row("aspirin", "original", ASPIRIN, 0.9),
        row("aspirin", "decoy", ASPIRIN_ANHYDRIDE, 0.2),
        row("aspirin", "decoy", ASPIRIN_ESTER, 0.4),
        row("caffeine", "original", CAFFEINE, 0.7),
        row("caffeine", "decoy", CAFFEINE_DECOY, 0.8),
    ]


def write_csv(path: Path, header: Sequence[object], rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_text(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def csv_text(header: Sequence[object], rows: Sequence[Sequence[object]]) -> str:
    return "\n".join(",".join(str(cell) for cell in line) for line in [header, *rows]) + "\n"


def write_parquet(path: Path, columns: dict[str, list[Any]], schema: pa.Schema | None = None) -> Path:
    pq.write_table(pa.table(columns, schema=schema), path)
    return path


def parquet_columns(rows: Sequence[Sequence[object]]) -> dict[str, list[Any]]:
    return {name: [line[index] for line in rows] for index, name in enumerate(HEADER)}


def candidate(smiles: str) -> Candidate:
    return Candidate(hash=smiles_hash(smiles), smiles=smiles)


def aspirin_request(molecule_id: str = "aspirin") -> ScoreRequest:
    return ScoreRequest(
        molecule_id=molecule_id,
        original=candidate(ASPIRIN),
        decoys=[candidate(ASPIRIN_ESTER), candidate(BENZENE), candidate(ASPIRIN_ANHYDRIDE)],
        seed=0,
    )


def loaded(path: Path, schema_version: str, counts: tuple[int, int, int]) -> ExternalScores:
    """``path`` loaded, once what a pack records of it is checked: its schema, the sha256 of its bytes as stored, and
    its rows, original entries and decoy entries."""
    scores = load_external_scores(path)
    assert scores.schema_version == schema_version
    assert scores.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (scores.n_rows, scores.n_original_entries, scores.n_decoy_entries) == counts
    return scores


def load_error(path: Path) -> ScoresFileError:
    with pytest.raises(ScoresFileError) as error:
        load_external_scores(path)
    assert isinstance(error.value, InputFileError)
    assert str(path) in str(error.value)
    return error.value


# --- v2 CSV: happy paths ----------------------------------------------------------------------


def test_v2_csv_round_trip(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "scores.csv", HEADER, table_rows())
    scores = loaded(path, "hetero_scores.v2", (5, 2, 3))
    assert scores.source_path == str(path)
    result = scores.score(aspirin_request())
    assert result.original == ScoredItem(0.9, 1.0)
    # request order, not file order; benzene was never exported for aspirin
    assert result.decoys == [ScoredItem(0.4), None, ScoredItem(0.2)]


def test_v2_external_scores_is_a_scorer(tmp_path: Path) -> None:
    scores = load_external_scores(write_csv(tmp_path / "scores.csv", HEADER, table_rows()))
    assert scores.name == "external"
    assert isinstance(scores, Scorer)


def test_v2_csv_gz_round_trip_hashes_the_compressed_bytes(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv.gz"
    path.write_bytes(gzip.compress(csv_text(HEADER, table_rows()).encode("utf-8")))
    scores = load_external_scores(path)
    assert scores.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert scores.score(aspirin_request()).original == ScoredItem(0.9)


def test_v2_csv_weights_are_read_and_default_to_one(tmp_path: Path) -> None:
    rows = [[*line, weight] for line, weight in zip(table_rows(), ["2", "", "0.5", " ", "3"], strict=True)]
    scores = load_external_scores(write_csv(tmp_path / "scores.csv", [*HEADER, "weight"], rows))
    result = scores.score(aspirin_request())
    assert result.original == ScoredItem(0.9, 2.0)
    assert result.decoys == [ScoredItem(0.4, 0.5), None, ScoredItem(0.2, 1.0)]


def test_v2_csv_headers_are_trimmed_case_insensitive_reordered_and_extras_ignored(tmp_path: Path) -> None:
    header = [" Score ", "SMILES", "model_version", "Hash", "ROLE", "Molecule_ID"]
    rows = [[line[4], line[3], "m-2024", line[2], line[1], line[0]] for line in table_rows()]
    scores = load_external_scores(write_csv(tmp_path / "scores.csv", header, rows))
    assert scores.score(aspirin_request()).decoys == [ScoredItem(0.4), None, ScoredItem(0.2)]


def test_v2_csv_with_utf8_bom_reads_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text(HEADER, table_rows()).encode("utf-8"))
    assert load_external_scores(path).n_rows == 5


def test_v2_csv_partial_coverage_leaves_none_in_those_positions(tmp_path: Path) -> None:
    rows = table_rows()
    rows[1][4] = ""  # aspirin anhydride exported but not scored
    scores = load_external_scores(write_csv(tmp_path / "scores.csv", HEADER, rows))
    assert (scores.n_rows, scores.n_decoy_entries) == (5, 2)
    assert scores.score(aspirin_request()).decoys == [ScoredItem(0.4), None, None]


def test_v2_csv_missing_original_gives_no_original_score(tmp_path: Path) -> None:
    rows = [line for line in table_rows() if line[:2] != ["aspirin", "original"]]
    scores = load_external_scores(write_csv(tmp_path / "scores.csv", HEADER, rows))
    result = scores.score(aspirin_request())
    assert result.original is None
    assert result.decoys[0] == ScoredItem(0.4)


def test_v2_csv_original_with_empty_score_counts_as_missing(tmp_path: Path) -> None:
    rows = table_rows()
    rows[0][4] = ""
    scores = load_external_scores(write_csv(tmp_path / "scores.csv", HEADER, rows))
    assert scores.n_original_entries == 1
    assert scores.score(aspirin_request()).original is None


def test_v2_decoys_are_looked_up_per_molecule_id(tmp_path: Path) -> None:
    scores = load_external_scores(write_csv(tmp_path / "scores.csv", HEADER, table_rows()))
    result = scores.score(aspirin_request(molecule_id="aspirin_again"))
    assert result.original is None
    assert result.decoys == [None, None, None]


def test_v2_molecule_ids_are_data_kept_exactly(tmp_path: Path) -> None:
    rows = [row(" =cmd|' /C calc'!A0", "original", ASPIRIN, 0.9)]
    scores = load_external_scores(write_csv(tmp_path / "scores.csv", HEADER, rows))
    assert scores.score(aspirin_request(" =cmd|' /C calc'!A0")).original == ScoredItem(0.9)
    assert scores.score(aspirin_request("=cmd|' /C calc'!A0")).original is None


def test_v2_csv_accepts_uppercase_hash_and_role_and_crlf_lines(tmp_path: Path) -> None:
    rows = [["aspirin", "Original", smiles_hash(ASPIRIN).upper(), ASPIRIN, "0.9"]]
    path = tmp_path / "scores.csv"
    path.write_bytes(csv_text(HEADER, rows).replace("\n", "\r\n").encode("utf-8"))
    assert load_external_scores(path).score(aspirin_request()).original == ScoredItem(0.9)


def test_v2_csv_blank_lines_are_skipped_and_line_numbers_stay_physical(tmp_path: Path) -> None:
    rows = table_rows()
    rows[3][4] = "high"
    text = csv_text(HEADER, rows[:2]) + "\n" + csv_text(HEADER, rows[2:]).split("\n", 1)[1]
    error = load_error(write_text(tmp_path / "scores.csv", text))
    assert error.line == 6


def test_v2_csv_quoted_multiline_cell_keeps_following_line_numbers(tmp_path: Path) -> None:
    rows = table_rows()
    rows[0][0] = "aspirin\nbatch 7"
    rows[2][4] = "n/a"
    error = load_error(write_csv(tmp_path / "scores.csv", HEADER, rows))
    assert error.line == 5


# --- v2 CSV: bad input ------------------------------------------------------------------------


def test_v2_tampered_hash_is_refused_with_its_line(tmp_path: Path) -> None:
    rows = table_rows()
    rows[2][2] = smiles_hash(BENZENE)
    error = load_error(write_csv(tmp_path / "scores.csv", HEADER, rows))
    assert error.line == 4
    assert "hash does not match" in str(error)
    assert "re-canonicalised" in str(error)


def test_v2_recanonicalised_smiles_is_refused_with_its_line(tmp_path: Path) -> None:
    rows = table_rows()
    rows[0][3] = "OC(=O)c1ccccc1OC(C)=O"  # aspirin written by other tooling; hash is of RDKit's form
    error = load_error(write_csv(tmp_path / "scores.csv", HEADER, rows))
    assert error.line == 2
    assert "hash does not match" in str(error)


@pytest.mark.parametrize("missing", ["molecule_id", "role", "hash", "smiles", "score"])
def test_v2_missing_required_column_names_file_found_and_expected(tmp_path: Path, missing: str) -> None:
    keep = [index for index, name in enumerate(HEADER) if name != missing]
    header = [HEADER[index] for index in keep]
    rows = [[line[index] for index in keep] for line in table_rows()]
    error = load_error(write_csv(tmp_path / "scores.csv", header, rows))
    message = str(error)
    assert f"missing column(s) {missing}" in message
    for found in header:
        assert repr(found) in message
    assert "molecule_id, role, hash, smiles, score" in message


def test_v2_column_repeated_in_header_is_refused(tmp_path: Path) -> None:
    rows = [[*line, 0.1] for line in table_rows()]
    error = load_error(write_csv(tmp_path / "scores.csv", [*HEADER, "SCORE"], rows))
    assert "'score' appears twice" in str(error)


@pytest.mark.parametrize("role", ["reference", "decoys", "1"])
def test_v2_unknown_role_names_the_line(tmp_path: Path, role: str) -> None:
    rows = table_rows()
    rows[1][1] = role
    error = load_error(write_csv(tmp_path / "scores.csv", HEADER, rows))
    assert error.line == 3
    assert repr(role) in str(error)


@pytest.mark.parametrize("cell", ["high", "0,5", "nan", "NaN", "inf", "-inf", "1e999"])
def test_v2_bad_score_names_the_line(tmp_path: Path, cell: str) -> None:
    rows = table_rows()
    rows[3][4] = cell
    error = load_error(write_csv(tmp_path / "scores.csv", HEADER, rows))
    assert error.line == 5
    assert "score" in str(error)


@pytest.mark.parametrize("cell", ["-1", "0", "0.0", "heavy", "nan", "inf"])
def test_v2_bad_weight_names_the_line(tmp_path: Path, cell: str) -> None:
    rows = [[*line, "1"] for line in table_rows()]
    rows[4][5] = cell
    error = load_error(write_csv(tmp_path / "scores.csv", [*HEADER, "weight"], rows))
    assert error.line == 6
    assert "weight" in str(error)


@pytest.mark.parametrize(
    ("added", "line", "first"),
    [
        pytest.param([row("aspirin", "decoy", ASPIRIN_ANHYDRIDE, 0.3)], 7, 3, id="decoy-row-again"),
        pytest.param(
            [row("caffeine", "decoy", BENZENE), row("caffeine", "decoy", BENZENE)], 8, 7, id="duplicate-without-scores"
        ),
        pytest.param([row("aspirin", "original", ASPIRIN_ESTER, 0.5)], 7, 2, id="second-original-for-a-molecule"),
    ],
)
def test_v2_repeated_row_names_both_lines(tmp_path: Path, added: list[list[object]], line: int, first: int) -> None:
    error = load_error(write_csv(tmp_path / "scores.csv", HEADER, [*table_rows(), *added]))
    assert error.line == line
    assert f"first on line {first}" in str(error)


def test_v2_same_decoy_under_two_molecules_is_allowed(tmp_path: Path) -> None:
    rows = [*table_rows(), row("aspirin_batch_2", "decoy", ASPIRIN_ANHYDRIDE, 0.6)]
    scores = load_external_scores(write_csv(tmp_path / "scores.csv", HEADER, rows))
    assert scores.score(aspirin_request("aspirin_batch_2")).decoys[2] == ScoredItem(0.6)
    assert scores.score(aspirin_request()).decoys[2] == ScoredItem(0.2)


@pytest.mark.parametrize("column", [0, 1, 2, 3])
def test_v2_empty_identity_cell_names_the_line(tmp_path: Path, column: int) -> None:
    rows = table_rows()
    rows[2][column] = ""
    error = load_error(write_csv(tmp_path / "scores.csv", HEADER, rows))
    assert error.line == 4
    assert f"empty {HEADER[column]}" in str(error)


def test_v2_row_with_wrong_field_count_names_the_line(tmp_path: Path) -> None:
    rows = table_rows()
    rows[1] = [*rows[1], "extra"]
    error = load_error(write_csv(tmp_path / "scores.csv", HEADER, rows))
    assert error.line == 3
    assert "6 fields" in str(error)


def test_v2_csv_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    text = csv_text(HEADER, table_rows()).encode("utf-8")
    lines = text.split(b"\n")
    lines[4] = lines[4].replace(b"caffeine", "caféine".encode("latin-1"))
    path.write_bytes(b"\n".join(lines))
    error = load_error(path)
    assert error.line == 5
    assert "UTF-8" in str(error)


def test_v2_csv_empty_file_is_refused(tmp_path: Path) -> None:
    error = load_error(write_text(tmp_path / "scores.csv", ""))
    assert "empty file" in str(error)


def test_v2_csv_header_only_is_refused(tmp_path: Path) -> None:
    error = load_error(write_csv(tmp_path / "scores.csv", HEADER, []))
    assert "no data rows" in str(error)


def test_v2_csv_header_and_blank_lines_only_is_refused(tmp_path: Path) -> None:
    error = load_error(write_text(tmp_path / "scores.csv", ",".join(HEADER) + "\n\n\n"))
    assert "no data rows" in str(error)


def test_v2_corrupt_gzip_is_refused(tmp_path: Path) -> None:
    error = load_error(write_text(tmp_path / "scores.csv.gz", csv_text(HEADER, table_rows())))
    assert "cannot read" in str(error)


def test_v2_csv_cell_beyond_the_csv_field_limit_is_a_malformed_csv_error(tmp_path: Path) -> None:
    rows = table_rows()
    rows[3][0] = "c" * (MAX_FIELD_CHARS + 1)
    error = load_error(write_csv(tmp_path / "scores.csv", HEADER, rows))
    assert error.line == 5
    assert "malformed CSV" in str(error)


# --- file type and access ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["scores.tsv", "scores.xlsx", "scores", "scores.json.gz"])
def test_unsupported_file_type_is_refused(tmp_path: Path, name: str) -> None:
    error = load_error(write_text(tmp_path / name, csv_text(HEADER, table_rows())))
    assert ".parquet" in str(error)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    error = load_error(tmp_path / "nowhere.csv")
    assert "cannot read" in str(error)


def test_suffix_is_matched_case_insensitively(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "SCORES.CSV", HEADER, table_rows())
    assert load_external_scores(str(path)).n_rows == 5


# --- v2 Parquet -------------------------------------------------------------------------------


def test_v2_parquet_round_trip_with_weights(tmp_path: Path) -> None:
    columns = parquet_columns(table_rows())
    columns["weight"] = [2.0, None, 0.5, 1.0, 1.0]
    scores = loaded(write_parquet(tmp_path / "scores.parquet", columns), "hetero_scores.v2", (5, 2, 3))
    result = scores.score(aspirin_request())
    assert result.original == ScoredItem(0.9, 2.0)
    assert result.decoys == [ScoredItem(0.4, 0.5), None, ScoredItem(0.2, 1.0)]


def test_v2_parquet_null_scores_are_partial_coverage(tmp_path: Path) -> None:
    columns = parquet_columns(table_rows())
    columns["score"] = [None, 0.2, None, 0.7, 0.8]
    scores = load_external_scores(write_parquet(tmp_path / "scores.parquet", columns))
    result = scores.score(aspirin_request())
    assert result.original is None
    assert result.decoys == [None, None, ScoredItem(0.2)]


def test_v2_parquet_integer_scores_and_dictionary_strings_are_read(tmp_path: Path) -> None:
    columns = parquet_columns(table_rows())
    columns["score"] = [1, 0, 0, 1, 0]
    table = pa.table(columns)
    table = table.set_column(1, "role", table.column("role").dictionary_encode())
    path = tmp_path / "scores.parquet"
    pq.write_table(table, path)
    assert load_external_scores(path).score(aspirin_request()).original == ScoredItem(1.0)


def test_v2_parquet_reads_across_record_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hetero_core.scores._external._PARQUET_BATCH_ROWS", 2)
    rows = [*table_rows(), row("caffeine", "decoy", CAFFEINE_DECOY, 0.8)]
    error = load_error(write_parquet(tmp_path / "scores.parquet", parquet_columns(rows)))
    assert "row 6" in str(error)
    assert "first on row 5" in str(error)


def _replaced(values: list[Any], index: int, value: object) -> list[Any]:
    return [value if at == index else old for at, old in enumerate(values)]


# A defect in one Parquet column: the column's values changed by a function of the old ones (None drops the column;
# a column the table lacks comes as []), and what the error must say. Parquet has rows, not lines.
PARQUET_DEFECTS = [
    pytest.param(
        "score", lambda old: [str(v) for v in old], ["'score' has type string", "numeric"], id="score-as-text"
    ),
    pytest.param("molecule_id", lambda old: [1, 1, 1, 2, 2], ["'molecule_id' has type int64"], id="numeric-id"),
    pytest.param(
        "hash", lambda old: _replaced(old, 4, smiles_hash(BENZENE)), ["row 5: hash does not match"], id="tampered-hash"
    ),
    pytest.param("score", lambda old: _replaced(old, 1, float("nan")), ["row 2: score is"], id="nan-score"),
    pytest.param("score", lambda old: _replaced(old, 1, float("inf")), ["row 2: score is"], id="inf-score"),
    pytest.param("weight", lambda old: [1.0, 1.0, 0.0, 1.0, 1.0], ["row 3: weight is 0.0"], id="zero-weight"),
    pytest.param("smiles", lambda old: _replaced(old, 3, None), ["row 4: empty smiles"], id="null-identity-cell"),
    pytest.param("hash", lambda old: None, ["missing column(s) hash", "'smiles'"], id="missing-column"),
]


@pytest.mark.parametrize(("column", "change", "phrases"), PARQUET_DEFECTS)
def test_v2_parquet_defect_is_refused_naming_the_row_or_column(
    tmp_path: Path, column: str, change: Callable[[list[Any]], list[Any] | None], phrases: list[str]
) -> None:
    columns = parquet_columns(table_rows())
    changed = change(columns.get(column, []))
    if changed is None:
        del columns[column]
    else:
        columns[column] = changed
    error = load_error(write_parquet(tmp_path / "scores.parquet", columns))
    assert error.line is None
    assert [phrase for phrase in phrases if phrase not in str(error)] == []


def test_v2_parquet_without_rows_is_refused(tmp_path: Path) -> None:
    schema = pa.schema([(name, pa.float64() if name == "score" else pa.string()) for name in HEADER])
    error = load_error(write_parquet(tmp_path / "scores.parquet", {name: [] for name in HEADER}, schema))
    assert "no data rows" in str(error)


def test_v2_parquet_that_is_not_parquet_is_refused(tmp_path: Path) -> None:
    error = load_error(write_text(tmp_path / "scores.parquet", csv_text(HEADER, table_rows())))
    assert "not a readable Parquet file" in str(error)


# --- v1 JSON ----------------------------------------------------------------------------------


def v1_document(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schema_version": "hetero_scores.v1",
        "original": {"score": 0.9},
        "decoys": {
            smiles_hash(ASPIRIN_ANHYDRIDE): {"score": 0.2, "weight": 2},
            smiles_hash(ASPIRIN_ESTER): {"score": 0.4},
        },
    }
    document.update(overrides)
    return document


def write_json(path: Path, document: object) -> Path:
    return write_text(path, json.dumps(document, indent=2))


def test_v1_happy_path(tmp_path: Path) -> None:
    scores = loaded(write_json(tmp_path / "scores.json", v1_document()), "hetero_scores.v1", (3, 1, 2))
    result = scores.score(aspirin_request())
    assert result.original == ScoredItem(0.9, 1.0)
    assert result.decoys == [ScoredItem(0.4), None, ScoredItem(0.2, 2.0)]


def test_v1_one_original_score_and_hash_lookup_apply_to_every_molecule(tmp_path: Path) -> None:
    scores = load_external_scores(write_json(tmp_path / "scores.json", v1_document()))
    assert scores.score(aspirin_request("row_17")) == scores.score(aspirin_request("aspirin"))


def test_v1_unknown_keys_are_ignored(tmp_path: Path) -> None:
    document = v1_document(model={"name": "qsar-7", "trained": "2024"}, created="today")
    document["original"]["calibrated"] = True
    document["decoys"][smiles_hash(ASPIRIN_ESTER)]["rank"] = 3
    scores = load_external_scores(write_json(tmp_path / "scores.json", document))
    assert scores.score(aspirin_request()).decoys[0] == ScoredItem(0.4)


def test_v1_with_bom_and_uppercase_hash_keys(tmp_path: Path) -> None:
    document = v1_document(decoys={smiles_hash(ASPIRIN_ESTER).upper(): {"score": 0.4}})
    path = tmp_path / "scores.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(document).encode("utf-8"))
    assert load_external_scores(path).score(aspirin_request()).decoys[0] == ScoredItem(0.4)


def test_v1_null_weight_means_default_weight(tmp_path: Path) -> None:
    scores = load_external_scores(
        write_json(tmp_path / "scores.json", v1_document(original={"score": 1, "weight": None}))
    )
    assert scores.score(aspirin_request()).original == ScoredItem(1.0, 1.0)


def test_v1_empty_decoys_object_scores_no_decoys(tmp_path: Path) -> None:
    scores = load_external_scores(write_json(tmp_path / "scores.json", v1_document(decoys={})))
    assert scores.n_decoy_entries == 0
    assert scores.score(aspirin_request()).decoys == [None, None, None]


def test_v1_missing_schema_version_is_an_error(tmp_path: Path) -> None:
    document = v1_document()
    del document["schema_version"]
    error = load_error(write_json(tmp_path / "scores.json", document))
    assert "no schema_version" in str(error)


@pytest.mark.parametrize("version", ["hetero_scores.v2", "hetero_scores.v0", "", 1, None])
def test_v1_wrong_schema_version_is_an_error(tmp_path: Path, version: object) -> None:
    error = load_error(write_json(tmp_path / "scores.json", v1_document(schema_version=version)))
    assert f"schema_version is {json.dumps(version)}" in str(error)


def test_v1_invalid_json_names_the_line(tmp_path: Path) -> None:
    text = json.dumps(v1_document(), indent=2).replace('"original"', "original")
    error = load_error(write_text(tmp_path / "scores.json", text))
    assert error.line == 3
    assert "invalid JSON" in str(error)


@pytest.mark.parametrize("score", ["0.9", None, True, [0.9], float("nan"), float("inf")])
def test_v1_original_score_not_a_finite_number_names_the_key(tmp_path: Path, score: object) -> None:
    error = load_error(write_json(tmp_path / "scores.json", v1_document(original={"score": score})))
    assert "original.score is" in str(error)


def test_v1_original_without_score_names_the_key(tmp_path: Path) -> None:
    error = load_error(write_json(tmp_path / "scores.json", v1_document(original={"weight": 1})))
    assert "original.score is null" in str(error)


@pytest.mark.parametrize("score", ["low", None, float("-inf")])
def test_v1_decoy_score_not_a_finite_number_names_the_key(tmp_path: Path, score: object) -> None:
    key = smiles_hash(ASPIRIN_ESTER)
    error = load_error(write_json(tmp_path / "scores.json", v1_document(decoys={key: {"score": score}})))
    assert f'decoys["{key}"].score is' in str(error)


@pytest.mark.parametrize("weight", [0, -1, "1", float("nan")])
def test_v1_bad_weight_names_the_key(tmp_path: Path, weight: object) -> None:
    error = load_error(write_json(tmp_path / "scores.json", v1_document(original={"score": 1, "weight": weight})))
    assert "original.weight is" in str(error)


def test_v1_decoy_key_that_is_not_a_hash_names_the_key(tmp_path: Path) -> None:
    error = load_error(write_json(tmp_path / "scores.json", v1_document(decoys={ASPIRIN_ESTER: {"score": 0.4}})))
    assert f'decoys["{ASPIRIN_ESTER}"]: key is not a hash' in str(error)


def test_v1_same_hash_in_two_letter_cases_is_an_error(tmp_path: Path) -> None:
    key = smiles_hash(ASPIRIN_ESTER)
    document = v1_document(decoys={key: {"score": 0.4}, key.upper(): {"score": 0.5}})
    error = load_error(write_json(tmp_path / "scores.json", document))
    assert "appears twice" in str(error)


def test_v1_repeated_json_key_is_an_error_not_last_wins(tmp_path: Path) -> None:
    key = smiles_hash(ASPIRIN_ESTER)
    text = (
        '{"schema_version": "hetero_scores.v1", "original": {"score": 1}, '
        f'"decoys": {{"{key}": {{"score": 0.4}}, "{key}": {{"score": 0.1}}}}}}'
    )
    error = load_error(write_text(tmp_path / "scores.json", text))
    assert f"key '{key}' appears twice" in str(error)


@pytest.mark.parametrize("entry", [0.4, [0.4], "0.4"])
def test_v1_decoy_entry_not_an_object_names_the_key(tmp_path: Path, entry: object) -> None:
    key = smiles_hash(ASPIRIN_ESTER)
    error = load_error(write_json(tmp_path / "scores.json", v1_document(decoys={key: entry})))
    assert f'decoys["{key}"] is not an object' in str(error)


def test_v1_missing_original_is_an_error(tmp_path: Path) -> None:
    document = v1_document()
    del document["original"]
    error = load_error(write_json(tmp_path / "scores.json", document))
    assert 'no "original"' in str(error)


@pytest.mark.parametrize("decoys", [None, [], "none"])
def test_v1_decoys_missing_or_not_an_object_is_an_error(tmp_path: Path, decoys: object) -> None:
    document = v1_document(decoys=decoys)
    if decoys is None:
        del document["decoys"]
    error = load_error(write_json(tmp_path / "scores.json", document))
    assert '"decoys" is missing or not an object' in str(error)


def test_v1_top_level_must_be_an_object(tmp_path: Path) -> None:
    error = load_error(write_json(tmp_path / "scores.json", [v1_document()]))
    assert "top level is not a JSON object" in str(error)


def test_v1_empty_file_is_an_error(tmp_path: Path) -> None:
    error = load_error(write_text(tmp_path / "scores.json", "  \n"))
    assert "empty file" in str(error)


def test_v1_not_utf8_names_the_line(tmp_path: Path) -> None:
    text = json.dumps(v1_document(model="café"), indent=2, ensure_ascii=False)
    path = tmp_path / "scores.json"
    path.write_bytes(text.encode("latin-1"))
    error = load_error(path)
    assert error.line == next(number for number, line in enumerate(text.split("\n"), 1) if "café" in line)
    assert "UTF-8" in str(error)


# --- pickling (sent to worker processes) ------------------------------------------------------


def test_v2_external_scores_pickle_round_trip(tmp_path: Path) -> None:
    scores = load_external_scores(write_csv(tmp_path / "scores.csv", HEADER, table_rows()))
    clone = pickle.loads(pickle.dumps(scores))
    assert isinstance(clone, ExternalScores)
    assert clone.score(aspirin_request()) == scores.score(aspirin_request())
    summary = (clone.schema_version, clone.source_path, clone.sha256, clone.n_rows, clone.n_decoy_entries)
    assert summary == (scores.schema_version, scores.source_path, scores.sha256, scores.n_rows, scores.n_decoy_entries)


def test_v1_external_scores_pickle_round_trip(tmp_path: Path) -> None:
    scores = load_external_scores(write_json(tmp_path / "scores.json", v1_document()))
    clone = pickle.loads(pickle.dumps(scores))
    assert clone.score(aspirin_request("anything")) == scores.score(aspirin_request("anything"))
    assert (clone.schema_version, clone.n_original_entries) == ("hetero_scores.v1", 1)

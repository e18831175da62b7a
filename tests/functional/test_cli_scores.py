"""Scores: built-in and reference scorers, calibration, and the customer's round trip through a scored decoys table."""

from __future__ import annotations

import csv
import hashlib
import json
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rdkit import Chem
from rdkit.Chem import QED

from hetero_core.cli import main

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.functional.conftest import Cli, CliResult, ReadTable, WriteTable

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
IBUPROFEN = "CC(C)Cc1ccc(cc1)C(C)C(=O)O"
DECOY_COLUMNS = ["molecule_id", "role", "hash", "smiles"]

Row = dict[str, str]
QUANTITATIVE_DRUG_LIKENESS: Callable[[Chem.Mol], float] = QED.qed


def _canonical(smiles: str) -> str:
    return str(Chem.MolToSmiles(Chem.MolFromSmiles(smiles)))


def _summary(pack: Path, read_table: ReadTable) -> list[Row]:
    return read_table(pack / "summary.csv")


def _refused(result: CliResult, pack: Path, *phrases: str) -> None:
    """A usage error (exit 2) whose message holds each of ``phrases``, and no pack at ``pack``."""
    assert result.code == 2
    assert [phrase for phrase in phrases if phrase not in result.err] == [], result.err
    assert not pack.exists()


def _every_drug_passes(cli: Cli, source: Path, scores: Path, pack: Path, read_table: ReadTable) -> None:
    """``hetero2 run --scores`` with scores that rank each original above its decoys: the five drugs PASS, each with
    all five decoys scored."""
    assert cli.run(source, pack, "--scores", scores).code == 0
    rows = _summary(pack, read_table)
    assert [(row["status"], row["verdict"], row["n_decoys_scored"]) for row in rows] == [("OK", "PASS", "5")] * 5


def _metrics(pack: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((pack / "metrics.json").read_text(encoding="utf-8"))
    return loaded


# --- built-in and reference scorers ------------------------------------------------------------


def test_mock_scorer_passes_every_ok_row(cli: Cli, drugs_csv: Path, tmp_path: Path, read_table: ReadTable) -> None:
    assert cli.run(drugs_csv, tmp_path / "pack", "--scorer", "mock").code == 0

    rows = _summary(tmp_path / "pack", read_table)
    assert [(row["status"], row["verdict"]) for row in rows] == [("OK", "PASS")] * 5
    assert {row["score_original"] for row in rows} == {"1.0"}


def test_constant_scorer_never_passes(cli: Cli, drugs_csv: Path, tmp_path: Path, read_table: ReadTable) -> None:
    assert cli.run(drugs_csv, tmp_path / "pack", "--scorer", "constant").code == 0

    rows = _summary(tmp_path / "pack", read_table)
    assert [(row["status"], row["verdict"], row["auc"]) for row in rows] == [("OK", "FAIL", "0.5")] * 5
    assert _metrics(tmp_path / "pack")["pass_rate"] == 0.0


def test_random_scorer_does_not_pass_everything(
    cli: Cli, drugs_csv: Path, tmp_path: Path, read_table: ReadTable
) -> None:
    assert cli.run(drugs_csv, tmp_path / "pack", "--scorer", "random").code == 0

    rows = _summary(tmp_path / "pack", read_table)
    assert {row["status"] for row in rows} == {"OK"}
    assert "FAIL" in {row["verdict"] for row in rows}
    pass_rate = _metrics(tmp_path / "pack")["pass_rate"]
    assert isinstance(pass_rate, float)
    assert pass_rate < 1.0


def test_good_scorer_passes_every_row(cli: Cli, drugs_csv: Path, tmp_path: Path, read_table: ReadTable) -> None:
    assert cli.run(drugs_csv, tmp_path / "pack", "--scorer", "good").code == 0

    rows = _summary(tmp_path / "pack", read_table)
    assert [(row["status"], row["verdict"], row["auc"]) for row in rows] == [("OK", "PASS", "1.0")] * 5
    assert _metrics(tmp_path / "pack")["pass_rate"] == 1.0


def test_qed_is_the_default_scorer(cli: Cli, tmp_path: Path, write_table: WriteTable, read_table: ReadTable) -> None:
    source = write_table(tmp_path / "aspirin.csv", [("id", "smiles"), ("aspirin", ASPIRIN)])
    assert cli.run(source, tmp_path / "pack").code == 0

    (row,) = _summary(tmp_path / "pack", read_table)
    assert (row["status"], row["verdict"] in ("PASS", "FAIL")) == ("OK", True)
    assert float(row["score_original"]) == QUANTITATIVE_DRUG_LIKENESS(Chem.MolFromSmiles(ASPIRIN))  # full precision
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["scorer"] == "qed"


def test_calibrate_separates_good_from_constant(
    cli: Cli, drugs_csv: Path, tmp_path: Path, read_table: ReadTable
) -> None:
    out = tmp_path / "calibration"
    assert cli("keygen", "--out", tmp_path / "key.pem").code == 0
    options = ("--workers", "1", "--quiet", "--created-at", cli.created_at, "--sign-key", tmp_path / "key.pem")
    result = cli("calibrate", drugs_csv, "--out", out, *options)
    assert result.code == 0
    assert "good_minus_composition: Δ median slack 0.500, Δ PASS-rate 1.000 (meets the seed's thresholds)" in result.out

    # Precondition of the seed's facts: every molecule got the full 20 decoys.
    assert {row["n_decoys"] for row in read_table(out / "good" / "summary.csv")} == {"20"}
    calibration = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    good_minus_constant = calibration["separation"]["good_minus_constant"]
    assert good_minus_constant["delta_pass_rate"] == 1.0
    assert good_minus_constant["delta_median_slack"] == 0.5
    for name in ("good", "constant", "random", "composition"):
        assert cli("verify", out / name, "--public-key", tmp_path / "key.pub.pem").code == 0
        assert calibration["separation"].get(f"good_minus_{name}", {"meets_threshold": True})["meets_threshold"]
    assert calibration["runs"]["composition"]["pass_rate"] == 0.0  # it ties every decoy
    assert calibration["thresholds"] == {"delta_median_slack": 0.05, "delta_pass_rate": 0.2}
    power = calibration["power"]
    assert power["molecules"] == 5
    assert power["expected_chance_pass_rate"] == pytest.approx(1 / 21)
    assert power["pass_count_needed"] == 2  # P(>= 2 of 5 by chance at 1/21) < 0.05
    assert power["points"][0] == {"flip": 0.0, "expected_pass_rate": 1.0, "power": 1.0}
    # the reviewer's page: titled as a calibration, with the separation section and the power curve
    page = (out / "calibration_report.html").read_text(encoding="utf-8")
    assert "<title>HETERO-2 calibration report — drugs.csv</title>" in page
    section = page.split('<section id="calibration">', 1)[1].split("</section>", 1)[0]
    assert all(name in section for name in ("good", "constant", "random", "composition"))
    assert "separated" in section
    assert "Power on this input" in section
    assert "(the seed's thresholds)" in section
    # the known-good pack is the calibration pack: signed, verified above, with the calibration inside
    assert (out / "good" / "report.html").read_bytes() == (out / "calibration_report.html").read_bytes()
    inside = json.loads((out / "good" / "metrics.json").read_text(encoding="utf-8"))["calibration"]
    assert inside["separation"] == calibration["separation"]
    assert inside["power"] == calibration["power"]
    assert inside["runs"]["good"]["zip_sha256"] is None  # the pack cannot hold its own zip's hash
    assert (
        calibration["runs"]["good"]["zip_sha256"]
        == hashlib.sha256((out / "good" / "evidence_pack.zip").read_bytes()).hexdigest()
    )
    refused = cli("reproduce", out / "good", "--input", drugs_csv, "--workers", "1")
    assert refused.code == 2
    assert "is a calibration pack" in refused.err


# --- the scored decoys table round trip --------------------------------------------------------


@pytest.fixture(scope="module")
def decoys_table(module_drugs_csv: Path) -> Path:
    """``hetero2 decoys`` on the five drugs, made once: what a customer receives to score."""
    out = module_drugs_csv.parent / "decoys.csv"
    code = main(["decoys", str(module_drugs_csv), "--out", str(out), "--k-decoys", "5", "--workers", "1", "--quiet"])
    assert code == 0
    return out


def _good_score(row: Row) -> str:
    return "1" if row["role"] == "original" else "0"


def _scored(
    source: Path,
    target: Path,
    *,
    keep: Callable[[int, Row], bool] = lambda _index, _row: True,
    score: Callable[[Row], str] = _good_score,
) -> Path:
    """The customer's step: add a ``score`` column (original 1, decoys 0), dropping the rows ``keep`` rejects."""
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, [*DECOY_COLUMNS, "score"], extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for index, row in enumerate(rows):
            if keep(index, row):
                writer.writerow({**row, "score": score(row)})
    return target


def _decoy_rows(table: Path, molecule_id: str) -> list[tuple[int, Row]]:
    with table.open(encoding="utf-8", newline="") as handle:
        return [(i, row) for i, row in enumerate(csv.DictReader(handle)) if row["molecule_id"] == molecule_id]


def test_decoys_table_is_what_the_customer_scores(decoys_table: Path, read_table: ReadTable) -> None:
    rows = read_table(decoys_table)
    with decoys_table.open(encoding="utf-8") as handle:
        assert handle.readline() == "molecule_id,role,hash,smiles\n"
    assert [row["molecule_id"] for row in rows if row["role"] == "original"] == [
        "aspirin",
        "ibuprofen",
        "paracetamol",
        "naproxen",
        "diclofenac",
    ]
    assert len(rows) == 5 * (1 + 5)
    assert all(row["hash"] == hashlib.sha256(row["smiles"].encode("utf-8")).hexdigest() for row in rows)
    aspirin_original = next(row for row in rows if row["molecule_id"] == "aspirin")
    assert aspirin_original["smiles"] == _canonical(ASPIRIN)


def test_scored_decoys_table_round_trip_passes_every_row(
    cli: Cli, module_drugs_csv: Path, decoys_table: Path, tmp_path: Path, read_table: ReadTable
) -> None:
    scored = _scored(decoys_table, tmp_path / "scored.csv")
    _every_drug_passes(cli, module_drugs_csv, scored, tmp_path / "pack", read_table)
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["scorer"] == "external"
    scores_input = manifest["inputs"][1]
    assert (scores_input["role"], scores_input["name"]) == ("scores", "scored.csv")
    assert scores_input["sha256"] == hashlib.sha256(scored.read_bytes()).hexdigest()


def test_missing_scores_for_some_decoys_keeps_the_row_with_a_warning(
    cli: Cli, module_drugs_csv: Path, decoys_table: Path, tmp_path: Path, read_table: ReadTable
) -> None:
    dropped = {index for index, row in _decoy_rows(decoys_table, "ibuprofen") if row["role"] == "decoy"}
    dropped = set(sorted(dropped)[:2])
    scored = _scored(decoys_table, tmp_path / "scored.csv", keep=lambda index, _row: index not in dropped)
    assert cli.run(module_drugs_csv, tmp_path / "pack", "--scores", scored).code == 0

    ibuprofen = next(row for row in _summary(tmp_path / "pack", read_table) if row["id"] == "ibuprofen")
    assert (ibuprofen["status"], ibuprofen["reason"]) == ("OK", "")
    assert "missing_scores_for_some_decoys" in ibuprofen["warnings"].split(";")
    assert (ibuprofen["n_decoys"], ibuprofen["n_decoys_scored"]) == ("5", "3")


def test_empty_score_cells_count_as_missing_scores(
    cli: Cli, module_drugs_csv: Path, decoys_table: Path, tmp_path: Path, read_table: ReadTable
) -> None:
    first_decoy = next(index for index, row in _decoy_rows(decoys_table, "naproxen") if row["role"] == "decoy")
    scored = _scored(decoys_table, tmp_path / "scored.csv")
    lines = scored.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[first_decoy + 1] = lines[first_decoy + 1].rsplit(",", 1)[0] + ",\n"
    scored.write_text("".join(lines), encoding="utf-8")
    assert cli.run(module_drugs_csv, tmp_path / "pack", "--scores", scored).code == 0

    naproxen = next(row for row in _summary(tmp_path / "pack", read_table) if row["id"] == "naproxen")
    assert (naproxen["status"], naproxen["n_decoys_scored"]) == ("OK", "4")
    assert "missing_scores_for_some_decoys" in naproxen["warnings"].split(";")


@pytest.mark.parametrize(
    ("molecule", "role", "reason"),
    [
        pytest.param("paracetamol", "decoy", "missing_scores_for_all_decoys", id="no-decoy-scores"),
        pytest.param("diclofenac", "original", "missing_scores", id="no-original-score"),
    ],
)
def test_a_molecule_without_scores_for_a_role_is_skipped(
    cli: Cli,
    module_drugs_csv: Path,
    decoys_table: Path,
    tmp_path: Path,
    read_table: ReadTable,
    molecule: str,
    role: str,
    reason: str,
) -> None:
    scored = _scored(
        decoys_table,
        tmp_path / "scored.csv",
        keep=lambda _index, row: not (row["molecule_id"] == molecule and row["role"] == role),
    )
    # one of five molecules unscored is 80% coverage: lowered here, the gate has its own tests
    assert cli.run(module_drugs_csv, tmp_path / "pack", "--scores", scored, "--min-score-coverage", "0.5").code == 0

    rows = {row["id"]: row for row in _summary(tmp_path / "pack", read_table)}
    assert list(rows) == ["aspirin", "ibuprofen", "paracetamol", "naproxen", "diclofenac"]
    assert (rows[molecule]["status"], rows[molecule]["reason"], rows[molecule]["verdict"]) == ("SKIP", reason, "SKIP")
    assert [row["verdict"] for name, row in rows.items() if name != molecule] == ["PASS"] * 4


def test_tampered_smiles_is_refused_naming_file_and_line(
    cli: Cli, module_drugs_csv: Path, decoys_table: Path, tmp_path: Path
) -> None:
    index, _row = _decoy_rows(decoys_table, "naproxen")[3]
    scored = _scored(decoys_table, tmp_path / "scored.csv")
    lines = scored.read_text(encoding="utf-8").splitlines(keepends=True)
    molecule_id, role, digest, smiles, score = lines[index + 1].rstrip("\n").split(",")
    lines[index + 1] = ",".join([molecule_id, role, digest, smiles + "C", score]) + "\n"  # one more carbon, same hash
    scored.write_text("".join(lines), encoding="utf-8")

    result = cli.run(module_drugs_csv, tmp_path / "pack", "--scores", scored)
    _refused(result, tmp_path / "pack", str(scored), f"line {index + 2}")  # header is line 1
    assert "Traceback" not in result.err


def test_scored_parquet_table_works(
    cli: Cli, module_drugs_csv: Path, decoys_table: Path, tmp_path: Path, read_table: ReadTable
) -> None:
    rows = read_table(decoys_table)
    table = pa.table(
        {
            **{column: pa.array([row[column] for row in rows], pa.string()) for column in DECOY_COLUMNS},
            "score": pa.array([float(_good_score(row)) for row in rows], pa.float64()),
        }
    )
    pq.write_table(table, tmp_path / "scored.parquet")
    _every_drug_passes(cli, module_drugs_csv, tmp_path / "scored.parquet", tmp_path / "pack", read_table)


def test_v1_json_with_one_original_score_and_decoy_hashes_works(
    cli: Cli, module_drugs_csv: Path, decoys_table: Path, tmp_path: Path, read_table: ReadTable
) -> None:
    decoys = {row["hash"]: {"score": 0.0} for row in read_table(decoys_table) if row["role"] == "decoy"}
    document = {"schema_version": "hetero_scores.v1", "original": {"score": 1.0}, "decoys": decoys, "model": "x"}
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps(document), encoding="utf-8")
    _every_drug_passes(cli, module_drugs_csv, scores, tmp_path / "pack", read_table)


def test_v1_json_with_a_wrong_schema_version_is_refused(
    cli: Cli, module_drugs_csv: Path, decoys_table: Path, tmp_path: Path, read_table: ReadTable
) -> None:
    decoys = {row["hash"]: {"score": 0.0} for row in read_table(decoys_table) if row["role"] == "decoy"}
    scores = tmp_path / "scores.json"
    scores.write_text(
        json.dumps({"schema_version": "hetero_scores.v2", "original": {"score": 1.0}, "decoys": decoys}),
        encoding="utf-8",
    )

    result = cli.run(module_drugs_csv, tmp_path / "pack", "--scores", scores)
    _refused(result, tmp_path / "pack", str(scores), "schema_version")


@pytest.mark.parametrize(
    ("raw", "exported"),
    [pytest.param("=cmd", "'=cmd", id="formula-like-id"), pytest.param("'=x", "''=x", id="id-starting-with-a-quote")],
)
def test_an_id_the_packs_decoys_csv_quotes_for_spreadsheets_is_scored_and_fed_back(
    cli: Cli, tmp_path: Path, write_table: WriteTable, read_table: ReadTable, raw: str, exported: str
) -> None:
    source = write_table(tmp_path / "ids.csv", [("id", "smiles"), (raw, ASPIRIN), ("ibuprofen", IBUPROFEN)])
    assert cli.run(source, tmp_path / "first", "--scorer", "mock").code == 0
    pack_decoys = tmp_path / "first" / "decoys.csv"
    assert {row["molecule_id"] for row in read_table(pack_decoys)} == {exported, "ibuprofen"}

    scored = _scored(pack_decoys, tmp_path / "scored.csv")
    assert cli.run(source, tmp_path / "second", "--scores", scored).code == 0

    rows = _summary(tmp_path / "second", read_table)
    assert [(row["id"], row["status"], row["verdict"], row["n_decoys_scored"]) for row in rows] == [
        (exported, "OK", "PASS", "5"),
        ("ibuprofen", "OK", "PASS", "5"),
    ]


def test_id_starting_with_a_quote_round_trips_through_the_decoys_table(
    cli: Cli, tmp_path: Path, write_table: WriteTable, read_table: ReadTable
) -> None:
    # Ids are data: "'=x" is a legitimate id, whatever quoting the exported table uses to keep spreadsheets safe.
    source = write_table(tmp_path / "quoted.csv", [("id", "smiles"), ("'=x", ASPIRIN), ("ibuprofen", IBUPROFEN)])
    table = tmp_path / "decoys.csv"
    assert cli("decoys", source, "--out", table, "--k-decoys", "5", "--workers", "1", "--quiet").code == 0

    scored = _scored(table, tmp_path / "scored.csv")
    assert cli.run(source, tmp_path / "pack", "--scores", scored).code == 0

    rows = _summary(tmp_path / "pack", read_table)
    assert [(row["status"], row["reason"], row["verdict"], row["n_decoys_scored"]) for row in rows] == [
        ("OK", "", "PASS", "5"),
        ("OK", "", "PASS", "5"),
    ]


# --- score coverage gate ----------------------------------------------------------------------------


def test_scores_made_for_another_input_are_refused_with_the_likely_cause(
    cli: Cli, module_drugs_csv: Path, decoys_table: Path, tmp_path: Path, write_table: WriteTable
) -> None:
    scored = _scored(decoys_table, tmp_path / "scored.csv")
    other = write_table(tmp_path / "other.csv", [("id", "smiles"), ("caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C")])
    result = cli.run(other, tmp_path / "pack", "--scores", scored)
    likely_cause = "same input file, --k-decoys, --seed and --standardize as the decoys export?"
    _refused(result, tmp_path / "pack", "scores match 0 of 1 molecules", likely_cause)


def test_scores_for_other_decoy_parameters_are_refused(
    cli: Cli, module_drugs_csv: Path, decoys_table: Path, tmp_path: Path
) -> None:
    scored = _scored(decoys_table, tmp_path / "scored.csv")
    result = cli.run(module_drugs_csv, tmp_path / "pack", "--scores", scored, "--seed", "99")
    _refused(result, tmp_path / "pack", "scores match", "decoys")


def test_coverage_just_above_the_threshold_runs_and_below_it_is_refused(
    cli: Cli, module_drugs_csv: Path, decoys_table: Path, tmp_path: Path
) -> None:
    decoys = [
        index for index, row in enumerate(csv.DictReader(decoys_table.open(encoding="utf-8"))) if row["role"] == "decoy"
    ]
    three = set(decoys[:3])  # 22 of 25 decoys scored: 88%
    scored = _scored(decoys_table, tmp_path / "scored.csv", keep=lambda index, _row: index not in three)
    refused = cli.run(module_drugs_csv, tmp_path / "refused", "--scores", scored)
    assert refused.code == 2
    assert "scores match 22 of 25 decoys (88.0%; --min-score-coverage is 0.9)" in refused.err
    allowed = cli.run(module_drugs_csv, tmp_path / "allowed", "--scores", scored, "--min-score-coverage", "0.85")
    assert allowed.code == 0, allowed.err
    metrics = json.loads((tmp_path / "allowed" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["decision"]["measured"]["score_coverage"] == 22 / 25


def test_min_score_coverage_outside_zero_to_one_is_a_usage_error(cli: Cli, drugs_csv: Path, tmp_path: Path) -> None:
    result = cli.run(drugs_csv, tmp_path / "pack", "--min-score-coverage", "1.5")
    assert result.code == 2
    assert "min_score_coverage must be in [0, 1]" in result.err

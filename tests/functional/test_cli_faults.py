"""Faults: unusable files and bad parameters stop with exit 2 and one message, writing nothing; ids stay data."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import pytest

from hetero_core.layout import REQUIRED_MEMBERS, ZIP

if TYPE_CHECKING:
    from pathlib import Path

    from tests.functional.conftest import Cli, ReadTable, Snapshot, WriteTable

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"
FIVE_ROWS = (
    b"id,smiles\n"
    b"aspirin,CC(=O)Oc1ccccc1C(=O)O\n"
    b"caf\xe9ine,Cn1cnc2c1c(=O)n(C)c(=O)n2C\n"  # Latin-1 e-acute: not UTF-8
    b"paracetamol,CC(=O)Nc1ccc(O)cc1\n"
    b"ibuprofen,CC(C)Cc1ccc(cc1)C(C)C(=O)O\n"
    b"naproxen,COc1ccc2cc(ccc2c1)C(C)C(=O)O\n"
)


def _assert_one_clean_message(err: str, *fragments: str) -> None:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err


# --- file-level faults -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "line"),
    [
        pytest.param("missing.csv", None, None, id="missing-file"),
        pytest.param("empty.csv", b"", None, id="empty-file"),
        pytest.param("header_only.csv", b"id,smiles\n", 1, id="header-only"),
        pytest.param("no_smiles.csv", b"id,structure\naspirin,CC(=O)Oc1ccccc1C(=O)O\n", 1, id="no-smiles-column"),
        pytest.param("latin1.csv", FIVE_ROWS, 3, id="not-utf8-in-line-3"),
        pytest.param("molecules.xlsx", b"id,smiles\naspirin,CC(=O)Oc1ccccc1C(=O)O\n", None, id="unknown-suffix"),
        pytest.param("extra_field.csv", b"id,smiles\nbenzene,c1ccccc1\nphenol,c1ccccc1O,x\n", 3, id="too-many-fields"),
        pytest.param("open_quote.csv", b'id,smiles\nbenzene,c1ccccc1\n"phenol,c1ccccc1O\n', 3, id="unterminated-quote"),
    ],
)
def test_unusable_input_file_exits_2_naming_the_file_and_writes_nothing(
    cli: Cli, tmp_path: Path, name: str, content: bytes | None, line: int | None
) -> None:
    source = tmp_path / name
    if content is not None:
        source.write_bytes(content)
    before = sorted(path.name for path in tmp_path.iterdir())

    result = cli.run(source, tmp_path / "pack")

    assert result.code == 2
    assert result.out == ""
    _assert_one_clean_message(result.err, str(source), *([f"line {line}"] if line is not None else []))
    assert sorted(path.name for path in tmp_path.iterdir()) == before  # no pack, no staging leftovers


def test_decoys_on_an_unusable_file_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "empty.csv"
    source.write_bytes(b"")

    result = cli("decoys", source, "--out", tmp_path / "table" / "decoys.csv", "--workers", "1", "--quiet")

    assert result.code == 2
    _assert_one_clean_message(result.err, str(source))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["empty.csv"]


def test_calibrate_on_an_unusable_file_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "empty.csv"
    source.write_bytes(b"")

    result = cli("calibrate", source, "--out", tmp_path / "calibration", "--workers", "1", "--quiet")

    assert result.code == 2
    _assert_one_clean_message(result.err, str(source))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["empty.csv"]


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        pytest.param("--k-decoys", "0", "k_decoys", id="k-decoys-0"),
        pytest.param("--workers", "0", "--workers", id="workers-0"),
        pytest.param("--created-at", "garbage", "'garbage'", id="created-at-garbage"),
        pytest.param("--scorer", "oracle", "'oracle'", id="unknown-scorer"),
        pytest.param("--max-heavy-atoms", "0", "max_heavy_atoms", id="max-heavy-atoms-0"),
        pytest.param("--sign-key", "/nonexistent/absent.pem", "absent.pem", id="missing-sign-key"),
    ],
)
def test_bad_parameter_exits_2_and_writes_nothing(
    cli: Cli, drugs_csv: Path, tmp_path: Path, option: str, value: str, named: str
) -> None:
    result = cli.run(drugs_csv, tmp_path / "pack", option, value)

    assert result.code == 2
    _assert_one_clean_message(result.err, named)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["drugs.csv"]


def test_garbage_source_date_epoch_exits_2(
    cli: Cli, drugs_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")

    result = cli.run(drugs_csv, tmp_path / "pack", created_at=None)

    assert result.code == 2
    _assert_one_clean_message(result.err, "SOURCE_DATE_EPOCH")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["drugs.csv"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        pytest.param("absent.csv", None, id="missing-scores-file"),
        pytest.param("scores.txt", b"molecule_id,role,hash,smiles,score\n", id="unknown-scores-suffix"),
        pytest.param("scores.csv", b"molecule_id,role,hash,smiles\n", id="no-score-column"),
        pytest.param("scores.json", b"{not json", id="broken-json"),
    ],
)
def test_unusable_scores_file_exits_2_naming_the_file(
    cli: Cli, drugs_csv: Path, tmp_path: Path, name: str, content: bytes | None
) -> None:
    scores = tmp_path / name
    if content is not None:
        scores.write_bytes(content)

    result = cli.run(drugs_csv, tmp_path / "pack", "--scores", scores)

    assert result.code == 2
    _assert_one_clean_message(result.err, str(scores))
    assert not (tmp_path / "pack").exists()


def test_scorer_and_scores_together_are_a_usage_error(cli: Cli, drugs_csv: Path, tmp_path: Path) -> None:
    (tmp_path / "scores.json").write_text("{}", encoding="utf-8")

    with pytest.raises(SystemExit) as exited:
        cli.run(drugs_csv, tmp_path / "pack", "--scorer", "good", "--scores", tmp_path / "scores.json")

    assert exited.value.code == 2
    assert not (tmp_path / "pack").exists()


# --- the output folder -------------------------------------------------------------------------


def test_out_folder_holding_other_files_is_refused_and_left_untouched(
    cli: Cli, drugs_csv: Path, tmp_path: Path, snapshot: Snapshot
) -> None:
    out = tmp_path / "thesis"
    (out / "chapters").mkdir(parents=True)
    (out / "notes.txt").write_text("three years of work\n", encoding="utf-8")
    (out / "chapters" / "one.md").write_text("# One\n", encoding="utf-8")
    before = snapshot(tmp_path)

    result = cli.run(drugs_csv, out, "--scorer", "mock")

    assert result.code == 2
    _assert_one_clean_message(result.err, str(out))
    assert snapshot(tmp_path) == before


def test_out_folder_of_another_tool_with_its_own_manifest_json_is_refused(
    cli: Cli, drugs_csv: Path, tmp_path: Path, snapshot: Snapshot
) -> None:
    # A web app (or a browser extension) has a manifest.json too; that does not make its folder an evidence pack.
    out = tmp_path / "webapp"
    out.mkdir()
    (out / "manifest.json").write_text('{"name": "My PWA", "start_url": "/"}\n', encoding="utf-8")
    (out / "index.html").write_text("<!doctype html><title>My PWA</title>\n", encoding="utf-8")
    before = snapshot(tmp_path)

    result = cli.run(drugs_csv, out, "--scorer", "mock")

    assert result.code == 2
    _assert_one_clean_message(result.err, str(out))
    assert snapshot(tmp_path) == before


def test_out_that_is_a_file_is_refused(cli: Cli, drugs_csv: Path, tmp_path: Path, snapshot: Snapshot) -> None:
    out = tmp_path / "report.pdf"
    out.write_bytes(b"%PDF-1.7\n")
    before = snapshot(tmp_path)

    result = cli.run(drugs_csv, out, "--scorer", "mock")

    assert result.code == 2
    _assert_one_clean_message(result.err, str(out))
    assert snapshot(tmp_path) == before


# --- hostile ids -------------------------------------------------------------------------------

HOSTILE_IDS = ("../../etc/passwd", "/abs/path", "a\\b", '=HYPERLINK("x")', "+1", "-1", "@SUM(A1)")
NEUTRALISED = ("../../etc/passwd", "/abs/path", "a\\b", '\'=HYPERLINK("x")', "'+1", "'-1", "'@SUM(A1)")
PACK_FILES = (*REQUIRED_MEMBERS, ZIP)


def test_hostile_ids_create_nothing_outside_out_and_are_neutralised_in_csv(
    cli: Cli,
    tmp_path: Path,
    write_table: WriteTable,
    read_table: ReadTable,
    snapshot: Snapshot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Run from two levels down, so '../../etc/passwd' used as a path would land inside tmp_path and be seen.
    workdir = tmp_path / "lab" / "run"
    workdir.mkdir(parents=True)
    monkeypatch.chdir(workdir)
    source = write_table(tmp_path / "hostile.csv", [("id", "smiles"), *((ident, PARACETAMOL) for ident in HOSTILE_IDS)])
    before = snapshot(tmp_path)

    result = cli.run(source, workdir / "pack", "--scorer", "constant")

    assert result.code == 0
    created = sorted(set(snapshot(tmp_path)) - set(before))
    expected = ["lab/run/pack", "lab/run/pack.run.json", *(f"lab/run/pack/{name}" for name in PACK_FILES)]
    assert created == sorted(expected)  # the pack, and the run statistics beside it
    rows = read_table(workdir / "pack" / "summary.csv")
    assert [row["id"] for row in rows] == list(NEUTRALISED)
    assert {(row["status"], row["verdict"], row["slack"]) for row in rows} == {("OK", "FAIL", "-0.5")}
    decoy_ids = {row["molecule_id"] for row in read_table(workdir / "pack" / "decoys.csv")}
    assert decoy_ids == set(NEUTRALISED)


def test_hostile_ids_round_trip_through_the_decoys_table(
    cli: Cli, tmp_path: Path, write_table: WriteTable, read_table: ReadTable, snapshot: Snapshot
) -> None:
    source = write_table(tmp_path / "hostile.csv", [("id", "smiles"), *((ident, PARACETAMOL) for ident in HOSTILE_IDS)])
    before = snapshot(tmp_path)

    result = cli("decoys", source, "--out", tmp_path / "decoys.csv", "--k-decoys", "5", "--workers", "1", "--quiet")

    assert result.code == 0
    assert sorted(set(snapshot(tmp_path)) - set(before)) == ["decoys.csv", "decoys.rows.csv"]
    table = read_table(tmp_path / "decoys.csv")
    assert not [row["molecule_id"] for row in table if row["molecule_id"].startswith(("=", "+", "-", "@"))]

    with (tmp_path / "scored.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["molecule_id", "role", "hash", "smiles", "score"])
        for row in table:
            score = "1" if row["role"] == "original" else "0"
            writer.writerow([row["molecule_id"], row["role"], row["hash"], row["smiles"], score])
    assert cli.run(source, tmp_path / "pack", "--scores", tmp_path / "scored.csv").code == 0

    rows = read_table(tmp_path / "pack" / "summary.csv")
    assert [(row["id"], row["status"], row["verdict"], row["n_decoys_scored"]) for row in rows] == [
        (ident, "OK", "PASS", "5") for ident in NEUTRALISED
    ]


def test_an_unwritable_timings_path_is_a_clear_usage_error(cli: Cli, drugs_csv: Path, tmp_path: Path) -> None:
    result = cli.run(drugs_csv, tmp_path / "pack", "--scorer", "mock", "--timings", tmp_path / "no" / "t.json")
    assert result.code == 2
    assert "Traceback" not in result.err
    assert "t.json" in result.err

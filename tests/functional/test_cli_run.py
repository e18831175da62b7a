"""``hetero2 run``: reproducible packs, one summary row per input row, manifest and checksums a third party can use."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy
import pytest
import rdkit
from rdkit import Chem

from hetero_core.layout import REQUIRED_MEMBERS, ZIP

if TYPE_CHECKING:
    from tests.functional.conftest import Cli, PinCommit, ReadTable, WriteTable

PACK_MEMBERS = (
    "summary.csv",
    "decoys.csv",
    "metrics.json",
    "index.md",
    "report.html",
    "manifest.json",
    "checksums.sha256",
    "evidence_pack.zip",
)
CREATED_AT = "2026-01-01T00:00:00Z"


def test_pack_member_names_are_the_spec_names() -> None:
    """The literal list above is the contract; the code's layout module must say the same."""
    assert set(PACK_MEMBERS) == {*REQUIRED_MEMBERS, ZIP}


CREATED_AT_EPOCH = "1767225600"  # 2026-01-01T00:00:00Z
BUNDLED_EXAMPLE = Path(__file__).resolve().parents[2] / "hetero_core" / "examples" / "approved_drugs.csv"

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"
IBUPROFEN = "CC(C)Cc1ccc(cc1)C(C)C(=O)O"
SERTRALINE = "CNC1CCC(c2ccc(Cl)c(Cl)c2)c2ccccc12"
ATORVASTATIN = "CC(C)c1c(C(=O)Nc2ccccc2)c(-c2ccccc2)c(-c2ccc(F)cc2)n1CCC(O)CC(O)CC(=O)O"


def _canonical(smiles: str) -> str:
    return str(Chem.MolToSmiles(Chem.MolFromSmiles(smiles)))


def _members(pack: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(pack.iterdir())}


def _assert_identical_packs(first: Path, second: Path) -> None:
    a, b = _members(first), _members(second)
    assert sorted(a) == sorted(PACK_MEMBERS)
    assert sorted(b) == sorted(PACK_MEMBERS)
    differing = [name for name in PACK_MEMBERS if a[name] != b[name]]
    assert differing == []


def _strict_json(text: str) -> object:
    def refuse(constant: str) -> object:
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


# --- reproducibility ---------------------------------------------------------------------------


def test_same_run_twice_gives_a_byte_identical_pack(cli: Cli, drugs_csv: Path, tmp_path: Path) -> None:
    # The seeded random reference scorer is the one most likely to leak order or process into the numbers.
    assert cli.run(drugs_csv, tmp_path / "first", "--scorer", "random").code == 0
    assert cli.run(drugs_csv, tmp_path / "second", "--scorer", "random").code == 0
    _assert_identical_packs(tmp_path / "first", tmp_path / "second")


def test_one_or_two_workers_give_a_byte_identical_pack(cli: Cli, tmp_path: Path) -> None:
    # The bundled example has 44 rows: several chunks, so two workers really do interleave.
    assert cli.run(None, tmp_path / "one", workers=1).code == 0
    assert cli.run(None, tmp_path / "two", workers=2).code == 0
    _assert_identical_packs(tmp_path / "one", tmp_path / "two")


def test_source_date_epoch_stands_in_for_created_at(
    cli: Cli, drugs_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.run(drugs_csv, tmp_path / "explicit", "--scorer", "mock").code == 0
    monkeypatch.setenv("SOURCE_DATE_EPOCH", CREATED_AT_EPOCH)
    assert cli.run(drugs_csv, tmp_path / "epoch1", "--scorer", "mock", created_at=None).code == 0
    assert cli.run(drugs_csv, tmp_path / "epoch2", "--scorer", "mock", created_at=None).code == 0

    _assert_identical_packs(tmp_path / "epoch1", tmp_path / "epoch2")
    _assert_identical_packs(tmp_path / "explicit", tmp_path / "epoch1")
    manifest = json.loads((tmp_path / "epoch1" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["created_at"] == "2026-01-01T00:00:00Z"


def test_created_at_with_an_offset_is_the_same_instant_as_utc(cli: Cli, drugs_csv: Path, tmp_path: Path) -> None:
    assert cli.run(drugs_csv, tmp_path / "utc", "--scorer", "mock").code == 0
    paris = cli.run(drugs_csv, tmp_path / "paris", "--scorer", "mock", created_at="2026-01-01T01:00:00+01:00")
    assert paris.code == 0
    _assert_identical_packs(tmp_path / "utc", tmp_path / "paris")


# --- one summary row per input row -------------------------------------------------------------


def test_every_input_row_gets_one_summary_row_in_input_order_with_its_reason(
    cli: Cli, tmp_path: Path, write_table: WriteTable, read_table: ReadTable
) -> None:
    source = write_table(
        tmp_path / "mixed.csv",
        [
            ("id", "smiles"),
            ("aspirin", ASPIRIN),
            ("no_structure", ""),
            ("broken_ring", "C1CC"),
            ("sertraline_hcl", f"{SERTRALINE}.Cl"),
            ("aspirin", PARACETAMOL),
            ("ethanol", "CCO"),
            ("", PARACETAMOL),
            ("atorvastatin", ATORVASTATIN),
        ],
    )
    result = cli.run(source, tmp_path / "pack", "--scorer", "mock", "--max-heavy-atoms", "30")
    assert result.code == 0

    rows = read_table(tmp_path / "pack" / "summary.csv")
    assert [(r["id"], r["status"], r["reason"], r["verdict"]) for r in rows] == [
        ("aspirin", "OK", "", "PASS"),
        ("no_structure", "SKIP", "missing_smiles", "SKIP"),
        ("broken_ring", "SKIP", "invalid_smiles", "SKIP"),
        ("sertraline_hcl", "SKIP", "disconnected", "SKIP"),
        ("aspirin", "SKIP", "duplicate_id", "SKIP"),
        ("ethanol", "SKIP", "no_decoys_generated", "SKIP"),
        ("row_7", "OK", "", "PASS"),
        ("atorvastatin", "SKIP", "too_many_atoms", "SKIP"),
    ]
    metrics = json.loads((tmp_path / "pack" / "metrics.json").read_text(encoding="utf-8"))
    assert (metrics["counts"]["total"], metrics["counts"]["OK"], metrics["counts"]["SKIP"]) == (8, 2, 6)
    assert metrics["counts"]["ERROR"] == 0


@pytest.mark.parametrize(
    ("salt", "parent"),
    [
        pytest.param(f"{SERTRALINE}.Cl", SERTRALINE, id="sertraline-hydrochloride"),
        pytest.param("CC(C)Cc1ccc(cc1)C(C)C(=O)[O-].[Na+]", IBUPROFEN, id="ibuprofen-sodium-neutralised"),
    ],
)
def test_standardize_keeps_the_largest_fragment_of_a_salt(
    cli: Cli, tmp_path: Path, write_table: WriteTable, read_table: ReadTable, salt: str, parent: str
) -> None:
    source = write_table(tmp_path / "salt.csv", [("id", "smiles"), ("salt", salt)])
    assert cli.run(source, tmp_path / "pack", "--scorer", "mock", "--standardize").code == 0

    (row,) = read_table(tmp_path / "pack" / "summary.csv")
    assert (row["status"], row["reason"], row["verdict"]) == ("OK", "", "PASS")
    assert row["warnings"].split(";") == ["standardized"]
    assert row["canonical_smiles"] == _canonical(parent)
    assert row["smiles"] == salt
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["standardize"] is True


def test_summary_keeps_extra_input_columns(
    cli: Cli, tmp_path: Path, write_table: WriteTable, read_table: ReadTable
) -> None:
    source = write_table(tmp_path / "extra.csv", [("ID", " SMILES ", "project"), ("aspirin", ASPIRIN, "NSAID")])
    assert cli.run(source, tmp_path / "pack", "--scorer", "mock").code == 0

    (row,) = read_table(tmp_path / "pack" / "summary.csv")
    assert (row["id"], row["status"], row["input_project"]) == ("aspirin", "OK", "NSAID")


def test_excel_csv_with_bom_and_crlf_reads_like_plain_csv(cli: Cli, tmp_path: Path, read_table: ReadTable) -> None:
    source = tmp_path / "excel.csv"
    source.write_bytes(
        b"\xef\xbb\xbfid,smiles\r\naspirin," + ASPIRIN.encode() + b"\r\nparacetamol," + PARACETAMOL.encode() + b"\r\n"
    )
    assert cli.run(source, tmp_path / "pack", "--scorer", "mock").code == 0

    rows = read_table(tmp_path / "pack" / "summary.csv")
    assert [(row["id"], row["status"], row["smiles"]) for row in rows] == [
        ("aspirin", "OK", ASPIRIN),
        ("paracetamol", "OK", PARACETAMOL),
    ]


def test_smiles_file_input_gives_one_row_per_line(cli: Cli, tmp_path: Path, read_table: ReadTable) -> None:
    source = tmp_path / "drugs.smi"
    source.write_text(f"# two analgesics and a line with no name\n{ASPIRIN} aspirin\n{PARACETAMOL}\nC1CC broken\n")
    assert cli.run(source, tmp_path / "pack", "--scorer", "mock").code == 0

    rows = read_table(tmp_path / "pack" / "summary.csv")
    assert [(row["id"], row["status"], row["reason"]) for row in rows] == [
        ("aspirin", "OK", ""),
        ("row_2", "OK", ""),
        ("broken", "SKIP", "invalid_smiles"),
    ]


def test_sdf_input_takes_ids_from_the_record_name(cli: Cli, tmp_path: Path, read_table: ReadTable) -> None:
    source = tmp_path / "drugs.sdf"
    writer = Chem.SDWriter(str(source))
    for name, smiles in (("aspirin", ASPIRIN), ("paracetamol", PARACETAMOL)):
        mol = Chem.MolFromSmiles(smiles)
        mol.SetProp("_Name", name)
        mol.SetProp("supplier", "pharmacy")
        writer.write(mol)
    writer.close()
    assert cli.run(source, tmp_path / "pack", "--scorer", "mock").code == 0

    rows = read_table(tmp_path / "pack" / "summary.csv")
    assert [(row["id"], row["status"], row["canonical_smiles"]) for row in rows] == [
        ("aspirin", "OK", _canonical(ASPIRIN)),
        ("paracetamol", "OK", _canonical(PARACETAMOL)),
    ]
    assert {row["input_supplier"] for row in rows} == {"pharmacy"}


# --- pack members a third party relies on -----------------------------------------------------


def test_metrics_json_is_strict_json_on_a_normal_run(cli: Cli, drugs_csv: Path, tmp_path: Path) -> None:
    assert cli.run(drugs_csv, tmp_path / "pack", "--scorer", "random").code == 0

    metrics = _strict_json((tmp_path / "pack" / "metrics.json").read_text(encoding="utf-8"))
    assert isinstance(metrics, dict)
    assert metrics["counts"]["OK"] == 5


def test_metrics_json_is_strict_json_when_no_row_could_be_judged(
    cli: Cli, tmp_path: Path, write_table: WriteTable
) -> None:
    # Nothing judged: every statistic is undefined, which must come out as null, never NaN.
    source = write_table(tmp_path / "unjudged.csv", [("id", "smiles"), ("ethanol", "CCO"), ("broken", "C1CC")])
    assert cli.run(source, tmp_path / "pack", "--scorer", "mock").code == 0

    metrics = _strict_json((tmp_path / "pack" / "metrics.json").read_text(encoding="utf-8"))
    assert isinstance(metrics, dict)
    assert metrics["counts"]["SKIP"] == 2
    assert metrics["pass_rate"] is None
    assert metrics["slack"]["median"] is None


def test_manifest_records_engine_versions_parameters_input_and_files(
    cli: Cli, drugs_csv: Path, tmp_path: Path, pin_commit: PinCommit
) -> None:
    pin_commit("c0ffee")
    pack = tmp_path / "pack"
    result = cli.run(
        drugs_csv,
        pack,
        "--scorer",
        "good",
        "--seed",
        "7",
        "--seed-by",
        "id",
        "--max-heavy-atoms",
        "150",
        "--timeout",
        "30",
        "--standardize",
        "--hard-mode",
        k=4,
    )
    assert result.code == 0
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))

    assert manifest["engine"] == {
        "name": "hetero2",
        "version": version("hetero2"),
        "git_commit": "c0ffee",
    }
    assert manifest["runtime"] == {
        "python": platform.python_version(),
        "rdkit": rdkit.__version__,
        "numpy": numpy.__version__,
        "matplotlib": matplotlib.__version__,
    }
    parameters = manifest["parameters"]
    assert {name: parameters[name] for name in parameters if name in _GIVEN_PARAMETERS} == _GIVEN_PARAMETERS
    assert manifest["seeds"] == {"run_seed": 7, "seed_by": "id"}
    assert manifest["created_at"] == "2026-01-01T00:00:00Z"

    (molecules,) = manifest["inputs"]
    assert molecules["name"] == "drugs.csv"
    assert molecules["sha256"] == hashlib.sha256(drugs_csv.read_bytes()).hexdigest()
    assert molecules["rows"] == 5

    def sliced(name: str) -> dict[str, object]:
        # hetero_manifest.v2: the header line, then one slice per 1,000 input rows (5 rows: one)
        data = (pack / name).read_bytes()
        cut = data.index(b"\n") + 1
        slices = [{"size": len(part), "sha256": hashlib.sha256(part).hexdigest()} for part in (data[:cut], data[cut:])]
        return {"path": name, "size": len(data), "slice_rows": 1000, "slices": slices}

    def whole(name: str) -> dict[str, object]:
        data = (pack / name).read_bytes()
        return {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    assert manifest["schema_version"] == "hetero_manifest.v2"
    assert manifest["files"] == [
        sliced("decoys.csv"),
        whole("index.md"),
        whole("metrics.json"),
        whole("report.html"),
        sliced("summary.csv"),
    ]


def test_the_audited_model_is_named_in_the_manifest_and_at_the_top_of_the_report(
    cli: Cli, drugs_csv: Path, tmp_path: Path
) -> None:
    pack = tmp_path / "pack"
    sha = "AB" * 32
    options = ("--scorer", "qed", "--model-name", "ChemProp <QED> clone", "--model-version", "2.1.0")
    result = cli.run(drugs_csv, pack, *options, "--model-sha256", sha, "--score-direction", "lower", k=4)
    assert result.code == 0, result.err
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == {
        "name": "ChemProp <QED> clone",
        "version": "2.1.0",
        "sha256": sha.lower(),
        "scores": "qed",
    }
    assert manifest["parameters"]["score_direction"] == "lower"
    report = (pack / "report.html").read_text(encoding="utf-8")
    header = report[: report.index("</header>")]
    assert "ChemProp &lt;QED&gt; clone</b> version 2.1.0" in header
    assert "lower score = more likely real" in header


def test_a_built_in_scorer_names_itself_when_no_model_name_is_given(cli: Cli, drugs_csv: Path, tmp_path: Path) -> None:
    assert cli.run(drugs_csv, tmp_path / "pack", "--scorer", "sa", k=4).code == 0
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == {"name": "built-in scorer sa", "version": None, "sha256": None, "scores": "sa"}
    assert manifest["parameters"]["score_direction"] == "higher"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--model-sha256", "abc", "model sha256 must be 64"),
        ("--model-name", " ", "model name must be 1 to 200"),
        ("--model-version", "v" * 201, "model version must be 1 to 200"),
    ],
)
def test_a_bad_model_identity_is_refused_before_any_work(
    cli: Cli, drugs_csv: Path, tmp_path: Path, option: str, value: str, message: str
) -> None:
    result = cli.run(drugs_csv, tmp_path / "pack", option, value, k=4)
    assert result.code == 2
    assert message in result.err
    assert not (tmp_path / "pack").exists()


def test_score_direction_accepts_only_higher_or_lower(cli: Cli, drugs_csv: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.run(drugs_csv, tmp_path / "pack", "--score-direction", "up", k=4)
    assert exit_info.value.code == 2


_GIVEN_PARAMETERS: dict[str, object] = {
    "k_decoys": 4,
    "seed": 7,
    "seed_by": "id",
    "max_heavy_atoms": 150,
    "timeout_s": 30.0,
    "standardize": True,
    "hard_mode": True,
    "scorer": "good",
    "q": 0.95,
    "margin": 0.05,
    "hard_min_similarity": 0.65,
    "hard_max_similarity": 0.95,
    "score_direction": "higher",
}


def test_zip_holds_the_folder_members_sorted_with_fixed_time_and_mode(
    cli: Cli, drugs_csv: Path, tmp_path: Path
) -> None:
    pack = tmp_path / "pack"
    assert cli.run(drugs_csv, pack, "--scorer", "mock").code == 0

    with zipfile.ZipFile(pack / "evidence_pack.zip") as archive:
        infos = archive.infolist()
        contents = {info.filename: archive.read(info) for info in infos}
    names = [info.filename for info in infos]
    assert names == sorted(name for name in PACK_MEMBERS if name != "evidence_pack.zip")
    assert {info.date_time for info in infos} == {(2026, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}
    assert contents == {name: (pack / name).read_bytes() for name in names}


def test_checksums_pass_sha256sum_check(cli: Cli, drugs_csv: Path, tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    assert cli.run(drugs_csv, pack, "--scorer", "mock").code == 0

    checked = subprocess.run(
        ["sha256sum", "--strict", "-c", "checksums.sha256"], cwd=pack, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listed = [line.split("  ", 1)[1] for line in (pack / "checksums.sha256").read_text(encoding="utf-8").splitlines()]
    # the sliced CSV members are checked against the manifest's per-slice sha256 instead (hetero_manifest.v2)
    assert listed == sorted(["index.md", "manifest.json", "metrics.json", "report.html"])


def test_previous_pack_in_out_is_replaced(
    cli: Cli, drugs_csv: Path, tmp_path: Path, write_table: WriteTable, read_table: ReadTable
) -> None:
    pack = tmp_path / "pack"
    assert cli("keygen", "--out", tmp_path / "key.pem").code == 0
    assert cli.run(drugs_csv, pack, "--scorer", "mock", "--sign-key", tmp_path / "key.pem").code == 0
    assert (pack / "manifest.sig").is_file()

    aspirin_only = write_table(tmp_path / "aspirin.csv", [("id", "smiles"), ("aspirin", ASPIRIN)])
    assert cli.run(aspirin_only, pack, "--scorer", "constant").code == 0

    assert sorted(path.name for path in pack.iterdir()) == sorted(PACK_MEMBERS)
    assert [row["id"] for row in read_table(pack / "summary.csv")] == ["aspirin"]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["aspirin.csv", "drugs.csv", "key.pem", "key.pub.pem", "pack", "pack.run.json"]  # run statistics beside it
    )
    assert cli("verify", pack).code == 0


# --- the installed console script --------------------------------------------------------------


def _console_script() -> str:
    beside_python = Path(sys.executable).with_name("hetero2")
    found = str(beside_python) if beside_python.is_file() else shutil.which("hetero2")
    assert found is not None, "the hetero2 console script is not installed"
    return found


def test_installed_console_script_audits_the_bundled_example(tmp_path: Path, read_table: ReadTable) -> None:
    out = tmp_path / "pack"
    env = {name: value for name, value in os.environ.items() if name != "SOURCE_DATE_EPOCH"}
    done = subprocess.run(
        [_console_script(), "run", "--out", str(out), "--quiet", "--workers", "1", "--created-at", CREATED_AT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    assert "approved_drugs.csv" in done.stderr
    assert f"pack: {out}" in done.stdout
    expected_ids = [row["id"] for row in read_table(BUNDLED_EXAMPLE)]
    summary = read_table(out / "summary.csv")
    assert [row["id"] for row in summary] == expected_ids
    assert {row["status"] for row in summary} == {"OK"}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    (molecules,) = manifest["inputs"]
    assert (molecules["name"], molecules["rows"]) == ("approved_drugs.csv", len(expected_ids))
    assert molecules["sha256"] == hashlib.sha256(BUNDLED_EXAMPLE.read_bytes()).hexdigest()
    assert manifest["parameters"]["scorer"] == "qed"
    assert sorted(path.name for path in out.iterdir()) == sorted(PACK_MEMBERS)


def test_named_id_and_smiles_columns_and_audit_levels(cli: Cli, tmp_path: Path, write_table: WriteTable) -> None:
    source = write_table(
        tmp_path / "named.csv",
        [("Name", "Structure"), ("asp", "CC(=O)Oc1ccccc1C(=O)O"), ("ibu", "CC(C)Cc1ccc(cc1)C(C)C(=O)O")],
    )
    options = ("--id-column", "Name", "--smiles-column", "Structure", "--q", "0.9", "--margin", "0.02")
    result = cli.run(source, tmp_path / "pack", "--scorer", "good", *options, k=20)
    assert result.code == 0, result.err
    rows = list(csv.DictReader((tmp_path / "pack" / "summary.csv").open(encoding="utf-8")))
    assert [(r["id"], r["verdict"], r["gate"]) for r in rows] == [("asp", "PASS", "0.92"), ("ibu", "PASS", "0.92")]
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["columns"]["smiles_column"] == "Structure"
    assert (manifest["parameters"]["q"], manifest["parameters"]["margin"]) == (0.9, 0.02)


def test_index_md_escapes_html_in_every_cell(cli: Cli, tmp_path: Path, write_table: WriteTable) -> None:
    source = write_table(
        tmp_path / "evil.csv",
        [("id", "smiles"), ("<script>alert(1)</script>", "CC(=O)Oc1ccccc1C(=O)O"), ("a|b<img src=x>", "CCO")],
    )
    pack = tmp_path / "pack"
    assert cli.run(source, pack, "--scorer", "constant", "--model-name", "<b>m</b>", k=4).code == 0
    index = (pack / "index.md").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    assert "<script>" not in index
    assert "<img" not in index
    assert "<b>m</b>" not in index
    assert "&lt;b&gt;m&lt;/b&gt;" in index


def test_v2_era_metrics_still_render(cli: Cli, drugs_csv: Path, tmp_path: Path) -> None:
    """A hetero_audit.v2 pack (upper tail only, three bins, the old labels) renders without error."""
    from hetero_core.report import render_index, render_report  # noqa: PLC0415

    pack = tmp_path / "pack"
    assert cli.run(drugs_csv, pack, "--scorer", "qed", k=4).code == 0
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    metrics = json.loads((pack / "metrics.json").read_text(encoding="utf-8"))
    for key in ("significance", "pass_rate_p_value_lower", "decision"):
        metrics.pop(key, None)
    manifest.pop("model")
    manifest["contracts"]["audit"] = "hetero_audit.v2"
    metrics["realism"]["interpretation"] = "ILLUSION_CONFIRMED"
    metrics["realism"]["bins"] = {
        "easy": {"range": [0.0, 0.5], "n_pairs": 1, "auc": 0.5},
        "medium": {"range": [0.5, 0.7], "n_pairs": 1, "auc": 0.5},
        "hard": {"range": [0.7, 1.0], "n_pairs": 1, "auc": 0.5},
    }
    assert "ILLUSION_CONFIRMED" in render_index(manifest, metrics)
    assert "(hetero_audit.v2 label)" in render_report(manifest, metrics)


def test_metrics_follow_hetero_audit_v3(cli: Cli, drugs_csv: Path, tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    assert cli.run(drugs_csv, pack, "--scorer", "good", k=4).code == 0
    metrics = json.loads((pack / "metrics.json").read_text(encoding="utf-8"))
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert metrics["audit_schema"] == manifest["contracts"]["audit"] == "hetero_audit.v3"
    significance = metrics["significance"]
    assert significance["finding"] == "above_chance"
    assert significance["p_better_than_chance"] == metrics["pass_rate_p_value"] == pytest.approx(0.2**5)
    assert significance["p_worse_than_chance"] == metrics["pass_rate_p_value_lower"] == 1.0
    assert set(metrics["realism"]["bins"]) == {"easy", "medium", "hard", "near_identical"}
    assert metrics["realism"]["bins"]["hard"]["range"] == [0.65, 0.95]
    assert metrics["realism"]["bootstrap"] == {"reps": 1000, "level": 0.95, "seed": 0, "unit": "molecule"}


def test_decoy_filter_and_max_rung_reach_manifest_metrics_and_summary(
    cli: Cli, drugs_csv: Path, tmp_path: Path, read_table: ReadTable
) -> None:
    pack = tmp_path / "pack"
    assert (
        cli.run(drugs_csv, pack, "--scorer", "mock", "--decoy-filter", "strict", "--max-rung", "relax_rings").code == 0
    )
    manifest = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["contracts"]["decoys"] == "decoys.v2"
    assert manifest["contracts"]["summary"] == "hetero_summary.v2"
    assert (manifest["parameters"]["decoy_filter"], manifest["parameters"]["max_rung"]) == ("strict", "relax_rings")
    metrics = json.loads((pack / "metrics.json").read_text(encoding="utf-8"))
    summed: dict[str, int] = {}
    for row in read_table(pack / "summary.csv"):
        assert row["decoy_strategy"] in ("", "strict", "relax_aromatic", "relax_rings")
        for part in filter(None, row["decoy_rejections"].split(";")):
            reason, count = part.split(":")
            summed[reason] = summed.get(reason, 0) + int(count)
    assert summed, "five drugs at k=20 always reject some candidates"
    assert metrics["decoy_rejections"] == {
        "filter": "strict",
        "max_rung": "relax_rings",
        "share_with_decoys": 1.0,
        "total": sum(summed.values()),
        "by_reason": dict(sorted(summed.items())),
    }

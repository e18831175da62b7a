"""Benchmark data loader and decoy re-check, on generated files: no network, no real MOSES download."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))  # as when run as scripts: `datasets`

from typing import TYPE_CHECKING

import bench_engine
import bench_rows
import datasets
from datasets import MOSES_MEMBER, DataCache, DatasetError, write_input
from rdkit import Chem

if TYPE_CHECKING:
    from collections.abc import Sequence

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1c(=O)c2c(ncn2C)n(C)c1=O"
PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"


def _member(smiles: Sequence[str], header: str = "SMILES") -> bytes:
    return gzip.compress(("\n".join([header, *smiles]) + "\n").encode("utf-8"))


class FakePip:
    """Stands in for ``pip download``: drops a wheel holding ``member_bytes`` and counts its calls."""

    def __init__(self, member_bytes: bytes, *, member: str = MOSES_MEMBER, wheels: int = 1) -> None:
        self.member_bytes = member_bytes
        self.member = member
        self.wheels = wheels
        self.calls: list[str] = []

    def __call__(self, requirement: str, dest: Path) -> None:
        self.calls.append(requirement)
        for i in range(self.wheels):
            with zipfile.ZipFile(dest / f"molsets-0.3.{i + 1}-py3-none-any.whl", "w") as wheel:
                wheel.writestr("moses/__init__.py", "")
                wheel.writestr(self.member, self.member_bytes)


def _cache(tmp_path: Path, member_bytes: bytes, **fake: object) -> tuple[DataCache, FakePip]:
    pip = FakePip(member_bytes, **fake)  # type: ignore[arg-type]
    return DataCache(tmp_path / "cache", pip, hashlib.sha256(member_bytes).hexdigest()), pip


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


# --- data set loader --------------------------------------------------------------------------------------------


def test_write_input_takes_the_first_n_molecules_with_moses_ids(tmp_path: Path) -> None:
    cache, _ = _cache(tmp_path, _member([ASPIRIN, CAFFEINE, PARACETAMOL]))
    out = write_input("moses", 2, tmp_path / "in.csv", cache=cache)
    assert _rows(out) == [["id", "smiles"], ["moses_0", ASPIRIN], ["moses_1", CAFFEINE]]


def test_write_input_cycles_past_the_end_with_distinct_ids(tmp_path: Path) -> None:
    cache, _ = _cache(tmp_path, _member([ASPIRIN, CAFFEINE, PARACETAMOL]))
    rows = _rows(write_input("moses", 7, tmp_path / "in.csv", cache=cache))[1:]
    assert [r[0] for r in rows] == [f"moses_{i}" for i in range(7)]
    assert [r[1] for r in rows] == [ASPIRIN, CAFFEINE, PARACETAMOL] * 2 + [ASPIRIN]


def test_blank_lines_in_the_member_are_not_molecules(tmp_path: Path) -> None:
    cache, _ = _cache(tmp_path, _member([ASPIRIN, "", "  ", CAFFEINE]))
    rows = _rows(write_input("moses", 3, tmp_path / "in.csv", cache=cache))[1:]
    assert [r[1] for r in rows] == [ASPIRIN, CAFFEINE, ASPIRIN]


def test_moses_is_downloaded_once_and_only_the_member_is_kept(tmp_path: Path) -> None:
    cache, pip = _cache(tmp_path, _member([ASPIRIN]))
    write_input("moses", 1, tmp_path / "a.csv", cache=cache)
    write_input("moses", 1, tmp_path / "b.csv", cache=cache)
    assert pip.calls == ["molsets==0.3.1"]
    assert sorted(p.name for p in cache.folder.iterdir()) == ["moses_test.csv.gz"]


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HETERO2_DATA_CACHE", str(tmp_path / "elsewhere"))
    assert datasets.cache_dir() == tmp_path / "elsewhere"
    assert DataCache().folder == tmp_path / "elsewhere"
    monkeypatch.delenv("HETERO2_DATA_CACHE")
    assert datasets.cache_dir() == Path.home() / ".cache" / "hetero2" / "datasets"


def test_a_member_with_another_sha256_is_rejected_and_not_cached(tmp_path: Path) -> None:
    cache = DataCache(tmp_path / "cache", FakePip(_member([ASPIRIN])), "0" * 64)
    with pytest.raises(DatasetError, match="sha256"):
        write_input("moses", 1, tmp_path / "in.csv", cache=cache)
    assert not (cache.folder / "moses_test.csv.gz").exists()


def test_a_tampered_cached_file_is_rejected(tmp_path: Path) -> None:
    cache, _ = _cache(tmp_path, _member([ASPIRIN]))
    cache.folder.mkdir()
    (cache.folder / "moses_test.csv.gz").write_bytes(_member([CAFFEINE]))
    with pytest.raises(DatasetError, match="delete it"):
        cache.moses_file()


def test_a_wheel_without_the_test_set_is_rejected(tmp_path: Path) -> None:
    cache, _ = _cache(tmp_path, _member([ASPIRIN]), member="moses/dataset/data/train.csv.gz")
    with pytest.raises(DatasetError, match=re.escape(f"has no member {MOSES_MEMBER}")):
        cache.moses_file()


def test_a_download_that_leaves_no_single_wheel_is_rejected(tmp_path: Path) -> None:
    for wheels in (0, 2):
        cache, _ = _cache(tmp_path, _member([ASPIRIN]), wheels=wheels)
        with pytest.raises(DatasetError, match="expected exactly one wheel"):
            cache.moses_file()


def test_a_corrupt_wheel_is_rejected(tmp_path: Path) -> None:
    def broken(requirement: str, dest: Path) -> None:
        (dest / "molsets-0.3.1-py3-none-any.whl").write_bytes(b"not a zip")

    with pytest.raises(DatasetError, match="not a readable wheel"):
        DataCache(tmp_path / "cache", broken).moses_file()


def test_a_failed_download_leaves_nothing_behind(tmp_path: Path) -> None:
    def offline(requirement: str, dest: Path) -> None:
        raise DatasetError("no network")

    cache = DataCache(tmp_path / "cache", offline)
    with pytest.raises(DatasetError, match="no network"):
        write_input("moses", 1, tmp_path / "in.csv", cache=cache)
    assert list(cache.folder.iterdir()) == []


def test_a_member_without_a_smiles_column_is_rejected(tmp_path: Path) -> None:
    cache, _ = _cache(tmp_path, _member([ASPIRIN], header="molecule"))
    with pytest.raises(DatasetError, match="no SMILES column"):
        write_input("moses", 1, tmp_path / "in.csv", cache=cache)


def test_a_member_that_is_not_gzip_is_rejected(tmp_path: Path) -> None:
    cache, _ = _cache(tmp_path, b"SMILES\n" + ASPIRIN.encode())
    with pytest.raises(DatasetError, match="not a readable gzipped CSV"):
        write_input("moses", 1, tmp_path / "in.csv", cache=cache)


def test_an_empty_data_set_is_an_error_not_an_endless_loop(tmp_path: Path) -> None:
    cache, _ = _cache(tmp_path, _member([]))
    with pytest.raises(DatasetError, match="holds no molecule"):
        write_input("moses", 5, tmp_path / "in.csv", cache=cache)


def test_unknown_data_set_and_bad_n_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="unknown data set 'zinc'"):
        write_input("zinc", 1, tmp_path / "in.csv")
    with pytest.raises(ValueError, match="n must be >= 1"):
        write_input("chembl", 0, tmp_path / "in.csv")


def test_chembl_fallback_reads_rdkits_bundled_series(tmp_path: Path) -> None:
    first = datasets.chembl_file().read_text(encoding="utf-8").split()[0]
    rows = _rows(write_input("chembl", 3, tmp_path / "in.csv"))[1:]
    assert [r[0] for r in rows] == ["chembl_0", "chembl_1", "chembl_2"]
    assert rows[0][1] == first
    assert all(Chem.MolFromSmiles(r[1]) is not None for r in rows)


def test_pip_download_asks_for_the_wheel_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[list[str]] = []

    def fake_run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        seen.append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    datasets.pip_download("molsets==0.3.1", tmp_path)
    assert seen[0][1:4] == ["-m", "pip", "download"]
    assert {"--no-deps", "molsets==0.3.1"} <= set(seen[0])
    assert seen[0][-2:] == ["-d", str(tmp_path)]


def test_pip_download_failure_names_the_requirement(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def failing(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution found")

    monkeypatch.setattr(subprocess, "run", failing)
    with pytest.raises(DatasetError, match=r"molsets==0.3.1 failed \(exit 1\).*No matching distribution"):
        datasets.pip_download("molsets==0.3.1", tmp_path)


# --- decoy re-check (the "every decoy connected and formula-preserving" evidence) -------------------------------


def _pack(tmp_path: Path, originals: dict[str, str], decoys: list[tuple[str, str, str]]) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    with (pack / "summary.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "status", "canonical_smiles"])
        writer.writerows([molecule_id, "OK", smiles] for molecule_id, smiles in originals.items())
    with (pack / "decoys.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["molecule_id", "role", "hash", "smiles"])
        writer.writerows([molecule_id, role, "h", smiles] for molecule_id, role, smiles in decoys)
    return pack


def test_verify_accepts_true_rewirings_of_aspirin(tmp_path: Path) -> None:
    pack = _pack(
        tmp_path,
        {"aspirin": ASPIRIN},
        [
            ("aspirin", "original", ASPIRIN),
            ("aspirin", "decoy", "CC(=O)c1ccccc1OC(=O)O"),
            ("aspirin", "decoy", "Cc1ccccc1OC(=O)C(=O)O"),
        ],
    )
    check = bench_engine.verify_decoys(pack)
    assert (check.molecules, check.decoys, check.total_violations) == (1, 2, 0)


def test_verify_names_every_kind_of_broken_decoy(tmp_path: Path) -> None:
    pack = _pack(
        tmp_path,
        {"aspirin": ASPIRIN, "propanol": "CCCO"},
        [
            ("aspirin", "decoy", "CC(=O)O.O=C1Oc2ccccc21"),  # C9H8O4 and same degrees, but two fragments
            ("aspirin", "decoy", "O=C(O)c1ccccc1O"),  # salicylic acid: atoms lost
            ("aspirin", "decoy", "C1CC"),  # unclosed ring
            ("aspirin", "decoy", "OC(=O)c1ccccc1OC(C)=O"),  # aspirin itself, written another way
            ("aspirin", "decoy", "CC(=O)c1ccccc1OC(=O)O"),
            ("aspirin", "decoy", "O=C(O)Oc1ccccc1C(C)=O"),  # the decoy above again
            ("propanol", "decoy", "CC(C)O"),  # isopropanol: C3H8O, but a carbon of degree 3
            ("ghost", "decoy", "CCO"),  # no original in summary.csv
        ],
    )
    check = bench_engine.verify_decoys(pack)
    assert (check.molecules, check.decoys) == (2, 8)
    assert dict(check.violations) == {
        "disconnected": 1,
        "formula_differs": 1,
        "degree_sequence_differs": 2,
        "unparsable": 1,
        "same_as_original_or_another_decoy": 2,
        "original_not_in_summary": 1,
    }
    assert check.examples[0] == "disconnected: aspirin CC(=O)O.O=C1Oc2ccccc21"
    assert len(check.examples) == bench_engine.EXAMPLES_KEPT


# --- measuring and the command line -----------------------------------------------------------------------------


def test_measure_reports_counts_and_peaks_of_one_run(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"id,smiles\naspirin,{ASPIRIN}\ncaffeine,{CAFFEINE}\nbroken,C1CC\n", encoding="utf-8")
    run = bench_engine.measure(source, tmp_path / "pack", workers=1, k=3, seed=0)
    assert (run.molecules, run.workers, run.k) == (3, 1, 3)
    assert run.ok + run.skip + run.error == 3
    assert run.skip >= 1  # the unclosed ring
    assert run.main_peak_rss_mb > 0
    assert run.worker_peak_rss_mb is None  # one worker runs in the main process
    assert (tmp_path / "pack" / "decoys.csv").is_file()


def test_cli_end_to_end_on_chembl_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "bench.json"
    argv = ["--dataset", "chembl", "--n", "3", "--workers", "2", "--k", "2", "--verify-decoys", "--json", str(report)]
    assert bench_engine.main(argv) == 0
    out = capsys.readouterr().out
    assert "molecules/s" in out
    assert "decoy violations" in out
    data = json.loads(report.read_text(encoding="utf-8"))
    (run,) = data["runs"]
    assert (run["molecules"], run["workers"], run["k"]) == (3, 2, 2)
    assert run["worker_peak_rss_mb"] > 0  # measured in a child process whose pool workers are its children
    assert run["decoy_check"]["violations"] == 0
    assert run["decoy_check"]["decoys_checked"] > 0


def test_memory_series_sizes_are_parsed_and_checked() -> None:
    parser = bench_engine.build_parser()
    assert parser.parse_args(["--memory-series", "1000, 5000"]).memory_series == [1000, 5000]
    with pytest.raises(SystemExit):
        parser.parse_args(["--memory-series", "1000,0"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--n", "many"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--seed", str(2**32)])


def test_memory_series_table_has_one_line_per_size() -> None:
    runs = [
        bench_engine.Measurement(
            molecules=n,
            workers=2,
            k=5,
            seconds=n / 100,
            molecules_per_second=100.0,
            mean_decoys_per_molecule=4.5,
            share_reaching_k=0.9,
            ok=n,
            skip=0,
            error=0,
            main_peak_rss_mb=80.0 + n / 1000,
            worker_peak_rss_mb=79.0,
            cpu_seconds=n / 50,
            cpu_ms_per_molecule=20.0,
        )
        for n in (1000, 5000)
    ]
    title, header, *rows = bench_engine.render_series("moses", runs).splitlines()
    assert "moses" in title
    assert header.split()[:3] == ["molecules", "k", "workers"]
    assert [row.split() for row in rows] == [
        ["1000", "5", "2", "10.0", "100.0", "20.00", "4.50", "81.0", "79.0"],
        ["5000", "5", "2", "50.0", "100.0", "20.00", "4.50", "85.0", "79.0"],
    ]


def test_existing_keep_packs_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_engine.main(["--dataset", "chembl", "--n", "1", "--keep-packs", str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err


def test_a_run_prints_its_cpu_per_molecule() -> None:
    run = bench_engine.Measurement(
        molecules=200,
        workers=2,
        k=20,
        seconds=2.0,
        molecules_per_second=100.0,
        mean_decoys_per_molecule=20.0,
        share_reaching_k=1.0,
        ok=200,
        skip=0,
        error=0,
        main_peak_rss_mb=90.0,
        worker_peak_rss_mb=85.0,
        cpu_seconds=3.0,
        cpu_ms_per_molecule=15.0,
    )
    lines = _labelled(bench_engine.render_run("moses", run, None))
    assert lines["CPU s (main + workers)"].strip() == "3.00"
    assert lines["CPU-ms per molecule"].strip() == "15.00"


def test_cpu_seconds_count_this_process() -> None:
    before = bench_engine.cpu_seconds()
    sum(i * i for i in range(2_000_000))
    assert bench_engine.cpu_seconds() > before


def test_bench_rows_prints_cpu_per_molecule_and_the_same_digest_twice(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_rows.main(["--dataset", "chembl", "--n", "4", "--k", "3", "--repeats", "2"]) == 0
    printed = _labelled(capsys.readouterr().out)
    assert printed["rows"].strip() == "4"
    assert float(printed["CPU-ms per molecule"]) > 0
    digests = printed["result digest"].split()
    assert len(digests) == 1, "two passes over the same rows give the same results"
    assert re.fullmatch(r"[0-9a-f]{64}", digests[0])


def _labelled(text: str) -> dict[str, str]:
    """``label  value`` lines (two or more spaces between) as a dict."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^(\S.*?)\s{2,}(\S.*)$", text, flags=re.MULTILINE)}

"""The independent motif checker: it must not share code with the engine, and it must see what it claims to."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # as when run as a script

import check_decoy_motifs  # noqa: E402


def test_checker_imports_nothing_from_the_engine() -> None:
    tree = ast.parse((BENCHMARKS / "check_decoy_motifs.py").read_text(encoding="utf-8"))
    modules = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    modules += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert not [m for m in modules if m.split(".")[0] == "hetero_core"]


def _table(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = ["molecule_id,role,hash,smiles", *(f"{m},{role},x,{smiles}" for m, role, smiles in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("original", "decoy", "motif"),
    [
        ("CC(=O)Oc1ccccc1C(=O)O", "CC(=O)C(=O)c1ccccc1OO", "O-O single"),  # aspirin -> aryl hydroperoxide
        ("CC(=O)Nc1ccc(O)cc1", "CC(=O)c1ccc(NO)cc1", "N-O single"),  # paracetamol -> hydroxylamine
        ("ClCCNCC", "CCCCNCl", "halogen on N/O/S"),
        ("CC1CCCCC1C", "CCCCC1CC1C", "3-membered ring"),
        ("c1ccc2ccccc2c1", "C1=CC(c2ccccc2)=C1", "cyclobutadiene"),
        ("CCCC[N+](=O)[O-]", "CCC[N+](=O)C[O-]", "separated anion"),
        ("CC1CCC(C)C=C1", "C1=C2CCC1CC2", check_decoy_motifs.BREDT),
    ],
)
def test_checker_flags_a_new_motif(tmp_path: Path, original: str, decoy: str, motif: str) -> None:
    table = _table(tmp_path / "d.csv", [("m1", "original", original), ("m1", "decoy", decoy)])
    report = check_decoy_motifs.check(table, k=1)
    assert report.flagged == 1
    assert report.by_motif[motif] == 1


def test_checker_counts_stereo_only_decoys_and_molecules_reaching_k(tmp_path: Path) -> None:
    rows = [
        ("m1", "original", "C[C@H](N)C(=O)O"),
        ("m1", "decoy", "C[C@@H](N)C(=O)O"),  # the enantiomer: stereo only
        ("m2", "original", "CCOC(=O)CC"),
        ("m2", "decoy", "CCC(=O)OCC"),  # the original written another way: same constitution, counted too
        ("m2", "decoy", "CCCC(=O)OC"),
    ]
    report = check_decoy_motifs.check(_table(tmp_path / "d.csv", rows), k=2)
    assert report.stereo_only == 2
    assert (report.molecules, report.molecules_reaching_k, report.decoys) == (2, 1, 3)
    assert report.flagged == 0

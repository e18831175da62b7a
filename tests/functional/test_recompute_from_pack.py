"""A third party recomputes a pack from its own members (SPEC §4, §5), with arithmetic written out here.

Nothing below imports the engine's AUC, null or tie rule: the test is the outside auditor. For every
reference scorer and the built-in ``qed`` and ``sa`` on real ChEMBL molecules, each per-molecule AUC and
verdict in summary.csv must follow from decoys.csv and the manifest's parameters alone, and a built-in
scorer's numbers must equal that scorer applied to the exported SMILES.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rdkit import Chem
from rdkit.Chem import QED, rdMolDescriptors
from rdkit.Contrib.SA_Score import sascorer

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.functional.conftest import Cli, ReadTable, WriteTable

K = 20


def _tie(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _auc(original: float, w_original: float, decoys: list[tuple[float, float]]) -> float:
    won = sum(w_original * w * (0.5 if _tie(original, s) else 1.0 if original > s else 0.0) for s, w in decoys)
    return won / (w_original * sum(w for _, w in decoys))


def _gate(k: int, q: float, margin: float) -> Fraction:
    # one positive against k decoys: U is uniform on 0..k, so the q-quantile is (ceil(q(k+1)) - 1) / k
    null_q = Fraction(math.ceil(Fraction(str(q)) * (k + 1)) - 1, k)
    return min(Fraction(1), null_q + Fraction(str(margin)))


def _recompute(pack: Path, read_table: ReadTable) -> dict[str, tuple[float, str]]:
    parameters = json.loads((pack / "manifest.json").read_text(encoding="utf-8"))["parameters"]
    sign = -1.0 if parameters["score_direction"] == "lower" else 1.0
    originals: dict[str, tuple[float, float]] = {}
    decoys: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in read_table(pack / "decoys.csv"):
        if row["score"] == "":
            continue
        item = (sign * float(row["score"]), float(row["weight"]))
        if row["role"] == "original":
            originals[row["molecule_id"]] = item
        else:
            decoys[row["molecule_id"]].append(item)
    out: dict[str, tuple[float, str]] = {}
    for molecule_id, (score, weight) in originals.items():
        scored = decoys.get(molecule_id)
        if not scored:
            continue
        auc = _auc(score, weight, scored)
        gate = _gate(len(scored), parameters["q"], parameters["margin"])
        out[molecule_id] = (auc, "PASS" if auc >= float(gate) - 1e-12 else "FAIL")
    return out


@pytest.mark.parametrize(
    ("scorer", "direction"),
    [("good", "higher"), ("constant", "higher"), ("random", "higher"), ("qed", "higher"), ("sa", "lower")],
)
def test_every_auc_and_verdict_follows_from_decoys_csv_alone(
    cli: Cli, real_set_csv: Path, tmp_path: Path, read_table: ReadTable, scorer: str, direction: str
) -> None:
    pack = tmp_path / scorer
    result = cli.run(real_set_csv, pack, "--scorer", scorer, "--score-direction", direction, k=K)
    assert result.code in (0,), result.err

    recomputed = _recompute(pack, read_table)
    judged = [row for row in read_table(pack / "summary.csv") if row["verdict"] in ("PASS", "FAIL")]
    assert len(judged) >= 50  # the set is real and mostly auditable
    assert {row["id"] for row in judged} == set(recomputed)
    for row in judged:
        auc, verdict = recomputed[row["id"]]
        assert float(row["auc"]) == pytest.approx(auc, abs=5e-7), row["id"]
        assert row["verdict"] == verdict, row["id"]


@pytest.mark.parametrize("scorer", ["qed", "sa"])
def test_built_in_scores_in_the_pack_are_the_scorer_applied_to_the_exported_smiles(
    cli: Cli, real_set_csv: Path, tmp_path: Path, read_table: ReadTable, scorer: str
) -> None:
    pack = tmp_path / scorer
    assert cli.run(real_set_csv, pack, "--scorer", scorer, k=K).code == 0

    rows = [row for row in read_table(pack / "decoys.csv") if row["score"]]
    assert len(rows) > 500
    for row in rows:
        mol = Chem.MolFromSmiles(row["smiles"])
        expected = QED.qed(mol) if scorer == "qed" else (10.0 - sascorer.calculateScore(mol)) / 9.0
        assert float(row["score"]) == expected, row["smiles"]  # full precision: equal, not approximately


def test_decoys_csv_keeps_every_score_digit(
    cli: Cli, real_set_csv: Path, tmp_path: Path, read_table: ReadTable
) -> None:
    pack = tmp_path / "random"
    assert cli.run(real_set_csv, pack, "--scorer", "random", k=K).code == 0

    scores = [row["score"] for row in read_table(pack / "decoys.csv") if row["score"]]
    assert max(len(s.split(".")[1]) for s in scores if "e" not in s) > 6
    assert all(repr(float(s)) == s for s in scores)  # shortest round-trip repr


# MOSES rows with bridge-rung decoys whose fast ring set is not the SSSR (their aromatic-ring counts once were wrong)
_TRAPS_FILE = Path(__file__).resolve().parents[1] / "data" / "fast_ring_traps.smi"
FAST_RING_TRAPS = tuple(
    line.split()[0] for line in _TRAPS_FILE.read_text("utf-8").splitlines() if line.strip() and not line.startswith("#")
)
SIX_DIGITS = 5e-7 + 1e-12  # summary.csv writes descriptors rounded to 6 decimals
_COUNTS: dict[str, Callable[[Chem.Mol], float]] = {
    "hbd": rdMolDescriptors.CalcNumHBD,
    "hba": rdMolDescriptors.CalcNumHBA,
    "heavy_atoms": Chem.Mol.GetNumHeavyAtoms,
    "rings": rdMolDescriptors.CalcNumRings,
    "aromatic_rings": rdMolDescriptors.CalcNumAromaticRings,
}
_SUMS: dict[str, Callable[[Chem.Mol], float]] = {  # per-atom sums: a new atom order moves the last bits
    "mw": rdMolDescriptors._CalcMolWt,
    "logp": lambda mol: rdMolDescriptors.CalcCrippenDescriptors(mol)[0],
    "tpsa": rdMolDescriptors.CalcTPSA,
}


def test_summary_descriptor_deltas_follow_from_the_exported_smiles(
    cli: Cli, real_set_csv: Path, tmp_path: Path, read_table: ReadTable, write_table: WriteTable
) -> None:
    traps = [(f"trap{i}", smiles) for i, smiles in enumerate(FAST_RING_TRAPS)]
    rows = [("id", "smiles"), *traps, *((row["id"], row["smiles"]) for row in read_table(real_set_csv))]
    pack = tmp_path / "deltas"
    assert cli.run(write_table(tmp_path / "in.csv", rows), pack, k=K).code == 0

    originals: dict[str, str] = {}
    decoys_of: dict[str, list[str]] = defaultdict(list)
    for row in read_table(pack / "decoys.csv"):
        if row["role"] == "original":
            originals[row["molecule_id"]] = row["smiles"]
        else:
            decoys_of[row["molecule_id"]].append(row["smiles"])
    checked = moved = 0
    for row in read_table(pack / "summary.csv"):
        if not int(row["n_decoys"] or 0):
            continue
        original = Chem.MolFromSmiles(originals[row["id"]])
        decoys = [Chem.MolFromSmiles(s) for s in decoys_of[row["id"]]]
        assert len(decoys) == int(row["n_decoys"]), row["id"]
        for name, calc in (*_COUNTS.items(), *_SUMS.items()):
            base = float(calc(original))
            delta = sum(abs(float(calc(d)) - base) for d in decoys) / len(decoys)
            recorded = (float(row[name]), float(row[f"mean_abs_delta_{name}"]))
            assert recorded == pytest.approx((base, delta), rel=0, abs=SIX_DIGITS), (row["id"], name)
        checked += 1
        moved += float(row["mean_abs_delta_aromatic_rings"]) > 0
    assert checked >= 60
    assert moved >= 5, "some decoys change the aromatic-ring count, so the column is tested where it moves"

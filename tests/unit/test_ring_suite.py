"""The ring suite (benchmarks/ring_suite): valid, classed, and the --max-rung caps keep their promises on it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rdkit import Chem

from hetero_core.decoys import LADDER, DecoyParams, generate_decoys
from hetero_core.molecules import Guardrails, PreparedMolecule, prepare_molecule

SUITE = Path(__file__).resolve().parents[2] / "benchmarks" / "ring_suite" / "ring_suite.csv"
CLASSES = {
    "benzenoid",
    "azine",
    "azole",
    "heterole",
    "fused",
    "saturated",
    "strained",
    "bridged",
    "spiro",
    "macrocycle",
}


def _suite() -> list[tuple[str, PreparedMolecule, str]]:
    with SUITE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for row in rows:
        prepared = prepare_molecule(row["smiles"], Guardrails())
        assert isinstance(prepared, PreparedMolecule), row
        out.append((row["id"], prepared, row["class"]))
    return out


SUITE_ROWS = _suite()
SAMPLE = SUITE_ROWS[::3]


def test_suite_is_a_few_hundred_distinct_molecules_with_one_word_classes() -> None:
    assert len(SUITE_ROWS) >= 300
    assert {klass for _, _, klass in SUITE_ROWS} == CLASSES
    assert len({p.canonical_smiles for _, p, _ in SUITE_ROWS}) == len(SUITE_ROWS)


@pytest.mark.parametrize("cap", ["strict", "relax_aromatic"])
def test_bridge_caps_never_rewire_a_ring_system_of_the_suite(cap: str) -> None:
    for molecule_id, prepared, _ in SAMPLE:
        rings = sorted(len(r) for r in prepared.mol.GetRingInfo().AtomRings())
        aromatic = sum(a.GetIsAromatic() for a in prepared.mol.GetAtoms())
        found = generate_decoys(prepared.mol, prepared.canonical_smiles, 0, DecoyParams(k=5, max_rung=cap))
        for decoy in found.decoys:
            assert decoy.strategy in LADDER[: LADDER.index(cap) + 1]
            mol = Chem.MolFromSmiles(decoy.smiles)  # as exported: full ring perception (SSSR)
            assert sorted(len(r) for r in mol.GetRingInfo().AtomRings()) == rings, (molecule_id, decoy.smiles)
            assert sum(a.GetIsAromatic() for a in mol.GetAtoms()) == aromatic, (molecule_id, decoy.smiles)


def test_each_higher_cap_reaches_at_least_as_many_molecules() -> None:
    with_decoys = []
    for cap in LADDER:
        params = DecoyParams(k=5, max_rung=cap)
        with_decoys.append(
            sum(bool(generate_decoys(p.mol, p.canonical_smiles, 0, params).decoys) for _, p, _ in SAMPLE)
        )
    assert with_decoys == sorted(with_decoys)
    assert with_decoys[-1] == len(SAMPLE)  # the Kekulé rung reaches every ring system of the suite
    assert with_decoys[1] < with_decoys[-1]  # and the ring-suite contract (relax_aromatic) leaves some without

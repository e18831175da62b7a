"""Crippen logP of decoys from their original's atom contributions: RDKit's number, bit for bit, on every rung."""

from __future__ import annotations

import pytest
from rdkit import Chem

from hetero_core.molecules import DecoyLogP, _crippen, crippen_logp
from tests.unit.real_molecules import WithDecoys, decoys_of, real_smiles

# oxygen in every Crippen role: esters, acids, carboxylates, nitro, enols, phenols, ethers, aldehydes, N-oxides
OXYGEN_RICH = (
    "CC(=O)Oc1ccccc1C(=O)O",
    "CCOC(=O)CC(=O)OCC",
    "O=C([O-])CCC[N+](C)(C)C",
    "O=[N+]([O-])c1ccc(CCO)cc1",
    "OC(=CC(=O)C)C",
    "O=CCc1ccc(O)c(OC)c1",
    "CC(C)(C)OC(=O)NCCOCCO",
    "C[n+]1ccc(C(=O)OC)cc1",
    "OC1=CC(=O)OC1c1ccco1",
    "[2H]C([2H])([2H])OC(=O)CCN",  # explicit hydrogen atoms: RDKit is asked directly
)


@pytest.fixture(scope="module")
def decoys() -> WithDecoys:
    return decoys_of([*OXYGEN_RICH, *real_smiles()], seed=5)


def _check_all(decoys: WithDecoys) -> tuple[int, int]:
    checked = bridge = 0
    for prepared, found in decoys:
        logp = DecoyLogP(prepared.mol)
        for decoy in found:
            incremental = logp.logp(decoy.mol, decoy.removed, decoy.added, same_aromaticity=decoy.keeps_ring_systems)
            assert incremental == crippen_logp(decoy.mol), (prepared.canonical_smiles, decoy.smiles)
            checked += 1
            bridge += decoy.keeps_ring_systems
    return checked, bridge


def test_decoy_logp_is_rdkits_bit_for_bit_with_a_cold_and_a_warm_memo(
    decoys: WithDecoys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_crippen, "_MEMO", {})
    checked, bridge = _check_all(decoys)
    assert checked > 2000
    assert 0 < bridge < checked, "both the bridge path and the ring-rung path are exercised"
    assert len(_crippen._MEMO) > 100
    _check_all(decoys)  # now every environment comes from the memo, filled by other molecules too


def test_molecules_with_explicit_hydrogens_or_odd_bonds_are_computed_by_rdkit() -> None:
    deuterated = DecoyLogP(Chem.MolFromSmiles("[2H]C([2H])([2H])OC(=O)CCN"))
    assert not deuterated.usable
    assert DecoyLogP(Chem.MolFromSmiles("CCOC(=O)CCN")).usable


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_crippen, "_MEMO", {})
    monkeypatch.setattr(_crippen, "_MEMO_LIMIT", 5)
    DecoyLogP(Chem.MolFromSmiles("CCOC(=O)CC(=O)OCCc1ccccc1"))
    assert len(_crippen._MEMO) == 5


def test_the_molecules_own_logp_is_rdkits_from_the_same_contributions(
    decoys: WithDecoys,
) -> None:
    for prepared, _ in decoys:
        assert DecoyLogP(prepared.mol).molecule_logp == crippen_logp(prepared.mol), prepared.canonical_smiles

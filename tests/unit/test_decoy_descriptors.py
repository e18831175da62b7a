"""Decoy descriptors from the original's where exact: the same numbers RDKit gives on the decoy, on every rung."""

from __future__ import annotations

import pytest
from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

from hetero_core.decoys import DecoyParams, generate_decoys
from hetero_core.molecules import (
    DecoyAcceptors,
    DecoyDescriptors,
    Guardrails,
    PreparedMolecule,
    _acceptors,
    crippen_logp,
    descriptors,
    prepare_molecule,
)
from tests.unit.real_molecules import WithDecoys, decoys_of, real_smiles

# acceptors in every role the pattern knows: amides and amines, esters, acids and alcohols, thio-ethers, azines,
# furans, N-oxides, sulfonamides, carbamates, hydroxamic acids, charged O
ACCEPTOR_RICH = (
    "CC(=O)NCCN(C)CCO",
    "CCOC(=O)CC(=O)OCCSC",
    "O=C([O-])CCC[N+](C)(C)C",
    "O=[N+]([O-])c1ccc(CCO)cc1",
    "CS(=O)(=O)NCCc1ccncc1",
    "CC(C)(C)OC(=O)NCCOCCO",
    "ONC(=O)CCc1ccco1",
    "CSCCN=C(N)NCCS",
    "OC1=CC(=O)OC1c1ccsc1",
)
# descriptors that are sums of per-atom floats: a re-parsed SMILES numbers the atoms differently, so its sum
# may differ in the last bits; every other descriptor is a count and must be equal
FLOAT_SUMS = frozenset({"mw", "logp", "tpsa"})


@pytest.fixture(scope="module")
def decoys() -> WithDecoys:
    # MOSES rows whose bridge-rung decoys have a FastFindRings ring set that is not the SSSR
    return decoys_of([*ACCEPTOR_RICH, *real_smiles("tests/data/fast_ring_traps.smi")], seed=7)


def _rdkit(decoy: Chem.Mol, *, full: bool) -> dict[str, float | None]:
    """RDKit's descriptors of a decoy after full sanitisation (SSSR rings, perceived aromaticity), atom order kept."""
    perceived = Chem.Mol(decoy)
    Chem.SanitizeMol(perceived)
    return descriptors(perceived, logp=crippen_logp(perceived) if full else None, full=full)


def _rdkit_on_smiles(smiles: str, *, full: bool) -> dict[str, float | None]:
    """RDKit's descriptors of a decoy's exported SMILES, parsed from scratch: what a reader of the pack gets."""
    mol = Chem.MolFromSmiles(smiles)
    return descriptors(mol, logp=crippen_logp(mol) if full else None, full=full)


def _same_as_parsed(ours: dict[str, float | None], parsed: dict[str, float | None]) -> bool:
    return ours.keys() == parsed.keys() and all(
        ours[name] == parsed[name]
        or (name in FLOAT_SUMS and ours[name] == pytest.approx(parsed[name], rel=1e-12, abs=1e-12))
        for name in ours
    )


@pytest.mark.parametrize("full", [True, False])
def test_every_decoys_descriptors_are_rdkits_on_the_decoy(
    decoys: WithDecoys, monkeypatch: pytest.MonkeyPatch, full: bool
) -> None:
    monkeypatch.setattr(_acceptors, "_MEMO", {})
    checked = bridge = 0
    for _ in range(2):  # a cold memo, then a warm one filled by other molecules too
        for prepared, found in decoys:
            described = DecoyDescriptors(prepared.mol, full=full)
            assert described.original == descriptors(prepared.mol)
            for decoy in found:
                ours = described.of(decoy.mol, decoy.removed, decoy.added, same_rings=decoy.keeps_ring_systems)
                assert ours == _rdkit(decoy.mol, full=full), (prepared.canonical_smiles, decoy.smiles)
                parsed = _rdkit_on_smiles(decoy.smiles, full=full)
                assert _same_as_parsed(ours, parsed), (prepared.canonical_smiles, decoy.smiles, ours, parsed)
                checked += 1
                bridge += decoy.keeps_ring_systems
    assert checked > 4000
    assert 0 < bridge < checked, "both the bridge path and the ring-rung path are exercised"
    assert len(_acceptors._MEMO) > 20 or not full


@pytest.mark.parametrize("full", [True, False])
def test_a_bridge_rung_decoys_ring_counts_are_those_of_its_exported_smiles(full: bool) -> None:
    # moses_953: a bridge-rung decoy on which FastFindRings finds the benzene ring only inside a larger cycle
    prepared = prepare_molecule("O=C1CCCCCC1C1(O)C(=O)Nc2ccc(Br)cc21", Guardrails(standardize=True))
    assert isinstance(prepared, PreparedMolecule)
    found = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=7, params=DecoyParams(k=20))
    trap = next(d for d in found.decoys if d.smiles == "O=C1CCCCCC1c1ccc2c(c1)C(O)(Br)C(=O)N2")
    assert trap.keeps_ring_systems
    assert rdMolDescriptors.CalcNumAromaticRings(trap.mol) == 0, "the trap: fast ring search misses the benzene"

    ours = DecoyDescriptors(prepared.mol, full=full).of(trap.mol, trap.removed, trap.added, same_rings=True)

    assert ours["aromatic_rings"] == 1.0 == rdMolDescriptors.CalcNumAromaticRings(Chem.MolFromSmiles(trap.smiles))
    assert ours["rings"] == 3.0
    assert _same_as_parsed(ours, _rdkit_on_smiles(trap.smiles, full=full))


def test_acceptors_are_counted_from_touched_atoms_only_on_bridge_rungs(
    decoys: WithDecoys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_acceptors, "_MEMO", {})
    asked = 0

    def counting(mol: Chem.Mol) -> set[int]:
        nonlocal asked
        asked += 1
        return original_matches(mol)

    original_matches = _acceptors._matches
    monkeypatch.setattr(_acceptors, "_matches", counting)
    bridge = 0
    for prepared, found in decoys:
        acceptors = DecoyAcceptors(prepared.mol)
        for decoy in (d for d in found if d.keeps_ring_systems):
            assert acceptors.hba(decoy.mol, decoy.removed, decoy.added, same_rings=True) == (
                rdMolDescriptors.CalcNumHBA(decoy.mol)
            )
            bridge += 1
    assert bridge > 500
    assert asked < len(decoys) + bridge / 2, "most environments come from the memo, not from RDKit"


def test_molecules_with_explicit_hydrogens_or_odd_bonds_are_counted_by_rdkit() -> None:
    assert not DecoyAcceptors(Chem.MolFromSmiles("[2H]OC(=O)CCN")).usable
    assert not DecoyAcceptors(Chem.MolFromSmiles("CC(=O)O->[Cu]")).usable
    assert DecoyAcceptors(Chem.MolFromSmiles("CCOC(=O)CCN")).usable


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_acceptors, "_MEMO", {})
    monkeypatch.setattr(_acceptors, "_MEMO_LIMIT", 2)
    for index in range(5):
        _acceptors._remember(("key", index), True)
    assert len(_acceptors._MEMO) == 2

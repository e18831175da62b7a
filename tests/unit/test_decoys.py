"""decoys.v2 contract (SPEC §3): properties 1-4 on a few hundred real molecules, plausibility, constitution-unique
stereo, the ladder, hard mode, seeds."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from rdkit import Chem, RDConfig
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

from hetero_core.decoys import LADDER, DecoyParams, HardMode, RejectionReason, generate_decoys
from hetero_core.decoys._generate import _build, _constitution, _eligible_edges, _relative_double_bond_stereo
from hetero_core.decoys._plausibility import motif_counts, new_motifs
from hetero_core.decoys._swap_graph import SwapGraph, edge, swap_partners
from hetero_core.hashing import smiles_hash
from hetero_core.molecules import Guardrails, PreparedMolecule, prepare_molecule

DATA = Path(__file__).resolve().parents[1] / "data"
CHEMBL_SERIES = Path(RDConfig.RDContribDir) / "FreeWilson" / "data" / "CHEMBL2321810.smi"
CHEMBL_ACTIVES = Path(RDConfig.RDContribDir) / "fraggle" / "data" / "ChEMBL_11265_actives.smi"


def _smi_file(path: Path) -> list[str]:
    out = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            out.append(line.split()[0])
    return out


def _real_molecules() -> list[str]:
    """~300 real molecules: tricky hand-picked ones + two ChEMBL series shipped inside RDKit's own wheel."""
    tricky = _smi_file(DATA / "tricky_molecules.smi")
    series = _smi_file(CHEMBL_SERIES)
    actives = _smi_file(CHEMBL_ACTIVES)
    sample = random.Random(7).sample(series, 160)
    return tricky + sample + actives


MOLECULES = _real_molecules()


def _prepared(smiles: str, *, standardize: bool = False) -> PreparedMolecule:
    prepared = prepare_molecule(smiles, Guardrails(standardize=standardize))
    assert isinstance(prepared, PreparedMolecule), (smiles, prepared)
    return prepared


def _degrees(mol: Chem.Mol) -> list[int]:
    return sorted(atom.GetDegree() for atom in mol.GetAtoms() if atom.GetAtomicNum() > 1)


@pytest.fixture(scope="module")
def decoy_sets() -> list[tuple[PreparedMolecule, list[str]]]:
    out = []
    for smiles in MOLECULES:
        prepared = _prepared(smiles, standardize=True)
        decoy_set = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=11)
        out.append((prepared, [d.smiles for d in decoy_set.decoys]))
    return out


def test_fixture_is_a_few_hundred_real_molecules() -> None:
    assert len(MOLECULES) >= 290


def test_property_1_sanitizable_canonical_and_unique(decoy_sets: list[tuple[PreparedMolecule, list[str]]]) -> None:
    for prepared, decoys in decoy_sets:
        assert len(set(decoys)) == len(decoys), prepared.canonical_smiles
        assert prepared.canonical_smiles not in decoys
        for smiles in decoys:
            mol = Chem.MolFromSmiles(smiles)
            assert mol is not None, (prepared.canonical_smiles, smiles)
            # the stored SMILES is RDKit's canonical form, so its hash is the decoy's stable identity
            assert Chem.MolToSmiles(mol) == smiles, (prepared.canonical_smiles, smiles)


def test_property_2_same_formula_and_degree_sequence(decoy_sets: list[tuple[PreparedMolecule, list[str]]]) -> None:
    for prepared, decoys in decoy_sets:
        formula = CalcMolFormula(prepared.mol)
        degrees = _degrees(prepared.mol)
        charges = Counter(a.GetFormalCharge() for a in prepared.mol.GetAtoms())
        isotopes = Counter(a.GetIsotope() for a in prepared.mol.GetAtoms())
        for smiles in decoys:
            mol = Chem.MolFromSmiles(smiles)
            assert CalcMolFormula(mol) == formula, (prepared.canonical_smiles, smiles)
            assert _degrees(mol) == degrees, (prepared.canonical_smiles, smiles)
            assert Counter(a.GetFormalCharge() for a in mol.GetAtoms()) == charges
            assert Counter(a.GetIsotope() for a in mol.GetAtoms()) == isotopes


def test_property_3_every_decoy_is_one_fragment(decoy_sets: list[tuple[PreparedMolecule, list[str]]]) -> None:
    for prepared, decoys in decoy_sets:
        for smiles in decoys:
            assert "." not in smiles, (prepared.canonical_smiles, smiles)
            assert len(Chem.GetMolFrags(Chem.MolFromSmiles(smiles))) == 1


def _flat(smiles: str) -> str:
    mol = Chem.MolFromSmiles(smiles)
    Chem.RemoveStereochemistry(mol)
    return str(Chem.MolToSmiles(mol))


def test_v2_no_decoy_has_a_red_flag_its_original_lacks(decoy_sets: list[tuple[PreparedMolecule, list[str]]]) -> None:
    flagged = []
    for prepared, decoys in decoy_sets:
        original = motif_counts(prepared.mol)
        for smiles in decoys:
            if new := new_motifs(original, motif_counts(Chem.MolFromSmiles(smiles))):
                flagged.append((prepared.canonical_smiles, smiles, new))
    assert flagged == []


def test_v2_decoys_are_unique_by_constitution(decoy_sets: list[tuple[PreparedMolecule, list[str]]]) -> None:
    """No decoy is a mere stereoisomer of its original or of another decoy (a 2D model must tie on those)."""
    for prepared, decoys in decoy_sets:
        constitutions = [_flat(prepared.canonical_smiles), *(_flat(d) for d in decoys)]
        assert len(set(constitutions)) == len(constitutions), prepared.canonical_smiles


def test_yield_reaches_k_on_drug_like_molecules(decoy_sets: list[tuple[PreparedMolecule, list[str]]]) -> None:
    drug_like = [decoys for prepared, decoys in decoy_sets if prepared.mol.GetNumHeavyAtoms() >= 15]
    assert len(drug_like) > 200
    reached = sum(len(decoys) == 20 for decoys in drug_like) / len(drug_like)
    assert reached >= 0.95


def test_property_4_deterministic_for_same_seed() -> None:
    for smiles in MOLECULES[:60]:
        prepared = _prepared(smiles, standardize=True)
        first = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=3)
        second = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=3)
        assert [d.smiles for d in first.decoys] == [d.smiles for d in second.decoys]
        assert first.strategy == second.strategy


def test_property_4_independent_of_how_the_input_smiles_was_written() -> None:
    rng = random.Random(5)
    for smiles in MOLECULES[40:80]:
        mol = Chem.MolFromSmiles(smiles)
        shuffled = list(range(mol.GetNumAtoms()))
        rng.shuffle(shuffled)
        rewritten = Chem.MolToSmiles(Chem.RenumberAtoms(mol, shuffled), canonical=False)
        a, b = _prepared(smiles), _prepared(rewritten)
        assert a.canonical_smiles == b.canonical_smiles
        decoys_a = generate_decoys(a.mol, a.canonical_smiles, seed=1).decoys
        decoys_b = generate_decoys(b.mol, b.canonical_smiles, seed=1).decoys
        assert [d.smiles for d in decoys_a] == [d.smiles for d in decoys_b]


def test_a_different_seed_gives_different_decoys() -> None:
    prepared = _prepared("CC(C)Cc1ccc(cc1)C(C)C(=O)O")  # ibuprofen
    first = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=1, params=DecoyParams(k=5))
    second = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=2, params=DecoyParams(k=5))
    assert [d.smiles for d in first.decoys] != [d.smiles for d in second.decoys]


def test_hash_is_sha256_of_the_canonical_smiles() -> None:
    prepared = _prepared("CC(=O)Oc1ccccc1C(=O)O")
    for decoy in generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0).decoys:
        assert decoy.hash == smiles_hash(decoy.smiles)
        assert len(decoy.hash) == 64


def test_strategy_ladder_starts_gentle_and_is_recorded() -> None:
    # A long alkyl chain has plenty of acyclic, non-aromatic single bonds: the strict rung is enough.
    chain = _prepared("CCCCCCCCCCC(C)CCCCC(CC)CCO")
    decoys = generate_decoys(chain.mol, chain.canonical_smiles, seed=0, params=DecoyParams(k=5))
    assert decoys.strategy == "strict"
    assert {d.strategy for d in decoys.decoys} == {"strict"}
    # Benzene has no single bond outside its aromatic ring: only the Kekulé rung can rewire it.
    benzene = _prepared("c1ccccc1")
    decoys = generate_decoys(benzene.mol, benzene.canonical_smiles, seed=0)
    assert all(d.strategy == "kekule" for d in decoys.decoys)


def test_strict_and_relax_aromatic_never_touch_ring_systems() -> None:
    prepared = _prepared("Cc1ccc(cc1)S(=O)(=O)NCCCC(=O)OCC")
    for decoy in generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0, params=DecoyParams(k=10)).decoys:
        if decoy.strategy in ("strict", "relax_aromatic"):
            ring_info = decoy.mol.GetRingInfo()
            assert ring_info.NumRings() == prepared.mol.GetRingInfo().NumRings()
            assert sum(a.GetIsAromatic() for a in decoy.mol.GetAtoms()) == 6


def test_ladder_order_is_the_spec_order() -> None:
    assert LADDER == ("strict", "relax_aromatic", "relax_rings", "kekule")


def test_union_takes_gentler_rungs_first() -> None:
    prepared = _prepared("CC(=O)Oc1ccccc1C(=O)O")  # aspirin: few strict swaps, must climb the ladder
    decoys = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0).decoys
    ranks = [LADDER.index(d.strategy) for d in decoys if d.n_swaps == 1]
    assert ranks == sorted(ranks)


def test_molecules_without_two_swappable_bonds_get_no_decoys() -> None:
    for smiles in ("CCO", "C", "O=C=O", "C#N"):
        prepared = _prepared(smiles)
        assert generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0).decoys == ()


def test_hard_mode_keeps_only_similar_decoys() -> None:
    prepared = _prepared("COc1ccc2[nH]c(nc2c1)S(=O)Cc1ncc(C)c(OC)c1C")  # omeprazole
    hard = HardMode(0.65, 0.95)
    decoys = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0, params=DecoyParams(hard_mode=hard))
    assert decoys.decoys, "omeprazole has close decoys"
    assert all(0.65 <= d.similarity <= 0.95 for d in decoys.decoys)
    loose = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0)
    assert min(d.similarity for d in loose.decoys) < 0.65


def test_hard_mode_rejects_inverted_bounds() -> None:
    with pytest.raises(ValueError, match="hard mode"):
        HardMode(0.9, 0.5)


def test_multi_swap_walks_are_used_when_single_swaps_run_out() -> None:
    prepared = _prepared("CCCCC(C)C")  # few distinct single swaps; asking for many forces walks
    decoys = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0, params=DecoyParams(k=40)).decoys
    assert any(d.n_swaps >= 2 for d in decoys)


def test_stereo_molecules_give_valid_decoys() -> None:
    for smiles in ("C/C=C/C=C/C(=O)O", "N[C@@H](Cc1ccccc1)C(=O)O", "C[C@H](N)C(=O)N[C@@H](CC(C)C)C(=O)O"):
        prepared = _prepared(smiles)
        decoys = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0).decoys
        assert decoys
        for decoy in decoys:
            assert Chem.MolToSmiles(Chem.MolFromSmiles(decoy.smiles)) == decoy.smiles


# -- stereo (decoys.v2) ----------------------------------------------------------------------------------------

# Molecules on which decoys.v1 emitted stereoisomers of the original or of another decoy.
V1_STEREO_ONLY = (
    "CN(C)CCC[C@]1(c2ccc(C#N)cc2)OCc2cc(F)ccc21",  # escitalopram: v1 emitted its enantiomer
    "CC(C)C[C@H](NC(=O)[C@H](C)N)C(=O)O",  # Ala-Leu: v1 emitted the D-Ala epimer
    "O=C(O)C[C@H](O)C[C@H](O)/C=C/c1c(C2CC2)nc2ccccc2c1-c1ccc(F)cc1",  # pitavastatin: epimers at the diol
    "C/C=C/C=C/C(=O)O",  # sorbic acid: E/Z-stripped twins
)


@pytest.mark.parametrize("smiles", V1_STEREO_ONLY)
def test_epimers_enantiomers_and_e_z_twins_are_never_emitted(smiles: str) -> None:
    prepared = _prepared(smiles)
    decoys = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0).decoys
    assert decoys
    constitutions = [_flat(prepared.canonical_smiles), *(_flat(d.smiles) for d in decoys)]
    assert len(set(constitutions)) == len(constitutions)


def test_stereoisomer_candidates_are_counted() -> None:
    prepared = _prepared(V1_STEREO_ONLY[2])
    decoy_set = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0)
    assert decoy_set.rejections.get(RejectionReason.STEREOISOMER, 0) > 0


def _same_constitution_swaps(smiles: str) -> list[str]:
    """Every connected single swap whose result has the original's constitution, as isomeric SMILES."""
    prepared = _prepared(smiles)
    mol = prepared.mol
    chiral = frozenset(a.GetIdx() for a in mol.GetAtoms() if a.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED)
    stereo_bonds = [b.GetIdx() for b in mol.GetBonds() if b.GetStereo() != Chem.BondStereo.STEREONONE]
    work = _relative_double_bond_stereo(mol) if stereo_bonds else mol
    graph = SwapGraph(mol.GetNumAtoms(), (edge(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()))
    eligible = _eligible_edges(mol, "relax_rings")
    out = []
    for i, first in enumerate(eligible):
        for second in eligible[i + 1 :]:
            for orientation in (0, 1):
                added = swap_partners(first, second, orientation)
                if added is None or not graph.can_swap((first, second), added):
                    continue
                if not graph.connected_after((first, second), added):
                    continue
                decoy = _build(work, (first, second), added, stereo_bonds, chiral, sanitize=True)
                if decoy is not None and _constitution(decoy) == _constitution(mol):
                    Chem.AssignStereochemistry(decoy, cleanIt=True, force=True)
                    out.append(Chem.MolToSmiles(decoy))
    return out


@pytest.mark.parametrize("smiles", [*V1_STEREO_ONLY[:2], V1_STEREO_ONLY[3], "C/C=C/CCC(C)CCOC", "CC(C)=CCC/C(C)=C/CO"])
def test_kept_stereo_keeps_its_configuration(smiles: str) -> None:
    """A swap that gives back the same constitution puts the new neighbour in the old one's place: same molecule.

    v1 appended the new bond at the end of the atom's bond list, which silently inverted some centres and
    emitted the enantiomer of escitalopram as a decoy; and it dropped E/Z whenever a swap touched either end of
    the double bond (geraniol's E lost by moving its CH2OH's neighbour).
    """
    same = _same_constitution_swaps(smiles)
    assert same, "these molecules have symmetric swaps"
    assert set(same) == {_prepared(smiles).canonical_smiles}


def test_a_decoy_gains_no_specified_stereo() -> None:
    # 2-methylalkyl esters and a trisubstituted alkene: swaps create new stereocentres and E/Z-capable bonds
    gained_unspecified = False
    for smiles in ("CCCC(C)(C)C(=O)OCC(C)C", "CC(C)=CCCC(C)(C)CCO", "N[C@@H](Cc1ccccc1)C(=O)O"):
        prepared = _prepared(smiles)
        original = Chem.FindMolChiralCenters(prepared.mol, includeUnassigned=False, useLegacyImplementation=False)
        decoys = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0).decoys
        for decoy in decoys:
            mol = Chem.MolFromSmiles(decoy.smiles)
            specified = Chem.FindMolChiralCenters(mol, includeUnassigned=False, useLegacyImplementation=False)
            everything = Chem.FindMolChiralCenters(mol, includeUnassigned=True, useLegacyImplementation=False)
            assert len(specified) <= len(original), (smiles, decoy.smiles)
            assert "/" not in decoy.smiles, (smiles, decoy.smiles)
            assert "\\" not in decoy.smiles, (smiles, decoy.smiles)
            gained_unspecified |= len(everything) > len(specified)
    assert gained_unspecified, "no decoy had a new stereocentre, the test proves nothing"


def test_e_z_is_kept_on_double_bonds_that_stay_stereogenic() -> None:
    prepared = _prepared("C/C=C/CCC(C)CCOC")
    decoys = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0).decoys
    assert decoys
    assert all("/" in d.smiles for d in decoys)

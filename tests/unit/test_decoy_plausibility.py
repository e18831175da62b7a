"""decoys.v2 plausibility (SPEC §3): every red flag on a molecule that triggers it, the modes, the ladder cap.

Each case is a small molecule whose ``none`` (decoys.v1) decoys really do carry the motif, so the test proves
both that the motif is reachable and that ``standard`` drops it and counts it under its reason.
"""

from __future__ import annotations

import pytest
from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

from hetero_core.decoys import LADDER, DecoyParams, RejectionReason, format_rejections, generate_decoys
from hetero_core.decoys._plausibility import (
    GraphChecks,
    anti_bredt_bridgeheads,
    brenk_alerts,
    cumulated_atoms,
    flag_bond_counts,
    motif_counts,
    new_motifs,
)
from hetero_core.molecules import Guardrails, PreparedMolecule, prepare_molecule

R = RejectionReason


def _prepared(smiles: str) -> PreparedMolecule:
    prepared = prepare_molecule(smiles, Guardrails())
    assert isinstance(prepared, PreparedMolecule), smiles
    return prepared


def _decoys(smiles: str, mode: str, k: int = 20, max_rung: str = "kekule") -> tuple[list[str], dict[str, int]]:
    prepared = _prepared(smiles)
    params = DecoyParams(k=k, decoy_filter=mode, max_rung=max_rung)  # type: ignore[arg-type]
    decoy_set = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0, params=params)
    return [d.smiles for d in decoy_set.decoys], dict(decoy_set.rejections)


def _new_flags(original: str, decoy: str) -> list[RejectionReason]:
    return new_motifs(motif_counts(Chem.MolFromSmiles(original)), motif_counts(Chem.MolFromSmiles(decoy)))


CASES = [
    # (molecule, the red flag its v1 decoys gain)
    pytest.param("CCOC(=O)CCC(=O)OCC", R.O_O, id="diethyl_succinate-peroxide"),
    pytest.param("CCNC(=O)CCNCC", R.N_N, id="amide_amine-hydrazine"),
    pytest.param("CCNCCOCC", R.N_O, id="amino_ether-hydroxylamine"),
    pytest.param("CSCCOCC", R.S_O, id="thioether_ether-sulfenate"),
    pytest.param("ClCCNCC", R.HALOGEN, id="chloroethylamine-N_chloramine"),
    pytest.param("CC1CCCCC1C", R.RING_3, id="dimethylcyclohexane-cyclopropane"),
    pytest.param("CC1CCCCC1C", R.RING_4, id="dimethylcyclohexane-cyclobutane"),
    pytest.param("CCCCOC(=O)C1CC1(Cl)Cl", R.RING_4, id="cyclopropane_ester-oxetanone"),
    pytest.param("c1ccc2ccccc2c1", R.ANTIAROMATIC, id="naphthalene-cyclobutadiene"),
    pytest.param("c1ccc2ccccc2c1", R.BREDT, id="naphthalene-metacyclophane"),
    pytest.param("CCCC[N+](=O)[O-]", R.CHARGES, id="nitrobutane-torn_nitro"),
]


@pytest.mark.parametrize(("smiles", "reason"), CASES)
def test_standard_drops_a_red_flag_that_v1_decoys_carry(smiles: str, reason: RejectionReason) -> None:
    canonical = _prepared(smiles).canonical_smiles
    v1, v1_rejections = _decoys(smiles, "none")
    assert any(reason in _new_flags(canonical, d) for d in v1), f"{smiles}: v1 decoys never gain {reason}"
    assert v1_rejections.get(reason, 0) == 0
    v2, rejections = _decoys(smiles, "standard")
    assert rejections.get(reason, 0) > 0, rejections
    assert [d for d in v2 if _new_flags(canonical, d)] == []


def test_a_motif_the_original_already_has_is_not_a_new_flag() -> None:
    # Diacetyl peroxide keeps its O–O: decoys may have as many as the original, never more.
    canonical = _prepared("CC(=O)OOC(=O)CC").canonical_smiles
    decoys, _ = _decoys("CC(=O)OOC(=O)CC", "standard")
    assert decoys
    assert all(motif_counts(Chem.MolFromSmiles(d)).get(R.O_O, 0) <= 1 for d in decoys)
    assert all(not _new_flags(canonical, d) for d in decoys)


def test_cumulated_double_bonds_are_counted_on_allenes_and_never_made_by_a_swap() -> None:
    assert cumulated_atoms(Chem.MolFromSmiles("C=C=CCC")) == 1
    assert cumulated_atoms(Chem.MolFromSmiles("C=CC=CC")) == 0
    assert new_motifs(motif_counts(Chem.MolFromSmiles("C=CC=CC")), motif_counts(Chem.MolFromSmiles("C=C=CCC"))) == [
        R.CUMULATED
    ]
    # swaps move single bonds only, so no atom ever gains a second double bond
    for decoy in _decoys("C=CCC=CCCC=CC", "none")[0]:
        assert cumulated_atoms(Chem.MolFromSmiles(decoy)) == 0


def test_bredt_counts_bridgehead_double_bonds_in_small_bicycles_only() -> None:
    assert anti_bredt_bridgeheads(Chem.MolFromSmiles("C1=C2CCC1CC2")) == 1  # bicyclo[2.2.1]hept-1-ene
    assert (
        anti_bredt_bridgeheads(Chem.MolFromSmiles("C1=CC2CCC1C2")) == 0
    )  # norbornene: the double bond is not at a bridgehead
    assert anti_bredt_bridgeheads(Chem.MolFromSmiles("c1ccc2ccccc2c1")) == 0  # fused, not bridged
    assert anti_bredt_bridgeheads(Chem.MolFromSmiles("C1=C2CCCCCCC1CCCCCC2")) == 0  # rings of 8+ atoms


def test_charge_pair_counts_a_nitro_pulled_apart() -> None:
    counts = motif_counts(Chem.MolFromSmiles("CCC[N+](=O)C[O-]"))
    assert counts[R.CHARGES] == 2
    assert motif_counts(Chem.MolFromSmiles("CCCC[N+](=O)[O-]"))[R.CHARGES] == 0


def test_strict_also_drops_new_brenk_alerts() -> None:
    smiles = "CCOC(=O)CCC(=O)OCC"
    original = brenk_alerts(Chem.MolFromSmiles(_prepared(smiles).canonical_smiles))
    standard, _ = _decoys(smiles, "standard")
    assert any(not brenk_alerts(Chem.MolFromSmiles(d)) <= original for d in standard)
    strict, rejections = _decoys(smiles, "strict")
    assert rejections.get(R.BRENK, 0) > 0
    assert strict
    assert all(brenk_alerts(Chem.MolFromSmiles(d)) <= original for d in strict)


def test_none_is_decoys_v1_without_filters() -> None:
    decoys, rejections = _decoys("CCNCCOCC", "none")
    filtered, _ = _decoys("CCNCCOCC", "standard")
    assert rejections == {}
    assert set(filtered) < set(decoys)


def test_rejections_are_deterministic_and_format_compactly() -> None:
    first = _decoys("CCNC(=O)CCNCC", "standard")
    second = _decoys("CCNC(=O)CCNCC", "standard")
    assert first == second
    assert format_rejections({"b_reason": 2, "a_reason": 1, "zero": 0}) == "a_reason:1;b_reason:2"
    assert format_rejections({}) == ""


def test_unknown_filter_or_rung_is_refused() -> None:
    with pytest.raises(ValueError, match="decoy_filter"):
        DecoyParams(decoy_filter="lenient")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_rung"):
        DecoyParams(max_rung="anything")


@pytest.mark.parametrize("cap", LADDER)
def test_max_rung_caps_the_ladder(cap: str) -> None:
    prepared = _prepared("Cc1ccc(cc1)S(=O)(=O)NC1CCCC(C1)C(=O)OCC")
    params = DecoyParams(k=200, max_rung=cap)
    decoy_set = generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0, params=params)
    assert decoy_set.decoys
    allowed = LADDER[: LADDER.index(cap) + 1]
    assert {d.strategy for d in decoy_set.decoys} <= set(allowed)
    if cap in ("strict", "relax_aromatic"):
        # the seed's ring-suite contract: ring systems and aromatic systems are never rewired
        rings = sorted(len(r) for r in prepared.mol.GetRingInfo().AtomRings())
        for decoy in decoy_set.decoys:
            mol = Chem.MolFromSmiles(decoy.smiles)
            assert sorted(len(r) for r in mol.GetRingInfo().AtomRings()) == rings
            assert sum(a.GetIsAromatic() for a in mol.GetAtoms()) == 6


def test_benzene_has_no_decoys_below_the_kekule_rung() -> None:
    assert _decoys("c1ccccc1", "standard", max_rung="relax_rings")[0] == []


@pytest.mark.parametrize(
    "smiles",
    [
        "Cc1cc(C)n(-c2ccc(S(N)(=O)=O)cc2)n1",  # a pyrazole (aromatic N–N)
        "Cc1onc(-c2ccccc2)c1C(=O)N",  # an isoxazole (aromatic N–O)
        "OCCc1nncn1CC(=O)OC",  # a 1,2,4-triazole
        "c1ccc(-c2nnc(-c3ccncc3)o2)cc1",  # an oxadiazole
    ],
)
def test_decoy_recount_of_red_flag_bonds_equals_a_full_count(smiles: str) -> None:
    """The ring-rung recount looks only at red-flag element pairs; it must agree with counting every bond."""
    prepared = _prepared(smiles)
    checks = GraphChecks(prepared.mol)
    assert checks.aromatic_flag_bonds
    original = flag_bond_counts(prepared.mol)
    params = DecoyParams(k=60, decoy_filter="none")
    ring_decoys = [
        d
        for d in generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0, params=params).decoys
        if not d.keeps_ring_systems
    ]
    assert ring_decoys
    for decoy in ring_decoys:
        full = flag_bond_counts(decoy.mol)
        expected = next((kind for kind, n in full.items() if n > original.get(kind, 0)), None)
        assert checks.decoy_reason(decoy.mol, decoy.removed, decoy.added) == expected, decoy.smiles


def test_bredt_needs_a_bridgehead_by_rdkits_count_too() -> None:
    """The C++ bridgehead count is a safe shortcut: no decoy with an anti-Bredt atom has a count of zero."""
    for smiles in ("c1ccc2ccccc2c1", "O=C1CCC2CCC1C2", "c1ccc2c(c1)CC1C3c4ccccc4C(c4ccccc43)C1C2"):
        prepared = _prepared(smiles)
        params = DecoyParams(k=80, decoy_filter="none")
        for decoy in generate_decoys(prepared.mol, prepared.canonical_smiles, seed=0, params=params).decoys:
            if anti_bredt_bridgeheads(decoy.mol):
                assert rdMolDescriptors.CalcNumBridgeheadAtoms(decoy.mol) > 0

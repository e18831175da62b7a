"""Guardrails (SPEC §2): every row-level SKIP reason that comes from the molecule itself."""

from __future__ import annotations

import pytest

from hetero_core.molecules import Guardrails, PreparedMolecule, Rejection, prepare_molecule
from hetero_core.reasons import SkipReason


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [
        ("", SkipReason.MISSING_SMILES),
        ("   ", SkipReason.MISSING_SMILES),
        ("C1CC", SkipReason.INVALID_SMILES),  # unclosed ring
        ("C(C)(C)(C)(C)C", SkipReason.INVALID_SMILES),  # pentavalent carbon
        ("not a smiles", SkipReason.INVALID_SMILES),
        ("CC(=O)[O-].[Na+]", SkipReason.DISCONNECTED),  # sodium acetate, no standardisation
    ],
)
def test_rejections(smiles: str, reason: SkipReason) -> None:
    result = prepare_molecule(smiles)
    assert isinstance(result, Rejection)
    assert result.reason == reason
    assert result.detail


def test_too_many_atoms_uses_the_limit() -> None:
    c60_like = "C" * 30
    assert isinstance(prepare_molecule(c60_like, Guardrails(max_heavy_atoms=30)), PreparedMolecule)
    result = prepare_molecule(c60_like, Guardrails(max_heavy_atoms=29))
    assert isinstance(result, Rejection)
    assert result.reason == SkipReason.TOO_MANY_ATOMS
    assert "30 heavy atoms" in result.detail


def test_default_limit_is_200_heavy_atoms() -> None:
    assert Guardrails().max_heavy_atoms == 200
    assert isinstance(prepare_molecule("C" * 201), Rejection)
    assert isinstance(prepare_molecule("C" * 200), PreparedMolecule)


def test_standardisation_keeps_the_largest_fragment_and_neutralises() -> None:
    result = prepare_molecule("CC(=O)[O-].[Na+]", Guardrails(standardize=True))
    assert isinstance(result, PreparedMolecule)
    assert result.canonical_smiles == "CC(=O)O"
    assert result.standardized


def test_standardisation_leaves_a_clean_molecule_alone() -> None:
    result = prepare_molecule("CC(=O)Oc1ccccc1C(=O)O", Guardrails(standardize=True))
    assert isinstance(result, PreparedMolecule)
    assert not result.standardized


def test_atoms_are_renumbered_canonically() -> None:
    a = prepare_molecule("OC(=O)c1ccccc1OC(C)=O")
    b = prepare_molecule("CC(=O)Oc1ccccc1C(=O)O")
    assert isinstance(a, PreparedMolecule)
    assert isinstance(b, PreparedMolecule)
    assert a.canonical_smiles == b.canonical_smiles
    assert [x.GetSymbol() for x in a.mol.GetAtoms()] == [x.GetSymbol() for x in b.mol.GetAtoms()]
    assert [(x.GetBeginAtomIdx(), x.GetEndAtomIdx()) for x in a.mol.GetBonds()] == [
        (x.GetBeginAtomIdx(), x.GetEndAtomIdx()) for x in b.mol.GetBonds()
    ]


def test_bad_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="max_heavy_atoms"):
        Guardrails(max_heavy_atoms=0)

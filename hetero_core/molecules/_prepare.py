"""Guardrails and optional standardisation: from a SMILES string to a molecule ready for decoys, or a SKIP.

Every rejection is a stable SKIP reason (SPEC §2) about the user's data, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdkit import Chem, rdBase
from rdkit.Chem.MolStandardize import rdMolStandardize

from hetero_core.reasons import SkipReason

rdBase.DisableLog("rdApp.*")  # reasons are reported per row; RDKit's stderr chatter is noise

DEFAULT_MAX_HEAVY_ATOMS = 200


@dataclass(frozen=True, slots=True)
class Guardrails:
    """Limits and standardisation switches; recorded in the manifest."""

    max_heavy_atoms: int = DEFAULT_MAX_HEAVY_ATOMS
    standardize: bool = False

    def __post_init__(self) -> None:
        if self.max_heavy_atoms < 1:
            raise ValueError("max_heavy_atoms must be at least 1")


@dataclass(frozen=True, slots=True)
class PreparedMolecule:
    """A sanitised molecule whose atoms are numbered as in its canonical SMILES (so decoys do not depend on how
    the input happened to be written)."""

    mol: Chem.Mol
    canonical_smiles: str
    standardized: bool


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: SkipReason
    detail: str


def prepare_molecule(smiles: str, guardrails: Guardrails | None = None) -> PreparedMolecule | Rejection:
    guardrails = guardrails or Guardrails()
    text = smiles.strip()
    if not text:
        return Rejection(SkipReason.MISSING_SMILES, "the smiles cell is empty")
    mol: Chem.Mol | None = Chem.MolFromSmiles(text)
    if mol is None:
        return Rejection(SkipReason.INVALID_SMILES, "RDKit cannot parse or sanitise this SMILES")
    standardized = False
    if guardrails.standardize:
        standardized_mol = _standardize(mol)
        if standardized_mol is None:
            return Rejection(SkipReason.INVALID_SMILES, "standardisation failed")
        standardized = Chem.MolToSmiles(standardized_mol) != Chem.MolToSmiles(mol)
        mol = standardized_mol
    heavy = mol.GetNumHeavyAtoms()
    if heavy > guardrails.max_heavy_atoms:
        return Rejection(SkipReason.TOO_MANY_ATOMS, f"{heavy} heavy atoms > limit {guardrails.max_heavy_atoms}")
    fragments = len(Chem.GetMolFrags(mol))
    if fragments > 1:
        hint = "" if guardrails.standardize else " (standardisation keeps the largest fragment)"
        return Rejection(SkipReason.DISCONNECTED, f"{fragments} fragments{hint}")
    canonical = Chem.MolToSmiles(mol)
    renumbered: Chem.Mol | None = Chem.MolFromSmiles(canonical)
    if renumbered is None:  # RDKit wrote a SMILES it cannot read back: treat as invalid input, not our fault
        return Rejection(SkipReason.INVALID_SMILES, "canonical SMILES does not parse back")
    return PreparedMolecule(renumbered, canonical, standardized)


_LARGEST = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
_UNCHARGER = rdMolStandardize.Uncharger()


def _standardize(mol: Chem.Mol) -> Chem.Mol | None:
    """Keep the largest (organic) fragment, then neutralise charges where a neutral form exists."""
    try:
        largest = _LARGEST.choose(mol)
        return _UNCHARGER.uncharge(largest)
    except (ValueError, RuntimeError):
        return None

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


@dataclass(frozen=True, slots=True)
class CanonicalMolecule:
    """An input that passed every guardrail, known by its canonical SMILES: all a decoy cache lookup needs.

    :meth:`prepared` parses the canonical SMILES back (atoms numbered as written there) for decoy generation; a
    cache hit never needs it, and the entry it hit was made from a successful parse-back of the same SMILES by
    the same RDKit (its version is part of the key), so skipping it on a hit changes no outcome.
    """

    canonical_smiles: str
    standardized: bool

    def prepared(self) -> PreparedMolecule | Rejection:
        renumbered: Chem.Mol | None = Chem.MolFromSmiles(self.canonical_smiles)
        if renumbered is None:  # RDKit wrote a SMILES it cannot read back: treat as invalid input, not our fault
            return Rejection(SkipReason.INVALID_SMILES, "canonical SMILES does not parse back")
        return PreparedMolecule(renumbered, self.canonical_smiles, self.standardized)


def canonical_molecule(smiles: str, guardrails: Guardrails | None = None) -> CanonicalMolecule | Rejection:
    """Parse, standardise if asked, apply the guardrails, canonicalise: the first half of :func:`prepare_molecule`."""
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
    return CanonicalMolecule(Chem.MolToSmiles(mol), standardized)


def prepare_molecule(smiles: str, guardrails: Guardrails | None = None) -> PreparedMolecule | Rejection:
    canonical = canonical_molecule(smiles, guardrails)
    return canonical if isinstance(canonical, Rejection) else canonical.prepared()


_LARGEST = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
_UNCHARGER = rdMolStandardize.Uncharger()


def _standardize(mol: Chem.Mol) -> Chem.Mol | None:
    """Keep the largest (organic) fragment, then neutralise charges where a neutral form exists."""
    try:
        largest = _LARGEST.choose(mol)
        return _UNCHARGER.uncharge(largest)
    except (ValueError, RuntimeError):
        return None

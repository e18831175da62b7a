"""A molecule's atoms and bonds read once into plain Python lists, for the per-candidate checks.

Every RDKit accessor called from Python costs ~0.3–1 µs (and iterating ``GetAtoms()``/``GetBonds()`` goes through
a Python-level sequence wrapper), so the generator and the plausibility checks read what they need in one pass by
index instead of walking the molecule again for each question.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from rdkit import Chem

if TYPE_CHECKING:
    from hetero_core.decoys._swap_graph import Edge

_CHIRAL = (Chem.ChiralType.CHI_TETRAHEDRAL_CW, Chem.ChiralType.CHI_TETRAHEDRAL_CCW)
_NO_STEREO = Chem.BondStereo.STEREONONE


class BondRecord(NamedTuple):
    """One bond: its atoms (smaller index first), type, aromatic and ring flags, and whether it carries stereo."""

    edge: Edge
    kind: Chem.BondType
    aromatic: bool
    in_ring: bool
    stereo: bool


class AtomTable(NamedTuple):
    """Per atom, by index: element, formal charge, aromatic flag; and the atoms with a tetrahedral tag."""

    atomic_numbers: list[int]
    charges: list[int]
    aromatic: list[bool]
    chiral: frozenset[int]


def bond_table(mol: Chem.Mol) -> list[BondRecord]:
    """The molecule's bonds in index order."""
    get = mol.GetBondWithIdx
    table: list[BondRecord] = []
    for index in range(mol.GetNumBonds()):
        bond = get(index)
        u, v = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        table.append(
            BondRecord(
                (u, v) if u < v else (v, u),
                bond.GetBondType(),
                bond.GetIsAromatic(),
                bond.IsInRing(),
                bond.GetStereo() != _NO_STEREO,
            )
        )
    return table


def atom_table(mol: Chem.Mol) -> AtomTable:
    """The molecule's atoms in index order."""
    get = mol.GetAtomWithIdx
    atomic_numbers: list[int] = []
    charges: list[int] = []
    aromatic: list[bool] = []
    chiral: set[int] = set()
    for index in range(mol.GetNumAtoms()):
        atom = get(index)
        atomic_numbers.append(atom.GetAtomicNum())
        charges.append(atom.GetFormalCharge())
        aromatic.append(atom.GetIsAromatic())
        if atom.GetChiralTag() in _CHIRAL:
            chiral.add(index)
    return AtomTable(atomic_numbers, charges, aromatic, frozenset(chiral))

"""H-bond acceptor count of a decoy from its original's: RDKit's number, with RDKit asked only for new environments.

RDKit's ``CalcNumHBA`` counts the atoms matching one SMARTS (``Lipinski.HAcceptorSmarts``, ~46 µs a decoy): an O or
S with its H count and valence, single-bonded to an atom without a double bond to O/N/P/S; an N with valence 3 not
single-bonded to an atom with an exocyclic double bond to O/N/P/S; an aromatic n without H, o or s; a charged O or
S. Every alternative is an O, S or N (aromatic or not), and reads that atom's own properties, its bonds, and each
neighbour's double bonds with their ring flag and partner.

A swap on the bridge rungs moves single bonds only and keeps every ring (and so every ring flag and aromatic
flag): an atom's match can change only if its own neighbours changed, i.e. on the atoms the rewiring touched.
Those are looked up by the exact environment the pattern reads (a tuple, never a hash), filled from RDKit's own
matches on the decoy when an environment is new; every other atom keeps its original status. Ring-rung decoys
(aromaticity and ring flags can move) are counted by RDKit directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdkit.Chem import Lipinski, rdMolDescriptors

from hetero_core.molecules._crippen import PLAIN_BONDS, Props, atom_props, bond_orders

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rdkit import Chem

Edge = tuple[int, int]
_PATTERN = Lipinski.HAcceptorSmarts
_ACCEPTOR_ELEMENTS = frozenset({7, 8, 16})  # N, O, S: every alternative of the pattern is one of these
_SINGLE = 1.0
# A memo of a pure function (environment -> matches the pattern), shared by the molecules a process handles;
# bounded so memory stays flat, and never able to change a result (a value depends on its key only).
_MEMO_LIMIT = 20_000
_MEMO: dict[tuple[object, ...], bool] = {}

_Multiple = tuple[tuple[float, bool, Props], ...]


class DecoyAcceptors:
    """H-bond acceptor count (RDKit's ``CalcNumHBA``) of one molecule's decoys."""

    __slots__ = ("acceptors", "count", "multiple", "neighbours", "props", "ring_bonds", "usable")

    def __init__(self, mol: Chem.Mol, count: int | None = None):
        """``count``: the molecule's own ``CalcNumHBA`` when already known (the summary has it)."""
        self.count = rdMolDescriptors.CalcNumHBA(mol) if count is None else count
        self.props = atom_props(mol)
        self.neighbours = bond_orders(mol)
        self.ring_bonds = frozenset(
            (b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds() if b.IsInRing()
        ) | frozenset((b.GetEndAtomIdx(), b.GetBeginAtomIdx()) for b in mol.GetBonds() if b.IsInRing())
        # each atom's bonds other than plain single ones: a swap never moves them, nor their ring flags
        self.multiple: list[_Multiple] = [
            tuple(
                sorted(
                    (order, (atom, other) in self.ring_bonds, self.props[other])
                    for other, order in self.neighbours[atom].items()
                    if order != _SINGLE
                )
            )
            for atom in range(len(self.props))
        ]
        self.acceptors = _matches(mol)
        # explicit hydrogen atoms or unusual bond types: RDKit is asked directly, as is a pattern that disagrees
        plain = all(bond.GetBondType() in PLAIN_BONDS for bond in mol.GetBonds())
        self.usable = plain and all(p[0] != 1 for p in self.props) and len(self.acceptors) == self.count

    def hba(self, decoy: Chem.Mol, removed: Sequence[Edge], added: Sequence[Edge], *, same_rings: bool) -> int:
        """The decoy's acceptor count; ``removed``/``added`` is its rewiring relative to the molecule."""
        if not (same_rings and self.usable and removed):
            return int(rdMolDescriptors.CalcNumHBA(decoy))
        touched = {atom for pair in (*removed, *added) for atom in pair if self.props[atom][0] in _ACCEPTOR_ELEMENTS}
        if not touched:
            return self.count
        neighbours: dict[int, dict[int, float]] = {atom: dict(self.neighbours[atom]) for atom in touched}
        for u, v in removed:
            for a, b in ((u, v), (v, u)):
                if a in neighbours:
                    del neighbours[a][b]
        for u, v in added:
            for a, b in ((u, v), (v, u)):
                if a in neighbours:
                    neighbours[a][b] = _SINGLE
        keys = {atom: self._key(atom, neighbours[atom]) for atom in touched}
        found: set[int] | None = None
        count = self.count
        for atom, key in keys.items():
            status = _MEMO.get(key)
            if status is None:
                found = _matches(decoy) if found is None else found
                status = atom in found
                _remember(key, status)
            count += int(status) - int(atom in self.acceptors)
        return count

    def _key(self, atom: int, neighbours: dict[int, float]) -> tuple[object, ...]:
        """What the pattern can read about ``atom``: itself, its bonds, its neighbours and their multiple bonds."""
        props, multiple = self.props, self.multiple
        return (props[atom], tuple(sorted((order, props[n], multiple[n]) for n, order in neighbours.items())))


def _matches(mol: Chem.Mol) -> set[int]:
    return {match[0] for match in mol.GetSubstructMatches(_PATTERN, maxMatches=mol.GetNumAtoms() + 1)}


def _remember(key: tuple[object, ...], value: bool) -> None:
    if len(_MEMO) < _MEMO_LIMIT:
        _MEMO.setdefault(key, value)

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
    """H-bond acceptor count (RDKit's ``CalcNumHBA``) of one molecule's decoys.

    Nothing is read from the molecule until a bridge-rung decoy touches an N, O or S (most touch only carbons,
    whose count is the molecule's): then its acceptors, and per neighbour its multiple bonds, once.
    """

    __slots__ = ("_acceptors", "_multiple", "count", "mol", "neighbours", "props", "usable")

    def __init__(
        self,
        mol: Chem.Mol,
        count: int | None = None,
        *,
        props: list[Props] | None = None,
        neighbours: list[dict[int, float]] | None = None,
    ):
        """``count``, ``props``, ``neighbours``: the molecule's ``CalcNumHBA``, :func:`atom_props` and
        :func:`bond_orders` when the caller has them already (the summary and :class:`DecoyLogP` do)."""
        self.mol = mol
        self.count = rdMolDescriptors.CalcNumHBA(mol) if count is None else count
        self.props = atom_props(mol) if props is None else props
        self.neighbours = bond_orders(mol) if neighbours is None else neighbours
        # explicit hydrogen atoms or unusual bond types: RDKit is asked directly
        plain = all(bond.GetBondType() in PLAIN_BONDS for bond in mol.GetBonds())
        self.usable = plain and all(p[0] != 1 for p in self.props)
        self._acceptors: set[int] | None = None
        self._multiple: dict[int, _Multiple] = {}

    def hba(self, decoy: Chem.Mol, removed: Sequence[Edge], added: Sequence[Edge], *, same_rings: bool) -> int:
        """The decoy's acceptor count; ``removed``/``added`` is its rewiring relative to the molecule."""
        if not (same_rings and self.usable and removed):
            return int(rdMolDescriptors.CalcNumHBA(decoy))
        props = self.props
        touched = {atom for pair in (*removed, *added) for atom in pair if props[atom][0] in _ACCEPTOR_ELEMENTS}
        if not touched:
            return self.count
        if self._acceptors is None:
            self._acceptors = _matches(self.mol)
            if len(self._acceptors) != self.count:  # the pattern disagrees with CalcNumHBA: never take a shortcut
                self.usable = False
        if not self.usable:
            return int(rdMolDescriptors.CalcNumHBA(decoy))
        neighbours: dict[int, dict[int, float]] = {atom: dict(self.neighbours[atom]) for atom in touched}
        for u, v in removed:
            for a, b in ((u, v), (v, u)):
                if a in neighbours:
                    del neighbours[a][b]
        for u, v in added:
            for a, b in ((u, v), (v, u)):
                if a in neighbours:
                    neighbours[a][b] = _SINGLE
        found: set[int] | None = None
        count = self.count
        for atom in touched:
            key = self._key(atom, neighbours[atom])
            status = _MEMO.get(key)
            if status is None:
                found = _matches(decoy) if found is None else found
                status = atom in found
                _remember(key, status)
            count += int(status) - int(atom in self._acceptors)
        return count

    def _key(self, atom: int, neighbours: dict[int, float]) -> tuple[object, ...]:
        """What the pattern can read about ``atom``: itself, its bonds, its neighbours and their multiple bonds."""
        props = self.props
        return (
            props[atom],
            tuple(sorted((order, props[n], self._multiple_bonds(n)) for n, order in neighbours.items())),
        )

    def _multiple_bonds(self, atom: int) -> _Multiple:
        """The atom's bonds other than plain single ones, with ring flags: a swap never moves them."""
        known = self._multiple.get(atom)
        if known is None:
            mol, props = self.mol, self.props
            known = self._multiple[atom] = tuple(
                sorted(
                    (order, mol.GetBondBetweenAtoms(atom, other).IsInRing(), props[other])
                    for other, order in self.neighbours[atom].items()
                    if order != _SINGLE
                )
            )
        return known


def _matches(mol: Chem.Mol) -> set[int]:
    return {match[0] for match in mol.GetSubstructMatches(_PATTERN, maxMatches=mol.GetNumAtoms() + 1)}


def _remember(key: tuple[object, ...], value: bool) -> None:
    if len(_MEMO) < _MEMO_LIMIT:
        _MEMO.setdefault(key, value)

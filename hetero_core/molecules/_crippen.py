"""Crippen logP of a decoy from its original's atom contributions: the same number RDKit gives, bit for bit.

RDKit's Crippen logP (Wildman & Crippen 1999) adds hydrogens and matches ~110 SMARTS against the molecule: about
250 µs per decoy, more than the rest of a decoy's descriptors together. It is a sum of per-atom contributions,
and an atom's contribution (with its hydrogens') is fixed by its Crippen type, which RDKit's patterns
(``Data/Crippen.txt``) decide from the atom's own element, aromaticity, H count, connectivity and charge and those
of its neighbours (radius 1), and for oxygen also of its neighbours' neighbours (carbonyl, carboxylate, enol
patterns: radius 2). No pattern uses ring membership, ring size or recursion.

A swap on the bridge rungs changes neither aromaticity nor any atom's own properties, only who is bonded to whom.
So only the four touched atoms and the oxygens next to them can change type; every other atom keeps its
original contribution. Their new contributions are looked up by the exact local environment (a tuple, not a
hash), filled from RDKit's own per-atom contributions whenever an environment is new. The sum is taken in
RDKit's order (heavy atoms, then each atom's hydrogens), so the float is identical, which the tests check.
Ring rungs (aromaticity can move) and molecules with explicit hydrogen atoms go to RDKit directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

if TYPE_CHECKING:
    from collections.abc import Sequence

Edge = tuple[int, int]
Props = tuple[int, int, int, int, bool]
_SINGLE = 1.0  # bond orders as RDKit's GetBondTypeAsDouble: 1, 1.5 (aromatic), 2, 3
PLAIN_BONDS = frozenset({Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE, Chem.BondType.AROMATIC})
_AROMATIC = Chem.MolFromSmarts("a")
_OXYGEN = 8
# A memo of a pure function (environment -> Crippen contributions), shared by the molecules a process handles;
# bounded so memory stays flat, and never able to change a result (a value depends on its key only).
_MEMO_LIMIT = 20_000
_MEMO: dict[tuple[object, ...], tuple[float, float]] = {}


def crippen_logp(mol: Chem.Mol) -> float:
    """RDKit's Crippen logP (hydrogens added, as ``CalcCrippenDescriptors`` does), computed afresh."""
    logp: float = rdMolDescriptors.CalcCrippenDescriptors(mol, includeHs=True, force=True)[0]
    return logp


class DecoyLogP:
    """Crippen logP of one molecule's decoys, incrementally where a swap cannot have moved aromaticity.

    ``molecule_logp`` is the molecule's own Crippen logP, RDKit's sum of the same contributions in RDKit's order
    (so the molecule's hydrogens are added and its ~110 SMARTS matched once, not twice).
    """

    __slots__ = ("contributions", "keys", "molecule_logp", "neighbours", "props", "usable")

    def __init__(self, mol: Chem.Mol):
        n = mol.GetNumAtoms()
        self.props = atom_props(mol)
        self.neighbours = bond_orders(mol)
        plain = all(bond.GetBondType() in PLAIN_BONDS for bond in mol.GetBonds())
        self.keys = [self._key(i, self.neighbours) for i in range(n)]
        self.contributions, self.molecule_logp = _rdkit_contributions(mol)
        # explicit hydrogen atoms would need radius 2 around the H; and the sum must reproduce RDKit's exactly
        exact = self._total(self.contributions) == self.molecule_logp
        self.usable = plain and all(p[0] != 1 for p in self.props) and exact
        if self.usable:
            for key, value in zip(self.keys, self.contributions, strict=True):
                _remember(key, value)

    def logp(self, decoy: Chem.Mol, removed: Sequence[Edge], added: Sequence[Edge], *, same_aromaticity: bool) -> float:
        """The decoy's logP; ``removed``/``added`` is its rewiring relative to the molecule."""
        if not (self.usable and removed):
            return crippen_logp(decoy)
        if not same_aromaticity:
            return self._logp_from_decoy(decoy)
        touched = {atom for pair in (*removed, *added) for atom in pair}
        neighbours: dict[int, dict[int, float]] = {}
        for atom in touched:
            neighbours[atom] = dict(self.neighbours[atom])
        for u, v in removed:
            del neighbours[u][v], neighbours[v][u]
        for u, v in added:
            neighbours[u][v] = _SINGLE
            neighbours[v][u] = _SINGLE
        changed = set(touched)
        for atom in touched:
            changed.update(n for n in neighbours[atom] if self.props[n][0] == _OXYGEN)
        return self._lookup(decoy, changed, self.props, _Neighbours(self.neighbours, neighbours))

    def _logp_from_decoy(self, decoy: Chem.Mol) -> float:
        """Ring rungs: read aromaticity and bonds off the sanitised decoy; re-type only what they changed around."""
        aromatic = {match[0] for match in decoy.GetSubstructMatches(_AROMATIC, maxMatches=len(self.props) + 1)}
        props: list[Props] = [(*p[:4], i in aromatic) for i, p in enumerate(self.props)]
        neighbours = bond_orders(decoy)
        moved = {i for i in range(len(props)) if props[i] != self.props[i] or neighbours[i] != self.neighbours[i]}
        around = moved | {n for i in moved for n in neighbours[i]}
        # an oxygen sees two bonds out (its neighbours' neighbours)
        changed = around | {n for i in around for n in neighbours[i] if props[n][0] == _OXYGEN}
        return self._lookup(decoy, changed, props, neighbours)

    def _lookup(
        self,
        decoy: Chem.Mol,
        changed: set[int],
        props: Sequence[Props],
        neighbours: Sequence[dict[int, float]] | _Neighbours,
    ) -> float:
        """Original contributions with the changed atoms' replaced from the memo, or RDKit's when one is new."""
        contributions = list(self.contributions)
        missing = False
        for atom in changed:
            value = _MEMO.get(_key(atom, props, neighbours))
            if value is None:
                missing = True
                break
            contributions[atom] = value
        if missing:
            fresh, logp = _rdkit_contributions(decoy)
            for atom in changed:
                _remember(_key(atom, props, neighbours), fresh[atom])
            return logp
        return self._total(contributions)

    def _key(self, atom: int, neighbours: Sequence[dict[int, float]] | _Neighbours) -> tuple[object, ...]:
        return _key(atom, self.props, neighbours)

    def _total(self, contributions: Sequence[tuple[float, float]]) -> float:
        """Sum in RDKit's order: heavy atoms by index, then each atom's hydrogens (AddHs appends them so)."""
        total = 0.0
        for heavy, _ in contributions:
            total += heavy
        for (_, hydrogen), props in zip(contributions, self.props, strict=True):
            for _ in range(props[2]):
                total += hydrogen
        return total


def _key(atom: int, props: Sequence[Props], neighbours: Sequence[dict[int, float]] | _Neighbours) -> tuple[object, ...]:
    """The exact local environment that fixes an atom's Crippen type: radius 1, radius 2 for oxygen."""
    if props[atom][0] == _OXYGEN:
        env: tuple[object, ...] = tuple(
            sorted(
                (
                    kind,
                    props[n],
                    tuple(sorted((k2, props[m]) for m, k2 in neighbours[n].items() if m != atom)),
                )
                for n, kind in neighbours[atom].items()
            )
        )
    else:
        env = tuple(sorted((kind, props[n]) for n, kind in neighbours[atom].items()))
    return (props[atom], env)


class _Neighbours:
    """The molecule's neighbour maps with the touched atoms' maps replaced (no copy of the rest)."""

    __slots__ = ("base", "changed")

    def __init__(self, base: list[dict[int, float]], changed: dict[int, dict[int, float]]):
        self.base = base
        self.changed = changed

    def __getitem__(self, atom: int) -> dict[int, float]:
        return self.changed.get(atom, self.base[atom])


def atom_props(mol: Chem.Mol) -> list[Props]:
    """Per atom: element, formal charge, total H count, total connections (degree + H), aromatic flag."""
    props: list[Props] = []
    for atom in mol.GetAtoms():
        hydrogens = atom.GetTotalNumHs()
        props.append(
            (atom.GetAtomicNum(), atom.GetFormalCharge(), hydrogens, atom.GetDegree() + hydrogens, atom.GetIsAromatic())
        )
    return props


def bond_orders(mol: Chem.Mol) -> list[dict[int, float]]:
    """Neighbour -> bond order, per atom, from one C++ call (iterating RDKit bonds in Python costs ~100 µs)."""
    matrix = Chem.GetAdjacencyMatrix(mol, useBO=True)
    rows, columns = np.nonzero(matrix)
    neighbours: list[dict[int, float]] = [{} for _ in range(mol.GetNumAtoms())]
    for u, v, order in zip(rows.tolist(), columns.tolist(), matrix[rows, columns].tolist(), strict=True):
        neighbours[u][v] = order
    return neighbours


def _rdkit_contributions(mol: Chem.Mol) -> tuple[list[tuple[float, float]], float]:
    """(atom's own logP contribution, one of its hydrogens' contribution) per heavy atom, from RDKit; and the logP.

    The logP is RDKit's: ``CalcCrippenDescriptors`` adds hydrogens and sums every atom's contribution in index order.
    """
    with_h = Chem.AddHs(mol)
    contributions = rdMolDescriptors._CalcCrippenContribs(with_h, force=True)
    logp = 0.0
    for value, _ in contributions:
        logp += value
    n = mol.GetNumAtoms()
    hydrogen = [0.0] * n
    index = n
    # AddHs appends each heavy atom's hydrogens in atom order, so the first H of atom i follows those of i - 1
    for atom in range(n):
        count = mol.GetAtomWithIdx(atom).GetTotalNumHs()
        if count:
            hydrogen[atom] = contributions[index][0]
            index += count
    return [(contributions[i][0], hydrogen[i]) for i in range(n)], logp


def _remember(key: tuple[object, ...], value: tuple[float, float]) -> None:
    if len(_MEMO) < _MEMO_LIMIT:
        _MEMO.setdefault(key, value)

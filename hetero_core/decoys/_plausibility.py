"""Plausibility filters (``decoys.v2``, SPEC §3): no decoy a medicinal chemist would dismiss at a glance.

A decoy is rejected when it has *more* of a red-flag motif than its own original (so a peroxide drug keeps
peroxide decoys, but an ester never becomes one). Measured on ``decoys.v1``, 22–29% of decoys on real sets
introduced such a motif, which let any model with a sense of chemistry PASS.

Most checks are answered on the heavy-atom graph before RDKit is asked anything: a swap removes two single
bonds and adds two, so the new element pairs, the new 3- and 4-membered cycles and the charge pairs it breaks
are functions of the four atoms and their neighbours. What needs ring perception of the result (Bredt) runs on
the sanitised decoy, and RDKit's Brenk catalogue (``strict`` only, ~270 µs a molecule) runs last, on decoys that
passed everything else.

Two motifs cannot be created by a swap of single bonds and are therefore never counted by the generator:
cumulated double bonds (double bonds never move, so no atom gains a second one) and pulled-apart charges are
still part of :func:`motif_counts`, the reference definition that the tests hold the graph checks to.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from rdkit import Chem
from rdkit.Chem import FilterCatalog, rdMolDescriptors

from hetero_core.decoys._swap_graph import Edge, SwapGraph, edge
from hetero_core.decoys._tables import AtomTable, BondRecord, atom_table, bond_table

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

DecoyFilter = Literal["none", "standard", "strict"]
DECOY_FILTERS: tuple[str, ...] = ("none", "standard", "strict")

_HALOGENS = frozenset({9, 17, 35, 53})
_HALOGEN_HOSTS = frozenset({7, 8, 16})
_SINGLE = Chem.BondType.SINGLE
_DOUBLE = Chem.BondType.DOUBLE
_BREDT_MAX_RING = 7  # a bridgehead double bond is tolerable once one ring of the bicycle has 8+ atoms


class RejectionReason(StrEnum):
    """Why a candidate decoy was dropped; stable names, counted per molecule and per run."""

    O_O = "new_o_o_bond"
    N_N = "new_n_n_single_bond"
    N_O = "new_n_o_single_bond"
    S_O = "new_s_o_single_bond"
    HALOGEN = "new_halogen_on_heteroatom"
    ANTIAROMATIC = "new_antiaromatic_4_ring"
    RING_3 = "new_3_membered_ring"
    RING_4 = "new_4_membered_ring"
    CUMULATED = "new_cumulated_double_bond"
    BREDT = "new_bridgehead_double_bond"
    CHARGES = "charge_pair_separated"
    BRENK = "new_brenk_alert"
    STEREOISOMER = "stereoisomer_only"


def bond_class(z1: int, z2: int) -> RejectionReason | None:
    """The red-flag class of a single bond between elements ``z1`` and ``z2``, if any."""
    low, high = (z1, z2) if z1 <= z2 else (z2, z1)
    if low == high == 8:
        return RejectionReason.O_O
    if low == high == 7:
        return RejectionReason.N_N
    if (low, high) == (7, 8):
        return RejectionReason.N_O
    if (low, high) == (8, 16):
        return RejectionReason.S_O
    if (low in _HALOGENS and high in _HALOGEN_HOSTS) or (high in _HALOGENS and low in _HALOGEN_HOSTS):
        return RejectionReason.HALOGEN
    return None


def small_cycles_through(graph: SwapGraph, edges: Iterable[Edge]) -> set[frozenset[Edge]]:
    """Every simple 3- and 4-cycle of ``graph`` that uses at least one of ``edges`` (as sets of edges)."""
    adjacency = graph.adjacency
    cycles: set[frozenset[Edge]] = set()
    for u, v in edges:
        for x in adjacency[u]:
            if x == v:
                continue
            if x in adjacency[v]:
                cycles.add(frozenset((edge(u, v), edge(u, x), edge(x, v))))
            for y in adjacency[v]:
                if y in (u, x):
                    continue
                if y in adjacency[x]:
                    cycles.add(frozenset((edge(u, v), edge(u, x), edge(x, y), edge(y, v))))
    return cycles


class GraphChecks:
    """The graph-level filters for one molecule: element pairs, small cycles, charge pairs.

    ``doubles`` are the double bonds of the working form (the Kekulé form on the last rung), used to spot a
    cyclobutadiene among new 4-cycles; ``aromatic_single`` are bonds that are not plain single bonds in the
    original, which do not count as removed red-flag single bonds (an aromatic N–N of a pyrazole is no hydrazine).
    """

    __slots__ = (
        "aromatic_flag_bonds",
        "atomic_numbers",
        "bond_counts",
        "charges",
        "class_bonds",
        "paired",
        "plain_single",
    )

    def __init__(self, mol: Chem.Mol, atoms: AtomTable | None = None, bonds: Sequence[BondRecord] | None = None):
        """``atoms``/``bonds``: the molecule's tables when the caller has read them already."""
        atoms = atoms or atom_table(mol)
        z = self.atomic_numbers = atoms.atomic_numbers
        charges = self.charges = atoms.charges
        plain: set[Edge] = set()
        self.class_bonds: list[tuple[Edge, RejectionReason]] = []
        self.aromatic_flag_bonds = False
        paired: set[int] = set()
        counts: Counter[RejectionReason] = Counter()
        for bond in bond_table(mol) if bonds is None else bonds:
            pair = bond.edge
            plain_single = bond.kind == _SINGLE and not bond.aromatic
            if plain_single:
                plain.add(pair)
            if (kind := bond_class(z[pair[0]], z[pair[1]])) is not None:
                self.class_bonds.append((pair, kind))
                counts[kind] += plain_single
                # an aromatic N–N (pyrazole), N–O (isoxazole) or S–O bond turns into a plain single bond when a ring
                # swap breaks the aromatic system: only molecules with one need the recount on the sanitised decoy
                self.aromatic_flag_bonds |= bond.aromatic
            # charged atoms bonded to an opposite charge: the pairs a swap must not pull apart
            if charges[pair[0]] * charges[pair[1]] < 0:
                paired.update(pair)
        self.plain_single = frozenset(plain)
        self.paired = frozenset(paired)
        # how many red-flag pairs are plain single bonds, as _plain_counts counts them on a decoy
        self.bond_counts = {kind: count for kind, count in counts.items() if count}

    def reason(
        self,
        graph: SwapGraph,
        removed: Sequence[Edge],
        added: Sequence[Edge],
        *,
        rings_change: bool,
        doubles: frozenset[Edge],
    ) -> RejectionReason | None:
        """The first red flag the rewiring adds (checked on ``graph`` as it was before the swap), or None."""
        z = self.atomic_numbers
        delta: Counter[RejectionReason] = Counter()
        for u, v in added:
            if (kind := bond_class(z[u], z[v])) is not None:
                delta[kind] += 1
        if delta:
            for pair in removed:
                if pair in self.plain_single and (kind := bond_class(z[pair[0]], z[pair[1]])) is not None:
                    delta[kind] -= 1
            for kind in (RejectionReason.O_O, RejectionReason.N_N, RejectionReason.N_O, RejectionReason.S_O):
                if delta[kind] > 0:
                    return kind
            if delta[RejectionReason.HALOGEN] > 0:
                return RejectionReason.HALOGEN
        if self.paired and self._separates_charges(graph, removed, added):
            return RejectionReason.CHARGES
        if rings_change:
            return _small_ring_reason(graph, removed, added, doubles)
        return None

    def decoy_reason(self, decoy: Chem.Mol, removed: Sequence[Edge], added: Sequence[Edge]) -> RejectionReason | None:
        """Red-flag single bonds recounted on a sanitised ring-rung decoy, when aromaticity may have moved.

        Only bonds between red-flag element pairs can count, so only those are looked up (equal to
        :func:`flag_bond_counts` of the decoy, which the tests check).
        """
        if not self.aromatic_flag_bonds:
            return None
        gone = set(removed)
        kept = [(pair, kind) for pair, kind in self.class_bonds if pair not in gone]
        z = self.atomic_numbers
        kept += [(pair, kind) for pair in added if (kind := bond_class(z[pair[0]], z[pair[1]])) is not None]
        counts = _plain_counts(decoy, kept)
        for kind, count in counts.items():
            if count > self.bond_counts.get(kind, 0):
                return kind
        return None

    def _separates_charges(self, graph: SwapGraph, removed: Sequence[Edge], added: Sequence[Edge]) -> bool:
        touched = {atom for pair in removed for atom in pair} & self.paired
        if not touched:
            return False
        graph.apply(removed, added)
        try:
            charges = self.charges
            return any(not any(charges[n] * charges[a] < 0 for n in graph.adjacency[a]) for a in touched)
        finally:
            graph.apply(added, removed)


def _plain_counts(mol: Chem.Mol, candidates: Sequence[tuple[Edge, RejectionReason]]) -> dict[RejectionReason, int]:
    """How many of the candidate bonds (red-flag element pairs) are plain single bonds in ``mol``."""
    counts: Counter[RejectionReason] = Counter()
    for (u, v), kind in candidates:
        bond = mol.GetBondBetweenAtoms(u, v)
        if bond.GetBondType() == _SINGLE and not bond.GetIsAromatic():
            counts[kind] += 1
    return dict(counts)


def _small_ring_reason(
    graph: SwapGraph, removed: Sequence[Edge], added: Sequence[Edge], doubles: frozenset[Edge]
) -> RejectionReason | None:
    """More 3-cycles, 4-cycles or cyclobutadienes after the swap? Only cycles through changed bonds can differ.

    Sizes are compared apart: trading a cyclobutane for a cyclopropanone is no better than making one.
    """
    lost = small_cycles_through(graph, removed)
    graph.apply(removed, added)
    try:
        gained = small_cycles_through(graph, added)
    finally:
        graph.apply(added, removed)
    if len(gained) <= len(lost) and not gained:
        return None

    def antiaromatic(cycles: set[frozenset[Edge]]) -> int:
        return sum(len(c) == 4 and len(c & doubles) == 2 for c in cycles)

    if antiaromatic(gained) > antiaromatic(lost):
        return RejectionReason.ANTIAROMATIC
    for size, reason in ((3, RejectionReason.RING_3), (4, RejectionReason.RING_4)):
        if sum(len(c) == size for c in gained) > sum(len(c) == size for c in lost):
            return reason
    return None


def anti_bredt_bridgeheads(mol: Chem.Mol) -> int:
    """Bridgehead atoms carrying a ring double (or aromatic) bond in a small bridged bicycle (Bredt's rule).

    Bridged means two rings (of the smallest set) sharing more than one bond, both of at most 7 atoms; the
    bridgeheads are the ends of the shared path. Needs ring information (a sanitised molecule).
    """
    if not rdMolDescriptors.CalcNumBridgeheadAtoms(mol):  # C++: no two rings share two bonds, nothing is bridged
        return 0
    ring_info = mol.GetRingInfo()
    bond_rings = [frozenset(r) for r in ring_info.BondRings()]
    if len(bond_rings) < 2:
        return 0
    heads: set[int] = set()
    for i in range(len(bond_rings)):
        for j in range(i + 1, len(bond_rings)):
            if len(bond_rings[i] & bond_rings[j]) < 2 or max(len(bond_rings[i]), len(bond_rings[j])) > _BREDT_MAX_RING:
                continue
            shared_bonds = bond_rings[i] & bond_rings[j]
            ends: Counter[int] = Counter()
            for index in shared_bonds:
                bond = mol.GetBondWithIdx(index)
                ends[bond.GetBeginAtomIdx()] += 1
                ends[bond.GetEndAtomIdx()] += 1
            heads.update(atom for atom, count in ends.items() if count == 1)
    count = 0
    for head in heads:
        atom = mol.GetAtomWithIdx(head)
        if any(b.IsInRing() and (b.GetBondType() == _DOUBLE or b.GetIsAromatic()) for b in atom.GetBonds()):
            count += 1
    return count


def cumulated_atoms(mol: Chem.Mol) -> int:
    """Atoms with two or more non-aromatic double bonds (allenes, ketenimines, cumulenes)."""
    return sum(sum(b.GetBondType() == _DOUBLE for b in atom.GetBonds()) >= 2 for atom in mol.GetAtoms())


def flag_bond_counts(mol: Chem.Mol) -> dict[RejectionReason, int]:
    """Plain (non-aromatic) single bonds of each red-flag element pair."""
    counts: Counter[RejectionReason] = Counter()
    for bond in mol.GetBonds():
        if bond.GetBondType() == _SINGLE and not bond.GetIsAromatic():
            kind = bond_class(bond.GetBeginAtom().GetAtomicNum(), bond.GetEndAtom().GetAtomicNum())
            if kind is not None:
                counts[kind] += 1
    return dict(sorted(counts.items()))


def motif_counts(mol: Chem.Mol) -> dict[RejectionReason, int]:
    """Every red-flag motif of a sanitised molecule, counted directly on it: the reference the filters keep.

    Single bonds are plain (non-aromatic) single bonds; rings are simple cycles of 3 or 4 atoms; a separated
    charge is a charged atom with no oppositely charged neighbour.
    """
    counts: Counter[RejectionReason] = Counter(flag_bond_counts(mol))
    graph = SwapGraph(mol.GetNumAtoms(), (edge(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()))
    all_edges = [edge(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()]
    cycles = small_cycles_through(graph, all_edges)
    kekule = Chem.Mol(mol)
    Chem.Kekulize(kekule, clearAromaticFlags=True)
    doubles = frozenset(
        edge(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in kekule.GetBonds() if b.GetBondType() == _DOUBLE
    )
    counts[RejectionReason.RING_3] = sum(len(c) == 3 for c in cycles)
    counts[RejectionReason.RING_4] = sum(len(c) == 4 for c in cycles)
    counts[RejectionReason.ANTIAROMATIC] = sum(len(c) == 4 and len(c & doubles) == 2 for c in cycles)
    counts[RejectionReason.CUMULATED] = cumulated_atoms(mol)
    counts[RejectionReason.BREDT] = anti_bredt_bridgeheads(mol)
    counts[RejectionReason.CHARGES] = sum(
        1
        for atom in mol.GetAtoms()
        if atom.GetFormalCharge()
        and not any(n.GetFormalCharge() * atom.GetFormalCharge() < 0 for n in atom.GetNeighbors())
    )
    return dict(counts)


def new_motifs(original: Mapping[RejectionReason, int], decoy: Mapping[RejectionReason, int]) -> list[RejectionReason]:
    """The motifs of which ``decoy`` has more than ``original``, in declaration order."""
    return [reason for reason in RejectionReason if decoy.get(reason, 0) > original.get(reason, 0)]


@lru_cache(maxsize=1)
def _brenk_catalog() -> FilterCatalog.FilterCatalog:
    params = FilterCatalog.FilterCatalogParams()
    params.AddCatalog(FilterCatalog.FilterCatalogParams.FilterCatalogs.BRENK)
    return FilterCatalog.FilterCatalog(params)


def brenk_alerts(mol: Chem.Mol) -> frozenset[str]:
    """The names of RDKit's Brenk structural alerts that ``mol`` matches (``strict`` mode)."""
    return frozenset(entry.GetDescription() for entry in _brenk_catalog().GetMatches(mol))


def format_rejections(counts: Mapping[str, int]) -> str:
    """``reason:count;...`` sorted by reason, the compact form of the ``decoy_rejections`` summary column."""
    return ";".join(f"{reason}:{counts[reason]}" for reason in sorted(counts) if counts[reason])

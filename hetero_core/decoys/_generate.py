"""Matched decoys (``decoys.v2``, SPEC §3): same atoms, same degree at every atom, bonds rewired, plausible.

A decoy is reached from the molecule by double edge swaps on single bonds (a–b, c–d → a–d, c–b). Every atom
keeps its degree and its bond orders, so hydrogen counts, charges, isotopes and the molecular formula are
preserved by construction; connectivity is checked on the graph before RDKit is asked anything.

The strategy ladder goes from gentle to aggressive and stops as soon as k decoys exist:

``strict``          acyclic single bonds not touching aromatic atoms (ring systems untouched)
``relax_aromatic``  acyclic single bonds, aromatic neighbours allowed (ring systems still untouched)
``relax_rings``     ring single bonds too, aromatic systems kept
``kekule``          the Kekulé form, so single bonds inside aromatic rings become swappable

Decoys found on a gentler rung are kept when the next rung is tried, so the result is the union in ladder order
and ``strategy`` names the rung on which k was reached (or the last rung that added a decoy). On each rung, single
swaps are enumerated first (in a seeded random order, symmetry-equivalent swaps deferred), then 2–3-swap walks
are used when single swaps run out.

Swapping only bridges (the first two rungs) can never create or break a ring when the result is connected, so
aromaticity cannot change there and RDKit's full sanitisation is skipped on that path; the ring rungs are
sanitised in full. ``max_rung`` caps the ladder (``relax_aromatic`` is the seed's ring-suite contract: aromatic
systems locked, ring bonds never swapped).

``decoys.v2`` adds, per candidate and before RDKit where possible, the plausibility filters of
:mod:`._plausibility`, and makes uniqueness constitutional: a candidate whose stereo-free SMILES equals the
original's or an earlier decoy's is a mere stereoisomer and is dropped (a 2D model must tie on it). Stereo of the
original survives on atoms that are still stereocentres; a decoy never gains specified stereo. Every dropped
candidate is counted by reason.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from hetero_core.decoys._plausibility import (
    DECOY_FILTERS,
    DecoyFilter,
    GraphChecks,
    RejectionReason,
    anti_bredt_bridgeheads,
    brenk_alerts,
)
from hetero_core.decoys._swap_graph import Edge, SwapConnectivity, SwapGraph, swap_partners
from hetero_core.decoys._tables import BondRecord, atom_table, bond_table
from hetero_core.hashing import smiles_hash

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

LADDER: tuple[str, ...] = ("strict", "relax_aromatic", "relax_rings", "kekule")
_BRIDGE_RUNGS = frozenset({"strict", "relax_aromatic"})
_SINGLE = Chem.BondType.SINGLE
_DOUBLE = Chem.BondType.DOUBLE
_MORGAN = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)


@dataclass(frozen=True, slots=True)
class HardMode:
    """Keep only decoys whose Morgan (r=2, 2048 bits) Tanimoto similarity to the molecule is in [min, max]."""

    min_similarity: float = 0.65
    max_similarity: float = 0.95

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_similarity <= self.max_similarity <= 1.0:
            raise ValueError("hard mode needs 0 <= min_similarity <= max_similarity <= 1")

    def admits(self, similarity: float) -> bool:
        return self.min_similarity <= similarity <= self.max_similarity


@dataclass(frozen=True, slots=True)
class DecoyParams:
    """How many decoys to make and how hard to try; part of the manifest."""

    k: int = 20
    hard_mode: HardMode | None = None
    max_walk_swaps: int = 3
    walk_attempts_per_missing_decoy: int = 12
    decoy_filter: DecoyFilter = "standard"
    max_rung: str = LADDER[-1]

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError("k must be at least 1")
        if self.decoy_filter not in DECOY_FILTERS:
            raise ValueError(f"decoy_filter must be one of {', '.join(DECOY_FILTERS)}")
        if self.max_rung not in LADDER:
            raise ValueError(f"max_rung must be one of {', '.join(LADDER)}")
        if not 2 <= self.max_walk_swaps <= 6:
            raise ValueError("max_walk_swaps must be between 2 and 6")


@dataclass(frozen=True, slots=True)
class Decoy:
    """One decoy; ``removed``/``added`` is its net rewiring of the molecule (atom indices are the molecule's)."""

    smiles: str
    hash: str
    mol: Chem.Mol
    similarity: float
    strategy: str
    n_swaps: int
    removed: tuple[Edge, ...] = ()
    added: tuple[Edge, ...] = ()

    @property
    def keeps_ring_systems(self) -> bool:
        """Made on a bridge rung: every ring, and so every atom's aromaticity, is the molecule's."""
        return self.strategy in _BRIDGE_RUNGS


@dataclass(frozen=True, slots=True)
class DecoySet:
    """The decoys of one molecule, the rung that completed them, and the candidates dropped, by reason."""

    decoys: tuple[Decoy, ...]
    strategy: str
    original_fingerprint: DataStructs.ExplicitBitVect
    rejections: Mapping[str, int] = field(default_factory=dict)


def morgan_fingerprint(mol: Chem.Mol) -> DataStructs.ExplicitBitVect:
    """Morgan radius 2, 2048 bits: the fingerprint of hard mode and of the similarity columns."""
    fingerprint: DataStructs.ExplicitBitVect = _MORGAN.GetFingerprint(mol)
    return fingerprint


def generate_decoys(mol: Chem.Mol, canonical_smiles: str, seed: int, params: DecoyParams | None = None) -> DecoySet:
    """Up to ``params.k`` decoys of a sanitised, canonically numbered molecule, deterministic in ``seed``."""
    params = params or DecoyParams()
    return _Generator(mol, canonical_smiles, seed, params).run()


class _Generator:
    def __init__(self, mol: Chem.Mol, canonical_smiles: str, seed: int, params: DecoyParams):
        self.mol = mol
        self.params = params
        self.rng = random.Random(seed)
        self.fingerprint = morgan_fingerprint(mol)
        self.seen_smiles: set[str] = {canonical_smiles}
        self.rejections: Counter[str] = Counter()
        self.seen_rewirings: set[frozenset[Edge]] = set()
        self.accepted: list[Decoy] = []
        # one pass over the bonds (each RDKit accessor call from Python costs ~0.3 µs): index order, as RDKit's
        self.bonds = bond_table(mol)
        atoms = atom_table(mol)
        self.aromatic_atoms = atoms.aromatic
        self.graph = SwapGraph(mol.GetNumAtoms(), (bond.edge for bond in self.bonds))
        self.symmetry = list(Chem.CanonicalRankAtoms(mol, breakTies=False))
        self.connectivity: SwapConnectivity | None = None
        self.stereo_bonds = [index for index, bond in enumerate(self.bonds) if bond.stereo]
        # rewiring works on a copy whose E/Z is cis/trans relative to named neighbours, which a swap can carry over
        self.work_mol = _relative_double_bond_stereo(mol) if self.stereo_bonds else mol
        self.chiral_atoms = atoms.chiral
        self.has_stereo = bool(self.stereo_bonds) or bool(self.chiral_atoms)
        # constitution keys (stereo-free SMILES) of the original and of every emitted decoy
        self.seen_constitutions: set[str] = {_constitution(mol) if self.has_stereo else canonical_smiles}
        filtering = params.decoy_filter != "none"
        self.checks = GraphChecks(mol, atoms, self.bonds) if filtering else None
        self.bredt = anti_bredt_bridgeheads(mol) if filtering else 0
        self.alerts = brenk_alerts(mol) if params.decoy_filter == "strict" else None
        self.doubles: dict[str, frozenset[Edge]] = {}

    @property
    def missing(self) -> int:
        return self.params.k - len(self.accepted)

    def run(self) -> DecoySet:
        strategy = ""
        rungs = [(rung, work, eligible) for rung, work, eligible in self._rungs() if len(eligible) >= 2]
        for walks in (False, True):
            for rung, work, eligible in rungs:
                if self.missing <= 0:
                    break
                before = len(self.accepted)
                if walks:
                    self._walks(work, rung, eligible)
                else:
                    for removed, added in self._single_swaps(eligible):
                        self._try(work, rung, removed, added, n_swaps=1)
                        if self.missing <= 0:
                            break
                if len(self.accepted) > before and LADDER.index(rung) >= LADDER.index(strategy or LADDER[0]):
                    strategy = rung
        return DecoySet(tuple(self.accepted), strategy, self.fingerprint, dict(sorted(self.rejections.items())))

    def _rungs(self) -> Iterator[tuple[str, Chem.Mol, list[Edge]]]:
        for rung in LADDER[: LADDER.index(self.params.max_rung) + 1]:
            if rung != "kekule":
                work, bonds = self.work_mol, self.bonds
            else:
                kekule = _kekulized(self.work_mol)
                if kekule is None:
                    continue
                # the Kekulé form has the same bonds in the same order; only their types (and aromatic flags) differ
                work = kekule
                get = kekule.GetBondWithIdx
                bonds = [bond._replace(kind=get(index).GetBondType()) for index, bond in enumerate(self.bonds)]
            if rung not in _BRIDGE_RUNGS and self.checks is not None:  # cyclobutadiene check, ring rungs only
                self.doubles[rung] = frozenset(bond.edge for bond in bonds if bond.kind == _DOUBLE)
            yield rung, work, _eligible(bonds, self.aromatic_atoms if rung != "kekule" else None, rung)

    # -- candidates -----------------------------------------------------------------------------------------

    def _single_swaps(self, eligible: Sequence[Edge]) -> Iterator[tuple[tuple[Edge, Edge], tuple[Edge, Edge]]]:
        """Every valid connected single swap once, in seeded random order; symmetry twins come last."""
        if self.connectivity is None:
            self.connectivity = SwapConnectivity(self.graph)
        oracle = self.connectivity
        n = len(eligible)
        order = list(range(n * (n - 1)))
        self.rng.shuffle(order)
        deferred: list[tuple[tuple[Edge, Edge], tuple[Edge, Edge]]] = []
        signatures: set[tuple[tuple[int, int], ...]] = set()
        graph = self.graph
        adjacency = graph.adjacency
        rank = self.symmetry
        last = n - 1
        # swap_partners, can_swap and _signature inlined: this loop runs for every ordered pair of eligible bonds
        for code in order:
            i, j = divmod(code, last)
            if j >= i:
                j += 1
            # an ordered pair encodes the orientation: (i, j) with i > j is the second way to rewire the same bonds
            if i > j:
                first, second = eligible[j], eligible[i]
                a, b = first
                c, d = second
                x, y, z, w = a, c, b, d  # orientation 1: a-c, b-d
            else:
                first, second = eligible[i], eligible[j]
                a, b = first
                c, d = second
                x, y, z, w = a, d, c, b  # orientation 0: a-d, c-b
            if a in (c, d) or b in (c, d) or y in adjacency[x] or w in adjacency[z]:
                continue  # four atoms not distinct, or a new bond exists already
            removed = (first, second)
            added = ((x, y) if x < y else (y, x), (z, w) if z < w else (w, z))
            if not oracle.keeps_connected(removed, added):
                continue
            ra, rb, rc, rd, rx, ry, rz, rw = rank[a], rank[b], rank[c], rank[d], rank[x], rank[y], rank[z], rank[w]
            p = (ra, rb) if ra <= rb else (rb, ra)
            q = (rc, rd) if rc <= rd else (rd, rc)
            r = (rx, ry) if rx <= ry else (ry, rx)
            t = (rz, rw) if rz <= rw else (rw, rz)
            signature = (*((p, q) if p <= q else (q, p)), (-1, -1), *((r, t) if r <= t else (t, r)))
            if signature in signatures:
                deferred.append((removed, added))
                continue
            signatures.add(signature)
            yield removed, added
        yield from deferred

    def _signature(self, removed: Sequence[Edge], added: Sequence[Edge]) -> tuple[tuple[int, int], ...]:
        rank = self.symmetry

        def ranked(pair: Edge) -> tuple[int, int]:
            u, v = rank[pair[0]], rank[pair[1]]
            return (u, v) if u <= v else (v, u)

        return (*sorted(ranked(e) for e in removed), (-1, -1), *sorted(ranked(e) for e in added))

    def _walks(self, work: Chem.Mol, rung: str, eligible: Sequence[Edge]) -> None:
        """Random walks of 2..max_walk_swaps swaps from the molecule, for when single swaps run out."""
        attempts = self.missing * self.params.walk_attempts_per_missing_decoy
        for _ in range(attempts):
            if self.missing <= 0:
                return
            graph = self.graph.copy()
            edges = list(eligible)
            n_swaps = self.rng.randint(2, self.params.max_walk_swaps)
            done = 0
            for _step in range(n_swaps * 4):
                i, j = self.rng.sample(range(len(edges)), 2)
                removed = (edges[i], edges[j])
                added = swap_partners(removed[0], removed[1], self.rng.randint(0, 1))
                if added is None or not graph.can_swap(removed, added):
                    continue
                graph.apply(removed, added)
                edges[i], edges[j] = added
                done += 1
                if done == n_swaps:
                    break
            if done < 2 or not graph.is_connected():
                continue
            original = set(eligible)
            current = set(edges)
            self._try(work, rung, tuple(original - current), tuple(current - original), n_swaps=done)

    # -- one candidate ---------------------------------------------------------------------------------------

    def _try(self, work: Chem.Mol, rung: str, removed: Sequence[Edge], added: Sequence[Edge], n_swaps: int) -> None:
        if not removed:
            return
        rewiring = frozenset((*removed, *((-1 - u, -1 - v) for u, v in added)))
        if rewiring in self.seen_rewirings:
            return
        self.seen_rewirings.add(rewiring)
        ring_rung = rung not in _BRIDGE_RUNGS
        if self.checks is not None:
            reason = self.checks.reason(
                self.graph, removed, added, rings_change=ring_rung, doubles=self.doubles.get(rung, frozenset())
            )
            if reason is not None:
                self.rejections[reason] += 1
                return
        decoy = _build(work, removed, added, self.stereo_bonds, self.chiral_atoms, sanitize=ring_rung)
        if decoy is None:
            return
        if ring_rung and self.checks is not None:
            reason = self.checks.decoy_reason(decoy, removed, added)
            if reason is None and anti_bredt_bridgeheads(decoy) > self.bredt:
                reason = RejectionReason.BREDT
            if reason is not None:
                self.rejections[reason] += 1
                return
        if self.has_stereo:
            # Rewiring can leave a chiral tag on an atom that is no longer a stereocentre; RDKit's canonical
            # SMILES of the re-read decoy would drop it, so settle it here to keep the hash stable.
            Chem.AssignStereochemistry(decoy, cleanIt=True, force=True)
        smiles = Chem.MolToSmiles(decoy)
        if smiles in self.seen_smiles:
            return
        self.seen_smiles.add(smiles)
        if self.has_stereo:
            constitution = _constitution(decoy)
            if constitution in self.seen_constitutions:
                self.rejections[RejectionReason.STEREOISOMER] += 1
                return
            self.seen_constitutions.add(constitution)
        if self.alerts is not None and not brenk_alerts(decoy) <= self.alerts:
            self.rejections[RejectionReason.BRENK] += 1
            return
        similarity = DataStructs.TanimotoSimilarity(self.fingerprint, morgan_fingerprint(decoy))
        hard = self.params.hard_mode
        if hard is not None and not hard.admits(similarity):
            return
        self.accepted.append(
            Decoy(smiles, smiles_hash(smiles), decoy, similarity, rung, n_swaps, tuple(removed), tuple(added))
        )


def _kekulized(mol: Chem.Mol) -> Chem.Mol | None:
    work = Chem.Mol(mol)
    try:
        Chem.Kekulize(work, clearAromaticFlags=True)
    except Chem.KekulizeException:
        return None
    return work


def _eligible_edges(work: Chem.Mol, rung: str) -> list[Edge]:
    """Bonds the rung may rewire, as atom pairs, in bond-index order (deterministic)."""
    return _eligible(bond_table(work), atom_table(work).aromatic, rung)


def _eligible(bonds: Sequence[BondRecord], aromatic: Sequence[bool] | None, rung: str) -> list[Edge]:
    """:func:`_eligible_edges` from a bond table; ``aromatic`` per atom (None: no aromatic atom, the Kekulé form)."""
    eligible: list[Edge] = []
    for bond in bonds:
        if bond.kind != _SINGLE:
            continue
        begin, end = bond.edge
        in_ring = bond.in_ring
        touches_aromatic = aromatic is not None and (aromatic[begin] or aromatic[end])
        if rung == "strict":
            ok = not in_ring and not touches_aromatic
        elif rung == "relax_aromatic":
            ok = not in_ring
        elif rung == "relax_rings":
            ok = not (in_ring and aromatic is not None and aromatic[begin] and aromatic[end])
        else:
            ok = True
        if ok:
            eligible.append(bond.edge)
    return eligible


def _constitution(mol: Chem.Mol) -> str:
    """Canonical SMILES without stereo (isotopes and charges kept): the identity of a constitution."""
    flat = Chem.Mol(mol)
    Chem.RemoveStereochemistry(flat)
    return str(Chem.MolToSmiles(flat))


def _build(
    work: Chem.Mol,
    removed: Sequence[Edge],
    added: Sequence[Edge],
    stereo_bonds: Sequence[int],
    chiral_atoms: frozenset[int] = frozenset(),
    *,
    sanitize: bool,
) -> Chem.Mol | None:
    """Apply a rewiring with RDKit; None when RDKit refuses the result."""
    rw = Chem.RWMol(work)
    touched = {atom for pair in (*removed, *added) for atom in pair}
    double_bond_stereo = _carried_double_bond_stereo(rw, stereo_bonds, removed, added) if stereo_bonds else []
    expected = _expected_neighbour_orders(rw, removed, added, touched & chiral_atoms)
    for u, v in removed:
        rw.RemoveBond(u, v)
    for u, v in added:
        rw.AddBond(u, v, _SINGLE)
    _restore_chirality(rw, expected)
    mol: Chem.Mol = rw  # an RWMol is a Mol: no second copy of the edited molecule
    try:
        if sanitize:
            Chem.SanitizeMol(mol)
        else:
            mol.UpdatePropertyCache(strict=False)
            Chem.FastFindRings(mol)
    except (Chem.AtomValenceException, Chem.KekulizeException, ValueError, RuntimeError):
        return None
    if double_bond_stereo:
        # set after sanitisation (which drops cis/trans without bond directions), then expressed as the bond
        # directions RDKit's stereo perception reads, so a bond that is no longer stereogenic is cleaned
        for (u, v), references, label in double_bond_stereo:
            bond = mol.GetBondBetweenAtoms(u, v)
            bond.SetStereoAtoms(*references)
            bond.SetStereo(label)
        Chem.SetDoubleBondNeighborDirections(mol)
    return mol


def _expected_neighbour_orders(
    rw: Chem.RWMol, removed: Sequence[Edge], added: Sequence[Edge], centres: set[int]
) -> dict[int, list[int] | None]:
    """For each chiral atom a swap touches: its neighbour order with the new neighbour in the lost one's place.

    RDKit reads a tetrahedral tag against the order of the atom's bonds, and RemoveBond/AddBond reorder them;
    the new neighbour takes the geometric place of the one it replaces. An atom that exchanged more than one
    neighbour (a multi-swap walk) has no such correspondence: None, its stereo is dropped.
    """
    out: dict[int, list[int] | None] = {}
    for centre in centres:
        lost = [v if u == centre else u for u, v in removed if centre in (u, v)]
        gained = [v if u == centre else u for u, v in added if centre in (u, v)]
        if len(lost) != 1 or len(gained) != 1:
            out[centre] = None
            continue
        order = [b.GetOtherAtomIdx(centre) for b in rw.GetAtomWithIdx(centre).GetBonds()]
        out[centre] = [gained[0] if n == lost[0] else n for n in order]
    return out


def _restore_chirality(rw: Chem.RWMol, expected: Mapping[int, list[int] | None]) -> None:
    for centre, order in expected.items():
        atom = rw.GetAtomWithIdx(centre)
        if order is None:
            atom.SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
            continue
        actual = [b.GetOtherAtomIdx(centre) for b in atom.GetBonds()]
        if _odd_permutation(order, actual):
            atom.InvertChirality()


def _odd_permutation(first: Sequence[int], second: Sequence[int]) -> bool:
    """Is ``second`` an odd permutation of ``first`` (same items)? Counted by cycle decomposition."""
    position = {item: i for i, item in enumerate(first)}
    mapping = [position[item] for item in second]
    seen = [False] * len(mapping)
    transpositions = 0
    for start in range(len(mapping)):
        length = 0
        node = start
        while not seen[node]:
            seen[node] = True
            node = mapping[node]
            length += 1
        if length:
            transpositions += length - 1
    return transpositions % 2 == 1


def _relative_double_bond_stereo(mol: Chem.Mol) -> Chem.Mol:
    """A copy whose E/Z labels are cis/trans relative to their stereo atoms, without single-bond directions.

    E/Z is a CIP statement that a rewiring can invalidate; cis/trans of two named neighbours survives a swap when
    the neighbour that moved away is replaced by the one that took its place. Canonical SMILES are the same.
    """
    work = Chem.Mol(mol)
    Chem.SetDoubleBondNeighborDirections(work)
    Chem.SetBondStereoFromDirections(work)
    for bond in work.GetBonds():
        bond.SetBondDir(Chem.BondDir.NONE)
    return work


def _carried_double_bond_stereo(
    rw: Chem.RWMol, stereo_bonds: Sequence[int], removed: Sequence[Edge], added: Sequence[Edge]
) -> list[tuple[Edge, tuple[int, int], Chem.BondStereo]]:
    """The cis/trans labels to set after the swap; runs before the edit, while bond indices are the original's.

    RDKit clears a double bond's stereo when a reference neighbour's bond is removed, so each label is re-set
    afterwards: a reference that moved away is replaced by the neighbour that took its place. An end that
    exchanged more than one neighbour (a walk) has no such correspondence and the label is dropped.
    """
    carried: list[tuple[Edge, tuple[int, int], Chem.BondStereo]] = []
    for index in stereo_bonds:
        bond = rw.GetBondWithIdx(index)
        label = bond.GetStereo()
        if label not in (Chem.BondStereo.STEREOCIS, Chem.BondStereo.STEREOTRANS):
            continue
        ends = (bond.GetBeginAtomIdx(), bond.GetEndAtomIdx())
        references = list(bond.GetStereoAtoms())
        for side, end in enumerate(ends):
            lost = [v if u == end else u for u, v in removed if end in (u, v)]
            gained = [v if u == end else u for u, v in added if end in (u, v)]
            if not lost:
                continue
            if len(lost) != 1 or len(gained) != 1:
                references = []
                break
            if references[side] == lost[0]:
                references[side] = gained[0]
        if references:
            carried.append((ends, (references[0], references[1]), label))
    return carried

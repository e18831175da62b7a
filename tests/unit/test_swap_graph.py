"""Graph bookkeeping of double edge swaps, on the heavy-atom graph of butane-like chains."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdkit import Chem

from hetero_core.decoys._swap_graph import SwapConnectivity, SwapGraph, edge, swap_partners

if TYPE_CHECKING:
    from collections.abc import Iterator

    from hetero_core.decoys._swap_graph import Edge


def test_edge_is_normalised() -> None:
    assert edge(3, 1) == (1, 3)
    assert edge(1, 3) == (1, 3)


def test_swap_partners_both_orientations() -> None:
    assert swap_partners((0, 1), (2, 3), 0) == ((0, 3), (1, 2))
    assert swap_partners((0, 1), (2, 3), 1) == ((0, 2), (1, 3))


def test_swap_needs_four_distinct_atoms() -> None:
    assert swap_partners((0, 1), (1, 2), 0) is None


def test_connectivity_after_swap_on_a_path() -> None:
    # path 0-1-2-3-4-5: swapping (0,1),(4,5) -> (0,5),(1,4)... orientation 0 gives (0,5),(1,4)
    graph = SwapGraph(6, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)])
    removed = ((0, 1), (4, 5))
    connected = swap_partners(*removed, 1)  # (0,4),(1,5): 0-4-3-2-1-5 stays one chain
    split = swap_partners(*removed, 0)  # (0,5),(1,4): 0-5 alone, 1-2-3-4 a ring
    assert connected is not None
    assert split is not None
    assert graph.connected_after(removed, connected)
    assert not graph.connected_after(removed, split)
    # the probe leaves the graph as it was
    assert graph.is_connected()
    assert graph.has_edge(0, 1)
    assert not graph.has_edge(0, 5)


def test_can_swap_refuses_an_existing_bond() -> None:
    triangle_tail = SwapGraph(5, [(0, 1), (1, 2), (0, 2), (2, 3), (3, 4)])
    assert not triangle_tail.can_swap(((0, 1), (2, 3)), ((0, 2), (1, 3)))  # 0-2 exists already
    assert triangle_tail.can_swap(((0, 1), (3, 4)), ((0, 4), (1, 3)))


def test_copy_is_independent() -> None:
    graph = SwapGraph(3, [(0, 1), (1, 2)])
    clone = graph.copy()
    clone.apply([(0, 1)], [(0, 2)])
    assert graph.has_edge(0, 1)
    assert not graph.has_edge(0, 2)


def _bonds(mol: Chem.Mol, *, acyclic_only: bool = False) -> list[Edge]:
    return [edge(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds() if not (acyclic_only and b.IsInRing())]


def _legal_swaps(graph: SwapGraph, bonds: list[Edge]) -> Iterator[tuple[tuple[Edge, Edge], tuple[Edge, Edge]]]:
    """Every pair of ``bonds`` in both orientations that ``graph`` allows to swap, as (removed, added)."""
    for i, first in enumerate(bonds):
        for second in bonds[i + 1 :]:
            for orientation in (0, 1):
                added = swap_partners(first, second, orientation)
                removed = (first, second)
                if added is not None and graph.can_swap(removed, added):
                    yield removed, added


def test_bridge_oracle_agrees_with_a_full_connectivity_check() -> None:
    """On real molecules, every pair of acyclic bonds in both orientations: O(1) oracle == DFS."""
    checked = 0
    for smiles in (
        "CC(=O)Oc1ccccc1C(=O)O",
        "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
        "CN1CCN(CC1)C1=Nc2cc(Cl)ccc2Nc2ccccc12",
        "CCCCC(CC)COC(=O)c1ccccc1C(=O)OCC(CC)CCCC",
        "OC(CCCN1CCC(O)(CC1)c1ccc(Cl)cc1)c1ccc(F)cc1",
    ):
        mol = Chem.MolFromSmiles(smiles)
        graph = SwapGraph(mol.GetNumAtoms(), _bonds(mol))
        oracle = SwapConnectivity(graph)
        for removed, added in _legal_swaps(graph, _bonds(mol, acyclic_only=True)):
            assert oracle.keeps_connected(removed, added) == graph.connected_after(removed, added)
            checked += 1
    assert checked > 500


def test_connectivity_oracle_agrees_with_a_full_check_on_every_swap_of_ring_and_chain_bonds() -> None:
    """Bridges, ring bonds of isolated, fused, bridged and spiro rings and macrocycles: O(1) oracle == DFS."""
    checked = cut_pairs = 0
    for smiles in (
        "CC(=O)Oc1ccccc1C(=O)O",
        "CN1CCN(CC1)C1=Nc2cc(Cl)ccc2Nc2ccccc12",
        "C1CC2CCC1C2CC1CCC2(CC1)CCCC2",  # bridged bicycle and a spiro centre
        "C1CCCCCCCCCCC1CC1CC1",  # macrocycle and a cyclopropane
        "c1ccc2c(c1)ccc1ccccc12",  # fused aromatic
        "OC12CC3CC(CC(C3)C1)C2",  # adamantane: every ring bond on several cycles
    ):
        mol = Chem.MolFromSmiles(smiles)
        edges = _bonds(mol)
        graph = SwapGraph(mol.GetNumAtoms(), edges)
        oracle = SwapConnectivity(graph)
        for removed, added in _legal_swaps(graph, edges):
            truth = graph.connected_after(removed, added)
            assert oracle.keeps_connected(removed, added) == truth, (smiles, removed, added)
            checked += 1
            cut_pairs += not truth
    assert checked > 1000
    assert cut_pairs > 50, "swaps that split the molecule are exercised too"

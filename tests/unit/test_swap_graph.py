"""Graph bookkeeping of double edge swaps, on the heavy-atom graph of butane-like chains."""

from __future__ import annotations

from hetero_core.swap_graph import SwapGraph, edge, swap_partners


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

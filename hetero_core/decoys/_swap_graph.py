"""Pure graph bookkeeping for degree-preserving double edge swaps.

Kept apart from RDKit so the cheap questions — are the four atoms distinct, would the swap duplicate a bond,
is the result still one fragment, have we seen this graph before — are answered before paying for RDKit
sanitisation and canonical SMILES, which dominate the cost of a decoy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

Edge = tuple[int, int]


def edge(u: int, v: int) -> Edge:
    """An undirected edge in normal form (smaller atom index first)."""
    return (u, v) if u < v else (v, u)


def swap_partners(first: Edge, second: Edge, orientation: int) -> tuple[Edge, Edge] | None:
    """The two new edges of a double edge swap, or None when the four atoms are not distinct.

    Orientation 0 turns a–b, c–d into a–d, c–b; orientation 1 into a–c, b–d. Together they are the only two
    ways to rewire two edges while every atom keeps its degree.
    """
    a, b = first
    c, d = second
    if len({a, b, c, d}) != 4:
        return None
    if orientation == 0:
        return edge(a, d), edge(c, b)
    return edge(a, c), edge(b, d)


class SwapGraph:
    """Adjacency of a molecule's heavy-atom graph that can be rewired and tested for connectivity."""

    __slots__ = ("adjacency",)

    def __init__(self, n_atoms: int, edges: Iterable[Edge]):
        self.adjacency: list[set[int]] = [set() for _ in range(n_atoms)]
        for u, v in edges:
            self.adjacency[u].add(v)
            self.adjacency[v].add(u)

    def copy(self) -> SwapGraph:
        clone = SwapGraph.__new__(SwapGraph)
        clone.adjacency = [set(neighbours) for neighbours in self.adjacency]
        return clone

    def has_edge(self, u: int, v: int) -> bool:
        return v in self.adjacency[u]

    def can_swap(self, removed: Sequence[Edge], added: Sequence[Edge]) -> bool:
        """True when none of the new edges exists already (no double bond is created by accident)."""
        return all(not self.has_edge(u, v) for u, v in added) and added[0] != added[1] and set(added) != set(removed)

    def apply(self, removed: Sequence[Edge], added: Sequence[Edge]) -> None:
        for u, v in removed:
            self.adjacency[u].discard(v)
            self.adjacency[v].discard(u)
        for u, v in added:
            self.adjacency[u].add(v)
            self.adjacency[v].add(u)

    def is_connected(self) -> bool:
        """One fragment? Iterative DFS; molecules are small, so this costs microseconds."""
        n = len(self.adjacency)
        if n <= 1:
            return True
        seen = [False] * n
        seen[0] = True
        stack = [0]
        count = 1
        adjacency = self.adjacency
        while stack:
            for neighbour in adjacency[stack.pop()]:
                if not seen[neighbour]:
                    seen[neighbour] = True
                    count += 1
                    stack.append(neighbour)
        return count == n

    def connected_after(self, removed: Sequence[Edge], added: Sequence[Edge]) -> bool:
        """Would the graph stay one fragment after the swap? Applies, tests and undoes it in place."""
        self.apply(removed, added)
        try:
            return self.is_connected()
        finally:
            self.apply(added, removed)


class SwapConnectivity:
    """O(1) connectivity of any double edge swap of a connected graph, from one DFS of the graph.

    Each edge gets a cycle label: the set (a bit mask) of fundamental cycles of the DFS tree that use it. A bridge
    is on no cycle (label 0). Two non-bridges with different labels are not a 2-edge cut: some cycle uses one and
    not the other, so removing both leaves one piece and any rewiring stays connected. Otherwise removing the two
    edges leaves two pieces (three for two bridges), each a DFS subtree or a subtree minus a nested one, and the
    swap stays connected exactly when a new edge joins them:

    - two bridges, tree edges parent→child: if one child's subtree holds the other bridge (nested), the parents
      pair up and the children pair up; otherwise (side by side) each parent takes the other bridge's child;
    - one bridge p→c and a non-bridge (on a cycle inside one side): the pieces are c's subtree and the rest;
    - two non-bridges with the same label: a tree edge and the one back edge over it cut off the tree edge's
      subtree; two tree edges, one below the other, cut off the upper one's subtree minus the lower one's.

    Only valid for the graph as it was built (the swap is asked about, never applied).
    """

    __slots__ = ("entry", "exit", "labels", "parent")

    def __init__(self, graph: SwapGraph):
        n = len(graph.adjacency)
        self.entry = [-1] * n
        self.exit = [-1] * n
        self.parent = [-1] * n
        clock = 0
        for root in range(n):
            if self.entry[root] >= 0:
                continue
            self.entry[root] = clock
            clock += 1
            stack = [(root, iter(sorted(graph.adjacency[root])))]
            while stack:
                node, neighbours = stack[-1]
                for neighbour in neighbours:
                    if self.entry[neighbour] < 0:
                        self.parent[neighbour] = node
                        self.entry[neighbour] = clock
                        clock += 1
                        stack.append((neighbour, iter(sorted(graph.adjacency[neighbour]))))
                        break
                else:
                    self.exit[node] = clock
                    clock += 1
                    stack.pop()
        self.labels: dict[Edge, int] = {}
        back_edges = 0
        for u, adjacent in enumerate(graph.adjacency):
            for v in adjacent:
                if u > v or self.parent[v] == u or self.parent[u] == v:
                    continue
                # a non-tree edge of an undirected DFS joins a node to one of its ancestors: a fundamental cycle
                low, high = (u, v) if self.entry[u] > self.entry[v] else (v, u)
                bit = 1 << back_edges
                back_edges += 1
                self.labels[(u, v)] = bit
                node = low
                while node != high:
                    tree_edge = edge(node, self.parent[node])
                    self.labels[tree_edge] = self.labels.get(tree_edge, 0) | bit
                    node = self.parent[node]

    def _oriented(self, tree_edge: Edge) -> tuple[int, int]:
        u, v = tree_edge
        return (u, v) if self.parent[v] == u else (v, u)

    def _inside(self, node: int, root: int) -> bool:
        return self.entry[root] <= self.entry[node] and self.exit[node] <= self.exit[root]

    def keeps_connected(self, removed: Sequence[Edge], added: Sequence[Edge]) -> bool:
        """Would the graph stay one fragment after the swap (two removed edges, two added, four distinct atoms)?"""
        first, second = removed
        labels = self.labels
        label_first, label_second = labels.get(first, 0), labels.get(second, 0)
        if label_first and label_second:
            if label_first != label_second:
                return True
            return self._joins(self._cut_off(first, second), added)
        if label_first or label_second:
            bridge = second if label_first else first
            child = self._oriented(bridge)[1]
            return any(self._inside(u, child) != self._inside(v, child) for u, v in added)
        (p1, c1), (p2, c2) = self._oriented(first), self._oriented(second)
        if self._inside(c2, c1) or self._inside(c1, c2):
            joining = {edge(p1, p2), edge(c1, c2)}
        else:
            joining = {edge(p1, c2), edge(p2, c1)}
        return set(added) == joining

    def _cut_off(self, first: Edge, second: Edge) -> tuple[int, int | None]:
        """The piece two same-label edges cut off, as (subtree root, nested subtree root left out or None)."""
        tree = [e for e in (first, second) if self.parent[e[0]] == e[1] or self.parent[e[1]] == e[0]]
        if len(tree) == 1:  # a tree edge and the back edge over it
            return self._oriented(tree[0])[1], None
        upper, lower = self._oriented(first)[1], self._oriented(second)[1]
        if self._inside(upper, lower):
            upper, lower = lower, upper
        return upper, lower

    def _joins(self, piece: tuple[int, int | None], added: Sequence[Edge]) -> bool:
        root, left_out = piece

        def in_piece(node: int) -> bool:
            return self._inside(node, root) and (left_out is None or not self._inside(node, left_out))

        return any(in_piece(u) != in_piece(v) for u, v in added)

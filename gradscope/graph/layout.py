"""How tall and how wide a graph is drawn: ranks as Graphviz's ``dot`` assigns them.

``dot`` puts every node one rank after the latest of its inputs, so a graph is as tall as its
longest path and as wide as its most crowded rank. A 12-layer transformer is a chain of over a
hundred ranks a few nodes wide: drawn in full it is a strip no screen shows readably. These
figures let ``depth="auto"`` collapse such a graph until it is short enough, and let the DOT
writer pick the direction (top-down or left-right) whose picture is closest to a page's shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: ``depth="auto"`` also collapses graphs whose longest path is longer than this many ranks.
AUTO_MAX_RANKS = 60


def ranks(node_ids: Iterable[str], edges: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Each node's rank as ``dot`` roughly assigns it: as late as its consumers allow.

    The graph is as many ranks tall as its longest path; a source (a parameter) sits just
    before its first consumer rather than at the top, as ``dot``'s shortest-edges ranking
    puts it. Iterative (Kahn's order), so a chain of 100,000 ops is fine; nodes on a cycle,
    which an autograd graph never has, keep the rank they reached.
    """
    after = {n: 0 for n in node_ids}  # longest path from the node to a sink
    ins: dict[str, list[str]] = {}
    outdegree = dict.fromkeys(after, 0)
    for src, dst in edges:
        if src in after and dst in after and src != dst:
            ins.setdefault(dst, []).append(src)
            outdegree[src] += 1
    ready = [n for n, d in outdegree.items() if d == 0]
    while ready:
        n = ready.pop()
        for m in ins.get(n, ()):
            after[m] = max(after[m], after[n] + 1)
            outdegree[m] -= 1
            if outdegree[m] == 0:
                ready.append(m)
    tallest = max(after.values(), default=0)
    return {n: tallest - d for n, d in after.items()}


def extent(rank: Mapping[str, int]) -> tuple[int, int]:
    """(number of ranks, nodes on the most crowded rank) of a ranking; (0, 0) when empty."""
    if not rank:
        return 0, 0
    counts: dict[int, int] = {}
    for r in rank.values():
        counts[r] = counts.get(r, 0) + 1
    return max(counts) + 1, max(counts.values())

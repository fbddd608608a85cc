"""Node and Edge records from what the walk read, built when a captured graph is first read.

The walk reads everything a record needs from the live autograd graph while it is there (types,
shapes, dtypes, sequence numbers, names), so nothing live is kept; what it leaves for later is
building one Python object per node and edge, which is as much work again as the traversal
(docs/graph.md, Benchmark). :class:`~gradscope.graph.Graph` calls :func:`build_records` the
first time its ``nodes`` or ``edges`` are read: rendering, collapsing and serialising pay it
once, and code that captures a graph only to keep it does not pay it at capture time. Module
attribution (a bisect per node) and the placement of parameters in module calls happen here too.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from gradscope.graph.attribution import NO_SEQUENCE
from gradscope.graph.model import Edge, ModuleCall, Node, number_calls
from gradscope.graph.raw import TypeInfo, Walked, dtype_name, node_ids, to_node


class Attribution:
    """A frozen copy of a recording's sequence-number segments and the calls that own them
    (a record can still grow while its ``with`` block runs; the graph must not change)."""

    def __init__(self, bounds: list[int], owners: list[int | None], calls: list[ModuleCall]):
        self.bounds = list(bounds)
        self.owners = list(owners)
        self.calls = calls

    def locate_all(self, seqs: list[int | None]) -> list[int | None]:
        """The module call of each sequence number (None for tensors and AccumulateGrad)."""
        bounds, owners = self.bounds, self.owners
        out: list[int | None] = []
        for seq in seqs:
            if seq is None or seq == NO_SEQUENCE:
                out.append(None)
            else:
                i = bisect_right(bounds, seq) - 1
                out.append(owners[i] if i >= 0 else None)
        return out


def build_records(
    walked: Walked, attribution: Attribution | None = None
) -> tuple[list[Node], list[Edge]]:
    """The walk's raw nodes and edges as records, attributed to module calls when recorded."""
    raw, names = walked.nodes, walked.names
    ids = node_ids(len(raw))
    calls: list[int | None] | None = None
    if attribution is not None and walked.seqs is not None:
        calls = attribution.locate_all(walked.seqs)
    nodes: list[Node] = []
    append = nodes.append
    for i, r in enumerate(raw):
        if r.__class__ is TypeInfo:  # to_node() inlined, all positional: keywords cost 2x
            call = None if calls is None or r.kind != "op" else calls[i]
            append(
                Node(ids[i], r.kind, r.name, None, None, call, None, None, None, None, None,
                     (), (), (), (), r.is_view)
            )  # fmt: skip
            continue
        node = to_node(i, r, names)
        if calls is not None and node.kind in ("op", "custom"):
            node.call = calls[i]
        append(node)
    for acc, leaf in walked.accs:
        nodes[acc].module = nodes[leaf].module
    edges = _edges(walked, ids)
    if attribution is not None and attribution.calls:
        place_params(nodes, edges, attribution.calls)
        number_calls(nodes, attribution.calls)
    return nodes, edges


def _edges(walked: Walked, ids: list[str]) -> list[Edge]:
    """Records of the walk's edges; a raw edge's shape and dtype are its source's metadata for
    that output (its dtype named once per distinct pair)."""
    metas = walked.metas
    plain: dict[int, tuple[Any, str]] = {}  # id of a shared pair -> plain values
    edges: list[Edge] = []
    add = edges.append
    for e in walked.edges:
        if e.__class__ is not tuple:
            add(e)
            continue
        j, i, nr, slot = e
        sd: Any = metas[j]
        if sd.__class__ is list:
            sd = sd[nr] if nr < len(sd) else None
        elif nr:
            sd = None
        if sd is None:
            add(Edge(ids[j], ids[i], "flow", None, None, slot))
            continue
        values = plain.get(id(sd))
        if values is None:
            values = plain[id(sd)] = (sd[0], dtype_name(sd[1]))
        add(Edge(ids[j], ids[i], "flow", values[0], values[1], slot))
    return edges


def place_params(nodes: list[Node], edges: list[Edge], calls: list[ModuleCall]) -> None:
    """Put each parameter (and its AccumulateGrad) in the innermost call, among those its first
    user ran in, whose module owns it, so clusters and collapsed modules contain their weights.
    Owners that never run themselves (``out_proj`` inside ``MultiheadAttention``) fall back to
    the nearest enclosing call."""
    by_id = {n.id: n for n in nodes}
    users: dict[str, list[int]] = {}
    for e in edges:
        if e.kind == "flow" and by_id[e.src].kind == "accumulate":
            call = by_id[e.dst].call
            if call is not None:
                users.setdefault(e.src, []).append(call)
    for e in edges:
        acc = by_id[e.dst]
        if e.kind != "flow" or acc.kind != "accumulate" or by_id[e.src].kind != "param":
            continue
        param = by_id[e.src]
        owner = param.module or ""
        for call in users.get(acc.id, ())[:1]:
            c: int | None = call
            while c is not None and not _owns(calls[c].path, owner):
                c = calls[c].parent
            acc.call = param.call = c


def _owns(path: str, owner: str) -> bool:
    return not path or owner == path or owner.startswith(path + ".")

"""Collapsing module calls into single nodes, so a 12-layer transformer stays readable.

``depth=k`` draws every module call whose path has ``k`` or more components (``encoder`` is 1,
``encoder.layers.0`` is 3) as one node, with everything its forward created inside it. Calls,
not modules, are collapsed: a module used twice becomes two nodes, so collapsing never creates a
cycle (a call's nodes own one contiguous range of sequence numbers). Edges entering and leaving
a collapsed call keep their tensor shapes; parallel edges with the same shape are merged.
A parameter is absorbed into its module's node only when every use of it is inside that call,
so a tied weight stays visible with edges into each user.
"""

from __future__ import annotations

from gradscope.graph.layout import AUTO_MAX_RANKS, extent, ranks
from gradscope.graph.model import FUNCTION_KINDS, Edge, GraphData, GraphT, ModuleCall, Node

#: ``depth="auto"`` collapses graphs larger than this (or taller than ``AUTO_MAX_RANKS``
#: ranks), as deep as still fits.
AUTO_MAX_NODES = 250


def collapse_targets(calls: list[ModuleCall], depth: int) -> list[int | None]:
    """For each call, the outermost enclosing call at ``depth`` or deeper (None: not collapsed)."""
    out: list[int | None] = [None] * len(calls)
    for c in calls:  # parents are entered, so numbered, before their children
        inherited = out[c.parent] if c.parent is not None else None
        if inherited is not None:
            out[c.index] = inherited
        elif c.depth >= depth:
            out[c.index] = c.index
    return out


def _groups(graph: GraphData, depth: int) -> dict[str, int]:
    """Node id → the call it collapses into, for the nodes that collapse."""
    targets = collapse_targets(graph.calls, depth)
    group: dict[str, int] = {}
    for n in graph.nodes:
        if n.call is not None and n.kind in FUNCTION_KINDS:
            t = targets[n.call]
            if t is not None:
                group[n.id] = t
    by_id = {n.id: n for n in graph.nodes}
    consumers: dict[str, set[int | None]] = {}
    saved_by: dict[str, set[int | None]] = {}
    feeds: dict[str, str] = {}
    for e in graph.edges:
        if e.kind == "flow":
            consumers.setdefault(e.src, set()).add(group.get(e.dst))
            feeds[e.src] = e.dst
        elif e.kind == "saved":  # built-in nodes point at the tensor, custom ones from it
            fn, tensor = (e.src, e.dst) if by_id[e.src].kind in FUNCTION_KINDS else (e.dst, e.src)
            saved_by.setdefault(tensor, set()).add(group.get(fn))
    for n in graph.nodes:
        if n.kind == "accumulate" and n.id in group:
            owner = graph.calls[group[n.id]].path
            inside = n.module is not None and (
                not owner or n.module == owner or n.module.startswith(owner + ".")
            )
            if not inside or consumers.get(n.id, set()) != {group[n.id]}:
                del group[n.id]
    for n in graph.nodes:
        if n.kind in ("param", "leaf") and n.id in feeds:
            acc = by_id[feeds[n.id]]
            if acc.kind == "accumulate" and acc.id in group and n.kind == "param":
                group[n.id] = group[acc.id]
    for tensor, users in saved_by.items():
        user = next(iter(users)) if len(users) == 1 else None
        if by_id[tensor].kind == "saved" and user is not None:
            group[tensor] = user
    return group


def collapse(graph: GraphT, depth: int) -> GraphT:
    """A new graph with module calls at ``depth`` or deeper drawn as one node each."""
    if depth < 0:
        raise ValueError(f"depth must be >= 0, got depth={depth}")
    group = _groups(graph, depth)
    members: dict[int, list[str]] = {}
    for node_id, index in group.items():
        members.setdefault(index, []).append(node_id)
    by_id = {n.id: n for n in graph.nodes}
    nodes: list[Node] = []
    emitted: set[int] = set()
    for n in graph.nodes:  # a module node takes the place of its first member
        t = group.get(n.id)
        if t is None:
            nodes.append(n)
        elif t not in emitted:
            emitted.add(t)
            nodes.append(_module_node(graph.calls[t], members[t], by_id))
    new_id = {node_id: f"m{t}" for node_id, t in group.items()}
    edges: list[Edge] = []
    seen: set[tuple] = set()
    for e in graph.edges:
        src, dst = new_id.get(e.src, e.src), new_id.get(e.dst, e.dst)
        if src == dst:
            continue
        key = (src, dst, e.kind, e.shape, e.dtype)
        if key in seen:
            continue
        seen.add(key)
        edges.append(Edge(src, dst, e.kind, e.shape, e.dtype, e.slot, e.name))
    before, after = len(graph.nodes), len(nodes)
    note = f"collapsed to depth {depth}: {before} nodes drawn as {after}"
    return type(graph)(
        nodes=nodes, edges=edges, calls=graph.calls, breaks=graph.breaks,
        notes=[*graph.notes, note], heat=graph.heat, depth=depth, full=graph,
    )  # fmt: skip


def _order(node_id: str) -> int:
    return int(node_id.lstrip("nm"))


def _module_node(call: ModuleCall, member_ids: list[str], by_id: dict[str, Node]) -> Node:
    ops = sum(1 for m in member_ids if by_id[m].kind in ("op", "custom"))
    params = sum(1 for m in member_ids if by_id[m].kind == "param")
    attrs = (("ops", str(ops)), ("params", str(params)))
    return Node(
        f"m{call.index}", "module", call.title, call=call.index, module=call.path,
        function=call.type, attrs=attrs, members=tuple(sorted(member_ids, key=_order)),
    )  # fmt: skip


def auto_depth(
    graph: GraphData, max_nodes: int = AUTO_MAX_NODES, max_ranks: int = AUTO_MAX_RANKS
) -> int | None:
    """The deepest collapse that draws at most ``max_nodes`` nodes on at most ``max_ranks``
    ranks (a 12-layer transformer is small enough in nodes at depth 3 but a strip a hundred
    ranks tall); None when the graph is small and short enough already or has no module calls
    to collapse; the shallowest depth when none fits."""
    if not graph.calls:
        return None
    n_nodes = graph.size[0]
    if n_nodes <= max_nodes and (n_nodes <= max_ranks or _height(graph, {}) <= max_ranks):
        return None
    depths = sorted({c.depth for c in graph.calls}, reverse=True)
    for k in depths:
        group = _groups(graph, k)
        drawn = len(graph.nodes) - len(group) + len(set(group.values()))
        if drawn <= max_nodes and _height(graph, group) <= max_ranks:
            return k
    return depths[-1]


def _height(graph: GraphData, group: dict[str, int]) -> int:
    """Ranks the graph takes when the nodes in ``group`` are drawn as their calls' nodes."""
    ids = {n.id: f"m{group[n.id]}" if n.id in group else n.id for n in graph.nodes}
    edges = ((ids[e.src], ids[e.dst]) for e in graph.edges)
    return extent(ranks(set(ids.values()), edges))[0]

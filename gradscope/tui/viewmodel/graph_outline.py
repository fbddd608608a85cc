"""The graph view's tree as plain data: module calls nested as recorded, nodes inside them.

A node sits under the module call whose forward created it (``Node.call``); a call drawn as one
node at the current depth takes its own place, and anything of it that stayed outside (a tied
weight) sits next to it. Saved tensors are not rows: the function that saved them lists them in
its detail. Nothing here imports Textual, so the placement, the search and the focus are tested
like any function, and the export draws exactly the graph the tree shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.text import Text

from gradscope.numbers import fixed
from gradscope.render.dot import shape_text
from gradscope.render.styles import colour

if TYPE_CHECKING:
    from gradscope.graph.model import GraphData, Node

BREAKS_KEY = "breaks"


@dataclass
class Entry:
    """One row of the tree: ``c:<index>`` a module call, a node id, ``b:<i>`` a graph break."""

    key: str
    label: Text
    search: str
    children: list[Entry] = field(default_factory=list)


def call_key(index: int) -> str:
    return f"c:{index}"


def placement(graph: GraphData) -> dict[str, int | None]:
    """Node id → the call whose row holds it (``None``: the top level), saved tensors left out."""
    calls = graph.calls
    collapsed = {n.call for n in graph.nodes if n.kind == "module"}
    homes: dict[int | None, int | None] = {}

    def home(call: int | None) -> int | None:
        if call is None or not 0 <= call < len(calls):
            return None
        if call not in homes:
            outer: int | None = None
            c: int | None = call
            while c is not None:  # the outermost enclosing call drawn as one node
                if c in collapsed:
                    outer = c
                c = calls[c].parent
            homes[call] = call if outer is None else calls[outer].parent
        return homes[call]

    return {n.id: home(n.call) for n in graph.nodes if n.kind != "saved"}


def grad_label(graph: GraphData, node_id: str) -> Text:
    """``‖g‖ 1.476`` for a row: zero in yellow, NaN/Inf in bold red, nothing when not recorded."""
    if graph.heat is None or not graph.heat.done:
        return Text()
    value = graph.grad_norm(node_id)
    if value is None:
        return Text()
    style = "dim" if math.isfinite(value) and value != 0 else "yellow"
    style = style if math.isfinite(value) else "bold red"
    return Text(f"‖g‖ {fixed(value)}", style=style)


def node_title(graph: GraphData, node: Node, sources: dict[str, list[str]]) -> str:
    """A node's name as the tree shows it; AccumulateGrad names the leaf it accumulates into."""
    if node.kind == "module":
        return f"{node.name} · {node.function}"
    if node.kind == "accumulate" and sources.get(node.id):
        return f"{node.name} → {graph.node(sources[node.id][0]).name}"
    return node.name or node.kind


def _node_entry(graph: GraphData, node: Node, sources: dict, shapes: dict) -> Entry:
    title = node_title(graph, node, sources)
    label = Text(title, style=colour(node.kind))
    shape = node.shape if node.kind in ("param", "leaf", "output", "base") else None
    shown = shape_text(shape) if shape is not None else ", ".join(shapes.get(node.id, [])[:2])
    if node.kind == "module":
        counts = dict(node.attrs)
        shown = f"{counts.get('ops', '?')} ops, {counts.get('params', '?')} params"
    if shown:
        label.append(f"  {shown}", style="dim")
    grad = grad_label(graph, node.id)
    if grad:
        label.append("  ")
        label.append_text(grad)
    return Entry(node.id, label, f"{title} {node.module or ''}".lower())


def _forward(node: Node) -> int:
    """Forward order: node ids count up from the output, backwards through the forward."""
    digits = node.id[1:]
    return -int(digits) if digits.isdigit() else 0


def outline(graph: GraphData, *, search: str = "") -> list[Entry]:
    """The rows of ``graph``: calls nested by parent, nodes under theirs, then the graph breaks;
    with ``search``, only rows whose text contains it, their calls, and all of a matching call."""
    calls = graph.calls
    home = placement(graph)
    sources: dict[str, list[str]] = {}
    shapes: dict[str, list[str]] = {}
    for e in graph.edges:
        if e.kind == "flow":
            sources.setdefault(e.dst, []).append(e.src)
            text = shape_text(e.shape)
            if text and text not in shapes.setdefault(e.src, []):
                shapes[e.src].append(text)
    nodes_in: dict[int | None, list[Node]] = {}
    needed: set[int] = set()
    for node in graph.nodes:
        if node.id not in home:
            continue
        c = home[node.id]
        nodes_in.setdefault(c, []).append(node)
        while c is not None and c not in needed:
            needed.add(c)
            c = calls[c].parent
    children: dict[int | None, list[int]] = {}
    for c in sorted(needed):  # an ancestor of a row's call is never drawn as one node
        children.setdefault(calls[c].parent, []).append(c)

    def level(call: int | None) -> list[Entry]:
        """Leaves, then calls and collapsed calls in call order, then operations forward."""
        here = nodes_in.get(call, [])
        out = [_node_entry(graph, n, sources, shapes) for n in sorted(here, key=_forward)
               if n.kind in ("param", "leaf")]  # fmt: skip
        blocks: list[tuple[int, Entry]] = [
            (n.call or 0, _node_entry(graph, n, sources, shapes))
            for n in here
            if n.kind == "module"
        ]
        for c in children.get(call, []):
            mc = calls[c]
            label = Text(mc.title, style="bold")
            label.append(f" · {mc.type}", style="dim")
            if not mc.grad_enabled:
                label.append("  no_grad", style="yellow")
            entry = Entry(call_key(c), label, f"{mc.title} {mc.type}".lower(), level(c))
            blocks.append((c, entry))
        out += [entry for _, entry in sorted(blocks, key=lambda b: b[0])]
        out += [_node_entry(graph, n, sources, shapes) for n in sorted(here, key=_forward)
                if n.kind not in ("param", "leaf", "module")]  # fmt: skip
        return out

    entries = level(None)
    if graph.breaks:
        label = Text(f"not reached by the output ({len(graph.breaks)})", style="bold red")
        rows = []
        for i, b in enumerate(graph.breaks):
            reason = Text(b.param, style="red")
            reason.append(f" · {b.reason}", style="dim")
            rows.append(Entry(f"b:{i}", reason, f"{b.param} {b.reason} {b.module}".lower()))
        entries.append(Entry(BREAKS_KEY, label, "graph breaks not reached", rows))
    return narrow(entries, search.lower()) if search else entries


def narrow(entries: list[Entry], text: str) -> list[Entry]:
    """The rows that contain ``text`` and the calls above them; a matching call keeps all."""
    out = []
    for entry in entries:
        if text in entry.search:
            out.append(entry)
            continue
        kept = narrow(entry.children, text)
        if kept:
            out.append(Entry(entry.key, entry.label, entry.search, kept))
    return out


def levels(graph: GraphData) -> list[int]:
    """The depths ``+``/``-`` step through: those of the recorded calls, the model's own left
    out (depth 0 would draw the whole model as one box)."""
    return sorted({c.depth for c in graph.calls if c.depth > 0})


def step_depth(graph: GraphData, depth: int | None, delta: int) -> int | None:
    """One level deeper (``delta`` > 0, ``None`` past the last: nothing collapsed) or shallower."""
    steps = levels(graph)
    if not steps:
        return depth
    if delta > 0:
        return None if depth is None else next((k for k in steps if k > depth), None)
    if depth is None:
        return steps[-1]
    return next((k for k in reversed(steps) if k < depth), depth)


def focus(graph: GraphData, call: int) -> GraphData | None:
    """Only what the call's row holds (its nodes, their edges, their saved tensors, the breaks in
    its module); ``None`` when the call has no row at this depth (drawn inside a bigger node)."""
    from gradscope.graph.model import FUNCTION_KINDS, GraphData

    calls = graph.calls
    home = placement(graph)

    def inside(c: int | None) -> bool:
        while c is not None:
            if c == call:
                return True
            c = calls[c].parent
        return False

    keep = {node_id for node_id, c in home.items() if inside(c)}
    if not keep:
        return None
    kinds = {n.id: n.kind for n in graph.nodes}
    for e in graph.edges:  # saved tensors follow the function that saved them
        if e.kind == "saved":
            fn, tensor = (e.src, e.dst) if kinds.get(e.src) in FUNCTION_KINDS else (e.dst, e.src)
            if fn in keep and kinds.get(tensor) == "saved":
                keep.add(tensor)
    path = calls[call].path
    return GraphData(
        nodes=[n for n in graph.nodes if n.id in keep],
        edges=[e for e in graph.edges if e.src in keep and e.dst in keep],
        calls=calls,
        breaks=[b for b in graph.breaks if not path or b.module == path
                or b.module.startswith(path + ".")],
        notes=[*graph.notes, f"only {calls[call].title} ({calls[call].type})"],
        heat=graph.heat,
        depth=graph.depth,
    )  # fmt: skip

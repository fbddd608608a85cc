"""What the graph view's detail pane says about the highlighted row (plain rich text).

A node: what it is, its module call, the gradient that flowed through it, the tensors that came
in and went out (with shapes), what it saved for backward and its attributes. A module call: its
size, its largest gradient, the parameters cut off inside it. A graph break: the reason and the
fix the break report gives.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.text import Text

from gradscope.numbers import fixed
from gradscope.render.dot import shape_text
from gradscope.render.styles import KINDS, colour
from gradscope.tui.viewmodel.graph_outline import BREAKS_KEY, node_title

if TYPE_CHECKING:
    from gradscope.graph.model import Edge, GraphData, Node

FUNCTIONS = frozenset({"op", "accumulate", "custom"})


def gradient_text(graph: GraphData, node_id: str, *, largest: bool = False) -> Text:
    """The norm of the gradient that flowed through a node, or why there is none."""
    text = Text("largest gradient inside " if largest else "gradient ", style="bold")
    heat = graph.heat
    if heat is None:
        return text.append("not recorded: capture with grads=True for a heat map", style="dim")
    if not heat.done:
        return text.append("pending: no backward() ran after the capture", style="dim")
    value = graph.grad_norm(node_id)
    if value is None:
        return text.append("none reached it in the recorded backward", style="dim")
    if not math.isfinite(value):
        return text.append(f"‖g‖ {fixed(value)}: non-finite", style="bold red")
    if value == 0:
        return text.append("‖g‖ 0: a zero gradient flowed here", style="yellow")
    return text.append(f"‖g‖ {value:.6g}")


def _section(text: Text, title: str, rows: list[tuple[str, str]]) -> None:
    if not rows:
        return
    text.append(f"\n\n{title}", style="bold")
    width = max(len(left) for left, _ in rows)
    for left, right in rows:
        text.append(f"\n  {left.ljust(width)}  {right}")


def _edge_shape(e: Edge) -> str:
    dtype = "" if e.dtype in (None, "float32") else f" {e.dtype}"
    return (shape_text(e.shape) or "—") + dtype


def flow_sources(graph: GraphData) -> dict[str, list[str]]:
    """Node id → the ids whose tensors flow into it."""
    sources: dict[str, list[str]] = {}
    for e in graph.edges:
        if e.kind == "flow":
            sources.setdefault(e.dst, []).append(e.src)
    return sources


def describe_node(graph: GraphData, node: Node) -> Text:
    """Everything the graph knows about one node."""
    sources = flow_sources(graph)

    def name(node_id: str) -> str:
        return node_title(graph, graph.node(node_id), sources)

    text = Text(node_title(graph, node, sources), style=f"bold {colour(node.kind)}")
    meaning = KINDS[node.kind].meaning if node.kind in KINDS else node.kind
    text.append(f"\n{meaning} · id {node.id}", style="dim")
    call = node.call if node.call is not None and 0 <= node.call < len(graph.calls) else None
    if call is not None and node.kind == "module":
        call = graph.calls[call].parent
    if call is not None:
        text.append(f"\nin {graph.calls[call].title} ({graph.calls[call].type})")
    elif node.module and node.kind != "module":
        text.append(f"\nof {node.module}")
    if node.kind in ("param", "leaf", "output", "base", "saved"):
        facts = [f"shape {shape_text(node.shape) or '?'}", str(node.dtype or "")]
        if node.requires_grad is not None:
            facts.append(f"requires_grad={node.requires_grad}")
        if node.retains_grad:
            facts.append("retains_grad")
        if node.is_view:
            facts.append("a view")
        text.append("\n" + " · ".join(f for f in facts if f))
    if node.function and node.kind != "module":
        text.append(f"\nFunction: {node.function}")
    if node.aliases:
        text.append(f"\nalso named {', '.join(node.aliases)}")
    if node.tensors:
        text.append(f"\nproduces {', '.join(node.tensors)}")
    text.append("\n")
    text.append_text(gradient_text(graph, node.id, largest=node.kind == "module"))
    ins = [e for e in graph.edges if e.kind == "flow" and e.dst == node.id]
    outs = [e for e in graph.edges if e.kind == "flow" and e.src == node.id]
    _section(text, "in (forward)", [(_edge_shape(e), f"from {name(e.src)}") for e in ins])
    _section(text, "out (forward)", [(_edge_shape(e), f"to {name(e.dst)}") for e in outs])
    saved, saved_by = [], []
    for e in graph.edges:
        if e.kind != "saved":
            continue
        src_is_fn = graph.node(e.src).kind in FUNCTIONS
        fn, tensor = (e.src, e.dst) if src_is_fn else (e.dst, e.src)
        what = f"{shape_text(e.shape) or '—'} {e.dtype or ''}".rstrip()
        if fn == node.id:
            kept = graph.node(tensor)
            other = "" if kept.kind == "saved" else f"  (= {name(tensor)})"
            saved.append((e.name or kept.name, f"{what}{other}"))
        elif tensor == node.id:
            saved_by.append((e.name or "", f"by {name(fn)}"))
    _section(text, "saved for backward", saved)
    _section(text, "saved as", saved_by)
    if node.kind == "module":
        counts = dict(node.attrs)
        text.append(
            f"\n\n{counts.get('ops', '?')} operations and {counts.get('params', '?')} parameters"
            f" inside ({len(node.members)} nodes of the full graph)"
        )
    else:
        _section(text, "attributes", [(key, value) for key, value in node.attrs])
    return text


def describe_call(graph: GraphData, index: int) -> Text:
    """A module call: size, the largest gradient inside, the parameters cut off inside."""
    from gradscope.tui.viewmodel.graph_outline import focus

    call = graph.calls[index]
    text = Text(call.title, style="bold")
    text.append(f" · {call.type}")
    runs = sum(1 for c in graph.calls if c.path == call.path)
    facts = [f"call {call.nth + 1} of {runs}"] if runs > 1 else []
    facts.append("gradients enabled" if call.grad_enabled else "ran under torch.no_grad()")
    text.append("\n" + " · ".join(facts), style="dim")
    inner = focus(graph, index)
    nodes = inner.nodes if inner is not None else []
    ops = sum(1 for n in nodes if n.kind in ("op", "custom"))
    params = [n for n in nodes if n.kind == "param"]
    text.append(f"\n{len(nodes)} nodes: {ops} operations, {len(params)} parameters")
    norms = [(v, n) for n in nodes if (v := graph.grad_norm(n.id)) is not None]
    bad = [(v, n) for v, n in norms if not math.isfinite(v)]
    bad.sort(key=lambda x: not math.isnan(x[0]))  # NaN first: the worst case shows
    if bad or norms:
        value, node = bad[0] if bad else max(norms, key=lambda x: x[0])
        style = "bold red" if bad else ""
        text.append("\nlargest gradient inside: ")
        text.append(f"‖g‖ {fixed(value)}", style=style)
        text.append(f" at {node_title(graph, node, flow_sources(graph))}")
    breaks = inner.breaks if inner is not None else []
    _section(text, "not reached by the output", [(b.param, b.reason) for b in breaks])
    text.append("\n\nf: only this call (and the export too) · x: export", style="dim")
    return text


def describe_break(graph: GraphData, index: int) -> Text:
    b = graph.breaks[index]
    text = Text(b.param, style="bold red")
    text.append(f"\n{b.reason} · in {b.module or 'the model'}", style="dim")
    if b.code:
        text.append(f" · doctor code {b.code}", style="dim")
    if b.aliases:
        text.append(f"\nalso named {', '.join(b.aliases)}")
    text.append(f"\n\n{b.detail}")
    return text


def describe_graph(graph: GraphData) -> Text:
    """The whole graph: sizes, the heat map's state, the capture's notes."""
    full = graph.full or graph
    text = Text("autograd graph", style="bold")
    text.append(f"\n{len(full.nodes)} nodes, {len(full.edges)} edges, {len(full.calls)} calls")
    if graph is not full:
        text.append(f" · drawn as {len(graph.nodes)} nodes")
    if graph.breaks:
        text.append(f"\n{len(graph.breaks)} parameters the output does not reach", style="red")
    for note in graph.notes:
        text.append(f"\n{note}", style="dim")
    return text


def describe(graph: GraphData, key: str | None) -> Text:
    """The detail of the row ``key`` (see :class:`~gradscope.tui.viewmodel.graph_outline.Entry`)."""
    if key is None or key == BREAKS_KEY:
        return describe_graph(graph)
    if key.startswith("c:"):
        return describe_call(graph, int(key[2:]))
    if key.startswith("b:"):
        return describe_break(graph, int(key[2:]))
    return describe_node(graph, graph.node(key))

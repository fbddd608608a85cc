"""A :class:`~gradscope.graph.Graph` as DOT text: pure Python, no Graphviz needed, deterministic.

Colours follow the classic teaching figure of autograd: leaves green, operations orange, the
output red; custom ``autograd.Function`` nodes are violet, saved tensors khaki, collapsed module
calls blue. With a gradient heat map the fill shows ``log10`` of the gradient norm on a
yellow-to-red scale with a legend; a zero gradient is a dashed white node, a NaN/Inf one is black.
Node ids are the graph's counters (``n0`` …), so the same graph always gives the same text.
"""

from __future__ import annotations

import math

from gradscope.graph.model import Graph, ModuleCall, Node

FILL = {
    "param": "lightgreen",
    "leaf": "lightgreen",
    "op": "orange",
    "accumulate": "orange",
    "custom": "plum",
    "output": "red",
    "base": "lightpink",
    "saved": "khaki",
    "module": "lightblue",
}
#: ColorBrewer YlOrRd, 9 classes: low gradient norms pale, high ones dark red.
HEAT = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026",
        "#800026")  # fmt: skip
HEADER = (
    "\tgraph [fontname=monospace fontsize=10 ranksep=0.3]\n"
    "\tnode [align=left fontname=monospace fontsize=10 height=0.2 shape=box style=filled]\n"
    "\tedge [fontname=monospace fontsize=8]\n"
)


def quote(text: str) -> str:
    """A DOT double-quoted string (newlines become ``\\n``)."""
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def shape_text(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return ""
    return "(" + ", ".join(str(s) for s in shape) + ")"


def node_label(node: Node) -> str:
    """The text in a node's box, also used by the console tree."""
    k = node.kind
    if k == "module":
        counts = dict(node.attrs)
        return f"{node.name}\n{node.function}\n{counts['ops']} ops, {counts['params']} params"
    if k in ("op", "accumulate", "custom"):
        lines = [node.name]
        if node.function:
            lines.append(f"Function: {node.function}")
        lines += [f"{key}: {value}" for key, value in node.attrs]
        lines += [f"-> {name}" for name in node.tensors]
        return "\n".join(lines)
    name = node.name or ("leaf" if k == "leaf" else "")
    text = f"{name}\n{shape_text(node.shape)}"
    if k == "saved":
        text += f" {node.dtype}"
    if node.aliases:
        text += "\n= " + ", ".join(node.aliases)
    if k == "output" and node.retains_grad:
        text += "\nretains_grad"
    return text


def _tooltip(node: Node, calls: list[ModuleCall]) -> str:
    if node.shape is not None and node.kind != "module":
        return (
            f"shape={shape_text(node.shape)} dtype={node.dtype} requires_grad={node.requires_grad}"
            f" is_leaf={node.is_leaf} retains_grad={node.retains_grad}"
        )
    if node.call is not None:
        call = calls[node.call]
        return f"module: {call.title} ({call.type})"
    return node.name


class _Heat:
    """Maps gradient norms to fill colours on a log scale fitted to this graph."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        norms = [graph.grad_norm(n.id) for n in graph.nodes]
        positive = [v for v in norms if v is not None and math.isfinite(v) and v > 0]
        self.lo = math.log10(min(positive)) if positive else 0.0
        self.hi = math.log10(max(positive)) if positive else 0.0
        self.zero = any(v == 0 for v in norms)
        self.bad = any(v is not None and not math.isfinite(v) for v in norms)

    def colour(self, value: float) -> str:
        span = self.hi - self.lo
        x = 0.5 if span <= 0 else (math.log10(value) - self.lo) / span
        return HEAT[min(len(HEAT) - 1, max(0, int(x * len(HEAT))))]

    def attrs(self, node: Node) -> tuple[str, str]:
        """(extra label line, DOT attributes) for one node."""
        value = self.graph.grad_norm(node.id)
        if value is None:
            return "", "fillcolor=lightgray" if node.kind not in ("saved", "base") else ""
        if not math.isfinite(value):
            return f"|g|={value}", "fillcolor=black fontcolor=white color=red penwidth=2"
        if value == 0:
            return "|g|=0", 'fillcolor=white style="filled,dashed"'
        fill = self.colour(value)
        font = " fontcolor=white" if fill in HEAT[-3:] else ""
        return f"|g|={value:.2e}", f'fillcolor="{fill}"{font}'

    def legend(self) -> list[str]:
        lines = ["\tsubgraph cluster_legend {", '\t\tlabel="|grad| (log scale)" color=gray50']
        steps = 5
        for i in range(steps):
            v = 10 ** (self.lo + (self.hi - self.lo) * i / (steps - 1))
            lines.append(f'\t\tlegend{i} [label="{v:.1e}" fillcolor="{self.colour(v)}"]')
        if self.zero:
            lines.append('\t\tlegend_zero [label="0" fillcolor=white style="filled,dashed"]')
        if self.bad:
            lines.append(
                '\t\tlegend_bad [label="NaN/Inf" fillcolor=black fontcolor=white color=red]'
            )
        lines.append("\t}")
        return lines


def _node_line(node: Node, graph: Graph, heat: _Heat | None, indent: str) -> str:
    label = node_label(node)
    extra = f"fillcolor={FILL[node.kind]}"
    if heat is not None:
        line, heat_attrs = heat.attrs(node)
        if line:
            label += "\n" + line
        if heat_attrs:
            extra = heat_attrs
    if node.kind == "module":
        extra += " shape=box3d"
    elif node.is_view:
        extra += ' style="filled,dashed"'
    tip = quote(_tooltip(node, graph.calls))
    return f"{indent}{node.id} [label={quote(label)} {extra} tooltip={tip}]"


def _cluster_of(node: Node, calls: list[ModuleCall]) -> int | None:
    if node.call is None:
        return None
    return calls[node.call].parent if node.kind == "module" else node.call


def graph_to_dot(graph: Graph, *, clusters: bool = True) -> str:
    """DOT text for a graph: nodes (clustered by module call), edges with shapes, breaks and the
    heat-map legend."""
    heat = _Heat(graph) if graph.heat is not None and graph.heat.done else None
    lines = ["digraph gradscope {", HEADER.rstrip("\n")]
    lines += [f"\t// {note}" for note in graph.notes]
    if graph.heat is not None and not graph.heat.done:
        lines.append("\t// heat map pending: no backward() has run since capture")
    members: dict[int | None, list[Node]] = {}
    for node in graph.nodes:
        key = _cluster_of(node, graph.calls) if clusters else None
        members.setdefault(key, []).append(node)
    lines += [_node_line(n, graph, heat, "\t") for n in members.get(None, [])]
    if clusters:
        lines += _clusters(graph, members, heat)
    for e in graph.edges:
        attrs = []
        if e.shape is not None and e.kind == "flow":
            dtype = "" if e.dtype in (None, "float32") else f" {e.dtype}"
            attrs.append(f"label={quote(shape_text(e.shape) + dtype)}")
        if e.kind == "saved":
            attrs.append("dir=none style=dashed")
        elif e.kind == "view":
            attrs.append("style=dotted")
        tail = f" [{' '.join(attrs)}]" if attrs else ""
        lines.append(f"\t{e.src} -> {e.dst}{tail}")
    lines += _breaks(graph)
    if heat is not None:
        lines += heat.legend()
    if graph.depth is not None and graph.notes:
        lines.append(f"\tlabel={quote(graph.notes[-1])} labelloc=b")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _clusters(graph: Graph, members: dict[int | None, list[Node]], heat: _Heat | None) -> list:
    """Nested ``subgraph cluster_N`` blocks for module calls that contain nodes."""
    calls = graph.calls
    children: dict[int | None, list[int]] = {}
    needed: set[int] = set()
    for key in members:
        c = key
        while c is not None and c not in needed:
            needed.add(c)
            c = calls[c].parent
    for c in sorted(needed):
        children.setdefault(calls[c].parent, []).append(c)
    lines: list[str] = []
    stack: list[tuple[int, int] | str] = [(c, 1) for c in reversed(children.get(None, []))]
    while stack:  # iterative: nesting depth is the model's, but never trust that
        item = stack.pop()
        if isinstance(item, str):
            lines.append(item)
            continue
        c, level = item
        pad = "\t" * level
        call = calls[c]
        lines.append(f"{pad}subgraph cluster_{c} {{")
        lines.append(f'{pad}\tlabel={quote(f"{call.title}: {call.type}")} style="rounded,dashed"')
        lines += [_node_line(n, graph, heat, pad + "\t") for n in members.get(c, [])]
        stack.append(f"{pad}}}")
        stack += [(k, level + 1) for k in reversed(children.get(c, []))]
    return lines


def _breaks(graph: Graph) -> list[str]:
    if not graph.breaks:
        return []
    lines = [
        "\tsubgraph cluster_breaks {",
        '\t\tlabel="parameters the output does not reach" color=red style=dashed',
    ]
    for i, b in enumerate(graph.breaks):
        label = quote(f"{b.param}\n{b.reason}: {b.module or '(model)'}")
        tip = quote(b.detail)
        lines.append(
            f'\t\tbreak{i} [label={label} fillcolor=white color=red style="filled,dashed" '
            f"tooltip={tip}]"
        )
    lines.append("\t}")
    return lines

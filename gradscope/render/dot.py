"""A :class:`~gradscope.graph.Graph` as DOT text: pure Python, no Graphviz needed, deterministic.

Colours follow the classic teaching figure of autograd: leaves green, operations orange, the
output red; custom ``autograd.Function`` nodes are violet, saved tensors khaki, collapsed module
calls blue. The kind of a node is also its shape (a parameter is a cylinder, an input leaf a
parallelogram, the output a double octagon, a custom Function a double box), so it stays
readable when a gradient heat map takes over the fill: ``log10`` of the gradient norm on a
yellow-to-red scale. One tiny or huge gradient must not squash every other node into one
colour, so the scale spans the norms inside Tukey's fences (see :func:`robust_range`); the
outliers take the end colour, a ``≤``/``≥`` and a blue border, and the legend says how many.
A zero gradient is a dashed white node, a NaN/Inf one is black. The legend (scale and node
kinds) sits beside the output.

Every string that comes from the user's code (module and parameter names, Function classes,
notes) is made printable (control characters shown as ``\\x1b``) and quoted, so any name
draws as itself. Node ids are the graph's counters (``n0`` …): the same graph gives the same
text.
"""

from __future__ import annotations

import math

from gradscope.graph.layout import ranks
from gradscope.graph.model import GraphData, ModuleCall, Node
from gradscope.render.styles import KINDS, legend_rows
from gradscope.text_safety import visible

#: ColorBrewer YlOrRd, 9 classes: low gradient norms pale, high ones dark red.
HEAT = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026",
        "#800026")  # fmt: skip
#: Border of nodes whose norm lies outside the colour scale (no colour of the scale is blue).
CLIPPED = 'color="#2166ac" penwidth=3'
RANKDIRS = ("TB", "LR", "BT", "RL")


def printable(text: str) -> str:
    """``text`` with control characters (ESC, NUL, newlines, bidirectional overrides …)
    spelled as Python escapes, so a name reaches a label, a terminal or an SVG file (where
    XML forbids most of them) as the characters it is made of."""
    return visible(text)


def quote(text: str) -> str:
    """A DOT double-quoted string; newlines become ``\\n`` (line breaks in a label) and every
    backslash is doubled, so Graphviz's escapes (``\\N``, ``\\G`` …) never act on a name."""
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def shape_text(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return ""
    return "(" + ", ".join(str(s) for s in shape) + ")"


def node_label(node: Node) -> str:
    """The text in a node's box (user strings made printable), also used by the console tree."""
    k = node.kind
    p = printable
    if k == "module":
        counts = dict(node.attrs)
        counted = f"{counts['ops']} ops, {counts['params']} params"
        return f"{p(node.name)}\n{p(node.function or '')}\n{counted}"
    if k in ("op", "accumulate", "custom"):
        lines = [p(node.name)]
        if node.function:
            lines.append(f"Function: {p(node.function)}")
        lines += [f"{p(key)}: {p(value)}" for key, value in node.attrs]
        lines += [f"-> {p(name)}" for name in node.tensors]
        return "\n".join(lines)
    name = p(node.name) or ("leaf" if k == "leaf" else "")
    text = f"{name}\n{shape_text(node.shape)}"
    if k == "saved":
        text += f" {node.dtype}"
    if node.aliases:
        text += "\n= " + ", ".join(p(a) for a in node.aliases)
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
        return printable(f"module: {call.title} ({call.type})")
    return printable(node.name)


def font_colour(fill: str) -> str:
    """``white`` or ``black``, whichever contrasts more with a ``#rrggbb`` fill (WCAG
    relative luminance), so the darkest colours of the scale keep readable text."""
    channels = [int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "white" if (1.05 / (luminance + 0.05)) > ((luminance + 0.05) / 0.05) else "black"


def _fill(colour: str) -> str:
    font = font_colour(colour)
    return f'fillcolor="{colour}"' + (f" fontcolor={font}" if font == "white" else "")


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of sorted values, linearly interpolated."""
    pos = (len(sorted_values) - 1) * q / 100
    i = int(pos)
    j = min(i + 1, len(sorted_values) - 1)
    return sorted_values[i] + (sorted_values[j] - sorted_values[i]) * (pos - i)


def robust_range(
    logs: list[float], *, whisker: float = 1.5, floor: float = 1.0
) -> tuple[float, float]:
    """The span of the colour scale over sorted ``log10`` norms: the smallest and largest
    values inside Tukey's fences (the quartiles widened by ``whisker`` times their distance,
    and by at least ``floor`` decades). Values outside are outliers (a 7e-8 bias gradient
    before a BatchNorm); a spread that rises steadily over many decades keeps its whole range."""
    if not logs:
        return 0.0, 0.0
    q1, q3 = percentile(logs, 25), percentile(logs, 75)
    reach = max(whisker * (q3 - q1), floor)
    inside = [v for v in logs if q1 - reach <= v <= q3 + reach]
    return inside[0], inside[-1]


class _Heat:
    """Maps gradient norms to fill colours on a log scale fitted to this graph's robust range."""

    def __init__(self, graph: GraphData) -> None:
        self.graph = graph
        norms = [graph.grad_norm(n.id) for n in graph.nodes]
        logs = sorted(math.log10(v) for v in norms if v is not None and math.isfinite(v) and v > 0)
        self.lo, self.hi = robust_range(logs)
        self.below = sum(1 for v in logs if v < self.lo)
        self.above = sum(1 for v in logs if v > self.hi)
        self.zero = any(v == 0 for v in norms)
        self.bad = any(v is not None and not math.isfinite(v) for v in norms)

    def colour(self, log: float) -> str:
        span = self.hi - self.lo
        x = 0.5 if span <= 0 else (log - self.lo) / span
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
        log = math.log10(value)
        fill = _fill(self.colour(log))
        if log < self.lo:
            return f"|g|={value:.2e} (≤ scale)", f"{fill} {CLIPPED}"
        if log > self.hi:
            return f"|g|={value:.2e} (≥ scale)", f"{fill} {CLIPPED}"
        return f"|g|={value:.2e}", fill

    def legend(self) -> list[str]:
        """HTML table rows of the scale, lowest first: a swatch holding its value (white or
        black text, whichever reads on it) and what it means."""
        rows = []
        steps = 5
        for i in range(steps):
            log = self.lo + (self.hi - self.lo) * i / (steps - 1)
            value, note, border = f"{10**log:.1e}", "", ""
            if i == 0 and self.below:
                value, note = f"≤ {value}", f"{_count(self.below)} below the scale"
            elif i == steps - 1 and self.above:
                value, note = f"≥ {value}", f"{_count(self.above)} above the scale"
            if note:
                border = ' COLOR="#2166ac" BORDER="3"'
            rows.append(_swatch(self.colour(log), value, note, border))
        if self.zero:
            rows.append(_swatch("#ffffff", "0", "no gradient (dashed)", ' STYLE="dashed"'))
        if self.bad:
            rows.append(_swatch("#000000", "NaN/Inf", "non-finite", ' COLOR="red" BORDER="2"'))
        return rows

    @property
    def title(self) -> str:
        return "|grad| (log scale)"


def _count(n: int) -> str:
    return f"{n} node" + ("" if n == 1 else "s")


def html(text: str) -> str:
    """Text for a Graphviz HTML-like label: markup characters as entities, control characters
    as escapes."""
    text = printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;")


def _swatch(fill: str, value: str, note: str, border: str) -> str:
    font = font_colour(fill)
    cell = f'<TD BGCOLOR="{fill}"{border}><FONT COLOR="{font}">{html(value)}</FONT></TD>'
    return f'<TR>{cell}<TD BORDER="0" ALIGN="LEFT">{html(note)}</TD></TR>'


def _legend(graph: GraphData, heat: _Heat, anchor: str | None) -> list[str]:
    """One node beside the output (same rank): the heat scale, then the shape of each node
    kind the graph has. A single table stays compact wherever the layout puts it."""
    rows = [f'<TR><TD COLSPAN="2" BORDER="0"><B>{html(heat.title)}</B></TD></TR>']
    rows += heat.legend()
    if heat.below or heat.above:
        rows.append(
            '<TR><TD COLSPAN="2" BORDER="0" ALIGN="LEFT">outliers: end colour, ≤ / ≥ and a '
            "blue border</TD></TR>"
        )
    rows.append('<TR><TD COLSPAN="2" BORDER="0"><B>node kinds</B></TD></TR>')
    present = {n.kind for n in graph.nodes}
    for kinds, name in legend_rows():
        if present.intersection(kinds):
            look = KINDS[kinds[0]].shape_name
            rows.append(
                f'<TR><TD BORDER="0" ALIGN="LEFT">{html(look)}</TD>'
                f'<TD BORDER="0" ALIGN="LEFT">{html(name)}</TD></TR>'
            )
    table = '<TABLE BORDER="1" COLOR="gray50" CELLBORDER="1" CELLSPACING="2" CELLPADDING="2">'
    lines = [f'\tlegend [shape=plaintext style="" margin=0 label=<{table}{"".join(rows)}</TABLE>>]']
    if anchor is not None:
        lines.append(f"\t{{rank=same; {anchor}; legend}}")
    return lines


def _node_line(node: Node, graph: GraphData, heat: _Heat | None, indent: str) -> str:
    label = node_label(node)
    style = KINDS[node.kind]
    extra = f"fillcolor={style.fill}"
    if heat is not None:
        line, heat_attrs = heat.attrs(node)
        if line:
            label += "\n" + line
        if heat_attrs:
            extra = heat_attrs
    if style.shape != "box":  # the default shape needs no attribute
        extra += f" shape={style.shape}"
    if node.kind == "custom":
        extra += " peripheries=2"
    if node.is_view and "style=" not in extra:
        extra += ' style="filled,dashed"'
    tip = quote(_tooltip(node, graph.calls))
    return f"{indent}{node.id} [label={quote(label)} {extra} tooltip={tip}]"


def _cluster_of(node: Node, calls: list[ModuleCall]) -> int | None:
    if node.call is None:
        return None
    return calls[node.call].parent if node.kind == "module" else node.call


def _size(node: Node) -> tuple[float, float]:
    """A node's drawn (width, height) in inches, as Graphviz sizes a 10-point monospace label."""
    lines = node_label(node).split("\n")
    return max(0.75, 0.09 * max(len(s) for s in lines) + 0.25), 0.2 + 0.16 * len(lines)


def pick_rankdir(graph: GraphData, *, aspect: float = 1.4) -> str:
    """``TB`` or ``LR``: the direction whose estimated drawing is closest to ``aspect``
    (width / height, a landscape page). Ranks are estimated as ``dot`` assigns them, node
    sizes from their labels; a tall chain stays top-down (left-right would make it a wider
    strip still), a wide fan of parallel branches is drawn left to right."""
    nodes = graph.nodes
    if not nodes:
        return "TB"
    rank = ranks((n.id for n in nodes), ((e.src, e.dst) for e in graph.edges))
    per_rank: dict[int, list[tuple[float, float]]] = {}
    for n in nodes:
        per_rank.setdefault(rank[n.id], []).append(_size(n))
    sep_rank, sep_node = 0.3, 0.25
    along = [max(h for _, h in row) for row in per_rank.values()]
    across = [sum(w for w, _ in row) + sep_node * (len(row) - 1) for row in per_rank.values()]
    tb = max(across) / (sum(along) + sep_rank * len(along))
    along = [max(w for w, _ in row) for row in per_rank.values()]
    across = [sum(h for _, h in row) + sep_node * (len(row) - 1) for row in per_rank.values()]
    lr = (sum(along) + sep_rank * len(along)) / max(across)
    return "LR" if abs(math.log(lr / aspect)) < abs(math.log(tb / aspect)) else "TB"


def graph_to_dot(graph: GraphData, *, clusters: bool = True, rankdir: str = "auto") -> str:
    """DOT text for a graph: nodes (clustered by module call), edges with shapes, breaks and the
    heat-map legend. ``rankdir`` is ``TB``, ``LR``, ``BT``, ``RL`` or ``auto``
    (:func:`pick_rankdir`)."""
    direction = rankdir.upper()
    if direction == "AUTO":
        direction = pick_rankdir(graph)
    if direction not in RANKDIRS:
        raise ValueError(f"rankdir must be one of auto, {', '.join(RANKDIRS)}; got {rankdir!r}")
    heat = _Heat(graph) if graph.heat is not None and graph.heat.done else None
    lines = [
        "digraph gradscope {",
        f"\tgraph [fontname=monospace fontsize=10 rankdir={direction} ranksep=0.3]",
        "\tnode [align=left fontname=monospace fontsize=10 height=0.2 shape=box style=filled]",
        "\tedge [fontname=monospace fontsize=8]",
    ]
    lines += [f"\t// {printable(note)}" for note in graph.notes]
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
        top = [n.id for n in members.get(None, []) if n.kind == "output"]
        lines += _legend(graph, heat, top[0] if top else None)
    if graph.depth is not None and graph.notes:
        lines.append(f"\tlabel={quote(printable(graph.notes[-1]))} labelloc=b")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _clusters(graph: GraphData, members: dict[int | None, list[Node]], heat: _Heat | None) -> list:
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
        title = quote(printable(f"{call.title}: {call.type}"))
        lines.append(f"{pad}subgraph cluster_{c} {{")
        lines.append(f'{pad}\tlabel={title} style="rounded,dashed"')
        lines += [_node_line(n, graph, heat, pad + "\t") for n in members.get(c, [])]
        stack.append(f"{pad}}}")
        stack += [(k, level + 1) for k in reversed(children.get(c, []))]
    return lines


def _breaks(graph: GraphData) -> list[str]:
    if not graph.breaks:
        return []
    lines = [
        "\tsubgraph cluster_breaks {",
        '\t\tlabel="parameters the output does not reach" color=red style=dashed',
    ]
    for i, b in enumerate(graph.breaks):
        where = printable(b.module) if b.module else "(model)"
        label = quote(f"{printable(b.param)}\n{b.reason}: {where}")
        tip = quote(printable(b.detail))
        lines.append(
            f'\t\tbreak{i} [label={label} fillcolor=white color=red style="filled,dashed" '
            f"tooltip={tip}]"
        )
    lines.append("\t}")
    return lines

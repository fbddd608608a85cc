"""How every view draws the two kinds of things it names: graph node kinds and alert severities.

One table each, so the DOT image, its legend, the console tree and the dashboard agree: a
parameter is the same green cylinder everywhere, an error the same bold red.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradscope.graph.model import NodeKind

#: The severities of an alert, worst first; the terminal style of each.
SEVERITY_STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}


@dataclass(frozen=True)
class KindStyle:
    """How one kind of graph node is drawn and named."""

    legend: str  # the legend's name (kinds drawn alike share a legend row)
    meaning: str  # the dashboard's one-line explanation
    fill: str  # DOT fill colour
    colour: str  # terminal colour (console tree, dashboard outline)
    shape: str  # DOT shape
    shape_name: str  # the shape as the legend describes it


#: Every node kind of :mod:`gradscope.graph.model`, in the legend's order.
KINDS: dict[NodeKind, KindStyle] = {
    "output": KindStyle("output (loss)", "output (backward starts here)", "red", "red",
                        "doubleoctagon", "double octagon"),
    "op": KindStyle("operation", "backward function", "orange", "dark_orange", "box", "box"),
    "accumulate": KindStyle("operation", "AccumulateGrad: adds the gradient into a leaf's .grad",
                            "orange", "dark_orange", "box", "box"),
    "custom": KindStyle("custom Function", "custom autograd.Function", "plum", "orchid", "box",
                        "double box"),
    "module": KindStyle("module call (collapsed)",
                        "module call drawn as one node (+ draws its inside)", "lightblue",
                        "steel_blue1", "box3d", "3-D box"),
    "param": KindStyle("parameter", "parameter", "lightgreen", "green3", "cylinder", "cylinder"),
    "leaf": KindStyle("input (leaf)", "leaf tensor (an input)", "lightgreen", "green3",
                      "parallelogram", "parallelogram"),
    "base": KindStyle("view base", "base of a view", "lightpink", "pink1", "octagon", "octagon"),
    "saved": KindStyle("saved tensor", "tensor saved for backward", "khaki", "khaki3", "note",
                       "note"),
}  # fmt: skip


def colour(kind: NodeKind) -> str:
    """The terminal colour of a node kind (``""`` for one not in :data:`KINDS`)."""
    style = KINDS.get(kind)
    return style.colour if style is not None else ""


def legend_rows() -> list[tuple[tuple[NodeKind, ...], str]]:
    """``(kinds, legend name)`` in the legend's order; kinds drawn alike share a row."""
    rows: dict[str, list[NodeKind]] = {}
    for kind, style in KINDS.items():
        rows.setdefault(style.legend, []).append(kind)
    return [(tuple(kinds), legend) for legend, kinds in rows.items()]

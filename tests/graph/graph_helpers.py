"""Helpers for the graph tests: torchviz as the reference.

torchviz's ``make_dot`` names nodes by ``id()``, ours by counters, so graphs are compared
structurally: each node gets a key (a backward function's class name; a tensor's name and shape
as torchviz labels it), then colour refinement (Weisfeiler-Lehman) over in- and out-edges gives
every node a colour that encodes its whole neighbourhood. Equal multisets of node keys, of
labelled edges and of refined colours mean the two graphs match node for node, edge for edge.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field
from unittest import mock

import graphviz
import pytest

from gradscope.graph import Graph
from gradscope.graph.model import FUNCTION_KINDS

torchviz = pytest.importorskip("torchviz")


@dataclass
class Plain:
    """A graph as keys and labelled edges, whatever made it."""

    nodes: dict[str, tuple] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)


class _RecordingDigraph(graphviz.Digraph):
    """torchviz's Digraph, noting each node and edge call (a redeclared node keeps the last)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.plain = Plain()

    def node(self, name, label=None, _attributes=None, **attrs):
        self.plain.nodes[name] = (label, attrs.get("fillcolor"))
        super().node(name, label, _attributes=_attributes, **attrs)

    def edge(self, tail_name, head_name, label=None, _attributes=None, **attrs):
        kind = "saved" if attrs.get("dir") == "none" else "view" if attrs.get("style") else "flow"
        self.plain.edges.append((tail_name, head_name, kind))
        super().edge(tail_name, head_name, label, _attributes=_attributes, **attrs)


def torchviz_plain(var, *, shapes_only: bool = False, **kwargs) -> Plain:
    """make_dot's graph as :class:`Plain` (keys: ``("fn", class)``, ``("tensor", name, shape)``)."""
    with mock.patch.object(torchviz.dot, "Digraph", _RecordingDigraph), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torchviz uses distutils
        dot = torchviz.make_dot(var, **kwargs)
    plain = Plain(edges=dot.plain.edges)
    for name, (label, fill) in dot.plain.nodes.items():
        if fill is None:  # a backward function
            plain.nodes[name] = ("fn", label.split("\n")[0])
        else:
            tname, shape = label.split("\n", 1)
            plain.nodes[name] = ("tensor", "" if shapes_only else tname, shape.strip())
    return plain


def _shape(shape: tuple[int, ...] | None) -> str:
    return "(" + ", ".join(str(s) for s in shape or ()) + ")"


def ours_plain(graph: Graph, *, shapes_only: bool = False) -> Plain:
    """Our graph in the same terms as :func:`torchviz_plain` (its labels for its names)."""
    plain = Plain(edges=[(e.src, e.dst, e.kind) for e in graph.edges])
    for n in graph.nodes:
        if n.kind in FUNCTION_KINDS:
            plain.nodes[n.id] = ("fn", n.name)
            continue
        named = n.kind in ("param", "leaf") or (n.kind == "saved" and "ctx." not in n.name)
        name = n.name if named and not shapes_only else ""
        plain.nodes[n.id] = ("tensor", name, _shape(n.shape))
    return plain


def refine(plain: Plain) -> dict[str, int]:
    """Weisfeiler-Lehman colours: rounds until the partition stops getting finer."""
    colour = {k: hash(v) for k, v in plain.nodes.items()}
    ins: dict[str, list] = {k: [] for k in plain.nodes}
    outs: dict[str, list] = {k: [] for k in plain.nodes}
    for src, dst, kind in plain.edges:
        outs[src].append((dst, kind))
        ins[dst].append((src, kind))
    classes = len(set(colour.values()))
    for _ in range(len(colour)):
        colour = {
            k: hash(
                (
                    colour[k],
                    tuple(sorted((colour[s], kd) for s, kd in ins[k])),
                    tuple(sorted((colour[d], kd) for d, kd in outs[k])),
                )
            )
            for k in colour
        }
        now = len(set(colour.values()))
        if now == classes:
            break
        classes = now
    return colour


def assert_same_graph(ours: Plain, ref: Plain) -> None:
    """Node keys, labelled edges and refined colours agree as multisets."""
    assert Counter(ours.nodes.values()) == Counter(ref.nodes.values())

    def labelled(p: Plain) -> Counter:
        return Counter((p.nodes[s], p.nodes[d], k) for s, d, k in p.edges)

    assert labelled(ours) == labelled(ref)
    # Colour refinement is only comparable when both graphs are refined together: hash both
    # as one disjoint union so colours mean the same thing on both sides.
    union = Plain(
        {
            **{("a", k): v for k, v in ours.nodes.items()},
            **{("b", k): v for k, v in ref.nodes.items()},
        },
        [(("a", s), ("a", d), k) for s, d, k in ours.edges]
        + [(("b", s), ("b", d), k) for s, d, k in ref.edges],
    )
    colours = refine(union)
    mine = Counter(c for (side, _), c in colours.items() if side == "a")
    theirs = Counter(c for (side, _), c in colours.items() if side == "b")
    assert mine == theirs


def compare(var, graph: Graph, *, shapes_only: bool = False, **make_dot_kwargs) -> None:
    """Assert our graph equals torchviz's for the same output."""
    ref = torchviz_plain(var, shapes_only=shapes_only, **make_dot_kwargs)
    assert_same_graph(ours_plain(graph, shapes_only=shapes_only), ref)

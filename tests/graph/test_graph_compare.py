"""The structural comparison used against torchviz notices the differences it must notice."""

from __future__ import annotations

import copy

import pytest
import torch
from graph_helpers import Plain, assert_same_graph, ours_plain, torchviz_plain

import gradscope.graph as gg


@pytest.fixture
def pair() -> tuple[Plain, Plain]:
    torch.manual_seed(0)
    a, b = torch.randn(3, requires_grad=True), torch.randn(3, requires_grad=True)
    out = ((a * b) + (a * 2)).sum()
    names = {"a": a, "b": b}
    graph = gg.capture_graph(out, names=names, depth=None)
    ref = torchviz_plain(out, params=names)
    assert_same_graph(ours_plain(graph), ref)  # the control: equal as captured
    return ours_plain(graph), ref


def test_a_missing_edge_is_caught(pair: tuple[Plain, Plain]) -> None:
    ours, ref = pair
    ours.edges.pop()
    with pytest.raises(AssertionError):
        assert_same_graph(ours, ref)


def test_a_renamed_node_is_caught(pair: tuple[Plain, Plain]) -> None:
    ours, ref = pair
    key = next(k for k, v in ours.nodes.items() if v == ("fn", "AddBackward0"))
    ours.nodes[key] = ("fn", "SubBackward0")
    with pytest.raises(AssertionError):
        assert_same_graph(ours, ref)


def test_rewired_edges_with_equal_labels_are_caught(pair: tuple[Plain, Plain]) -> None:
    """Swap which leaf feeds which Mul: label multisets still agree, refinement does not."""
    ours, ref = pair
    muls = [k for k, v in ours.nodes.items() if v == ("fn", "MulBackward0")]
    accs = [k for k, v in ours.nodes.items() if v == ("fn", "AccumulateGrad")]
    assert len(muls) == 2 and len(accs) == 2
    rewired = copy.deepcopy(ours)
    # mul(a, b) and mul(a, 2): move b's edge onto the other Mul, and a's edge off it.
    edges = rewired.edges
    into = {m: [i for i, e in enumerate(edges) if e[1] == m and e[0] in accs] for m in muls}
    full, single = sorted(muls, key=lambda m: -len(into[m]))
    i = next(i for i in into[full] if not any(edges[j][0] == edges[i][0] for j in into[single]))
    edges[i] = (edges[i][0], single, "flow")
    j = into[single][0]
    edges[j] = (edges[j][0], full, "flow")
    with pytest.raises(AssertionError):
        assert_same_graph(rewired, ref)

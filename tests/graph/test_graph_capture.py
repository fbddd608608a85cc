"""What capture keeps and when: records built on first read, nothing live kept, parameter names
read off the module tree exactly as ``named_parameters()`` gives them, the collector restored."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
import torch
from torch import nn

import gradscope.graph as gg
from gradscope.graph.names import name_maps


def encoder(layers: int = 2) -> nn.Module:
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


def test_a_fresh_graph_keeps_nothing_live_and_builds_its_records_later() -> None:
    model = encoder()
    x = torch.randn(2, 5, 16)
    loss = model(x).mean()
    graph = gg.capture_graph(loss, model=model, depth=None)
    reference = gg.capture_graph(loss, model=model, depth=None).to_dot()
    refs = [weakref.ref(model), weakref.ref(loss), weakref.ref(next(model.parameters()))]
    del model, loss
    gc.collect()
    assert [r() for r in refs] == [None, None, None]
    assert repr(graph) == f"Graph({graph.size[0]} nodes, {graph.size[1]} edges)"
    assert graph.to_dot() == reference  # names, shapes, dtypes all read at capture time
    assert graph.size == (len(graph.nodes), len(graph.edges))
    assert graph.nodes is graph.nodes and graph.edges is graph.edges


def test_the_first_read_from_two_threads_builds_once() -> None:
    model = encoder(4)
    graph = gg.capture_graph(model(torch.randn(2, 5, 16)).mean(), model=model, depth=None)
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(graph.nodes)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 4 and all(s is graph.nodes for s in seen)
    assert len(graph.nodes) == graph.size[0] > 100


def test_edges_carry_plain_shapes_and_dtype_names() -> None:
    w = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    graph = gg.capture_graph((w.float() * 2).sum(), names={"w": w}, depth=None)
    shapes = {(e.shape, e.dtype) for e in graph.edges}
    assert shapes == {((3, 4), "float64"), ((3, 4), "float32"), ((), "float32")}
    assert all(type(e.shape) is tuple for e in graph.edges)


class Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        shared = nn.Linear(4, 4)
        self.blocks = nn.Sequential(shared, nn.ReLU(), shared)  # one module twice
        self.decoder = nn.Linear(4, 10, bias=False)
        self.decoder.weight = self.embed.weight
        self.norm = nn.utils.parametrizations.weight_norm(nn.Linear(4, 4))
        self.extra = nn.ParameterList([nn.Parameter(torch.ones(2))])


class OwnListing(nn.Module):
    """Lists only some of its parameters: capture must ask it, not read its tree."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = nn.Linear(2, 2)

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate=True):
        return self.a.named_parameters(prefix="a", remove_duplicate=remove_duplicate)


@pytest.mark.parametrize("make", [lambda: encoder(2), Tied, OwnListing], ids=["enc", "tied", "own"])
def test_parameter_names_are_those_of_named_parameters(make) -> None:
    model = make()
    expected: dict[int, list[str]] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        expected.setdefault(id(p), []).append(name)
    known, _, params = name_maps(model, None)
    assert list(params) == list(expected)
    assert {k: [known[k][0], *known[k][1]] for k in params} == expected
    assert all(known[k][2] for k in params)


def test_user_names_do_not_replace_parameter_names() -> None:
    model = nn.Linear(2, 2)
    h = model(torch.randn(1, 2))
    known, tensor_names, _ = name_maps(model, {"w": model.weight, "h": h})
    assert known[id(model.weight)] == ("weight", (), True)
    assert known[id(h)] == ("h", (), False)
    assert tensor_names == {(id(h.grad_fn), 0): ("h", False)}


@pytest.mark.parametrize("enabled", [True, False])
def test_capture_leaves_the_garbage_collector_as_it_found_it(enabled: bool) -> None:
    x = torch.randn(3, requires_grad=True)
    (gc.enable if enabled else gc.disable)()
    try:
        gg.capture_graph((x * 2).sum(), depth=None)
        assert gc.isenabled() is enabled
    finally:
        gc.enable()

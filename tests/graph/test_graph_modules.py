"""Module attribution, clusters and collapsing; recording leaves nothing behind."""

from __future__ import annotations

import gc
import io
import weakref

import pytest
import torch
from torch import nn

import gradscope.graph as gg
from gradscope.demo.models import LeNet, TransformerClassifier
from gradscope.errors import GradscopeError
from gradscope.graph import Graph
from gradscope.graph.collapse import AUTO_MAX_NODES


def small_transformer(layers: int = 2) -> TransformerClassifier:
    torch.manual_seed(0)
    return TransformerClassifier(vocab=30, d_model=16, nhead=2, dim_feedforward=32,
                                 num_layers=layers, seq_len=8, classes=3)  # fmt: skip


def tokens() -> torch.Tensor:
    return torch.randint(0, 30, (2, 8), generator=torch.Generator().manual_seed(0))


def has_hooks(model: nn.Module) -> bool:
    return any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def is_acyclic(graph: Graph) -> bool:
    succ: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    indeg = {n.id: 0 for n in graph.nodes}
    for e in graph.edges:
        succ[e.src].append(e.dst)
        indeg[e.dst] += 1
    ready = [k for k, d in indeg.items() if d == 0]
    seen = 0
    while ready:
        k = ready.pop()
        seen += 1
        for d in succ[k]:
            indeg[d] -= 1
            if indeg[d] == 0:
                ready.append(d)
    return seen == len(graph.nodes)


def test_every_op_knows_its_innermost_module() -> None:
    model = LeNet()
    graph = gg.capture_graph(lambda: model(torch.randn(1, 1, 32, 32)).sum(), model=model)
    convs = [graph.calls[n.call].path for n in graph.find("ConvolutionBackward0")]
    assert sorted(convs) == ["conv1", "conv2"]
    relus = {graph.calls[n.call].path for n in graph.find("ReluBackward0")}
    assert relus == {""}  # F.relu in LeNet.forward belongs to the model itself
    assert graph.find("SumBackward0")[0].call is None  # outside the model
    params = {n.name: graph.calls[n.call].path for n in graph.params}
    assert params["fc3.weight"] == "fc3" and params["conv1.bias"] == "conv1"


def test_a_reused_module_is_one_call_per_use() -> None:
    act = nn.Tanh()
    model = nn.Sequential(nn.Linear(3, 3), act, nn.Linear(3, 3), act)
    graph = gg.capture_graph(lambda: model(torch.randn(2, 3)).sum(), model=model)
    tanh_calls = [graph.calls[n.call] for n in graph.find("TanhBackward0")]
    assert sorted((c.path, c.nth) for c in tanh_calls) == [("1", 0), ("1", 1)]
    collapsed = graph.collapse(1)
    assert sorted(n.name for n in collapsed.nodes if n.kind == "module") == ["0", "1", "1 #2", "2"]
    assert is_acyclic(collapsed)


def test_collapse_keeps_edge_shapes_and_stays_acyclic() -> None:
    model = small_transformer()
    graph = gg.capture_graph(lambda: model(tokens()).sum(), model=model, depth=None)
    layers = graph.collapse(3)
    modules = {n.name: n.id for n in layers.nodes if n.kind == "module"}
    assert list(modules) == ["encoder.layers.1", "encoder.layers.0"]  # depth 3 and deeper
    first = modules["encoder.layers.0"]
    into = {e.shape for e in layers.edges if e.dst == first and e.kind == "flow"}
    out_of = {e.shape for e in layers.edges if e.src == first}
    assert (2, 8, 16) in into and out_of == {(2, 8, 16)}
    assert is_acyclic(layers) and is_acyclic(graph)
    members = sum(len(n.members) for n in layers.nodes if n.kind == "module")
    assert members + sum(1 for n in layers.nodes if n.kind != "module") == len(graph.nodes)
    assert layers.full is graph and layers.collapse(4).full is graph


def test_tied_weight_stays_visible_when_its_users_collapse() -> None:
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(10, 4)
            self.decoder = nn.Linear(4, 10, bias=False)
            self.decoder.weight = self.embed.weight

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.decoder(self.embed(x))

    model = Tied()
    graph = gg.capture_graph(lambda: model(torch.tensor([1, 2])).sum(), model=model, depth=1)
    assert [n.name for n in graph.params] == ["embed.weight"]
    acc = graph.find("AccumulateGrad")[0]
    assert sorted(e.dst for e in graph.edges if e.src == acc.id) == ["m1", "m2"]


def test_auto_depth_only_collapses_large_graphs() -> None:
    one = small_transformer(1)
    small = gg.capture_graph(lambda: one(tokens()).sum(), model=one)
    assert small.depth is None  # under the limit: drawn in full
    model = small_transformer(4)
    big = gg.capture_graph(lambda: model(tokens()).sum(), model=model)
    assert big.full is not None and len(big.full.nodes) > AUTO_MAX_NODES
    assert len(big.nodes) <= AUTO_MAX_NODES and big.depth == 4
    assert gg.capture_graph(lambda: model(tokens()).sum(), model=model, depth=None).depth is None


def capture_and_check(model: nn.Module) -> None:
    gg.capture_graph(lambda: model(tokens()).sum(), model=model, grads=True)
    assert not has_hooks(model)


def test_recording_removes_its_hooks_and_keeps_no_reference() -> None:
    model = small_transformer()
    capture_and_check(model)
    assert not torch.overrides._get_current_function_mode_stack()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


def test_hooks_are_removed_when_the_forward_raises() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(4, 1))  # shapes do not fit
    with pytest.raises(RuntimeError), gg.record_modules(model):
        model(torch.randn(2, 3))
    assert not has_hooks(model)
    assert not torch.overrides._get_current_function_mode_stack()


def test_recording_does_not_change_the_numbers() -> None:
    model = small_transformer()
    torch.manual_seed(1)
    plain = model(tokens())
    torch.manual_seed(1)
    with gg.record_modules(model):
        recorded = model(tokens())
    assert torch.equal(plain, recorded)


def test_bad_arguments_say_what_is_wrong() -> None:
    with pytest.raises(GradscopeError, match=r"expects an nn\.Module, got list"):
        gg.record_modules([]).__enter__()
    with pytest.raises(GradscopeError, match="a tensor or a sequence of tensors, got int"):
        gg.capture_graph(3)
    with pytest.raises(GradscopeError, match="needs model="):
        gg.capture_graph(lambda: torch.ones(1))
    with pytest.raises(ValueError, match="depth must be >= 0"):
        gg.capture_graph(torch.ones(1, requires_grad=True) * 2, depth=-1)


def test_very_deep_graph_has_no_recursion_limit() -> None:
    x = torch.ones(2, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    graph = gg.capture_graph(y.sum())
    assert len(graph.nodes) == 20_004
    assert graph.to_dot().count('[label="MulBackward0"') == 20_000
    from rich.console import Console

    console = Console(width=400, record=True, file=io.StringIO())
    console.print(graph)
    assert "max_depth=60" in console.export_text()

"""Our node and edge sets equal torchviz's ``make_dot`` for the same output.

Each case builds a real autograd graph, captures it with gradscope (no collapsing) and compares
it structurally with make_dot's, node for node and edge for edge (see graph_helpers).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from graph_helpers import compare
from torch import nn
from tutorial_functions import Exp, LinearFunction, MyReLU

import gradscope.graph as gg
from gradscope.demo.models import MLP, GRULanguageModel, LeNet, TransformerClassifier


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def check(var, *, model=None, names=None, saved=False, record=None, **extra) -> gg.Graph:
    """Capture ``var`` and compare with make_dot (params named the same way on both sides)."""
    graph = gg.capture_graph(var, model=model, names=names, saved=saved, record=record, depth=None)
    params = dict(names or {})
    if model is not None:
        params.update(dict(model.named_parameters()))
    compare(var, graph, params=params or None, show_saved=saved, shapes_only=saved, **extra)
    return graph


def test_y_equals_4x_and_its_norm() -> None:
    x = torch.randn(3, requires_grad=True)
    y = 4 * x
    g = check(y, names={"x": x})
    assert [n.name for n in g.nodes] == ["output", "MulBackward0", "AccumulateGrad", "x"]
    g = check(y.norm(), names={"x": x})
    assert g.nodes[1].name == "LinalgVectorNormBackward0"


def test_least_squares_loss() -> None:
    X, y = torch.randn(5, 3), torch.randn(5)
    w = torch.randn(3, requires_grad=True)
    loss = (X.mv(w) - y).pow(2).sum()
    g = check(loss, names={"w": w})
    assert {n.name for n in g.nodes if n.kind != "output"} == {
        "SumBackward0", "PowBackward0", "SubBackward0", "MvBackward0", "AccumulateGrad", "w",
    }  # fmt: skip
    check(loss, names={"w": w}, saved=True)  # X and w saved by mv, the difference by pow


def test_mlp() -> None:
    model = MLP(in_features=12, hidden=8, classes=3)
    out = F.cross_entropy(model(torch.randn(4, 12)), torch.tensor([0, 1, 2, 0]))
    g = check(out, model=model)
    assert {n.name for n in g.params} == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}
    check(out, model=model, saved=True)


def test_lenet() -> None:
    model = LeNet()
    out = model(torch.randn(2, 1, 32, 32)).sum()
    g = check(out, model=model)
    assert len(g.params) == 10
    assert len(g.find("ConvolutionBackward0")) == 2


def test_gru() -> None:
    model = GRULanguageModel(vocab=20, embed=6, hidden=6, layers=2, dropout=0.0)
    out = model(torch.randint(0, 20, (3, 2))).sum()
    g = check(out, model=model)
    assert {n.name for n in g.params} >= {"rnn.weight_ih_l0", "rnn.weight_hh_l1", "encoder.weight"}


def test_transformer_encoder() -> None:
    layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.1, batch_first=True)
    model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    with gg.record_modules(model) as rec:
        out = model(torch.randn(2, 5, 16)).mean()
    g = check(out, model=model, record=rec)  # attribution on, still no grouping of nodes
    assert len(g.params) == len(list(model.parameters()))
    assert {g.calls[n.call].path for n in g.find("NativeLayerNormBackward0")} == {
        f"layers.{i}.norm{j}" for i in (0, 1) for j in (1, 2)
    }


def test_transformer_classifier() -> None:
    model = TransformerClassifier(vocab=30, d_model=16, nhead=2, dim_feedforward=32,
                                  num_layers=2, seq_len=8, classes=3)  # fmt: skip
    check(model(torch.randint(0, 30, (2, 8))).sum(), model=model)


def test_tied_weights() -> None:
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(10, 4)
            self.decoder = nn.Linear(4, 10, bias=False)
            self.decoder.weight = self.embed.weight

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.decoder(torch.tanh(self.embed(x)))

    model = Tied()
    g = check(model(torch.tensor([1, 2, 3])).sum(), model=model)
    (tied,) = g.params
    assert tied.name == "embed.weight" and tied.aliases == ("decoder.weight",)
    (acc,) = g.find("AccumulateGrad")
    assert sum(1 for e in g.edges if e.src == acc.id) == 2  # one leaf, two uses


def test_in_place_ops() -> None:
    x = torch.randn(4, requires_grad=True)
    y = x * 2
    y.add_(1)
    y.relu_()
    z = y.clone()
    z[1:].mul_(3)  # in place on a view: CopySlices
    g = check(z.sum(), names={"x": x})
    assert g.find("CopySlices") and g.find("AddBackward0") and g.find("ReluBackward0")


@pytest.mark.parametrize("saved", [False, True])
def test_custom_functions(saved: bool) -> None:
    x = torch.randn(3, 4, requires_grad=True)
    w = nn.Parameter(torch.randn(5, 4))
    b = nn.Parameter(torch.randn(5))
    out = LinearFunction.apply(MyReLU.apply(Exp.apply(x)), w, b).sum()
    g = check(out, names={"x": x, "w": w, "b": b}, saved=saved)
    kinds = {n.name: (n.kind, n.function) for n in g.nodes if n.kind == "custom"}
    assert kinds == {
        "ExpBackward": ("custom", "Exp"),
        "MyReLUBackward": ("custom", "MyReLU"),
        "LinearFunctionBackward": ("custom", "LinearFunction"),
    }
    saved_nodes = [n for n in g.nodes if n.kind == "saved"]
    assert len(saved_nodes) >= 2  # Exp's result and MyReLU's input are not leaves


def test_retain_grad_intermediates() -> None:
    x = torch.randn(3, requires_grad=True)
    h = x.exp()
    h.retain_grad()
    out = (h * 2).sum()
    out.retain_grad()
    g = check(out, names={"x": x})
    assert len(g.find("ExpBackward0")) == 1
    assert g.outputs[0].retains_grad
    g = gg.capture_graph(out, names={"x": x, "h": h}, depth=None)
    assert g.find("ExpBackward0")[0].tensors == ("h (retains_grad)",)


def test_double_backward_graph() -> None:
    x = torch.randn(3, requires_grad=True)
    y = (x**3).sum()
    (grad,) = torch.autograd.grad(y, x, create_graph=True)
    g = check(grad, names={"x": x})
    assert g.find("PowBackwardBackward0") or g.find("MulBackward0")
    check(grad.pow(2).sum(), names={"x": x})


def test_output_view_and_several_outputs() -> None:
    x = torch.randn(2, 3, requires_grad=True)
    base = x * 2
    view = base[:, 1]
    g = check(view, names={"x": x})
    assert [n.kind for n in g.nodes if n.kind in ("output", "base")] == ["output", "base"]
    assert any(e.kind == "view" for e in g.edges)
    a, b = (x + 1).unbind(0)
    check((a, b), names={"x": x})


def test_leaf_output_and_no_grad_output() -> None:
    w = torch.randn(2, requires_grad=True)
    g = check(w)
    assert [n.kind for n in g.nodes] == ["output"] and g.nodes[0].is_leaf
    g = gg.capture_graph(torch.randn(2), depth=None)
    assert len(g.nodes) == 1 and not g.edges

"""Gradient heat map: each node's norm equals the gradient that reference hooks saw."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

import gradscope.graph as gg
from gradscope.demo.models import MLP


@pytest.fixture
def mlp() -> MLP:
    torch.manual_seed(0)
    return MLP(in_features=6, hidden=5, classes=3)


def test_norms_equal_the_gradients(mlp: MLP) -> None:
    x = torch.randn(4, 6)
    hidden = {}

    def keep(grad: torch.Tensor) -> None:
        hidden["grad"] = grad.clone()

    h = mlp.fc1(x)
    h.register_hook(keep)
    loss = mlp.fc2(torch.relu(h)).pow(2).mean()
    graph = gg.capture_graph(loss, model=mlp, names={"h": h}, grads=True, depth=None)
    assert graph.heat is not None and not graph.heat.done
    assert graph.grad_norm(graph.outputs[0].id) is None
    loss.backward()
    assert graph.heat.done
    for node in graph.params:
        p = dict(mlp.named_parameters())[node.name]
        assert graph.grad_norm(node.id) == pytest.approx(p.grad.norm().item(), rel=1e-6)
    assert graph.grad_norm(graph.outputs[0].id) == 1.0
    (addmm,) = [n for n in graph.nodes if n.tensors == ("h",)]
    fc1_out = graph.grad_norm(addmm.id)
    assert fc1_out == pytest.approx(hidden["grad"].norm().item(), rel=1e-6)


def test_heat_hooks_do_not_change_gradients(mlp: MLP) -> None:
    twin = copy.deepcopy(mlp)
    x = torch.randn(4, 6)
    mlp(x).sum().backward()
    loss = twin(x).sum()
    gg.capture_graph(loss, model=twin, grads=True)
    loss.backward()
    for (_, a), (_, b) in zip(mlp.named_parameters(), twin.named_parameters(), strict=True):
        assert torch.equal(a.grad, b.grad)


def test_only_the_first_backward_is_recorded(mlp: MLP) -> None:
    loss = mlp(torch.randn(2, 6)).sum()
    graph = gg.capture_graph(loss, grads=True, depth=None)
    loss.backward(retain_graph=True)
    first = dict(graph.heat.norms)
    (loss * 3).backward()  # hooks are gone: nothing changes
    assert graph.heat.norms == first


def test_zero_and_nonfinite_gradients_are_marked() -> None:
    x = torch.tensor([-1.0, -2.0], requires_grad=True)
    dead = torch.relu(x).sum()  # every unit dead: zero gradient upstream
    graph = gg.capture_graph(dead, names={"x": x}, grads=True)
    dead.backward()
    assert graph.grad_norm(graph.find("x")[0].id) == 0.0
    text = graph.to_dot()
    assert 'label="x\\n(2)\\n|g|=0" fillcolor=white style="filled,dashed"' in text
    assert "no gradient (dashed)" in text  # in the legend

    y = torch.tensor([-1.0, 4.0], requires_grad=True)
    bad = torch.where(y > 0, y.sqrt(), torch.zeros_like(y)).sum()  # the classic where-NaN
    graph = gg.capture_graph(bad, names={"y": y}, grads=True)
    bad.backward()
    assert math.isnan(graph.grad_norm(graph.find("y")[0].id))
    assert math.isfinite(graph.grad_norm(graph.find("SqrtBackward0")[0].id))  # NaN starts below
    text = graph.to_dot()
    assert 'label="y\\n(2)\\n|g|=nan" fillcolor=black fontcolor=white' in text
    assert 'NaN/Inf</FONT></TD><TD BORDER="0" ALIGN="LEFT">non-finite' in text


def test_collapsed_module_shows_its_largest_member() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    graph = gg.capture_graph(lambda: model(torch.randn(2, 3)).sum(), model=model, grads=True,
                             depth=1)  # fmt: skip
    assert graph.heat.done  # a function with grads=True runs its backward
    full = graph.full
    for node in graph.nodes:
        if node.kind == "module":
            expected = max(full.grad_norm(m) for m in node.members if full.grad_norm(m) is not None)
            assert graph.grad_norm(node.id) == expected
    assert model[0].weight.grad is not None


def test_pending_heat_is_noted_in_dot(mlp: MLP) -> None:
    graph = gg.capture_graph(mlp(torch.randn(1, 6)).sum(), grads=True)
    assert "heat map pending" in graph.to_dot()

"""The gradient heat map for models in float64, half precision, bfloat16 and complex numbers:
the norm that reaches each parameter equals the norm of its ``.grad``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import gradscope as gs


def model_and_loss(dtype: torch.dtype) -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1)).to(dtype)
    x = torch.randn(32, 8).to(dtype)
    out = model(x)
    loss = (out.abs() ** 2).mean() if dtype.is_complex else F.mse_loss(out, x.sum(1, keepdim=True))
    return model, loss


@pytest.mark.parametrize(
    ("dtype", "rel"),
    [(torch.float64, 1e-6), (torch.float32, 1e-5), (torch.float16, 1e-2),
     (torch.bfloat16, 2e-2), (torch.complex64, 1e-5)],
    ids=str,
)  # fmt: skip
def test_heat_of_each_parameter_is_its_gradient_norm(dtype: torch.dtype, rel: float) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Complex modules", UserWarning)
        model, loss = model_and_loss(dtype)
    graph = gs.capture_graph(loss, model=model, grads=True)
    loss.backward()
    assert graph.heat is not None and graph.heat.done
    nodes = {n.id: n for n in graph.nodes}
    heat = {nodes[i].name: v for i, v in graph.heat.norms.items() if nodes[i].kind == "param"}
    expected = {name: p.grad.abs().double().norm().item() for name, p in model.named_parameters()}
    assert heat.keys() == expected.keys()
    for name, value in expected.items():
        assert heat[name] == pytest.approx(value, rel=rel), name


@pytest.fixture(params=["model.double()", "set_default_dtype"])
def float64_model(request: pytest.FixtureRequest) -> Iterator[nn.Module]:
    """A float64 model, made either way scientific codes make one."""
    torch.manual_seed(0)
    if request.param == "model.double()":
        yield nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1)).double()
        return
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
    finally:
        torch.set_default_dtype(default)


def test_float64_model_end_to_end_keeps_the_heat_map(
    tmp_store: Path, float64_model: nn.Module
) -> None:
    model = float64_model
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    x = torch.randn(64, 8, dtype=torch.float64)
    y = x.sum(1, keepdim=True)
    first: dict[str, float] = {}
    with gs.watch(model, opt, store=tmp_store, detail_every=1) as scope:
        for step in range(5):
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            if step == 0:
                first = {n: p.grad.norm().item() for n, p in model.named_parameters()}
            opt.step()
    assert scope.step == 5
    with gs.open_store(tmp_store) as run:
        assert run.meta["failed_instruments"] == {}
        snapshot = run.graph_snapshot()
        assert snapshot is not None and snapshot["heat"]["done"] is True
        names = {n["id"]: n["name"] for n in snapshot["nodes"] if n["kind"] == "param"}
        heat = {names[i]: v for i, v in snapshot["heat"]["norms"].items() if i in names}
        assert heat.keys() == first.keys()
        for name, value in first.items():
            assert heat[name] == pytest.approx(value, rel=1e-6), name
            assert run.series("grad_norm", name)[1][0] == pytest.approx(value, rel=1e-12)
        hist = run.histogram("0.weight", step=4)
        assert hist is not None and sum(hist.counts) == 8 * 16

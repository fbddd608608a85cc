"""The loss seen at ``backward()``: a loss differentiated twice counts once, roots gradscope
cannot read are skipped without touching the user's backward."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import gradscope as gs
from gradscope.capture.loss import ROOTS


def regression() -> tuple[nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    return model, opt, torch.randn(16, 4), torch.randn(16, 1)


def test_backward_twice_with_retain_graph_records_the_loss_once(tmp_store: Path) -> None:
    model, opt, x, y = regression()
    losses = []
    with gs.watch(model, opt, store=tmp_store):
        for _ in range(3):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward(retain_graph=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    with gs.open_store(tmp_store) as run:
        assert run.series("loss") == ([0, 1, 2], losses)
        assert [r["n_backward"] for r in run.step_rows()] == [2, 2, 2]


def test_accumulation_over_different_losses_still_sums_them(tmp_store: Path) -> None:
    model, opt, x, y = regression()
    sums = []
    with gs.watch(model, opt, store=tmp_store):
        for _ in range(2):
            opt.zero_grad()
            first = F.mse_loss(model(x[:8]), y[:8])
            first.backward()
            second = F.mse_loss(model(x[8:]), y[8:])
            second.backward(retain_graph=True)
            second.backward()  # the same loss again: not a third micro-batch
            opt.step()
            sums.append(first.item() + second.item())
    with gs.open_store(tmp_store) as run:
        assert run.series("loss")[1] == pytest.approx(sums, rel=1e-6)


def test_sparse_one_element_root_is_read_and_never_breaks_backward(tmp_store: Path) -> None:
    torch.manual_seed(0)
    w = torch.randn(3, requires_grad=True)
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with gs.watch({"w": w}, store=tmp_store) as scope:
            for _ in range(3):
                root = (w * 2).sum().reshape(1).to_sparse()
                root.backward(torch.ones(1).to_sparse())
                values.append(root.to_dense().item())
                with torch.no_grad():
                    w -= 0.1 * w.grad
                w.grad = None
    assert scope.step == 3
    with gs.open_store(tmp_store) as run:
        assert run.series("loss") == ([0, 1, 2], pytest.approx(values))
        assert run.meta["failed_instruments"] == {}


def test_a_listener_that_raises_is_dropped_and_backward_runs(tmp_store: Path) -> None:
    model, opt, x, y = regression()
    calls = []

    def broken(tensors: object) -> None:
        calls.append(1)
        raise RuntimeError("listener bug")

    with (
        pytest.warns(gs.GradscopeWarning, match=r"backward listener failed \(RuntimeError") as got,
        gs.watch(model, opt, store=tmp_store),
    ):
        ROOTS.listeners.append(broken)
        for _ in range(2):
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            opt.step()
        assert broken not in ROOTS.listeners
    assert calls == [1]
    assert [w.filename for w in got if "listener" in str(w.message)] == [__file__]
    assert model.weight.grad is not None

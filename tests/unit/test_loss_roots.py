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
        assert [r.n_backward for r in run.step_rows()] == [2, 2, 2]


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


class SAM(torch.optim.Optimizer):
    """Sharpness-aware minimisation as it is usually written: a wrapper whose base optimizer
    steps from ``second_step()``, after a second pass at perturbed weights."""

    def __init__(self, params, base, rho: float = 0.05, **kwargs) -> None:
        super().__init__(params, dict(rho=rho, **kwargs))
        self.base_optimizer = base(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups

    @torch.no_grad()
    def first_step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["old"] = p.clone()
                p.add_(p.grad, alpha=group["rho"])
        self.zero_grad()

    @torch.no_grad()
    def second_step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.copy_(self.state[p]["old"])
        self.base_optimizer.step()
        self.zero_grad()


def test_a_wrapping_optimizer_counts_its_base_steps_and_the_loss_at_the_step_weights(
    tmp_store: Path,
) -> None:
    model, _, x, y = regression()
    opt = SAM(model.parameters(), torch.optim.SGD, lr=0.1, momentum=0.9)
    losses = []
    with gs.watch(model, opt, store=tmp_store):
        for _ in range(4):
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.first_step()
            F.mse_loss(model(x), y).backward()  # at the perturbed weights: not the step's loss
            opt.second_step()
            losses.append(loss.item())
    with gs.open_store(tmp_store) as run:
        assert run.meta["optimizers"] == ["SGD"]
        assert run.series("loss") == ([0, 1, 2, 3], losses)
        assert [r.n_backward for r in run.step_rows()] == [2, 2, 2, 2]


def test_a_gradscaler_loss_is_recorded_as_the_script_computed_it(tmp_store: Path) -> None:
    model, opt, x, y = regression()
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    losses = []
    with gs.watch(model, opt, store=tmp_store):
        for _ in range(3):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            losses.append(loss.item())
    with gs.open_store(tmp_store) as run:
        assert run.series("loss")[1] == pytest.approx(losses, rel=1e-6)
        assert run.meta["loss_unscaled"] is True

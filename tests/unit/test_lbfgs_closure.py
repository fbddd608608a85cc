"""``optimizer.step(closure)``: one step per ``step()`` call, however many backward passes the
closure runs; the step's loss is the closure's first, at the parameters the step started from
(what LBFGS returns)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

import gradscope as gs

STEPS = 3


def make(kind: str) -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    if kind == "lbfgs":
        return model, torch.optim.LBFGS(model.parameters(), lr=0.5, max_iter=5)
    return model, torch.optim.SGD(model.parameters(), lr=0.1)


def train(model: nn.Module, opt: torch.optim.Optimizer) -> tuple[list[float], list[int]]:
    """Returns the value each ``step()`` returned and the backward passes each ran."""
    x = torch.linspace(-1, 1, 24).reshape(8, 3)
    y = x.sum(1, keepdim=True).sin()
    firsts, passes = [], []
    calls = [0]

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        calls[0] += 1
        return loss

    for _ in range(STEPS):
        calls[0] = 0
        firsts.append(opt.step(closure).item())
        passes.append(calls[0])
    return firsts, passes


@pytest.mark.parametrize("kind", ["lbfgs", "sgd"])
def test_closure_step_is_one_step_with_the_first_loss(tmp_store: Path, kind: str) -> None:
    plain_model, plain_opt = make(kind)
    plain = train(plain_model, plain_opt)
    model, opt = make(kind)
    with gs.watch(model, opt, store=tmp_store, detail_every=1) as scope:
        firsts, passes = train(model, opt)
        assert scope.step == STEPS
    assert (firsts, passes) == plain
    for a, b in zip(plain_model.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)
    if kind == "lbfgs":
        assert all(n > 1 for n in passes)
    run = gs.open_store(tmp_store)
    assert run.meta.get("finished") is not None
    assert run.steps == list(range(STEPS))
    assert [r.n_backward for r in run.step_rows()] == passes
    assert run.series("loss")[1] == pytest.approx(firsts, rel=1e-6)
    assert run.params == ["0.weight", "0.bias", "2.weight", "2.bias"]
    steps, updates = run.series("update_norm", "2.weight")
    assert steps == list(range(STEPS)) and all(u > 0 for u in updates)
    assert run.series("grad_norm", "2.weight")[0] == list(range(STEPS))

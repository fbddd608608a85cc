"""A failing instrument warns once, switches itself off and never stops training."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

import gradscope as gs
from gradscope.errors import InstrumentError

STEPS = 4

#: (what to break, the instrument that owns it). The step path imports ``capture_state`` by name,
#: so the name it calls is ``gradscope.capture.step.capture_state``.
BREAKABLE = {
    "optimizer-state": ("gradscope.capture.step.capture_state", "optimizer"),
    "activations": ("gradscope.capture.modules.activation_summary", "modules"),
    "histograms": ("gradscope.capture.params.histograms", "histograms"),
}


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(5, 8)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.drop(torch.relu(self.fc1(x))))


def train(store: Path | None, **options: Any) -> tuple[dict[str, Tensor], list[float]]:
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    scope = (
        gs.watch(model, opt, store=store, detail_every=1, **options) if store is not None else None
    )
    try:
        for _ in range(STEPS):
            opt.zero_grad()
            loss = F.mse_loss(model(torch.randn(6, 5)), torch.randn(6, 2))
            loss.backward()
            opt.step()
            losses.append(loss.item())
    finally:
        if scope is not None:
            scope.close()
    return {n: p.detach().clone() for n, p in model.named_parameters()}, losses


def broken(calls: list[int]) -> Any:
    def fail(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        raise RuntimeError("injected failure")

    return fail


@pytest.mark.parametrize("what", list(BREAKABLE))
def test_failing_instrument_warns_once_and_training_goes_on(
    what: str, tmp_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain_params, plain_losses = train(None)
    target, instrument = BREAKABLE[what]
    calls: list[int] = []
    monkeypatch.setattr(target, broken(calls))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        params, losses = train(tmp_store)

    ours = [w for w in caught if issubclass(w.category, gs.GradscopeWarning)]
    assert len(ours) == 1, [str(w.message) for w in ours]
    message = str(ours[0].message)
    assert f"the {instrument!r} instrument failed" in message
    assert "RuntimeError: injected failure" in message
    assert len(calls) == 1  # switched off after its first failure
    for name, value in plain_params.items():
        assert torch.equal(params[name], value), name
    assert losses == plain_losses

    run = gs.open_store(tmp_store)
    assert run.steps == list(range(STEPS))
    assert run.series("loss") == (list(range(STEPS)), pytest.approx(losses, rel=1e-6))
    assert run.series("grad_norm", "fc2.weight")[0] == list(range(STEPS))
    assert list(run.meta["failed_instruments"]) == [instrument]
    if instrument == "optimizer":
        assert run.state("fc1.weight") == {}
        assert run.groups() == []
        assert run.series("update_norm", "fc1.weight")[0] == list(range(STEPS))
    elif instrument == "modules":
        assert run.module_latest("fc1") is None
        assert run.series("act_mean", module="fc1") == ([], [])
        assert "state.momentum_buffer.norm" in run.state("fc1.weight")
    else:
        assert run.histogram("fc1.weight", kind="grad") is None
        assert run.histogram("fc1.weight", kind="weight") is None
        assert run.module_latest("fc1") is not None


@pytest.mark.parametrize("what", list(BREAKABLE))
def test_strict_mode_raises_instrument_error(
    what: str, tmp_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original_backward = torch.autograd.backward
    target, instrument = BREAKABLE[what]
    monkeypatch.setattr(target, broken([]))
    with pytest.raises(InstrumentError, match=f"instrument '{instrument}' failed") as info:
        train(tmp_store, strict=True)
    chain = []
    exc: BaseException | None = info.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__
    assert any(isinstance(e, RuntimeError) and "injected failure" in str(e) for e in chain)
    assert torch.autograd.backward is original_backward  # the scope still closed cleanly

"""Where NaN/Inf first appeared, on logged steps that are not activation steps.

Those steps check each module output once in forward order, but skip the outputs of
finite-preserving modules (ReLU, pooling, dropout …) fed an output already checked, and take
no tensor hook in backward (the parameters' gradient NaN/Inf counts name the backward origin).
Each model here turns non-finite at step 3, which is logged (``every=1``) but takes no
activation statistics (the default ``detail_every=10``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

import gradscope as gs

BAD_STEP = 3


def train(model: nn.Module, store: Path, steps: int = 6) -> list[gs.Alert]:
    torch.manual_seed(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(16, 8), torch.randn(16, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with gs.watch(model, opt, store=store) as scope:
            for step in range(steps):
                model.step = step  # type: ignore[assignment]
                opt.zero_grad()
                nn.functional.mse_loss(model(x), y).backward()
                opt.step()
    return [a for a in scope.alerts if a.code.startswith("nonfinite")]


def first(alerts: list[gs.Alert], code: str) -> tuple[str, int | None]:
    (alert,) = [a for a in alerts if a.code == code]
    return alert.where, alert.step


class LogBeforeReLU(nn.Module):
    """``fc1``, then a functional ``log`` that turns NaN at ``BAD_STEP``, then a ReLU.

    ``in_place``: the log overwrites ``fc1``'s output (``h.sub_(...).log_()``) after that
    output was checked, instead of making a new tensor.
    """

    step = 0

    def __init__(self, *, in_place: bool) -> None:
        super().__init__()
        self.in_place = in_place
        self.fc1 = nn.Linear(8, 16)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(16, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc1(x)
        if self.step == BAD_STEP:
            h = h.sub_(1e6).log_() if self.in_place else torch.log(h - 1e6)
        return self.fc2(self.act(h))


def test_a_finite_preserving_module_fed_an_unchecked_tensor_is_checked(tmp_path: Path) -> None:
    # The ReLU is the first module whose output is NaN: its input came from torch.log, not
    # from a checked module output, so it must not be skipped.
    alerts = train(LogBeforeReLU(in_place=False), tmp_path / "functional.gsdb")
    assert first(alerts, "nonfinite-forward") == ("act", BAD_STEP)


class LogModule(nn.Module):
    """A module of its own that turns NaN at ``BAD_STEP``, followed by finite-preserving ones."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.act = nn.ReLU()
        self.log = LogAtStep()
        self.pool = nn.Sequential(nn.Dropout(0.0), nn.ReLU())
        self.fc2 = nn.Linear(16, 1)

    @property
    def step(self) -> int:
        return self.log.step

    @step.setter
    def step(self, value: int) -> None:
        self.log.step = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.pool(self.log(self.act(self.fc1(x)))))


class LogAtStep(nn.Module):
    step = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.log(x - 1e6) if self.step == BAD_STEP else x * 1.0


def test_forward_origin_is_found_before_skipped_modules(tmp_path: Path) -> None:
    alerts = train(LogModule(), tmp_path / "module.gsdb")
    assert first(alerts, "nonfinite-forward") == ("log", BAD_STEP)


def test_an_in_place_change_after_the_check_is_not_hidden(tmp_path: Path) -> None:
    # The ReLU's input is the tensor fc1 returned, but it changed since fc1's check: without
    # the version check the ReLU would be skipped and the NaN first seen at fc2.
    alerts = train(LogBeforeReLU(in_place=True), tmp_path / "inplace.gsdb")
    assert first(alerts, "nonfinite-forward") == ("act", BAD_STEP)


class SqrtAtStep(nn.Module):
    """``sqrt(0)`` from ``BAD_STEP`` on: a finite forward and a NaN gradient."""

    step = 0

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(8, 16, bias=False)
        self.fc2 = nn.Linear(1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc1(x)
        if self.step == BAD_STEP:
            h = h * 0
        return self.fc2(h.pow(2).sum(1, keepdim=True).sqrt())


def test_backward_origin_without_module_hooks_names_the_parameter(tmp_path: Path) -> None:
    alerts = train(SqrtAtStep(), tmp_path / "grad.gsdb")
    assert first(alerts, "nonfinite-grad") == ("fc1.weight", BAD_STEP)
    assert first(alerts, "nonfinite-loss")[1] == BAD_STEP + 1
    assert not [a for a in alerts if a.code == "nonfinite-forward"]


def test_a_finite_run_has_no_nonfinite_alert(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 1))
    assert train(model, tmp_path / "clean.gsdb", steps=12) == []

"""Stores the export tests read back, recorded with ``gs.watch`` on a small model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from export_helpers import HIST_EVERY, STEPS
from torch import nn

import gradscope as gs


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


def record(path: Path, *, hist_scale: str = "linear", seed: int = 0) -> Path:
    """12 Adam steps, two parameter groups (two lrs), a logged scalar, histograms every 4."""
    torch.manual_seed(seed)
    model = MLP()
    opt = torch.optim.Adam(
        [{"params": model.fc1.parameters()}, {"params": model.fc2.parameters(), "lr": 0.01}],
        lr=0.001,
    )
    x, y = torch.randn(16, 4), torch.randn(16, 2)
    with gs.watch(model, opt, store=path, detail_every=HIST_EVERY, hist_scale=hist_scale) as scope:
        for i in range(STEPS):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            scope.log(acc=i / 10)
    return path


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record(tmp_path_factory.mktemp("export") / "mlp.gsdb")


@pytest.fixture(scope="session")
def log_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record(tmp_path_factory.mktemp("export") / "mlp-log.gsdb", hist_scale="log")


@pytest.fixture(scope="session")
def nan_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SGD step with momentum on a NaN gradient, as tests/unit makes them."""
    path = tmp_path_factory.mktemp("export") / "nan.gsdb"
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    with (
        pytest.warns(gs.DiagnosisWarning, match="nonfinite-loss"),
        gs.watch(model, opt, store=path, detail_every=1),
    ):
        opt.zero_grad()
        (model(torch.randn(5, 4)).sum() * float("nan")).backward()
        opt.step()
    return path


@pytest.fixture
def store_copy(store: Path, tmp_path: Path) -> Path:
    """A writable copy of ``store`` for tests that change rows."""
    return Path(shutil.copy(store, tmp_path / "copy.gsdb"))

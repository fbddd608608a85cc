"""Helpers shared by the dashboard's tests: a real training run and a sync runner for Pilot.

The fixed store comes from ``store_builder`` (exact numbers, the same on every machine); the
recorded one from :func:`train` proves the dashboard reads what ``gs.watch`` really writes.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import store_builder as builder
import torch
from torch import nn

import gradscope as gs

FIXED_STEPS = 200
__all__ = ["FIXED_STEPS", "builder", "sync", "train"]


class Net(nn.Module):
    """Encoder, head, and a module that never runs (its parameters never get a gradient)."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU())
        self.head = nn.Linear(8, 1)
        self.unused = nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


def train(
    store: Path, steps: int, *, pause: float = 0.0, started: threading.Event | None = None
) -> None:
    """Train :class:`Net` with Adam and StepLR under ``gs.watch`` for ``steps`` steps.

    ``started`` is set once the store file exists, for a reader that must open it after.
    """
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    x = torch.randn(32, 4)
    y = x.sum(1, keepdim=True)
    with gs.watch(model, opt, store=store, hist_every=5):
        if started is not None:
            started.set()
        for _ in range(steps):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            sched.step()
            if pause:
                time.sleep(pause)


def sync(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an ``async def`` Pilot test in its own event loop (no asyncio plugin needed)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper

"""Helpers shared by the dashboard's tests: a real training run and a sync runner for Pilot.

The fixed store comes from ``store_builder`` (exact numbers, the same on every machine); the
recorded one from :func:`train` proves the dashboard reads what ``gs.watch`` really writes.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import store_builder as builder
import torch
from torch import nn

import gradscope as gs
from gradscope.graph import capture_graph

FIXED_STEPS = 200
__all__ = ["FIXED_STEPS", "add_graph", "builder", "graph_snapshot", "sync", "train"]


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
    with gs.watch(model, opt, store=store, detail_every=5):
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


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.ReLU()
        self.norm = nn.LayerNorm(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.act(self.fc(x)))


class FixedNet(nn.Module):
    """The fixed store's model (``store_builder.model_layout(2, extras=True)``) as a real one:
    a frozen embedding, two blocks, a head, and a module that never runs."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(16, 4)
        self.embed.weight.requires_grad_(False)
        self.layers = nn.ModuleList([Block(), Block()])
        self.head = nn.Linear(4, 1)
        self.unused = nn.Linear(3, 3)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        for block in self.layers:
            x = block(x)
        return self.head(x)


def graph_snapshot() -> tuple[dict[str, Any], dict[str, float]]:
    """The graph of one MSE step of :class:`FixedNet` as the scope stores it
    (``Graph.to_dict()``, with heat map, saved tensors and attributes), and every parameter's
    ``p.grad.norm()`` after that backward, the reference for the heat map."""
    torch.manual_seed(0)
    model = FixedNet()
    tokens = torch.arange(8)
    target = torch.randn(8, 1)
    graph = capture_graph(
        lambda: nn.functional.mse_loss(model(tokens), target),
        model=model,
        grads=True,
        saved=True,
        attrs=True,
        depth=None,
    )
    norms = {n: float(p.grad.norm()) for n, p in model.named_parameters() if p.grad is not None}
    return graph.to_dict(), norms


GOLDEN_GRAPH = Path(__file__).parent / "golden" / "graph_snapshot.json"


def golden_graph_snapshot() -> tuple[dict[str, Any], dict[str, float]]:
    """:func:`graph_snapshot` as captured once and kept in ``golden/``: a live capture's last
    digits depend on the BLAS build of the machine, and the dashboard's snapshots show them.
    ``test_golden_graph_is_what_capture_records`` keeps the file equal to a live capture;
    ``GRADSCOPE_UPDATE_GOLDEN=1`` rewrites it."""
    data = json.loads(GOLDEN_GRAPH.read_text())
    return data["graph"], data["norms"]


def write_golden_graph_snapshot() -> None:
    graph, norms = graph_snapshot()
    text = json.dumps({"graph": graph, "norms": norms}, indent=1, sort_keys=True)
    GOLDEN_GRAPH.write_text(text + "\n")


def add_graph(store: Path, snapshot: Any) -> Path:
    """Put ``snapshot`` in the store's meta key ``graph``, as the store's writer writes meta."""
    conn = sqlite3.connect(store)
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('graph', ?)",
            (json.dumps(snapshot, separators=(",", ":")),),
        )
    conn.close()
    return store


def sync(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an ``async def`` Pilot test in its own event loop (no asyncio plugin needed)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper

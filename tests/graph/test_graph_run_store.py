"""The graph a ``gradscope run`` store keeps equals the one ``gs.watch`` keeps for the same script.

``gradscope run`` finds a model at its first forward, from inside that call's pre-hook, so the
recording must open the model's own call there: otherwise what its forward does between
submodules (``F.relu``, pooling, a residual add) belongs to no module.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

from gradscope.graph import Graph
from gradscope.runner import run_script
from gradscope.store.reader import open_store

TRAIN = """
import torch
import torch.nn.functional as F
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)  # functional ops in the model's own forward
        return self.fc(torch.flatten(x, 1))


torch.manual_seed(0)
model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(5, 1, 8, 8), torch.randint(0, 3, (5,))
{watch}
for _ in range(2):
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
{close}
"""


def stored_graph(store: Path) -> Graph:
    with open_store(store) as run:
        return Graph.from_dict(run.graph_snapshot())


def test_run_store_graph_equals_watch_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    plain = tmp_path / "train.py"
    plain.write_text(TRAIN.format(watch="", close=""))
    assert run_script(str(plain), [], store=tmp_path / "run.gsdb", quiet=True) == 0
    watched = tmp_path / "train_watched.py"
    watched.write_text(TRAIN.format(
        watch="import gradscope as gs\nscope = gs.watch(model, opt, store='watch.gsdb')",
        close="scope.close()",
    ))  # fmt: skip
    monkeypatch.setattr(sys, "argv", [str(watched)])
    runpy.run_path(str(watched), run_name="__main__")

    ran, watch = stored_graph(tmp_path / "run.gsdb"), stored_graph(tmp_path / "watch.gsdb")
    assert ran.to_dot() == watch.to_dot()
    calls = {n.name: ran.calls[n.call].title for n in ran.nodes if n.call is not None}
    assert calls["ReluBackward0"] == calls["MaxPool2DWithIndicesBackward0"] == "(model)"
    assert [c.title for c in ran.calls] == ["(model)", "conv", "fc"]

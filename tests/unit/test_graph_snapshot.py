"""The first step's autograd graph, kept in the store by the scope (for ``gradscope graph``)."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from click.testing import CliRunner
from torch import nn

import gradscope as gs
from gradscope.cli import main
from gradscope.graph import Graph


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.fc2 = nn.Linear(16, 2)
        self.unused = nn.Linear(3, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


def batches(n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(5, 6, generator=g), torch.randn(5, 2, generator=g)) for _ in range(n)]


def train_watched(store: Path, **kwargs: object) -> tuple[Net, gs.Scope]:
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    with gs.watch(model, opt, store=store, **kwargs) as scope:
        for x, y in batches(4):
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            opt.step()
    return model, scope


def test_stored_graph_equals_a_direct_capture_of_the_first_step(tmp_store: Path) -> None:
    train_watched(tmp_store)
    with gs.open_store(tmp_store) as run:
        stored = Graph.from_dict(run.graph_snapshot())

    torch.manual_seed(0)
    model = Net()
    x, y = batches(1)[0]
    direct = gs.capture_graph(lambda: F.mse_loss(model(x), y), model=model, grads=True, depth=None)
    assert [(n.kind, n.name) for n in stored.nodes] == [(n.kind, n.name) for n in direct.nodes]
    assert [(e.src, e.dst, e.shape) for e in stored.edges] == [
        (e.src, e.dst, e.shape) for e in direct.edges
    ]
    assert {c.path for c in stored.calls} == {"", "fc1", "fc2"}
    (fc1_weight,) = stored.find("fc1.weight")
    assert fc1_weight.call is not None and stored.calls[fc1_weight.call].path == "fc1"
    # the heat map was filled by the first backward and matches the direct one
    for node in direct.nodes:
        want, got = direct.grad_norm(node.id), stored.grad_norm(node.id)
        assert (want is None) == (got is None), node.name
        if want is not None:
            assert abs(want - got) <= 1e-6 * max(1.0, abs(want)), node.name


def test_graph_snapshot_changes_no_numbers(tmp_path: Path) -> None:
    with_graph, _ = train_watched(tmp_path / "a.gsdb")
    without, _ = train_watched(tmp_path / "b.gsdb", graph=False)
    for (name, p), (_, q) in zip(
        with_graph.named_parameters(), without.named_parameters(), strict=True
    ):
        assert torch.equal(p, q), name
    with gs.open_store(tmp_path / "b.gsdb") as run:
        assert not run.has_graph and run.graph_snapshot() is None


def test_no_hook_is_left_when_no_backward_ever_ran(tmp_store: Path) -> None:
    model = Net()
    with gs.watch(model, store=tmp_store), torch.no_grad():
        model(torch.randn(2, 6))
    for name, m in model.named_modules():
        assert not m._forward_hooks and not m._forward_pre_hooks, name
    with gs.open_store(tmp_store) as run:
        assert not run.has_graph and run.graph_snapshot() is None


def test_gradscope_graph_store_draws_the_snapshot(tmp_path: Path) -> None:
    store = tmp_path / "run.gsdb"
    train_watched(store)
    out = tmp_path / "g.gv"
    result = CliRunner().invoke(main, ["graph", str(store), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("digraph")
    assert '"fc1.weight' in text or "fc1.weight" in text
    assert "AddmmBackward0" in text

"""Attaching gradscope never changes the numbers: bit-identical runs with and without.

Every instrument runs on every step (``every=1``, ``detail_every=1``), and the MLP
has dropout, so a single random number drawn by gradscope would shift the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

import gradscope as gs

STEPS = 30


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.drop(F.relu(self.fc1(torch.flatten(x, 1)))))


class LeNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


MODELS = {"MLP": (MLP, (784,), 32), "LeNet": (LeNet, (1, 32, 32), 16)}
OPTIMIZERS = {
    "SGD-momentum": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
    "Adam": lambda ps: torch.optim.Adam(ps, lr=1e-3),
}


def train(model_name: str, opt_name: str, store: Path | None) -> tuple[nn.Module, dict, Tensor]:
    """Seeded training; returns the model, the optimizer state and the RNG state after it."""
    cls, shape, batch = MODELS[model_name]
    torch.manual_seed(0)
    model = cls()
    opt = OPTIMIZERS[opt_name](model.parameters())
    scope = (
        gs.watch(model, opt, store=store, every=1, detail_every=1) if store is not None else None
    )
    try:
        for _ in range(STEPS):
            x = torch.randn(batch, *shape)
            y = torch.randint(0, 10, (batch,))
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    finally:
        if scope is not None:
            scope.close()
    return model, opt.state_dict()["state"], torch.get_rng_state()


@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
@pytest.mark.parametrize("model_name", list(MODELS))
def test_watched_run_is_bit_identical(model_name: str, opt_name: str, tmp_store: Path) -> None:
    plain_model, plain_state, plain_rng = train(model_name, opt_name, None)
    watched_model, watched_state, watched_rng = train(model_name, opt_name, tmp_store)

    for (name, a), (_, b) in zip(
        plain_model.named_parameters(), watched_model.named_parameters(), strict=True
    ):
        assert torch.equal(a, b), name
    assert plain_state.keys() == watched_state.keys()
    for index, state in plain_state.items():
        for key, value in state.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(watched_state[index][key]))
    assert torch.equal(plain_rng, watched_rng)

    # The instruments did run on every step, histograms and activations included.
    run = gs.open_store(tmp_store)
    first = run.params[0]
    assert run.steps == list(range(STEPS))
    assert run.series("grad_norm", first)[0] == list(range(STEPS))
    assert run.series("update_norm", first)[0] == list(range(STEPS))
    hist = run.histogram(first, kind="grad", step=STEPS - 1)
    assert hist is not None and hist.step == STEPS - 1
    assert run.series("act_mean", module="fc1")[0] == list(range(STEPS))
    assert len(run.state(first)) > 0

"""The automatic gradcheck of custom Functions leaves training exactly as it was: the RNG
stream is forked, a Function that samples is judged on one consistent draw, and torch's own
Functions (reentrant checkpoint) are not checked as if the user had written them."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

import gradscope as gs
from gradscope.gradcheck import is_user_function


class MaskedDropout(torch.autograd.Function):
    """A correct custom dropout: the mask is drawn in forward and reused in backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        mask = (torch.rand_like(x) > 0.3).to(x.dtype) / 0.7
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (mask,) = ctx.saved_tensors
        return grad * mask


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(5, 8)
        self.block = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8), nn.Dropout(0.2))
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = MaskedDropout.apply(torch.relu(self.fc1(x)))
        h = checkpoint(self.block, h, use_reentrant=True)
        return self.fc2(h)


def train(store: Path | None) -> tuple[dict[str, torch.Tensor], torch.Tensor, list[str]]:
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    x, y = torch.randn(16, 5), torch.randn(16, 1)

    def loop() -> None:
        for _ in range(6):
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()

    codes: list[str] = []
    if store is None:
        loop()
    else:
        with gs.watch(model, opt, store=store) as scope:
            loop()
        codes = [a.code for a in scope.alerts]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    return state, torch.random.get_rng_state(), codes


def test_training_is_bit_identical_and_no_false_gradcheck(tmp_store: Path) -> None:
    plain_state, plain_rng, _ = train(None)
    watched_state, watched_rng, codes = train(tmp_store)
    assert plain_state.keys() == watched_state.keys()
    for key in plain_state:  # parameters and BatchNorm's running stats and batch count
        assert torch.equal(plain_state[key], watched_state[key]), key
    assert torch.equal(plain_rng, watched_rng)
    assert "custom-function-gradcheck" not in codes
    with gs.open_store(tmp_store) as run:
        checked = [e.where for e in run.events("custom_function")]
    assert checked == ["MaskedDropout"]  # the user's Function, not torch's CheckpointFunction


def test_only_functions_the_user_wrote_are_checked() -> None:
    from torch.utils.checkpoint import CheckpointFunction

    assert is_user_function(MaskedDropout)
    assert not is_user_function(CheckpointFunction)

"""``close()`` and leaving the ``with`` block remove everything gradscope attached."""

from __future__ import annotations

import copy
import gc
import pickle
import weakref
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim import Optimizer

import gradscope as gs


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.norm = nn.LayerNorm(6)

    def forward(self, x: Tensor) -> Tensor:
        return x + torch.relu(self.norm(self.fc(x)))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inp = nn.Linear(4, 6)
        self.blocks = nn.Sequential(Block(), Block())
        self.out = nn.Linear(6, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.blocks(self.inp(x)))


def make() -> tuple[Net, Optimizer]:
    torch.manual_seed(0)
    model = Net()
    return model, torch.optim.Adam(model.parameters(), lr=1e-2)


def train(model: nn.Module, opt: Optimizer, steps: int = 2) -> None:
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(model(torch.randn(3, 4)), torch.randn(3, 2)).backward()
        opt.step()


def assert_no_hooks(model: nn.Module, opt: Optimizer) -> None:
    for name, m in model.named_modules():
        assert not m._forward_hooks, name
        assert not m._forward_pre_hooks, name
        assert not m._backward_hooks, name
        assert not m._backward_pre_hooks, name
    for name, p in model.named_parameters():
        assert not p._backward_hooks, name
        assert not getattr(p, "_post_accumulate_grad_hooks", None), name
    assert not opt._optimizer_step_pre_hooks
    assert not opt._optimizer_step_post_hooks


def has_hooks(model: nn.Module, opt: Optimizer) -> bool:
    try:
        assert_no_hooks(model, opt)
    except AssertionError:
        return True
    return False


def test_close_removes_every_hook(tmp_store: Path) -> None:
    original_backward = torch.autograd.backward
    model, opt = make()
    scope = gs.watch(model, opt, store=tmp_store)
    train(model, opt)
    assert has_hooks(model, opt)  # the check below would notice hooks
    assert torch.autograd.backward is not original_backward
    scope.close()
    assert_no_hooks(model, opt)
    assert torch.autograd.backward is original_backward
    assert scope.closed
    train(model, opt)  # training on after close records nothing more
    assert gs.open_store(tmp_store).steps == [0, 1]


def test_exception_inside_with_block_removes_hooks(tmp_store: Path) -> None:
    original_backward = torch.autograd.backward
    model, opt = make()
    with pytest.raises(RuntimeError, match="boom"), gs.watch(model, opt, store=tmp_store):
        train(model, opt, steps=1)
        opt.zero_grad()
        model(torch.randn(3, 4)).sum().backward()  # a backward pass without its step
        raise RuntimeError("boom")
    assert_no_hooks(model, opt)
    assert torch.autograd.backward is original_backward
    run = gs.open_store(tmp_store)
    assert run.steps == [0]  # the completed step was written before the exception


def test_model_can_be_copied_and_pickled_after_close(tmp_store: Path) -> None:
    model, opt = make()
    with gs.watch(model, opt, store=tmp_store):
        train(model, opt)
    clone = copy.deepcopy(model)
    restored = pickle.loads(pickle.dumps(model))
    x = torch.randn(5, 4)
    with torch.no_grad():
        assert torch.equal(clone(x), model(x))
        assert torch.equal(restored(x), model(x))
    state = pickle.loads(pickle.dumps(opt.state_dict()))
    assert state["state"].keys() == opt.state_dict()["state"].keys()


def test_closed_scope_does_not_keep_model_alive(tmp_store: Path) -> None:
    model, opt = make()
    scope = gs.watch(model, opt, store=tmp_store)
    train(model, opt)
    scope.close()
    model_ref, opt_ref = weakref.ref(model), weakref.ref(opt)
    param_ref = weakref.ref(next(model.parameters()))
    del model, opt
    gc.collect()
    assert opt_ref() is None
    assert model_ref() is None
    assert param_ref() is None
    assert scope.closed  # the scope object itself is still referenced here


def test_close_twice_is_harmless(tmp_store: Path) -> None:
    original_backward = torch.autograd.backward
    model, opt = make()
    scope = gs.watch(model, opt, store=tmp_store)
    train(model, opt, steps=3)
    scope.close()
    scope.close()
    with scope:  # __exit__ closes a third time
        pass
    assert_no_hooks(model, opt)
    assert torch.autograd.backward is original_backward
    run = gs.open_store(tmp_store)
    assert run.steps == [0, 1, 2]
    assert run.meta["steps"] == 3


@pytest.mark.parametrize("first_closed", ["a", "b"])
def test_two_scopes_close_in_either_order(first_closed: str, tmp_path: Path) -> None:
    original_backward = torch.autograd.backward
    model_a, opt_a = make()
    model_b, opt_b = make()
    scopes = {
        "a": gs.watch(model_a, opt_a, store=tmp_path / "a.gsdb"),
        "b": gs.watch(model_b, opt_b, store=tmp_path / "b.gsdb"),
    }
    train(model_a, opt_a)
    train(model_b, opt_b, steps=3)
    second = "b" if first_closed == "a" else "a"
    scopes[first_closed].close()
    still_open = {"a": (model_a, opt_a), "b": (model_b, opt_b)}[second]
    assert has_hooks(*still_open)
    assert torch.autograd.backward is not original_backward  # still needed by the open scope
    train(*still_open)  # the open scope keeps recording
    scopes[second].close()
    assert_no_hooks(model_a, opt_a)
    assert_no_hooks(model_b, opt_b)
    assert torch.autograd.backward is original_backward
    expected = {"a": 2, "b": 3}
    expected[second] += 2
    for key in "ab":
        assert gs.open_store(tmp_path / f"{key}.gsdb").steps == list(range(expected[key]))

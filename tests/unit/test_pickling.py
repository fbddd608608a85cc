"""Watched models, optimizers and tensors stay savable, picklable and deep-copyable, and a copy
carries nothing of gradscope's: no hook in any hook dict, and training it records nothing."""

from __future__ import annotations

import copy
import io
import pickle
import warnings
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules import module as module_registry
from torch.optim import optimizer as optimizer_registry

import gradscope as gs

STEPS = 4
MODULE_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_pre_hooks",
    "_backward_hooks",
    "_backward_pre_hooks",
    "_state_dict_hooks",
    "_load_state_dict_pre_hooks",
)
OPTIMIZER_HOOK_DICTS = (
    "_optimizer_step_pre_hooks",
    "_optimizer_step_post_hooks",
    "_optimizer_state_dict_pre_hooks",
    "_optimizer_load_state_dict_pre_hooks",
)


class Net(nn.Module):
    """Conv, BatchNorm (its own pre-hook), Dropout, a loss module: every kind of hook we use."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.1)
        self.fc = nn.Linear(4 * 6 * 6, 3)
        self.loss = nn.CrossEntropyLoss()

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.drop(F.relu(self.bn(self.conv(x))))
        return self.loss(self.fc(h.flatten(1)), y)


def batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    return [(torch.randn(8, 1, 8, 8, generator=g), torch.randint(0, 3, (8,), generator=g))
            for _ in range(STEPS)]  # fmt: skip


def module_hooks(model: nn.Module) -> list[str]:
    """Every non-empty hook dict of the model's modules and parameters, by name."""
    found = []
    for name, m in model.named_modules():
        for attr in MODULE_HOOK_DICTS:
            if getattr(m, attr, None):
                found.append(f"{name or 'model'}.{attr}")
    for name, p in model.named_parameters():
        if p._backward_hooks or getattr(p, "_post_accumulate_grad_hooks", None):
            found.append(f"{name}._backward_hooks")
    return found


def optimizer_hooks(opt: torch.optim.Optimizer) -> list[str]:
    return [attr for attr in OPTIMIZER_HOOK_DICTS if getattr(opt, attr, None)]


def global_hooks() -> tuple[int, ...]:
    return (
        len(module_registry._global_forward_hooks),
        len(module_registry._global_forward_pre_hooks),
        len(module_registry._global_backward_hooks),
        len(optimizer_registry._global_optimizer_pre_hooks),
        len(optimizer_registry._global_optimizer_post_hooks),
    )


def train(store: Path | None, *, copies: bool) -> tuple[dict[str, torch.Tensor], list[object]]:
    """Train ``Net`` with Adam; with ``copies``, save/pickle/deep-copy everything every step."""
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    scope = gs.watch(model, opt, store=store) if store is not None else None
    made: list[object] = []
    for x, y in batches():
        opt.zero_grad()
        model(x, y).backward()
        opt.step()
        if copies:
            buffer = io.BytesIO()
            torch.save(model, buffer)
            buffer.seek(0)
            made.append(torch.load(buffer, weights_only=False))
            made.append(copy.deepcopy(model))
            made.append(pickle.loads(pickle.dumps(model)))
            made.append(ForkingPickler.loads(bytes(ForkingPickler.dumps(model))))
            made.append(copy.deepcopy(opt))
            made.append(pickle.loads(pickle.dumps(opt)))
    if scope is not None:
        scope.close()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    return state | {f"opt.{k}": v for k, v in flat_state(opt).items()}, made


def flat_state(opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    return {f"{i}.{k}": v.clone() for i, s in opt.state_dict()["state"].items()
            for k, v in s.items()}  # fmt: skip


def test_watched_model_and_optimizer_save_pickle_and_deepcopy_without_hooks(
    tmp_store: Path,
) -> None:
    plain, _ = train(None, copies=False)
    before = global_hooks()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns about tensor hooks it cannot serialise
        watched, made = train(tmp_store, copies=True)
    assert global_hooks() == before, "close() removed the process-wide hooks"
    assert watched.keys() == plain.keys()
    for key, value in plain.items():
        assert torch.equal(watched[key], value), key
    models = [m for m in made if isinstance(m, nn.Module)]
    optimizers = [o for o in made if isinstance(o, torch.optim.Optimizer)]
    assert len(models) == 4 * STEPS and len(optimizers) == 2 * STEPS
    for m in models:
        assert module_hooks(m) == []
    for o in optimizers:
        assert optimizer_hooks(o) == []
    last = models[-1]
    assert torch.equal(last.fc.weight, watched["fc.weight"])
    with gs.open_store(tmp_store) as run:
        assert run.steps == list(range(STEPS))


def test_while_watched_the_user_objects_hold_no_module_or_optimizer_hook(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with gs.watch(model, opt, store=tmp_store):
        x, y = batches()[0]
        model(x, y).backward()
        opt.step()
        assert [h for h in module_hooks(model) if not h.endswith("._backward_hooks")] == []
        assert optimizer_hooks(opt) == []
        # the parameters' tensor hooks are the only thing on the user's objects; not copied
        assert module_hooks(model)
        assert module_hooks(copy.deepcopy(model)) == []
    assert module_hooks(model) == []


def test_training_a_copy_records_nothing(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    data = batches()

    def step(m: Net, o: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
        o.zero_grad()
        m(x, y).backward()
        o.step()

    with gs.watch(model, opt, store=tmp_store, every=1, detail_every=1) as scope:
        for x, y in data[:2]:
            step(model, opt, x, y)
        twin = copy.deepcopy(model)  # an EMA model or a best-model snapshot
        twin_opt = copy.deepcopy(opt)
        twin_opt.param_groups[0]["params"] = list(twin.parameters())
        twin_opt.state.clear()
        for x, y in data:
            step(twin, twin_opt, x, y)
        assert scope.step == 2
        step(model, opt, *data[2])
    with gs.open_store(tmp_store) as run:
        assert run.steps == [0, 1, 2]
        assert run.series("grad_norm", "fc.weight")[0] == [0, 1, 2]
        assert run.series("act_mean", module="conv")[0] == [0, 1, 2]
        for path in ("conv", "bn", "fc", "loss"):
            last = run.module_latest(path)
            assert last is not None and (last.step, last.calls) == (2, 1), path


def test_watched_leaf_tensors_pickle_without_a_warning(tmp_store: Path) -> None:
    torch.manual_seed(0)
    w = torch.randn(3, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    x = torch.randn(16, 3)
    with gs.watch({"w": w, "b": b}, store=tmp_store):
        ((x @ w + b) ** 2).mean().backward()
        assert w._backward_hooks  # the gradient hook is on the tensor itself
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            saved = io.BytesIO()
            torch.save({"w": w, "b": b}, saved)
            w2 = pickle.loads(pickle.dumps(w))
            w3 = copy.deepcopy(w)
        saved.seek(0)
        loaded = torch.load(saved)
    for t in (w2, w3, loaded["w"]):
        assert torch.equal(t, w)
        assert not t._backward_hooks

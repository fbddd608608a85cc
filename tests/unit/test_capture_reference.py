"""Recorded values equal references computed in the test from the very tensors training used.

Every optimizer class of ``torch.optim`` trains a tiny model for three steps under ``watch``.
The test's own optimizer hooks, registered before gradscope's, copy what the optimizer sees
(gradients, weights before the step, weights after it, and the state it keeps); the store must
hold the same numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim import Optimizer

import gradscope as gs

STEPS = 3
REL, ABS = 1e-5, 1e-7


def close_to(expected: Any, rel: float = REL) -> Any:
    return pytest.approx(expected, rel=rel, abs=ABS)


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 5)
        self.fc2 = nn.Linear(5, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(torch.tanh(self.fc1(x)))


class SparseBag(nn.Module):
    """An embedding with sparse gradients and a fixed projection (SparseAdam takes only it)."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(12, 4, sparse=True)
        self.register_buffer("proj", torch.randn(4, 3))

    def forward(self, idx: Tensor) -> Tensor:
        return self.emb(idx) @ self.proj


def tiny_data() -> tuple[Tensor, Tensor]:
    x = torch.randn(8, 4)
    x[:, 0] = 0.0  # fc1.weight[:, 0] gets exact zero gradients: grad_zero_frac is 0.25
    return x, torch.randn(8, 3)


OPTIMIZERS: dict[str, Callable[[Any], Optimizer]] = {
    "SGD": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "SGD-momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
    "SGD-nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "Adagrad": lambda ps: torch.optim.Adagrad(ps, lr=0.1),
    "RMSprop-momentum": lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.9),
    "Adam": lambda ps: torch.optim.Adam(ps, lr=0.01),
    "Adam-amsgrad": lambda ps: torch.optim.Adam(ps, lr=0.01, amsgrad=True),
    "AdamW": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
    "Adamax": lambda ps: torch.optim.Adamax(ps, lr=0.01),
    "Adadelta": lambda ps: torch.optim.Adadelta(ps, lr=1.0),
    "ASGD": lambda ps: torch.optim.ASGD(ps, lr=0.01, t0=1),
    "NAdam": lambda ps: torch.optim.NAdam(ps, lr=0.01),
    "RAdam": lambda ps: torch.optim.RAdam(ps, lr=0.01),
    "Rprop": lambda ps: torch.optim.Rprop(ps, lr=0.01),
    "LBFGS": lambda ps: torch.optim.LBFGS(ps, lr=0.5, max_iter=3, history_size=4),
    "SparseAdam": lambda ps: torch.optim.SparseAdam(ps, lr=0.01),
}

#: Optimizers with an Adam-style second moment: the store adds their effective step size.
ADAM_FAMILY = {"Adam", "AdamW", "Adamax", "NAdam", "RAdam", "SparseAdam"}


def dense(t: Tensor) -> Tensor:
    return t.coalesce().to_dense() if t.is_sparse else t


def expected_state(opt: Optimizer, p: Tensor) -> dict[str, float]:
    """Norm/mean/abs-max of state tensors, scalars (``step``) as they are."""
    out: dict[str, float] = {}
    for key, v in opt.state.get(p, {}).items():
        if isinstance(v, Tensor) and v.numel() == 1:
            out[f"state.{key}.value"] = float(v)
        elif isinstance(v, Tensor) and v.numel() > 1:
            out[f"state.{key}.norm"] = float(v.norm())
            out[f"state.{key}.mean"] = float(v.double().mean())
            out[f"state.{key}.absmax"] = float(v.abs().max())
        elif isinstance(v, (bool, int, float)):
            out[f"state.{key}.value"] = float(v)
        elif isinstance(v, list):  # LBFGS history: its length
            out[f"state.{key}.value"] = float(len(v))
    return out


def expected_eff_step(group: dict[str, Any], state: dict[str, Any]) -> dict[str, float]:
    """lr / (sqrt(v / (1 - beta2^t)) + eps) at the median and at the smallest v."""
    beta1, beta2 = group["betas"]
    t = float(state["step"])
    lr, eps = float(group["lr"]), float(group["eps"])
    if "exp_inf" in state:  # Adamax: lr / (1 - beta1^t) / u (torch adds eps into u itself)
        v = state["exp_inf"].reshape(-1)

        def size(x: float) -> float:
            return lr / (1 - beta1**t) / x

    else:
        v = state.get("max_exp_avg_sq", state["exp_avg_sq"]).reshape(-1)

        def size(x: float) -> float:
            return lr / (math.sqrt(x / (1 - beta2**t)) + eps)

    return {
        "state.eff_step.median": size(float(v.median())),
        "state.eff_step.max": size(float(v.min())),
    }


class Recorder:
    """The test's own view of each step, from optimizer hooks registered before gradscope's."""

    def __init__(self, model: nn.Module, opt: Optimizer, *, grads_after_step: bool) -> None:
        self.params = list(model.named_parameters())
        self.opt = opt
        self.grads_after_step = grads_after_step
        self.grads: list[dict[str, Tensor]] = []
        self.weights: list[dict[str, Tensor]] = []
        self.updates: list[dict[str, float]] = []
        self.states: list[dict[str, dict[str, float]]] = []
        self._before: dict[str, Tensor] = {}
        self.handles = [
            opt.register_step_pre_hook(self._pre),
            opt.register_step_post_hook(self._post),
        ]

    def _grads(self) -> dict[str, Tensor]:
        return {n: dense(p.grad).clone() for n, p in self.params if p.grad is not None}

    def _pre(self, opt: Optimizer, args: Any, kwargs: Any) -> None:
        self._before = {n: p.detach().clone() for n, p in self.params}
        if not self.grads_after_step:
            self.grads.append(self._grads())

    def _post(self, opt: Optimizer, args: Any, kwargs: Any) -> None:
        if self.grads_after_step:
            self.grads.append(self._grads())
        self.weights.append(self._before)
        self.updates.append(
            {n: float((p.detach() - self._before[n]).norm()) for n, p in self.params}
        )
        group_of = {id(p): g for g in opt.param_groups for p in g["params"]}
        states = {}
        for n, p in self.params:
            states[n] = expected_state(opt, p)
            if type(opt).__name__ in ADAM_FAMILY:
                states[n].update(expected_eff_step(group_of[id(p)], opt.state[p]))
        self.states.append(states)


def plain_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


@pytest.mark.parametrize("kind", list(OPTIMIZERS))
def test_every_optimizer_matches_reference(kind: str, tmp_store: Path) -> None:
    torch.manual_seed(0)
    if kind == "SparseAdam":
        model: nn.Module = SparseBag()
        x, y = torch.tensor([0, 3, 3, 5, 7, 7, 7, 10]), torch.randn(8, 3)
    else:
        model = Tiny()
        x, y = tiny_data()
    opt = OPTIMIZERS[kind](model.parameters())
    lbfgs = isinstance(opt, torch.optim.LBFGS)
    ref = Recorder(model, opt, grads_after_step=lbfgs)
    losses = []

    def closure() -> Tensor:
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        return loss

    with gs.watch(model, opt, store=tmp_store, detail_every=1):
        for _ in range(STEPS):
            if lbfgs:
                opt.step(closure)
            else:
                losses.append(closure().item())
                opt.step()

    run = gs.open_store(tmp_store)
    names = [n for n, _ in model.named_parameters()]
    assert run.params == names
    assert run.steps == list(range(STEPS))
    assert run.optimizer is not None and run.optimizer.type == type(opt).__name__
    if losses:
        assert run.series("loss") == (list(range(STEPS)), close_to(losses))

    for name in names:
        grads = [g[name] for g in ref.grads]
        weights = [w[name] for w in ref.weights]
        weight_norms = [float(w.norm()) for w in weights]
        update_norms = [u[name] for u in ref.updates]
        expected = {
            "grad_norm": [float(g.norm()) for g in grads],
            "grad_mean": [float(g.double().mean()) for g in grads],
            "weight_norm": weight_norms,
            "weight_mean": [float(w.double().mean()) for w in weights],
            "update_norm": update_norms,
            "update_ratio": [u / w for u, w in zip(update_norms, weight_norms, strict=True)],
            "grad_nan": [0.0] * STEPS,
            "grad_inf": [0.0] * STEPS,
        }
        for metric, values in expected.items():
            steps, got = run.series(metric, name)
            assert steps == list(range(STEPS)), (metric, name)
            assert got == close_to(values), (metric, name)
        for metric, values in {
            "grad_std": [float(torch.std(g)) for g in grads],
            "weight_std": [float(torch.std(w)) for w in weights],
        }.items():
            assert run.series(metric, name)[1] == close_to(values, rel=1e-3), (metric, name)
        exact = {
            "grad_min": [float(g.min()) for g in grads],
            "grad_max": [float(g.max()) for g in grads],
            "grad_absmax": [float(g.abs().max()) for g in grads],
        }
        for metric, values in exact.items():
            assert run.series(metric, name)[1] == values, (metric, name)
        zero_frac = [float((g == 0).double().mean()) for g in grads]
        assert run.series("grad_zero_frac", name)[1] == pytest.approx(zero_frac, abs=1e-12)
        for step in range(STEPS):
            assert run.state(name, step=step) == close_to(ref.states[step][name]), (name, step)

    if kind == "SGD":
        assert ref.states[-1]["fc1.weight"] == {}  # plain SGD keeps no state
    elif kind != "SparseAdam":
        assert run.series("grad_zero_frac", "fc1.weight")[1][0] >= 0.25
    if kind in ADAM_FAMILY:
        assert "state.eff_step.median" in run.state(names[0])
    for gi, group in enumerate(opt.param_groups):
        hparams = plain_json({k: v for k, v in group.items() if k != "params"})
        got = run.groups(step=STEPS - 1)[gi]
        assert (got.group, got.hparams) == (gi, hparams)
    for handle in ref.handles:
        handle.remove()


def test_clipping_preclip_norm_before_and_grad_norm_after(tmp_store: Path) -> None:
    torch.manual_seed(1)
    model = Tiny()
    x, y = tiny_data()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    pre: list[dict[str, float]] = []
    post: list[dict[str, float]] = []
    with gs.watch(model, opt, store=tmp_store):
        for _ in range(STEPS):
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            pre.append({n: float(p.grad.norm()) for n, p in model.named_parameters()})
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.05)
            post.append({n: float(p.grad.norm()) for n, p in model.named_parameters()})
            opt.step()
    run = gs.open_store(tmp_store)
    for name, _ in model.named_parameters():
        before = [p[name] for p in pre]
        after = [p[name] for p in post]
        assert all(a < b for a, b in zip(after, before, strict=True))  # clipping was active
        assert run.series("grad_norm_preclip", name) == ([0, 1, 2], close_to(before))
        assert run.series("grad_norm", name) == ([0, 1, 2], close_to(after))


SCHEDULERS: dict[str, Callable[[Optimizer], Any]] = {
    "StepLR": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=0.5),
    "OneCycleLR": lambda o: torch.optim.lr_scheduler.OneCycleLR(
        o, max_lr=[0.5, 0.05], total_steps=6
    ),
    "ReduceLROnPlateau": lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(
        o, factor=0.5, patience=0
    ),
}


@pytest.mark.parametrize("kind", list(SCHEDULERS))
def test_lr_series_follows_scheduler(kind: str, tmp_store: Path) -> None:
    torch.manual_seed(2)
    model = Tiny()
    x, y = tiny_data()
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
    opt = torch.optim.SGD([{"params": weights}, {"params": biases, "lr": 0.01}], lr=0.1)
    scheduler = SCHEDULERS[kind](opt)
    lrs: list[list[float]] = []
    with gs.watch(model, opt, store=tmp_store):
        for _ in range(5):
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            lrs.append([float(g["lr"]) for g in opt.param_groups])
            opt.step()
            if kind == "ReduceLROnPlateau":
                scheduler.step(1.0)  # never improves: the lr halves after every step
            else:
                scheduler.step()
    run = gs.open_store(tmp_store)
    assert len({tuple(lr) for lr in lrs}) > 1  # the schedule did change the lr
    assert run.series("lr") == ([0, 1, 2, 3, 4], [lr[0] for lr in lrs])
    assert run.series("lr.1") == ([0, 1, 2, 3, 4], [lr[1] for lr in lrs])
    assert [list(row.lrs) for row in run.step_rows()] == lrs
    assert [g.lr for g in run.groups(step=3)] == lrs[3]


class Exposed(nn.Module):
    """Its gradient equals ``c`` (loss = sum(w * c)), so a test can choose the gradient."""

    def __init__(self, numel: int) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(numel))

    def forward(self, c: Tensor) -> Tensor:
        return (self.w * c).sum()


def _one_step(model: nn.Module, c: Tensor, store: Path, **options: Any) -> gs.Run:
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    with gs.watch(model, opt, store=store, detail_every=1, **options):
        opt.zero_grad()
        model(c).backward()
        opt.step()
    return gs.open_store(store)


def test_linear_histogram_counts_exact(tmp_store: Path) -> None:
    # lo = 0 and hi = 32 are the extremes; every other value sits at the centre of bin k.
    values, expected = [0.0, 32.0], [0] * 32
    expected[0] += 1
    expected[31] += 1
    for k in range(32):
        for _ in range(k % 3 + 1):
            values.append(k + 0.5)
            expected[k] += 1
    c = torch.tensor(values)[
        torch.randperm(len(values), generator=torch.Generator().manual_seed(0))
    ]
    run = _one_step(Exposed(c.numel()), c, tmp_store, hist_samples=None)
    hist = run.histogram("w", kind="grad")
    assert hist is not None
    assert (hist.lo, hist.hi) == (0.0, 32.0)
    assert list(hist.counts) == expected
    assert (hist.nan, hist.posinf, hist.neginf, hist.zeros) == (0, 0, 0, 1)
    assert hist.sampled == c.numel()
    weight = run.histogram("w", kind="weight")
    assert weight is not None and weight.zeros == weight.sampled == c.numel()


def test_log_histogram_and_strided_sample(tmp_store: Path, tmp_path: Path) -> None:
    # |g| = 10^-3 … 10^2 (each power twice, both signs) plus three exact zeros.
    powers = [-3, -2, -1, 0, 1, 2]
    values = [s * 10.0**k for k in powers for s in (1, -1)] + [0.0, 0.0, 0.0]
    c = torch.tensor(values)
    run = _one_step(
        Exposed(c.numel()), c, tmp_store, hist_samples=None, hist_bins=5, hist_scale="log"
    )
    hist = run.histogram("w", kind="grad")
    assert hist is not None and hist.scale == "log"
    assert hist.lo == pytest.approx(-3.0, abs=1e-6)
    assert hist.hi == pytest.approx(2.0, abs=1e-6)
    assert list(hist.counts) == [2, 2, 2, 2, 4]  # bins of width 1; 10^2 lands in the last
    assert hist.zeros == 3 and hist.sampled == 15

    big = torch.arange(100, dtype=torch.float32)
    sampled = _one_step(Exposed(100), big, tmp_path / "sampled.gsdb", hist_samples=8)
    hist = sampled.histogram("w", kind="grad")
    assert hist is not None
    kept = big[:: math.ceil(100 / 8)]  # evenly strided, deterministic
    assert hist.sampled == kept.numel() == 8
    assert sum(hist.counts) == 8
    assert (hist.lo, hist.hi) == (float(kept.min()), float(kept.max()))

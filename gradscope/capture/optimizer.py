"""Optimizer groups, hyperparameters and state, read from any ``torch.optim.Optimizer``.

Nothing here knows optimizer classes by name except the effective step size, which exists
only where the optimizer keeps a second-moment estimate (the Adam family).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.optim import Optimizer

from gradscope.capture.guard import Instrument
from gradscope.capture.naming import WatchedParam
from gradscope.capture.pending import Pending, by_device
from gradscope.records import GroupInfo, GroupStats, OptimizerInfo, StateStats
from gradscope.stats.tensors import Summary

#: Elements of each second moment the effective step size's median is taken over (an evenly
#: spaced sample: the median of 4,096 of them is within a percent of the true rank).
MEDIAN_SAMPLES = 4_096


def stepping_optimizer(optimizer: Any) -> Any:
    """The optimizer whose ``step()`` updates the parameters, behind any wrappers.

    Wrappers keep the real optimizer in an attribute: ``.optimizer`` (accelerate's
    ``AcceleratedOptimizer``, Lightning's ``LightningOptimizer``, Lookahead) or any other name
    (SAM's ``base_optimizer``, which is stepped from ``second_step()`` and never through the
    wrapper's own ``step()``). An ``Optimizer`` attribute counts as the real one only when it
    holds every parameter of the wrapper, so an optimizer that merely keeps a helper optimizer
    for some of its parameters stays itself.
    """
    seen: set[int] = set()
    while id(optimizer) not in seen:
        seen.add(id(optimizer))
        inner = getattr(optimizer, "optimizer", None)
        if isinstance(inner, Optimizer) and not isinstance(optimizer, Optimizer):
            optimizer = inner
            continue
        if not isinstance(optimizer, Optimizer):
            return optimizer
        found = [
            v
            for v in vars(optimizer).values()
            if isinstance(v, Optimizer) and v is not optimizer and _holds_all(v, optimizer)
        ]
        if len(found) == 1:
            optimizer = found[0]
    return optimizer


def _holds_all(inner: Optimizer, outer: Optimizer) -> bool:
    ids = {id(p) for g in inner.param_groups for p in g["params"]}
    return bool(ids) and all(id(p) in ids for g in outer.param_groups for p in g["params"])


def plain(value: Any) -> Any:
    """A JSON-friendly copy of a hyperparameter (tensors become floats)."""
    if isinstance(value, torch.Tensor):
        return float(value) if value.numel() == 1 else tuple(value.tolist())
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def hparams(group: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in group.items() if k != "params"}


def group_lrs(optimizer: Optimizer) -> tuple[float, ...]:
    return tuple(float(plain(g.get("lr", math.nan))) for g in optimizer.param_groups)


def optimizer_info(
    index: int, optimizer: Optimizer, by_id: dict[int, WatchedParam]
) -> OptimizerInfo:
    groups = tuple(
        GroupInfo(
            optimizer=index,
            index=gi,
            params=tuple(by_id[id(p)].name for p in g["params"] if id(p) in by_id),
            hparams=hparams(g),
        )
        for gi, g in enumerate(optimizer.param_groups)
    )
    return OptimizerInfo(
        index=index,
        type=type(optimizer).__name__,
        defaults={k: plain(v) for k, v in optimizer.defaults.items()},
        groups=groups,
    )


def group_stats(index: int, optimizer: Optimizer, step: int) -> list[GroupStats]:
    return [
        GroupStats(step=step, optimizer=index, group=gi, lr=plain(g.get("lr")), hparams=hparams(g))
        for gi, g in enumerate(optimizer.param_groups)
    ]


def _scalar(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return None


def capture_state(
    optimizer: Optimizer,
    by_id: dict[int, WatchedParam],
    step: int,
    pending: Pending,
    instrument: Instrument,
    out: list[StateStats],
) -> None:
    """Queue summaries of every state entry of every watched parameter of ``optimizer``.

    Tensors shaped like data get ``norm``, ``mean`` and ``absmax``; one-element tensors and
    numbers (``step``) their ``value``; lists (LBFGS history) their length as ``value``.
    Adam-family state also gets ``eff_step.median`` and ``eff_step.max``, worked out on the host
    once the step count has arrived with the rest (reading it here would be a sync per
    parameter when the count lives on the device, as with ``capturable=True``).
    """
    tensors: list[torch.Tensor] = []
    owners: list[tuple[str, str]] = []
    scalars: list[torch.Tensor] = []
    scalar_owners: list[tuple[str, str]] = []
    samples: list[torch.Tensor] = []
    moments: list[_Moment] = []
    for group in optimizer.param_groups:
        adam = _adam_family(group)
        lr = float(plain(group["lr"])) if adam else math.nan  # once per group, not per parameter
        for p in group["params"]:
            wp = by_id.get(id(p))
            state = optimizer.state.get(p)
            if wp is None or not state:
                continue
            for key, value in state.items():
                if isinstance(value, torch.Tensor):
                    if value.dim() == 0:
                        scalars.append(value)  # state is no part of any graph: no detach
                        scalar_owners.append((wp.name, key))
                    elif value.numel() > 0:
                        tensors.append(value)
                        owners.append((wp.name, key))
                elif (v := _scalar(value)) is not None:
                    out.append(StateStats(step, wp.name, key, {"value": v}))
                elif isinstance(value, (list, tuple)):
                    out.append(StateStats(step, wp.name, key, {"value": float(len(value))}))
            key = _moment_key(state) if adam else None
            if key is not None:
                samples.append(even_sample(state[key], MEDIAN_SAMPLES))
                moments.append(_Moment(wp.name, key, group, lr, state["step"]))

    minima: dict[tuple[str, str], float | None] = {}
    steps: dict[str, float] = {}

    def finish_tensors(summaries: list[Summary]) -> None:
        for (name, key), s in zip(owners, summaries, strict=True):
            out.append(
                StateStats(step, name, key, {"norm": s.norm, "mean": s.mean, "absmax": s.absmax})
            )
            minima[(name, key)] = s.min

    def finish_scalars(idx: list[int]) -> Callable[[list[float]], None]:
        def finish(values: list[float]) -> None:
            for i, v in zip(idx, values, strict=True):
                name, key = scalar_owners[i]
                out.append(StateStats(step, name, key, {"value": v}))
                if key == "step":
                    steps[name] = v

        return finish

    def finish_medians(idx: list[int]) -> Callable[[list[float]], None]:
        def finish(values: list[float]) -> None:
            for i, median in zip(idx, values, strict=True):
                m = moments[i]
                t = steps.get(m.name) if isinstance(m.step, torch.Tensor) else _scalar(m.step)
                if t is None:
                    continue
                size = second_moment(m.group, m.key, t, lr=m.lr).step_size
                eff = {"median": size(median)}
                low = minima.get((m.name, m.key))
                if low is not None:
                    eff["max"] = size(low)
                out.append(StateStats(step, m.name, "eff_step", eff))

        return finish

    # Finishers run in the order they were added: the medians need the minima and step counts.
    pending.add_summaries(tensors, finish_tensors, instrument, nonzero=False)
    for idx in by_device(scalars):
        pending.add(
            torch.stack([scalars[i] for i in idx]).double(), finish_scalars(idx), instrument
        )
    for idx in _by_device_and_length(samples):
        pending.add(row_medians([samples[i] for i in idx]), finish_medians(idx), instrument)


@dataclass(frozen=True, slots=True)
class _Moment:
    """Where one parameter's second moment is, until its step count is on the host."""

    name: str
    key: str
    group: dict[str, Any]
    lr: float
    step: Any


def row_medians(rows: list[torch.Tensor]) -> torch.Tensor:
    """``torch.median`` (the lower middle) of each 1-D tensor, as one float64 tensor.

    Rows of one length go through one ``median(dim=1)``.
    """
    if len(rows) == 1:
        return rows[0].median().double().reshape(1)
    return torch.stack(rows).median(dim=1).values.double()


def even_sample(t: torch.Tensor, k: int) -> torch.Tensor:
    """``t`` flattened as float, or exactly ``k`` evenly spaced elements of it when larger.

    Exactly ``k`` so that the samples of all large tensors share one length (one median call).
    """
    flat = t.reshape(-1)
    if flat.is_complex():
        flat = flat.abs()
    n = flat.numel()
    if n > k:
        flat = flat.index_select(0, _spaced(n, k, flat.device))
    return flat if flat.dtype == torch.float32 else flat.float()


@functools.lru_cache(maxsize=256)
def _spaced(n: int, k: int, device: torch.device) -> torch.Tensor:
    return torch.arange(k, device=device, dtype=torch.int64).mul_(n).div_(k, rounding_mode="floor")


def _by_device_and_length(rows: list[torch.Tensor]) -> list[list[int]]:
    groups: dict[tuple[torch.device, int], list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault((r.device, r.numel()), []).append(i)
    return list(groups.values())


@dataclass(frozen=True, slots=True)
class SecondMoment:
    """How to turn a second-moment state value into Adam's per-element step size."""

    key: str
    lr: float
    eps: float
    correction: float
    squared: bool

    def step_size(self, v: float) -> float:
        """lr / (sqrt(v / (1 - beta2^t)) + eps); Adamax's ``exp_inf`` is not squared."""
        v = max(v, 0.0)
        denom = math.sqrt(v / self.correction) if self.squared else v
        return self.lr / (denom + self.eps)


def _adam_family(group: dict[str, Any]) -> bool:
    return bool(group.get("betas")) and "eps" in group


def _moment_key(state: dict[str, Any]) -> str | None:
    """Which state entry holds the Adam-family second moment, if any."""
    if "step" not in state:
        return None
    for key in ("max_exp_avg_sq", "exp_avg_sq"):
        value = state.get(key)
        if isinstance(value, torch.Tensor) and value.dim() > 0 and not value.is_sparse:
            return key
    value = state.get("exp_inf")
    if isinstance(value, torch.Tensor) and value.dim() > 0:
        return "exp_inf"
    return None


def second_moment(group: dict[str, Any], key: str, t: float, *, lr: float) -> SecondMoment:
    """How ``key`` (from :func:`_moment_key`) turns into a step size after ``t`` steps."""
    betas = group["betas"]
    if key == "exp_inf":
        # Adamax adds eps into exp_inf itself, so its step is lr_t / exp_inf.
        return SecondMoment(key, lr / max(1.0 - float(betas[0]) ** t, 1e-300), 0.0, 1.0, False)
    correction = max(1.0 - float(betas[1]) ** t, 1e-300)
    return SecondMoment(key, lr, float(group["eps"]), correction, squared=True)

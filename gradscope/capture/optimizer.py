"""Optimizer groups, hyperparameters and state, read from any ``torch.optim.Optimizer``.

Nothing here knows optimizer classes by name except the effective step size, which exists
only where the optimizer keeps a second-moment estimate (the Adam family).
"""

from __future__ import annotations

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
from gradscope.stats.histogram import strided_sample
from gradscope.stats.tensors import Summary

#: Elements of each second moment the effective step size's median is taken over (a strided
#: sample: the median of 4,096 evenly spaced elements is within a percent of the true rank).
MEDIAN_SAMPLES = 4_096


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
    Adam-family state also gets ``eff_step.median`` and ``eff_step.max``.
    """
    tensors: list[torch.Tensor] = []
    owners: list[tuple[str, str]] = []
    scalars: list[torch.Tensor] = []
    scalar_owners: list[tuple[str, str]] = []
    samples: list[torch.Tensor] = []
    moments: list[tuple[str, SecondMoment]] = []
    for group in optimizer.param_groups:
        for p in group["params"]:
            wp = by_id.get(id(p))
            state = optimizer.state.get(p)
            if wp is None or not state:
                continue
            for key, value in state.items():
                if isinstance(value, torch.Tensor):
                    if value.dim() == 0:
                        scalars.append(value.detach().reshape(()))
                        scalar_owners.append((wp.name, key))
                    elif value.numel() > 0:
                        tensors.append(value)
                        owners.append((wp.name, key))
                elif (v := _scalar(value)) is not None:
                    out.append(StateStats(step, wp.name, key, {"value": v}))
                elif isinstance(value, (list, tuple)):
                    out.append(StateStats(step, wp.name, key, {"value": float(len(value))}))
            moment = second_moment(group, state)
            if moment is not None:
                samples.append(strided_sample(state[moment.key], MEDIAN_SAMPLES))
                moments.append((wp.name, moment))

    minima: dict[tuple[str, str], float | None] = {}

    def finish_tensors(summaries: list[Summary]) -> None:
        for (name, key), s in zip(owners, summaries, strict=True):
            out.append(
                StateStats(step, name, key, {"norm": s.norm, "mean": s.mean, "absmax": s.absmax})
            )
            minima[(name, key)] = s.min

    def finish_medians(indices: list[int]) -> Callable[[list[float]], None]:
        def finish(values: list[float]) -> None:
            for i, median in zip(indices, values, strict=True):
                name, m = moments[i]
                eff = {"median": m.step_size(median)}
                low = minima.get((name, m.key))
                if low is not None:
                    eff["max"] = m.step_size(low)
                out.append(StateStats(step, name, "eff_step", eff))

        return finish

    # Tensor summaries are added first so their minima exist when the medians finish.
    pending.add_summaries(tensors, finish_tensors, instrument, nonzero=False)
    for idx in by_device(scalars):
        pending.add(
            torch.stack([scalars[i].double() for i in idx]),
            _finish_scalars([scalar_owners[i] for i in idx], step, out),
            instrument,
        )
    for idx in by_device(samples):
        pending.add(row_medians([samples[i] for i in idx]), finish_medians(idx), instrument)


def row_medians(rows: list[torch.Tensor]) -> torch.Tensor:
    """``torch.median`` (the lower middle) of each 1-D tensor, as one float64 tensor."""
    return torch.stack([r.median() for r in rows]).double()


def _finish_scalars(
    owners: list[tuple[str, str]], step: int, out: list[StateStats]
) -> Callable[[list[float]], None]:
    def finish(values: list[float]) -> None:
        for (name, key), v in zip(owners, values, strict=True):
            out.append(StateStats(step, name, key, {"value": v}))

    return finish


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


def second_moment(group: dict[str, Any], state: dict[str, Any]) -> SecondMoment | None:
    """The Adam-family second moment of one parameter's state, else ``None``."""
    betas = group.get("betas")
    if not betas or "eps" not in group or "step" not in state:
        return None
    t = float(plain(state["step"]))
    lr = float(plain(group["lr"]))
    eps = float(group["eps"])
    for key in ("max_exp_avg_sq", "exp_avg_sq"):
        value = state.get(key)
        if isinstance(value, torch.Tensor) and value.dim() > 0 and not value.is_sparse:
            correction = max(1.0 - float(betas[1]) ** t, 1e-300)
            return SecondMoment(key, lr, eps, correction, squared=True)
    value = state.get("exp_inf")
    if isinstance(value, torch.Tensor) and value.dim() > 0:
        # Adamax adds eps into exp_inf itself, so its step is lr_t / exp_inf.
        return SecondMoment(
            "exp_inf", lr / max(1.0 - float(betas[0]) ** t, 1e-300), 0.0, 1.0, False
        )
    return None

"""``update-ratio``: the update-to-weight ratio ‖Δw‖/‖w‖ is far too small or far too large.

The ratio says how much a step changes a parameter relative to its size, whatever the
optimizer. Healthy training moves weights by roughly 1e-4 to 1e-2 of their norm per step; near
0 nothing learns (lr ≈ 0, a zeroed group), near 1 the weights are replaced every step. The
median over the logged steps is judged, leaving out the first ones (biases start at 0, where
the ratio is unbounded). "Too large" is judged for weights (≥ 2-D) only, whose norm is never
near 0 by design. "Too small" is judged per parameter group, and only when every weight of
the group that has a gradient (every parameter, in a group without weights) is that slow: then
the group's learning rate is the cause. One
slow parameter among moving ones has a small gradient instead (a bias feeding a BatchNorm gets
none by design; dead or vanishing layers have their own diagnoses). A group whose gradients
(or the loss) fell to a tiny fraction of where they started has converged (LBFGS on a problem
it solved), and
one whose gradients are exactly zero is not slow for its lr (``zero-gradient-flow``); neither is
judged, nor are the parameters of an optimizer that stepped without gradients
(``step-without-grad``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from gradscope.doctor.context import Context, fmt, median, name_list
from gradscope.records import Alert

CODE = "update-ratio"
#: Gradients (or the loss) this many times below their start: converged, an update is small
#: because there is nothing left to learn.
CONVERGED = 1e-3


def ratios(ctx: Context) -> dict[str, float]:
    """Parameter → median update-to-weight ratio after the first steps, for parameters that
    had a gradient (NaN-free)."""
    out = {}
    for name in ctx.trained:
        if name not in ctx.grad_params:
            continue
        steps, values = ctx.series("update_ratio", name)
        last = max(ctx.last_step, steps[-1] if steps else -1)
        value = median(_after_start(steps, values, ctx.thresholds.update_skip, last))
        if value == value:  # not NaN
            out[name] = value
    return out


def _after_start(steps: list[int], values: list[float], skip: int, last: int) -> list[float]:
    """The values measured after the first ``skip`` steps; in a run too short to have such
    steps, those of its later half. Ratios are measured on detail steps only, so the first
    steps are told by their step number, not by position."""
    start = skip if last >= skip else (last + 1) // 2
    return [v for s, v in zip(steps, values, strict=True) if s >= start]


def converged(ctx: Context) -> bool:
    """Whether the loss fell ``CONVERGED`` times below its first value and stayed there."""
    values = [v for v in ctx.losses[1] if math.isfinite(v)]
    if len(values) < 2 or values[0] <= 0:
        return False
    return median(values[-max(len(values) // 5, 1) :]) <= CONVERGED * values[0]


def settled(ctx: Context) -> Callable[[str], bool]:
    """Whether a parameter's gradient is exactly zero or fell ``CONVERGED`` times below its
    start: a small update is then no sign of a small lr."""

    def check(name: str) -> bool:
        values = [v for v in ctx.series("grad_norm", name)[1] if v == v]
        if not values or max(values) == 0:
            return True
        w = max(len(values) // 5, 1)
        start, end = median(values[:w]), median(values[-w:])
        return start > 0 and end <= CONVERGED * start

    return check


def measure(ctx: Context) -> dict[str, Any]:
    """Smallest median ratio overall and largest among weights."""
    r = ratios(ctx)
    weights = {n: v for n, v in r.items() if len(ctx.param_info[n].shape) >= 2}
    return {
        "min": min(r.values(), default=float("nan")),
        "max_weight": max(weights.values(), default=float("nan")),
        "max_any": max(r.values(), default=float("nan")),
    }


def check(ctx: Context) -> Iterator[Alert]:
    t = ctx.thresholds
    r = ratios(ctx)
    # an optimizer that stepped with no gradient moves nothing: step-without-grad says why
    stepless = {n for e in ctx.events("step_without_grad") for n in ctx.optimizer_params(e.where)}
    low = {n for n, v in r.items() if v < t.update_low and n not in stepless}
    high = [n for n, v in r.items() if v > t.update_high and len(ctx.param_info[n].shape) >= 2]
    for opt in ctx.optimizers:
        for group in opt.groups:
            members = [n for n in group.params if n in r]
            weights = [n for n in members if len(ctx.param_info[n].shape) >= 2]
            # A bias or norm shift starting at 0 keeps a tiny norm, so its ratio says nothing
            # about the lr (a LayerNorm bias moved by 3e-9 is "2 %" of itself): when the group
            # has weights, they are judged.
            members = weights or members
            slow = [n for n in members if n in low]
            if (
                slow
                and len(slow) == len(members)
                and not converged(ctx)
                and not all(map(settled(ctx), slow))
            ):
                lr = group.hparams.get("lr")
                yield ctx.alert(
                    CODE,
                    "warning",
                    f"{ctx.optimizer_label(opt.index)}.group{group.index}",
                    None,
                    f"Every {'weight' if weights else 'parameter'} of group {group.index} "
                    f"({name_list(slow)}) changes by "
                    f"at most {fmt(max(r[n] for n in slow))} of its norm per step (median), "
                    f"so nothing in it learns; healthy training moves weights by about 1e-4 "
                    f"to 1e-2 per step. Its lr is {lr}: raise it, e.g. "
                    "`torch.optim.Adam(model.parameters(), lr=1e-3)`. If the group is meant "
                    "to stay fixed, `requires_grad_(False)` its parameters instead.",
                    params=slow,
                    ratio=max(r[n] for n in slow),
                    lr=lr,
                    direction="small",
                )
    for name in high:
        yield ctx.alert(
            CODE,
            "warning",
            name,
            None,
            f"`{name}` changes by {fmt(r[name])} of its norm per step (median): each update is "
            "as large as the weight itself, so training is unstable and forgets what it "
            "learned (healthy: about 1e-4 to 1e-2). Lower the learning rate about 10×, e.g. "
            "`optimizer.param_groups[0]['lr'] /= 10`, or warm it up.",
            ratio=r[name],
            direction="large",
        )

"""``exploding-gradients``: gradient norms grow by orders of magnitude or exceed a sane bound.

The total gradient norm of each logged step (over every parameter, before clipping when the
pre-clip norm was recorded, because clipping hides the explosion it answers) is smoothed by a
rolling median, so one bad batch is not a trend, and compared with its median over the first
steps. The parameter whose own gradient grew the most is named.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from gradscope.doctor.context import Context, fmt, median, rolling_medians
from gradscope.records import Alert

CODE = "exploding-gradients"


def total_norms(ctx: Context) -> tuple[str, list[int], list[float]]:
    """``(metric, steps, norms)``: the total gradient norm per logged step."""
    metric = (
        "grad_norm_preclip"
        if any(ctx.series("grad_norm_preclip", p)[0] for p in ctx.params)
        else "grad_norm"
    )
    squares: dict[int, float] = {}
    for name in ctx.params:
        for step, value in zip(*ctx.series(metric, name), strict=True):
            squares[step] = squares.get(step, 0.0) + value * value
    steps = sorted(squares)
    return metric, steps, [math.sqrt(squares[s]) for s in steps]


def growth(ctx: Context, values: list[float]) -> tuple[float, float, float]:
    """``(baseline, peak, peak / baseline)`` of a norm series (NaN when too short)."""
    t = ctx.thresholds
    finite = [v for v in values if math.isfinite(v)]
    base = median(finite[: t.baseline_steps])
    rolled = rolling_medians(finite, t.window)
    peak = max(rolled) if rolled else math.nan
    ratio = peak / base if base > 0 and len(finite) > t.baseline_steps else math.nan
    return base, peak, ratio


def measure(ctx: Context) -> dict[str, Any]:
    """The quantities this rule judges (also printed by tests/doctor/measure_thresholds.py)."""
    metric, steps, norms = total_norms(ctx)
    base, peak, ratio = growth(ctx, norms)
    return {"metric": metric, "baseline": base, "peak": peak, "growth": ratio, "steps": steps,
            "norms": norms}  # fmt: skip


def check(ctx: Context) -> Iterator[Alert]:
    t = ctx.thresholds
    m = measure(ctx)
    grew = math.isfinite(m["growth"]) and m["growth"] >= t.explode_growth
    huge = math.isfinite(m["peak"]) and m["peak"] >= t.explode_bound
    if not (grew or huge):
        return
    worst, worst_ratio = _worst_param(ctx, m["metric"])
    what = (
        f"grew {fmt(m['growth'])}× (from {fmt(m['baseline'])} to {fmt(m['peak'])})"
        if grew
        else f"reached {fmt(m['peak'])}, above the sane bound {fmt(t.explode_bound)}"
    )
    yield ctx.alert(
        CODE,
        "warning",
        worst,
        _first_step_over(ctx, m, grew),
        f"The total gradient norm {what}; `{worst}`'s own gradient grew the most "
        f"({fmt(worst_ratio)}×). Exploding gradients make updates huge: the loss jumps, then "
        "turns NaN. Lower the learning rate, clip: `torch.nn.utils.clip_grad_norm_"
        "(model.parameters(), max_norm=1.0)` between `loss.backward()` and `optimizer.step()`, "
        "and check the init and normalisation of deep or recurrent stacks.",
        baseline=m["baseline"],
        peak=m["peak"],
        growth=m["growth"],
    )


def _worst_param(ctx: Context, metric: str) -> tuple[str, float]:
    best = ("", -math.inf)
    for name in ctx.params:
        _, _, ratio = growth(ctx, ctx.series(metric, name)[1])
        if math.isfinite(ratio) and ratio > best[1]:
            best = (name, ratio)
    if not best[0]:
        best = (ctx.params[0] if ctx.params else "model", math.nan)
    return best


def _first_step_over(ctx: Context, m: dict[str, Any], grew: bool) -> int | None:
    """The first logged step whose norm crossed the limit that fired."""
    limit = m["baseline"] * ctx.thresholds.explode_growth if grew else ctx.thresholds.explode_bound
    return next((s for s, v in zip(m["steps"], m["norms"], strict=True) if v >= limit), None)

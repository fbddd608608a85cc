"""``exploding-gradients``: gradient norms grow by orders of magnitude or exceed a sane bound.

The total gradient norm of each logged step (over every parameter, before clipping when the
pre-clip norm was recorded, because clipping hides the explosion it answers) is smoothed by a
rolling median, so one bad batch is not a trend, and compared with its median over the first
steps. A norm above the sane bound counts only while it is not falling: randomly initialised
weights can start with huge gradients that training then brings down, which is no explosion.
The parameter named is the one whose gradient grew the most by the first step over the limit
(or, over the bound, the largest there), so the live doctor and a later ``gradscope doctor``
name the same place. Under a GradScaler the pre-clip norms (taken before ``unscale_``) are
divided by its scale. A norm that climbs step after step by ``explode_growth`` and then turns
non-finite is an explosion too, however few steps it took, and so is a norm already above the
sane bound on the step before the first non-finite one: either is reported as the origin of
the NaN, at ``error``.
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
        for step, value in zip(*param_norms(ctx, metric, name), strict=True):
            squares[step] = squares.get(step, 0.0) + value * value
    steps = sorted(squares)
    return metric, steps, [math.sqrt(squares[s]) for s in steps]


def param_norms(ctx: Context, metric: str, name: str) -> tuple[list[int], list[float]]:
    """A parameter's gradient norms; pre-clip ones unscaled when a GradScaler scaled them."""
    steps, values = ctx.series(metric, name)
    if metric == "grad_norm_preclip" and ctx.events("amp_scale"):
        values = [v / ctx.amp_scale(s) for s, v in zip(steps, values, strict=True)]
    return steps, values


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
    finite = [v for v in norms if math.isfinite(v)]
    rolled = rolling_medians(finite, ctx.thresholds.window)
    t = ctx.thresholds
    # Over the bound and not falling: judged once a trend exists, on the latest smoothed norm.
    trend = len(finite) > t.baseline_steps + t.window
    latest = rolled[-1] if rolled and trend else math.nan
    return {"metric": metric, "baseline": base, "peak": peak, "growth": ratio, "steps": steps,
            "norms": norms, "latest": latest}  # fmt: skip


def diverged(ctx: Context, m: dict[str, Any]) -> tuple[int, int, float] | None:
    """``(first non-finite step, first step of the climb, growth)`` when the total norm climbed
    step after step by ``explode_growth`` or more and then turned non-finite: too few steps for
    a trend, but the explosion is what made the NaN. Not under a GradScaler, whose overflowing
    steps are its normal work."""
    if ctx.events("amp_scale"):
        return None
    steps, norms = m["steps"], m["norms"]
    bad = next((i for i, v in enumerate(norms) if not math.isfinite(v)), None)
    if bad is None or bad < 1:
        return None
    start = bad - 1
    while start > 0 and 0 < norms[start - 1] < norms[start]:
        start -= 1
    if start < bad - 1 and norms[start] > 0:
        climb = norms[bad - 1] / norms[start]
        if climb >= ctx.thresholds.explode_growth:
            return steps[bad], steps[start], climb
    if norms[bad - 1] >= ctx.thresholds.explode_bound:
        # No climb to see, but already far above any sane norm on the step before: one update
        # of that size blows the weights up (a deep stack with an unscaled init).
        return steps[bad], steps[bad - 1], math.nan
    return None


def check(ctx: Context) -> Iterator[Alert]:
    t = ctx.thresholds
    m = measure(ctx)
    blown = diverged(ctx, m)
    if blown is not None:
        yield _diverged_alert(ctx, m, *blown)
        return
    grew = math.isfinite(m["growth"]) and m["growth"] >= t.explode_growth
    huge = (
        t.is_exploding(m["latest"]) and m["latest"] >= m["baseline"]  # not falling
    )
    if not (grew or huge):
        return
    step = _first_step_over(ctx, m, grew)
    worst, worst_ratio = _worst_param(ctx, m["metric"], step)
    what = (
        f"grew {fmt(m['growth'])}× (from {fmt(m['baseline'])} to {fmt(m['peak'])})"
        if grew
        else f"is {fmt(m['latest'])} and not falling, above the sane bound {fmt(t.explode_bound)}"
    )
    whose = (
        f"`{worst}`'s own gradient grew the most ({fmt(worst_ratio)}×)"
        if math.isfinite(worst_ratio)
        else f"`{worst}` has the largest gradient"
    )
    yield ctx.alert(
        CODE,
        "warning",
        worst,
        step,
        f"The total gradient norm {what}; {whose}. Exploding gradients make updates huge: "
        "the loss jumps, then "
        "turns NaN. Lower the learning rate, clip: `torch.nn.utils.clip_grad_norm_"
        "(model.parameters(), max_norm=1.0)` between `loss.backward()` and `optimizer.step()`, "
        "and check the init and normalisation of deep or recurrent stacks.",
        baseline=_json(m["baseline"]),
        peak=_json(m["peak"]),
        growth=_json(m["growth"]),
    )


def _diverged_alert(ctx: Context, m: dict[str, Any], bad: int, start: int, climb: float) -> Alert:
    last = max(s for s in m["steps"] if s < bad)
    worst, worst_ratio = _worst_param(ctx, m["metric"], last, since=start)
    norm = dict(zip(m["steps"], m["norms"], strict=True)).get(last, math.nan)
    what = (
        f"grew {fmt(climb)}× in {last - start} step{'s' if last - start != 1 else ''} "
        f"(step {start} to {last})"
        if math.isfinite(climb)
        else f"was {fmt(norm)} at step {last}, far above the sane bound "
        f"{fmt(ctx.thresholds.explode_bound)}"
    )
    whose = (
        f"`{worst}`'s gradient grew the most ({fmt(worst_ratio)}×)"
        if math.isfinite(worst_ratio)
        else f"`{worst}` has the largest gradient"
    )
    return ctx.alert(
        CODE,
        "error",
        worst,
        start,
        f"The total gradient norm {what}, then went NaN/Inf at step {bad}: the updates blew "
        f"the weights up, and the NaN that followed is its consequence. {whose}. The learning "
        "rate is too large for these inputs, or the init too large for the depth: lower it "
        "(try 10× smaller), scale the init to the fan-in, normalise the inputs "
        "and targets, and clip: `torch.nn.utils.clip_grad_norm_(model.parameters(), "
        "max_norm=1.0)` between `loss.backward()` and `optimizer.step()`.",
        growth=_json(climb),
        norm=_json(norm),
        nonfinite_step=bad,
    )


def _worst_param(
    ctx: Context, metric: str, step: int | None, *, since: int | None = None
) -> tuple[str, float]:
    """The parameter whose norm at ``step`` is the most times its own baseline (with that
    ratio), else the one with the largest norm there (ratio NaN)."""
    best, largest = ("", -math.inf), ("", -math.inf)
    for name in ctx.params:
        steps, values = param_norms(ctx, metric, name)
        at = dict(zip(steps, values, strict=True)).get(step, math.nan) if step is not None else (
            max((v for v in values if math.isfinite(v)), default=math.nan))  # fmt: skip
        if not math.isfinite(at):
            continue
        if at > largest[1]:
            largest = (name, at)
        finite = [v for s, v in zip(steps, values, strict=True)
                  if math.isfinite(v) and (since is None or s >= since)]  # fmt: skip
        base = finite[0] if since is not None and finite else median(
            finite[: ctx.thresholds.baseline_steps])  # fmt: skip
        if base > 0 and at / base > best[1]:
            best = (name, at / base)
    if best[0] and best[1] > 1:
        return best
    if largest[0]:
        return largest[0], math.nan
    return (ctx.params[0] if ctx.params else "model"), math.nan


def _first_step_over(ctx: Context, m: dict[str, Any], grew: bool) -> int | None:
    """The first logged step whose norm crossed the limit that fired."""
    limit = m["baseline"] * ctx.thresholds.explode_growth if grew else ctx.thresholds.explode_bound
    return next((s for s, v in zip(m["steps"], m["norms"], strict=True) if v >= limit), None)


def _json(value: float) -> float | None:
    """A detail value the store can hold: its JSON has no NaN or Infinity."""
    return value if math.isfinite(value) else None

"""``loss-stalled``: the loss has not moved for many steps, for no reason found above.

A converged loss is flat too, but it got there by moving: this rule compares the median of
the last fifth of the run with that of the first fifth, so a loss that went down and then
levelled off is not stalled.

A flat loss is a problem only once the optimizer has had its chance. From the loss alone, a
model that cannot learn (targets shuffled apart from their inputs) looks exactly like a correct
one that has not learned yet (a small CNN still at chance after 32 steps of SGD at lr=0.01,
Adam at lr=1e-5, a weak signal under noisy batches), so a flat loss is a warning only when
the run is long enough, ``stall_long_steps`` steps, and the weights travelled far enough,
``stall_travel`` of their norm (the median per-step update-to-weight ratio of the weights
times the steps): the optimizer pushed for long and the loss did not answer. Short of that it
is an ``info`` saying the run is too short to judge. It runs last and stays silent when
another rule already raised a warning or an error, which would be the reason, except when the
loss is exactly the same at every step (over ``stall_min_steps``): nothing reaches the weights
then, whatever else is wrong or however short the run, and that is worth saying. Under a
GradScaler the loss is judged unscaled.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from gradscope.doctor.context import Context, fmt, median
from gradscope.doctor.rules.update_ratio import ratios
from gradscope.records import Alert

CODE = "loss-stalled"
CONVERGED = 1e-3


def measure(ctx: Context) -> dict[str, Any]:
    """Relative change between the first and last fifths of the finite losses."""
    steps, values = ctx.losses
    pairs = [(s, v) for s, v in zip(steps, values, strict=True) if math.isfinite(v)]
    w = max(len(pairs) // 5, 1)
    first = median([v for _, v in pairs[:w]])
    last = median([v for _, v in pairs[-w:]])
    scale = max(abs(first), abs(last))
    change = abs(first - last) / scale if scale > 0 else math.nan
    start = pairs[0][0] if pairs else None
    constant = len({v for _, v in pairs}) == 1 and first != 0
    # Converged: it fell CONVERGED times from its first value (a flat end got there by moving).
    fell = bool(pairs) and pairs[0][1] > 0 and last <= CONVERGED * pairs[0][1]
    return {"n": len(pairs), "first": first, "last": last, "change": change, "start": start,
            "constant": constant, "converged": fell, "travel": travel(ctx, len(pairs))}  # fmt: skip


def travel(ctx: Context, steps: int) -> float:
    """How far the weights moved over ``steps`` steps, as a fraction of their norm: the median
    over weights (every parameter when there is no ≥ 2-D one) of their median update-to-weight
    ratio, times ``steps``; NaN when no update was recorded. A path length, not a
    displacement: noise that goes back and forth counts, which is what a flat loss needs to
    be a finding (the optimizer pushed, the loss did not answer)."""
    r = ratios(ctx)
    weights = [v for n, v in r.items() if len(ctx.param_info[n].shape) >= 2]
    return median(weights or list(r.values())) * steps


def check(ctx: Context) -> Iterator[Alert]:
    t = ctx.thresholds
    m = measure(ctx)
    if m["n"] < t.stall_min_steps or not m["change"] < t.stall_change or m["converged"]:
        return
    if ctx.has_finding("error", "warning") and not m["constant"]:
        return
    if not m["constant"] and (m["n"] < t.stall_long_steps or not m["travel"] >= t.stall_travel):
        yield early(ctx, m)
        return
    what = (
        f"is exactly {fmt(m['first'])} at every one of {m['n']} steps"
        if m["constant"]
        else f"has not moved in {m['n']} steps: {fmt(m['first'])} at the start, "
        f"{fmt(m['last'])} at the end ({fmt(100 * m['change'])}% change)"
    )
    why = (
        "nothing the optimizer does changes the model's output (zero gradients, or no update)"
        if m["constant"]
        else f"although the weights travelled {fmt(100 * m['travel'])}% of their norm, and "
        "no other diagnosis explains it"
    )
    yield ctx.alert(
        CODE,
        "warning",
        "loss",
        m["start"],
        f"The loss {what}, {why}. The model is not learning the task. Check that the targets "
        "belong to their inputs (shuffle them together), that the loss uses the model's "
        "output, and try a larger learning rate on one small batch, e.g. "
        "`for _ in range(200): train_step(fixed_batch)`; a model that cannot overfit one "
        "batch has a bug.",
        first=m["first"],
        last=m["last"],
        change=m["change"],
        constant=m["constant"],
        travel=m["travel"],
    )


def early(ctx: Context, m: dict[str, Any]) -> Alert:
    """The ``info`` for a flat loss in a run too short or slow to judge."""
    t = ctx.thresholds
    if m["n"] < t.stall_long_steps:
        reason = f"a flat loss is judged after {t.stall_long_steps} steps"
    elif m["travel"] == m["travel"]:
        reason = (
            f"the weights travelled only {fmt(100 * m['travel'])}% of their norm (a flat "
            f"loss is judged once they moved {fmt(100 * t.stall_travel)}%)"
        )
    else:
        reason = "no weight update was recorded"
    return ctx.alert(
        CODE,
        "info",
        "loss",
        m["start"],
        f"The loss has hardly moved in {m['n']} steps ({fmt(m['first'])} at the start, "
        f"{fmt(m['last'])} at the end), but {reason}: too early to tell a slow start from a "
        "model that cannot learn. Train longer, or check quickly that it can overfit one "
        "batch, e.g. `for _ in range(200): train_step(fixed_batch)`.",
        first=m["first"],
        last=m["last"],
        change=m["change"],
        travel=m["travel"],
    )

"""``loss-stalled``: the loss has not moved for many steps, for no reason found above.

A converged loss is flat too, but it got there by moving: this rule compares the median of
the last fifth of the run with that of the first fifth, so a loss that went down and then
levelled off is not stalled. It runs last and stays silent when another rule already raised a
warning or an error, which would be the reason, except when the loss is exactly the same at
every step: nothing reaches the weights then, whatever else is wrong, and that is worth
saying. Under a GradScaler the loss is judged unscaled.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from gradscope.doctor.context import Context, fmt, median
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
            "constant": constant, "converged": fell}  # fmt: skip


def check(ctx: Context) -> Iterator[Alert]:
    t = ctx.thresholds
    m = measure(ctx)
    if m["n"] < t.stall_min_steps or not m["change"] < t.stall_change or m["converged"]:
        return
    if ctx.has_finding("error", "warning") and not m["constant"]:
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
        else "and no other diagnosis explains it"
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
    )

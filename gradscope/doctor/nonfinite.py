"""Where NaN/Inf appeared first, shared by the three ``nonfinite-*`` rules.

Once a NaN exists it spreads: a NaN loss makes every gradient NaN, a NaN gradient makes the
weights NaN after the step, NaN weights make the next forward NaN. Only the earliest place is
worth fixing, so each rule reports its place only when no other one came first; the loss is
always reported, because it is what the user sees. Gradients that exploded into NaN/Inf come
first of all: every non-finite place after the climb is its consequence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gradscope.doctor.context import Context


@dataclass(frozen=True)
class Origin:
    """The first step where non-finite values appeared in one place, and the place."""

    step: int
    where: str
    details: dict[str, Any]


def first_explosion(ctx: Context) -> Origin | None:
    """A gradient norm that climbed into NaN/Inf (see ``exploding-gradients``): the step the
    climb began, with the first non-finite step as ``nonfinite_step``."""
    from gradscope.doctor.rules.exploding_gradients import diverged, measure

    blown = diverged(ctx, measure(ctx))
    if blown is None:
        return None
    return Origin(blown[1], "exploding-gradients", {"nonfinite_step": blown[0]})


def first_loss(ctx: Context) -> Origin | None:
    """The first step whose loss was NaN or Inf."""
    for step, value in zip(*ctx.losses, strict=True):
        if not math.isfinite(value):
            return Origin(step, "loss", {"value": str(value)})
    return None


def first_forward(ctx: Context) -> Origin | None:
    """The first module (forward order) whose output was non-finite, from capture's fact."""
    events = ctx.events("nonfinite_forward")
    if not events:
        return None
    e = min(events, key=lambda e: e.step)
    return Origin(e.step, e.where, dict(e.details))


def first_grad(ctx: Context) -> Origin | None:
    """The first place (backward order) where a gradient was non-finite.

    Capture's ``nonfinite_grad`` facts name a module: the first whose output gradient was
    non-finite (activation steps), or a parameterless module whose backward turned a finite
    output gradient into a non-finite input gradient (``created``, any logged step), which is
    preferred at the same step. Gradient NaN/Inf counts of the parameters are read too (they
    exist on every logged step, also without module hooks): among the parameters hit at the
    earliest step, the last in model order is the nearest to the output, so the first in
    backward order.
    """
    events = ctx.events("nonfinite_grad")
    best = None
    if events:
        first = min(e.step for e in events)
        at = [e for e in events if e.step == first]
        e = next((e for e in at if e.details.get("created")), at[0])
        best = Origin(e.step, e.where, dict(e.details))
    hit: tuple[int, str] | None = None
    for name in ctx.params:
        step = _first_bad(ctx, name)
        if step is not None and (hit is None or step <= hit[0]):
            hit = (step, name)
    if hit is not None and (best is None or hit[0] < best.step):
        return Origin(hit[0], hit[1], {"order": "backward", "param": hit[1]})
    return best


def _first_bad(ctx: Context, param: str) -> int | None:
    first = None
    for metric in ("grad_nan", "grad_inf"):
        for step, count in zip(*ctx.series(metric, param), strict=True):
            if count > 0 or not math.isfinite(count):
                first = step if first is None else min(first, step)
                break
    return first


def is_container(ctx: Context, path: str) -> bool:
    """Whether the module at ``path`` has submodules (its own code runs between theirs)."""
    prefix = f"{path}." if path else ""
    return any(p != path and p.startswith(prefix) for p in ctx.module_types)

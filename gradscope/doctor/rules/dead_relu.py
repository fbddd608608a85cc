"""``dead-relu``: a ReLU-type module outputs zero for (nearly) every input.

A ReLU whose pre-activations are all negative outputs exact zeros and passes back zero
gradient, so it and every layer before it stop learning, and nothing brings it back. The
fraction of exact zeros in a module's output is recorded on activation steps; a module is dead
when its last few records are all (nearly) only zeros. ``F.relu`` inside a forward is not a
module and cannot be seen here; only ``nn.ReLU``-type modules are judged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gradscope.doctor.context import Context, fmt
from gradscope.records import Alert

CODE = "dead-relu"
#: Modules that output exact zeros for inputs in a range, and zero gradient there.
RELU_TYPES = frozenset({"ReLU", "ReLU6", "Threshold"})


def zero_fractions(ctx: Context) -> dict[str, tuple[list[int], list[float]]]:
    """Module path → its recorded fractions of zero outputs, for ReLU-type modules."""
    return {
        path: ctx.module_series("act_zero_frac", path)
        for path, typ in ctx.module_types.items()
        if typ in RELU_TYPES
    }


def measure(ctx: Context) -> dict[str, Any]:
    """The highest zero fraction any ReLU-type module had (NaN without such modules)."""
    values = [v for _, vs in zero_fractions(ctx).values() for v in vs]
    return {"max_zero_frac": max(values) if values else float("nan"), "records": len(values)}


def check(ctx: Context) -> Iterator[Alert]:
    t = ctx.thresholds
    for path, (steps, fractions) in zero_fractions(ctx).items():
        last = fractions[-max(t.dead_records, 1) :]
        if not last or min(last) < t.dead_fraction:
            continue
        first_dead = next(
            (s for s, f in zip(steps, fractions, strict=True) if f >= t.dead_fraction), None
        )
        label = ctx.label(path)
        yield ctx.alert(
            CODE,
            "warning",
            label,
            first_dead,
            f"`{label}` ({ctx.module_types[path]}) output exact zeros for {fmt(100 * min(last))}% "
            "of its values on its last recorded steps: its units are dead. A dead ReLU passes "
            "back no gradient, so the layer feeding it stops learning and never recovers. It "
            "is usually knocked there by a too-large learning rate or a bad init (large "
            "negative biases). Lower the lr, initialise with `nn.init.kaiming_normal_`, or "
            "let negative inputs through: `nn.LeakyReLU(0.01)` instead of `nn.ReLU()`.",
            zero_frac=min(last),
        )

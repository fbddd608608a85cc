"""``nonfinite-grad``: NaN/Inf first appeared in the backward pass, at a named module/parameter.

Capture names the first module, in backward order, whose output gradient was non-finite; every
parameter's gradient NaN/Inf counts name the parameter when no module fact exists. When the
forward output or the loss was already non-finite at that step or before, the gradient is only
a consequence and the earlier place is reported instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.doctor.nonfinite import first_forward, first_grad, first_loss
from gradscope.records import Alert

CODE = "nonfinite-grad"


def check(ctx: Context) -> Iterator[Alert]:
    origin = first_grad(ctx)
    if origin is None:
        return
    if any(o is not None and o.step <= origin.step for o in (first_forward(ctx), first_loss(ctx))):
        return
    label = ctx.label(origin.where)
    param = origin.details.get("param")
    consumer = origin.details.get("previous")  # the module just before it in backward order
    culprit = f"`{ctx.label(str(consumer))}`" if consumer is not None else "what consumes it"
    place = (
        f"the gradient of `{param}` was NaN/Inf (the first hit in backward order)"
        if param
        else f"the gradient arriving at the output of `{label}` was NaN/Inf while those of "
        f"the modules after it were finite, so the backward of {culprit} created it"
    )
    yield ctx.alert(
        CODE,
        "error",
        label,
        origin.step,
        f"At step {origin.step} the forward pass and the loss were finite, but {place}. "
        "The next optimizer step writes NaN into the "
        "weights and training is lost. Usual causes are derivatives that are infinite at a "
        "point the forward allows: sqrt or norm at 0, pow with a fractional exponent at 0, "
        "acos/asin at ±1, or a custom Function's backward (gradient clipping does not "
        "remove NaN). Keep away from the point, e.g. `torch.sqrt(x + 1e-12)` instead of "
        "`torch.sqrt(x)`.",
        **origin.details,
    )

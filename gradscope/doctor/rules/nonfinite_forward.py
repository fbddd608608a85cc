"""``nonfinite-forward``: NaN/Inf first appeared in the forward output of a named module.

Capture checks each module output with a cheap on-device norm on logged steps and names the
first module, in forward-hook order (innermost first), whose output was non-finite. If a
gradient went non-finite at an earlier step, the NaN forward is only its consequence (the
weights became NaN at that step) and ``nonfinite-grad`` reports the origin instead; after
gradients that exploded into NaN/Inf, ``exploding-gradients`` does.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.doctor.nonfinite import first_explosion, first_forward, first_grad, is_container
from gradscope.records import Alert

CODE = "nonfinite-forward"


def check(ctx: Context) -> Iterator[Alert]:
    origin = first_forward(ctx)
    if origin is None:
        return
    grad = first_grad(ctx)
    if grad is not None and grad.step < origin.step:
        return
    blown = first_explosion(ctx)
    if blown is not None and int(blown.details["nonfinite_step"]) <= origin.step:
        return  # the weights blew up first (exploding-gradients)
    label = ctx.label(origin.where)
    position = origin.details.get("position")
    if is_container(ctx, origin.where):
        where_in = (
            f"in the code of `{label}`.forward() itself, between its submodules (their outputs "
            "were finite)"
        )
    elif position == 0:
        where_in = (
            f"in `{label}`, the first module to run: check the input batch too "
            "(`assert torch.isfinite(x).all()`)"
        )
    else:
        number = int(position) + 1 if isinstance(position, (int, float)) else "?"
        where_in = f"in `{label}` (module {number} of {origin.details.get('of')})"
    yield ctx.alert(
        CODE,
        "error",
        label,
        origin.step,
        f"At step {origin.step} NaN/Inf first appeared in a forward output, {where_in}. "
        "Everything computed after it, the loss and every gradient, is NaN too. Usual causes "
        "are a log, sqrt or division of 0 or a negative number, exp overflow, or weights "
        "blown up by a too-large learning rate. Guard the operation, e.g. "
        "`torch.log(x.clamp_min(1e-12))`, `torch.sqrt(x + 1e-12)`, `x / (d + 1e-12)`.",
        **origin.details,
    )

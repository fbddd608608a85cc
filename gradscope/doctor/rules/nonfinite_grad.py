"""``nonfinite-grad``: NaN/Inf first appeared in the backward pass, at a named module/parameter.

Capture names the module whose backward created the first non-finite gradient (a parameterless
module whose output gradient was finite and whose input gradient was not), or the first module,
in backward order, whose output gradient was non-finite; every parameter's gradient NaN/Inf
counts name the parameter when no module fact exists. When the forward output or the loss was
already non-finite at that step or before, the gradient is only a consequence and the earlier
place is reported instead. Under a ``GradScaler`` (fp16 autocast) overflowing gradients are
expected: the scaler skips that step and lowers its scale, so such a step is ``info``, however
many steps it takes to come down from a large initial scale (``init_scale=2**40`` skips 25).
Only a scaler that cannot get the gradients finite by lowering the scale is a problem: it
skipped a step at a scale of 1 or less (the unscaled gradient itself was NaN/Inf), or it
skipped ``STUCK_SKIPS`` steps and never took one after.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.doctor.nonfinite import Origin, first_forward, first_grad, first_loss
from gradscope.records import Alert

CODE = "nonfinite-grad"
#: A scaler that skipped at least this many steps and took none after the last is stuck.
STUCK_SKIPS = 20


def check(ctx: Context) -> Iterator[Alert]:
    origin = first_grad(ctx)
    if ctx.amp_skips:
        yield from _scaled(ctx, origin)
        return
    if origin is None:
        return
    if any(o is not None and o.step <= origin.step for o in (first_forward(ctx), first_loss(ctx))):
        return
    label = ctx.label(origin.where)
    param = origin.details.get("param")
    if param:
        place = f"the gradient of `{param}` was NaN/Inf (the first hit in backward order)"
    elif origin.details.get("created"):
        kind = ctx.module_types.get(origin.where, "module")
        place = (
            f"the backward of `{label}` ({kind}) turned a finite gradient at its output into "
            "NaN/Inf at its input: that is where it was created"
        )
    else:
        consumer = origin.details.get("previous")  # the module just before it in backward order
        culprit = f"`{ctx.label(str(consumer))}`" if consumer is not None else "what consumes it"
        place = (
            f"the gradient arriving at the output of `{label}` was NaN/Inf while those of "
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
        "acos/asin at ±1, a `torch.where` whose unused branch is NaN (its gradient is still "
        "computed: clamp the input instead), or a custom Function's backward (gradient "
        "clipping does not remove NaN). Keep away from the point, e.g. "
        "`torch.sqrt(x.clamp_min(1e-12))` instead of `torch.sqrt(x)`.",
        **origin.details,
    )


def _scaled(ctx: Context, origin: Origin | None) -> Iterator[Alert]:
    """Inf/NaN gradients under a GradScaler: skipped steps are its normal work."""
    skips, steps = ctx.amp_skips, len(ctx.raw_losses[0])
    first = ctx.amp_skipped[0] if ctx.amp_skipped else None
    unscaled = any(scale <= 1.0 for scale in ctx.amp_skip_scales)
    last = ctx.amp_skipped[-1] if ctx.amp_skipped else -1
    recovered = any(s > last for s in ctx.raw_losses[0])
    if unscaled or (skips >= STUCK_SKIPS and not recovered):
        at = f" (first at `{ctx.label(origin.where)}`)" if origin is not None else ""
        yield ctx.alert(
            CODE,
            "error",
            "GradScaler",
            first,
            f"The GradScaler skipped {skips} optimizer steps for NaN/Inf gradients{at} and took "
            f"{steps}: lowering the scale does not make them finite, so the NaN comes from the "
            "model, not from fp16 overflow, and the model hardly trains. Find it without "
            "autocast (`torch.autocast(..., enabled=False)`), or keep the op that overflows in "
            "float32: `with torch.autocast('cuda', enabled=False): y = op(x.float())`.",
            skips=skips,
            steps=steps,
        )
        return
    where = ctx.label(origin.where) if origin is not None else "GradScaler"
    yield ctx.alert(
        CODE,
        "info",
        "GradScaler",
        first,
        f"The GradScaler skipped {skips} optimizer step{'s' if skips != 1 else ''} whose "
        f"scaled gradients overflowed (first at `{where}`) and lowered its scale: that is how "
        "mixed precision finds its scale, and no NaN reached the weights. Nothing to fix "
        "(`scaler.step(optimizer)` and `scaler.update()` already do it).",
        skips=skips,
    )

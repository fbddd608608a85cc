"""``nonfinite-loss``: the loss is NaN or Inf.

Always reported, because it is what one sees; the message points at the earliest place where
non-finite values appeared (a module's forward output, or a gradient) when one is known.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.doctor.nonfinite import first_explosion, first_forward, first_grad, first_loss
from gradscope.records import Alert

CODE = "nonfinite-loss"


def check(ctx: Context) -> Iterator[Alert]:
    loss = first_loss(ctx)
    if loss is None:
        return
    forward, grad = first_forward(ctx), first_grad(ctx)
    # A gradient at the loss's own step comes after the loss; a forward output comes before.
    earlier = [o for o in (forward, grad) if o and o.step <= loss.step and o is not grad]
    earlier += [grad] if grad and grad.step < loss.step else []
    blown = first_explosion(ctx)
    if blown is not None and int(blown.details["nonfinite_step"]) <= loss.step:
        cause = (
            f"The gradients exploded first (the total norm climbed from step {blown.step} into "
            "NaN/Inf, see exploding-gradients): the non-finite loss is its consequence."
        )
    elif earlier:
        origin = min(earlier, key=lambda o: o.step)
        kind = "the forward output" if origin is forward else "the gradient"
        cause = (
            f"Non-finite values first appeared in {kind} of {ctx.quoted(origin.where)} at step "
            f"{origin.step}: fix that first (see its own diagnosis)."
        )
    else:
        cause = (
            "No module output or gradient was non-finite before it, so the loss computation "
            "itself produced it: a log of 0 (`torch.log(probs)`), a division by 0, or a "
            "hand-written softmax. Use the fused, stable forms: "
            "`F.cross_entropy(logits, target)` instead of `-(target * probs.log()).sum()`, or "
            "clamp: `torch.log(p.clamp_min(1e-12))`."
        )
    yield ctx.alert(
        CODE,
        "error",
        "loss",
        loss.step,
        f"The loss was {loss.details['value']} at step {loss.step}. Its gradients are then "
        f"NaN, one optimizer step spreads NaN into every weight, and training cannot recover. "
        f"{cause} A too-large learning rate does the same: try a 10× smaller lr.",
        value=loss.details["value"],
    )

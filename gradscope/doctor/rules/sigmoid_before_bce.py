"""``sigmoid-before-bce``: a sigmoid output went into ``BCELoss``.

``sigmoid`` then ``binary_cross_entropy`` computes log(sigmoid(x)), which rounds to log(0) once
|x| is large: BCELoss clamps the log at -100, so confident mistakes stop giving gradients.
``BCEWithLogitsLoss`` computes the same loss from the logits in one stable expression. A batch
whose targets are all one label (a GAN's real or fake batch, the DCGAN recipe) or soft values in
[0, 1] (a VAE's reconstruction) is only ``info``: those recipes train, and the fix is the same.

A sigmoid output given to ``BCEWithLogitsLoss`` is worse, and an ``error``: that loss applies the
sigmoid itself, so the model's output is squashed twice into (0.5, 0.73) and the loss can never
fall near 0 whatever the weights.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.doctor.losses import producer
from gradscope.records import Alert, Event

CODE = "sigmoid-before-bce"
SIGMOID_TYPES = frozenset({"Sigmoid"})


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("loss_input"):
        if event.details.get("fn") == "binary_cross_entropy_with_logits":
            if event.details.get("grad_fn") == "SigmoidBackward0":
                yield _twice(ctx, event)
            continue
        if event.details.get("fn") != "binary_cross_entropy":
            continue
        if not event.details.get("from_sigmoid"):
            continue
        where = producer(ctx, event, SIGMOID_TYPES) or event.where
        low, high = event.details.get("target_min"), event.details.get("target_max")
        gan = low is not None and low == high  # one label for the whole batch: real or fake
        soft = event.details.get("target_binary") is False  # e.g. a VAE's pixel intensities
        yield ctx.alert(
            CODE,
            "info" if gan or soft else "warning",
            where,
            event.step,
            f"At `{event.where}` (step {event.step}) binary cross-entropy was given a sigmoid "
            "output. log(sigmoid(x)) underflows for large |x|, where BCELoss clamps the log "
            "and the gradient of a confident mistake vanishes. "
            + (
                "Every target of the batch is the same label, as when a GAN's discriminator is "
                "trained on real and fake batches: the classic DCGAN recipe, which trains; "
                if gan
                else "The targets are soft (between 0 and 1, as a VAE's pixel intensities), "
                "where the sigmoid output is the model's prediction and saturates less; "
                if soft
                else ""
            )
            + "Give the logits to the fused, stable loss: `nn.BCEWithLogitsLoss()(logits, "
            "target)` (or `F.binary_cross_entropy_with_logits`), and drop the sigmoid from "
            "forward().",
            fn="binary_cross_entropy",
        )


def _twice(ctx: Context, event: Event) -> Alert:
    """A sigmoid output fed to the loss that applies the sigmoid itself."""
    where = producer(ctx, event, SIGMOID_TYPES) or event.where
    return ctx.alert(
        CODE,
        "error",
        where,
        event.step,
        f"At `{event.where}` (step {event.step}) the with-logits binary cross-entropy was given "
        "a sigmoid output. It applies the sigmoid itself, so the model's output goes through "
        "it twice: every prediction is squashed into (0.5, 0.73), the loss cannot approach 0 "
        "and its gradients are weak. Give it the raw scores: drop the sigmoid from forward() "
        "(`return self.fc(x)`, not `return torch.sigmoid(self.fc(x))`) and apply "
        "`torch.sigmoid` only to predict.",
        fn="binary_cross_entropy_with_logits",
    )

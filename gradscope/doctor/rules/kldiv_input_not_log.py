"""``kldiv-input-not-log``: ``KLDivLoss`` / ``F.kl_div`` was given probabilities as its input.

``kl_div(input, target)`` expects ``input`` as log-probabilities (and ``target`` as
probabilities unless ``log_target=True``); it computes ``target * (log(target) - input)``. Given
probabilities, the "KL divergence" is neither one nor bounded below, its minimum is not at
``input == target``, and the model learns a distorted distribution without any error. Every
log-probability is ≤ 0, so an input whose values are all ≥ 0 (and not all 0) cannot be one.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.records import Alert

CODE = "kldiv-input-not-log"


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("loss_input"):
        d = event.details
        if d.get("fn") != "kl_div" or "input_min" not in d:
            continue
        softmax = d.get("grad_fn") == "SoftmaxBackward0"
        if not (softmax or (float(d["input_min"]) >= 0 and float(d["input_max"]) > 0)):
            continue
        yield ctx.event_alert(
            CODE,
            "error",
            event,
            f"At `{event.where}` (step {event.step}) the input of the KL divergence was "
            f"probabilities ({'a softmax output' if softmax else 'every value ≥ 0'}), but "
            "`kl_div` expects log-probabilities: it computes `target * (log(target) - input)`, "
            "so the loss is not a divergence, its minimum is not where the distributions match, "
            "and the model learns the wrong distribution. Pass log-probabilities: "
            "`nn.KLDivLoss(reduction='batchmean')(F.log_softmax(logits, dim=1), target)`.",
            input_min=d["input_min"],
            input_max=d["input_max"],
        )

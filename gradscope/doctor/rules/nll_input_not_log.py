"""``nll-input-not-log``: ``NLLLoss`` / ``F.nll_loss`` was given raw scores, not log-probabilities.

``nll_loss`` only picks ``-input[target]``; the log-softmax that makes it a likelihood must come
before it (``nn.CrossEntropyLoss`` is the two fused). Given raw scores (logits from a final
``nn.Linear``), minimising it just pushes the target score up without bound and the other
classes' scores never enter, so the loss goes to -inf while accuracy stalls. Capture checks, in
the first steps, whether the exponentials of each row of the input sum to 1, as
log-probabilities' do. Probabilities (a softmax output) are ``softmax-before-cross-entropy``.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.records import Alert

CODE = "nll-input-not-log"


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("loss_input"):
        d = event.details
        if d.get("fn") != "nll_loss" or d.get("log_probabilities") is not False:
            continue
        if d.get("probabilities") or d.get("grad_fn") == "SoftmaxBackward0":
            continue  # softmax-before-cross-entropy says it
        yield ctx.event_alert(
            CODE,
            "error",
            event,
            f"At `{event.where}` (step {event.step}) `nll_loss` was given raw scores: the "
            "exponentials of a row do not sum to 1, so they are not log-probabilities. "
            "nll_loss only takes `-input[target]`; without a log_softmax before it the loss "
            "is unbounded below (it falls forever by inflating the target's score) and the "
            "other classes are never pushed down. End the model with "
            "`F.log_softmax(x, dim=1)`, or give the scores to `nn.CrossEntropyLoss()` instead "
            "of `nn.NLLLoss()`.",
            grad_fn=d.get("grad_fn"),
        )

"""``softmax-before-cross-entropy``: cross-entropy was given probabilities, not logits.

``F.cross_entropy`` / ``nn.CrossEntropyLoss`` apply ``log_softmax`` themselves; feeding them a
softmax output applies it twice, which squashes the loss into a narrow band and shrinks its
gradients, so training crawls. ``F.nll_loss`` wants log-probabilities, so probabilities are
wrong there too. Capture looks at what the loss was given during the first steps.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.doctor.losses import producer
from gradscope.records import Alert

CODE = "softmax-before-cross-entropy"
SOFTMAX_TYPES = frozenset({"Softmax", "Softmax2d"})


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("loss_input"):
        fn = event.details.get("fn")
        given_softmax = event.details.get("grad_fn") == "SoftmaxBackward0"
        probabilities = bool(event.details.get("probabilities")) or given_softmax
        if fn not in ("cross_entropy", "nll_loss") or not probabilities:
            continue
        where = producer(ctx, event, SOFTMAX_TYPES) or event.where
        if fn == "cross_entropy":
            text = (
                "cross-entropy was given probabilities (a softmax output) instead of logits. It "
                "applies log_softmax itself, so the softmax is applied twice: the loss is "
                "squashed into a narrow band and its gradients shrink, and the model learns "
                "slowly or stalls. Pass the raw scores: remove the softmax from forward() "
                "(`return self.fc(x)`, not `return F.softmax(self.fc(x), dim=1)`) and apply "
                "softmax only when you need probabilities for prediction."
            )
        else:
            text = (
                "nll_loss was given probabilities (a softmax output), but it expects "
                "log-probabilities: the loss is then neither a likelihood nor well-scaled, "
                "and its gradients are wrong. Use `F.log_softmax(x, dim=1)` instead of "
                "`F.softmax(x, dim=1)`, or pass the logits to `F.cross_entropy`."
            )
        yield ctx.alert(
            CODE,
            "error",
            where,
            event.step,
            f"At `{event.where}` (step {event.step}), {text}",
            fn=fn,
            grad_fn=event.details.get("grad_fn"),
        )

"""``loss-broadcast``: a loss's input and target shapes differ and silently broadcast.

``F.mse_loss(pred, y)`` with ``pred`` of shape (N, 1) and ``y`` of shape (N,) broadcasts both to
(N, N) and averages every prediction against every target: the loss is finite, training "runs",
and the model learns the mean. Capture records the shapes during the first steps; only shapes
whose broadcast is larger than both inputs are judged (``(1,)`` against ``()`` is harmless).
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.records import Alert

CODE = "loss-broadcast"


def broadcast_shape(a: list[int], b: list[int]) -> list[int] | None:
    """NumPy/torch broadcasting of two shapes, or ``None`` when they do not broadcast."""
    out = []
    for x, y in zip(reversed([1] * (len(b) - len(a)) + a), reversed([1] * (len(a) - len(b)) + b),
                    strict=True):  # fmt: skip
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y))
    return out[::-1]


def _numel(shape: list[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("loss_input"):
        if not event.details.get("broadcast"):
            continue
        a = list(event.details.get("input_shape") or [])
        b = list(event.details.get("target_shape") or [])
        both = broadcast_shape(a, b)
        if both is None or _numel(both) <= max(_numel(a), _numel(b)):
            continue
        fn = event.details.get("fn", "the loss")
        fix = (
            f"`F.{fn}(pred.squeeze(-1), target)` or `F.{fn}(pred, target.unsqueeze(-1))`"
            if not event.details.get("swapped")
            else f"pass the prediction first, in the target's shape: `F.{fn}(pred.squeeze(-1), "
            "target)` (`nn.MSELoss()(input, target)` takes the prediction first)"
        )
        yield ctx.event_alert(
            CODE,
            "error",
            event,
            f"`F.{fn}` was given an input of shape {tuple(a)} and a target of shape {tuple(b)}; "
            f"they broadcast to {tuple(both)}, so every prediction is compared with every "
            "target. The loss looks fine but its minimum is the mean of the targets: the "
            f"model cannot learn the task. Make the shapes equal, e.g. {fix}.",
            input_shape=a,
            target_shape=b,
            swapped=bool(event.details.get("swapped")),
        )

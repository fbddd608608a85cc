"""``grad-not-zeroed``: gradients carried across an optimizer step (``zero_grad`` missing).

Capture compares each parameter's ``.grad`` at an optimizer step with whether it was reset
since the previous step, so deliberate accumulation (several backward passes, one step, then
``zero_grad``) never produces the ``grad_carried`` fact this rule reads: only a step that saw
gradients from before the previous step does. Without an optimizer the update is the script's
own (``w -= lr * w.grad`` under ``torch.no_grad()``), and the same fact is recorded when a
backward pass after an in-place update of the leaves still found their old gradients.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context, common_module, name_list
from gradscope.records import Alert, Event

CODE = "grad-not-zeroed"


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("grad_carried"):
        if event.details.get("manual"):
            yield _manual(ctx, event)
            continue
        params: list[str] = event.details.get("params", [])
        count = int(event.details.get("count", len(params)))
        total = int(event.details.get("of", count))
        partial = count < total and params
        where = event.where
        if partial:
            owners = [ctx.param_info[p].module if p in ctx.param_info else p for p in params]
            where = common_module(owners) or event.where
        which = (
            f"{count} of the {total} parameters it updates ({name_list(params)})"
            if partial
            else f"all {total} parameters it updates"
        )
        yield ctx.alert(
            CODE,
            "error",
            where,
            event.step,
            f"At step {event.step} `{event.where}` stepped with gradients left over from before "
            f"its previous step in {which}: .grad was never reset, so every step adds the "
            "gradients of all earlier batches and the updates grow and point the wrong way. "
            "Reset the gradients once per optimizer step: `optimizer.zero_grad()` before "
            "`loss.backward()`. (Accumulating over several backward passes on purpose is fine: "
            "call `optimizer.zero_grad()` right after each `optimizer.step()`.)",
            optimizer=event.where,
            params=params,
            count=count,
        )


def _manual(ctx: Context, event: Event) -> Alert:
    """Gradients carried across a manual update (no optimizer): the reset is the script's own."""
    params: list[str] = event.details.get("params", [])
    owners = [ctx.param_info[p].module if p in ctx.param_info else "" for p in params]
    module = common_module(owners)
    where = ctx.label(module) if module or ctx.run.meta.get("models") else params[0]
    first = params[0] if params else "w"
    return ctx.alert(
        CODE,
        "error",
        where,
        event.step,
        f"At step {event.step} the backward pass added to gradients left over from before the "
        f"last in-place update of {name_list(params)}: .grad accumulates across backward "
        "passes and nothing reset it, so every manual update uses the sum of all earlier "
        "gradients and the steps grow and point the wrong way. Reset it after each update: "
        + (
            "`model.zero_grad()` before `loss.backward()`."
            if ctx.run.meta.get("models")
            else f"`{first}.grad.zero_()` (or `{first}.grad = None`) for every updated tensor."
        ),
        params=params,
        count=int(event.details.get("count", len(params))),
    )

"""``grad-not-zeroed``: gradients carried across an optimizer step (``zero_grad`` missing).

Capture compares each parameter's ``.grad`` at an optimizer step with whether it was reset
since the previous step, so deliberate accumulation (several backward passes, one step, then
``zero_grad``) never produces the ``grad_carried`` fact this rule reads: only a step that saw
gradients from before the previous step does.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context, common_module, name_list
from gradscope.records import Alert

CODE = "grad-not-zeroed"


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("grad_carried"):
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

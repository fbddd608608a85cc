"""``custom-function-gradcheck``: a custom ``autograd.Function``'s backward is wrong.

The scope runs ``gs.check_function`` (``torch.autograd.gradcheck`` in float64 on a small slice)
once for each custom Function it meets; a failure names the input and element where the
analytical and numerical derivatives disagree most. A Function too large to check is reported
as ``info``, with the call that checks it on a small example; so is one whose forward is flat
(a straight-through estimator, whose backward is a surrogate on purpose).
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.records import Alert

CODE = "custom-function-gradcheck"


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("custom_function"):
        d = event.details
        name = str(d.get("function") or event.where)
        if d.get("skipped") == "surrogate gradient":
            yield ctx.event_alert(
                CODE,
                "info",
                event,
                f"{d.get('message', name)}; gradscope does not judge it.",
                skipped=d.get("skipped"),
            )
        elif d.get("skipped"):
            yield ctx.event_alert(
                CODE,
                "info",
                event,
                f"{name} was not gradchecked ({d.get('skipped')}): {d.get('message', '')}. "
                f"Check it on a small example: `gs.check_function({name}, torch.randn(3, 4))`.",
                skipped=d.get("skipped"),
            )
        elif d.get("ok") is False:
            yield ctx.event_alert(
                CODE,
                "error",
                event,
                f"{d.get('message') or f'backward of {name} disagrees with gradcheck'}. Every "
                "gradient that flows through it is wrong, so the parameters before it learn "
                "the wrong thing without any error. Fix backward() so it returns the "
                "derivative of forward(), then verify: "
                f"`gs.check_function({name}, *small_inputs)`.",
                **{k: v for k, v in d.items() if k in ("input_index", "element", "max_error")},
            )

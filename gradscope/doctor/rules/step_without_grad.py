"""``step-without-grad``: ``optimizer.step()`` ran while none of its parameters had a gradient.

Such a step changes nothing (optimizers skip parameters whose ``.grad`` is ``None``), so the
model silently stops learning. Usual causes: ``zero_grad(set_to_none=True)`` between
``backward()`` and ``step()``, ``backward()`` missing, or an optimizer built over another copy
of the model (``copy.deepcopy`` after the optimizer was created).
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.records import Alert

CODE = "step-without-grad"


MESSAGE = (
    "At step {step} `{where}` stepped while none of its {n} parameters had a gradient, so the "
    "step changed nothing and the model did not learn from that batch. Call backward before "
    "stepping, and reset gradients before backward, not between backward and step: "
    "`optimizer.zero_grad(); loss.backward(); optimizer.step()`. If the optimizer was built over "
    "a different copy of the model, build it from the model you train."
)


#: When ``backward()`` did run but reached none of the parameters (``graph-break`` names it).
CUT = (
    "At step {step} `{where}` stepped while none of its {n} parameters had a gradient: "
    "`backward()` ran, but on a loss cut from the model, so the step changed nothing and the "
    "model did not learn. The `graph-break` alert names the cut; fix it there."
)


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("step_without_grad"):
        n = event.details.get("n_params", "its")
        template = CUT if event.details.get("backward_root") else MESSAGE
        text = template.format(step=event.step, where=event.where, n=n)
        yield ctx.event_alert(CODE, "error", event, text, n_params=n)

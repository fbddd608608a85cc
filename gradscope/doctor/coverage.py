"""What the doctor could not check in a run, so "no problems found" is not said of it.

Several rules need a fact the run may lack: an optimizer (its steps, groups and updates), the
loss, enough logged steps for a trend, module activation records. A run without them is not
known to be healthy in those respects, and a clean verdict must say which checks did not run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradscope.store.reader import Run

from gradscope.doctor.context import Context
from gradscope.doctor.thresholds import Thresholds


def unchecked(run: Run, thresholds: Thresholds | None = None) -> list[str]:
    """One sentence per group of checks that could not run on ``run`` (empty: all ran)."""
    ctx = Context(run, thresholds)
    t = ctx.thresholds
    notes = []
    steps = len(ctx.raw_losses[0]) or len(
        {s for p in ctx.params[:1] for s in ctx.series("grad_norm", p)[0]}
    )
    if not ctx.optimizers:
        notes.append(
            "no optimizer was watched: step-without-grad, param-not-in-optimizer, "
            "update-ratio and scheduler-order did not run (pass it: "
            "`gs.watch(model, optimizer)`)"
        )
    if not any(v == v for v in ctx.raw_losses[1]):
        notes.append(
            "no loss was captured: nonfinite-loss and loss-stalled did not run (call "
            "`backward()` on the loss, or `scope.log(loss=loss)`)"
        )
    elif len(ctx.losses[0]) < t.stall_min_steps:
        notes.append(
            f"only {len(ctx.losses[0])} steps with a loss: loss-stalled needs {t.stall_min_steps}"
        )
    if not ctx.grad_params:
        notes.append(
            "no gradient was recorded: the gradient checks (nonfinite-grad, "
            "exploding-gradients, vanishing-gradients, graph-break …) did not run"
        )
    elif steps <= t.baseline_steps + t.window:
        notes.append(
            f"only {steps} logged steps: exploding-gradients needs more than "
            f"{t.baseline_steps + t.window} to see a trend"
        )
    if ctx.params and not ctx.activations_recorded:
        notes.append(
            "module outputs were not recorded: dead-relu and nonfinite-forward did not run"
        )
    return notes

"""``scheduler-order``: ``lr_scheduler.step()`` called before ``optimizer.step()``.

Since PyTorch 1.1 the scheduler must step after the optimizer; stepping it first skips the
first value of the schedule, so every learning rate comes one step (or epoch) early. Capture
records how many steps the optimizer had made when the scheduler first stepped, and how many
times the scheduler had been stepped before gradscope was listening: ``gradscope run`` attaches
at the model's first forward, so a scheduler stepped at the top of the first epoch was stepped
before any ``optimizer.step()``. ``ReduceLROnPlateau`` is seen too. A GradScaler that skipped
the first steps (inf gradients) delays ``optimizer.step()`` on purpose; that is not reported,
nor is a scheduler resumed from a checkpoint along with its optimizer, whose state counts more
steps than the run has seen (the scheduler's earlier calls came after those steps).
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.records import Alert

CODE = "scheduler-order"


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("scheduler_step"):
        early = event.details.get("optimizer_steps") == 0
        if not early and not event.details.get("earlier_calls"):
            continue
        if not early and _resumed(event.details):
            continue  # scheduler and optimizer both loaded from a checkpoint
        if early and any(s <= event.step for s in ctx.amp_skipped):
            continue  # the scaler skipped the first optimizer steps, not the user's order
        sched = event.details.get("scheduler", event.where)
        opt = event.details.get("optimizer", "optimizer")
        yield ctx.event_alert(
            CODE,
            "warning",
            event,
            f"`{sched}.step()` ran before `{opt}.step()` had ever run (at the top of the loop or "
            "the epoch), so the first learning rate of the schedule is skipped and every later "
            "one comes a step (or an epoch) early. Step the scheduler after the optimizer, at "
            "the end of the step or epoch: `optimizer.step()` then `scheduler.step()`.",
            scheduler=sched,
            optimizer=opt,
        )


def _resumed(details: dict[str, object]) -> bool:
    state = details.get("state_steps")
    steps = details.get("optimizer_steps")
    return isinstance(state, int) and isinstance(steps, int) and state > steps

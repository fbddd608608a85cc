"""``scheduler-order``: ``lr_scheduler.step()`` called before ``optimizer.step()``.

Since PyTorch 1.1 the scheduler must step after the optimizer; stepping it first skips the
first value of the schedule, so every learning rate comes one step (or epoch) early. Capture
records how many steps the optimizer had made when the scheduler first stepped.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context
from gradscope.records import Alert

CODE = "scheduler-order"


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("scheduler_step"):
        if event.details.get("optimizer_steps") != 0:
            continue
        sched = event.details.get("scheduler", event.where)
        opt = event.details.get("optimizer", "optimizer")
        yield ctx.alert(
            CODE,
            "warning",
            event.where,
            event.step,
            f"`{sched}.step()` ran before `{opt}.step()` had ever run, so the first learning rate "
            "of the schedule is skipped and every later one comes a step early. Step the "
            "scheduler after the optimizer: `optimizer.step()` then `scheduler.step()`. "
            "(With torch.amp's GradScaler, a first step skipped for inf gradients looks the "
            "same and is harmless.)",
            scheduler=sched,
            optimizer=opt,
        )

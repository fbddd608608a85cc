"""The step batch: a step's loss and records, resolved in one transfer and handed to the writer.

Every step leaves a step row (loss, learning rates, time); a logged step also leaves the
statistics queued on the device by the capture. Rows wait here until they can be sent: at once
when their losses are on the host, after up to 64 steps when they live on an accelerator (an
unlogged step costs no sync), and only once measured for a manual update. On the way out the
flight recorder's cheap checks read them, and may make the next step a detail step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from gradscope.capture.backward import BackwardTracker
from gradscope.capture.parts import StepParts
from gradscope.records import ParamStats, StepBatch, StepRecord

#: Unlogged steps whose losses live on an accelerator wait for at most this many.
MAX_UNSENT = 64


class StepSender:
    """Assembles each step's records and sends them to the store's writer."""

    def __init__(
        self,
        *,
        parts: StepParts,
        current_step: Callable[[], int],
        held: Callable[[], set[int]],
    ) -> None:
        self._parts = parts
        self._current_step = current_step
        self._held = held
        self.tracker: BackwardTracker | None = None  # set once the scope has made it
        #: Records the step in progress produces (events, module statistics …) go in here.
        self.batch = StepBatch()
        self._unsent: list[tuple[dict[str, Any], torch.Tensor | None]] = []
        #: ``scope.log`` values for the step in progress.
        self.scalars: dict[str, Any] = {}
        #: Outputs of ``torch.nn`` loss modules in the step in progress (the last resort).
        self.module_losses: list[torch.Tensor] = []
        #: A step handed a closure: whether one runs, its first loss, and how many backward
        #: roots came before ``step()`` (accumulated micro-batches).
        self.in_closure = False
        self.closure_loss: torch.Tensor | None = None
        self.roots_before_closure = 0

    def queue(self, fields: dict[str, Any]) -> None:
        """Keep the step row ``fields`` with the step's loss until it is sent."""
        scalars, self.scalars = self.scalars, {}
        fields["scalars"] = {k: float(v) for k, v in scalars.items() if k != "loss"}
        self._unsent.append((fields, self._loss(scalars.get("loss"))))

    def _loss(self, logged: float | torch.Tensor | None) -> torch.Tensor | None:
        """The step's loss: ``scope.log(loss=...)``, else the backward roots, else loss modules.

        A step handed a closure (LBFGS) runs several backward passes; its loss is the first
        one, at the parameters the step started from, which is also what LBFGS returns.
        """
        loss = logged
        roots = self.tracker.roots if self.tracker is not None else []
        closure_loss, self.closure_loss = self.closure_loss, None
        if loss is None and closure_loss is not None:
            earlier = roots[: self.roots_before_closure]
            if earlier:
                parts = [r.reshape(()).to(closure_loss.dtype) for r in earlier]
                closure_loss = torch.stack([*parts, closure_loss.reshape(())]).sum()
            loss = closure_loss
        if loss is None and roots:
            loss = roots[0] if len(roots) == 1 else torch.stack(roots).sum()
        if loss is None and self.module_losses:
            loss = self.module_losses[-1]
        self.module_losses.clear()
        if isinstance(loss, (int, float)):
            loss = torch.tensor(float(loss), dtype=torch.float64)
        return loss

    def send(self, *, force: bool) -> None:
        """Resolve queued device values in one transfer and hand the records to the writer.

        Losses of unlogged steps wait on the device when they live on an accelerator, so an
        unlogged step costs no sync; they travel with the next logged step.
        """
        unsent = self._unsent
        on_host = all(loss is None or loss.device.type == "cpu" for _, loss in unsent)
        if not (force or (unsent and (on_host or len(unsent) >= MAX_UNSENT))):
            return
        self._unsent = []
        losses = [loss for _, loss in unsent if loss is not None]
        batch = self.batch  # events found while resolving (carried gradients) go in it too

        def finish(values: list[float]) -> None:
            it = iter(values)
            for fields, loss in unsent:
                batch.steps.append(
                    StepRecord(loss=next(it) if loss is not None else None, **fields)
                )

        if losses:
            self._parts.pending.add(
                torch.stack([v.double() for v in losses]), finish, self._parts.instruments["loss"]
            )
        else:
            finish([])
        self._parts.pending.resolve()
        self.batch = StepBatch()
        if not batch.steps:  # the loss instrument is off: keep the step rows without loss
            batch.steps = [StepRecord(loss=None, **fields) for fields, _ in unsent]
        names = {wp.index: wp.name for wp in self._parts.reg.params}
        held = self._held()  # not yet known to be parameters: not stored
        batch.params = [
            ParamStats(step=s, param=names[i], values=v)
            for (s, i), v in self._parts.capture.take_values()
            if i in names and i not in held
        ]
        known = {n for i, n in names.items() if i not in held}
        batch.histograms = [h for h in batch.histograms if h.param in known]
        self._parts.instruments["steps"].run(self._judge, batch)
        self._parts.writer.put("batch", batch)

    def _judge(self, batch: StepBatch) -> None:
        """The flight recorder's cheap checks on the steps just resolved, oldest first.

        A check that fires makes the next step not yet begun a logged detail step.
        """
        sumsq: dict[int, float] = {}
        bad: set[int] = set()
        for row in batch.params:
            norm = row.values.get("grad_norm")
            if norm is not None:
                sumsq[row.step] = sumsq.get(row.step, 0.0) + norm * norm
            if row.values.get("grad_nan") or row.values.get("grad_inf"):
                bad.add(row.step)
        for record in sorted(batch.steps, key=lambda r: r.step):
            total = sumsq.get(record.step)
            why = self._parts.flight.judge(
                loss=record.loss,
                grad_norm=None if total is None else math.sqrt(total),
                nonfinite=record.step in bad,
            )
            if why is not None:
                self._parts.flight.force(max(record.step, self._current_step()) + 1, why)

    def release(self) -> None:
        self.closure_loss = None
        self._unsent = []
        self.module_losses = []
        self.scalars = {}
        self.tracker = None

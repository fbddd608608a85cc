"""The capture machinery of one scope, built in one place and finished in one place.

A scope owns the public API; what records a step is assembled here: the shared parts, the step
batch, the checks that read a step, manual updates, the step path and the watched set, and the
first step's graph. ``finish`` is the end of a run after the hooks are gone: the last step's
records, the live doctor's last look, and the store's closing meta row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gradscope.capture.alert_warnings import AlertWarnings
from gradscope.capture.carry import CarryCheck
from gradscope.capture.ddp import DesyncCheck
from gradscope.capture.first_graph import FirstGraph
from gradscope.capture.loss import ROOTS
from gradscope.capture.manual import ManualUpdates
from gradscope.capture.parts import StepParts
from gradscope.capture.step import StepPath
from gradscope.capture.step_checks import StepChecks
from gradscope.capture.step_send import StepSender
from gradscope.capture.watched import Watched
from gradscope.records import Event

if TYPE_CHECKING:  # the scope hands the live doctor in; capture only calls it
    from gradscope.doctor.live import LiveDoctor


@dataclass(eq=False)
class Machine:
    """Everything that turns hook calls into a run's records, wired together."""

    parts: StepParts
    send: StepSender
    ddp: DesyncCheck
    checks: StepChecks
    manual: ManualUpdates
    path: StepPath
    watched: Watched
    graph: FirstGraph | None
    doctor: LiveDoctor | None

    @classmethod
    def build(
        cls, parts: StepParts, *, store: Path, warn: bool, doctor: LiveDoctor | None
    ) -> Machine:
        """Wire the stages; those built first reach the later ones through late-bound calls."""
        manual: ManualUpdates
        path: StepPath
        watched: Watched
        send = StepSender(parts=parts, current_step=lambda: path.step, held=lambda: manual.held())

        def emit(event: Event) -> None:
            send.batch.events.append(event)

        ddp = DesyncCheck(
            parts.options,
            models=lambda: parts.models,
            params=lambda: parts.reg.params,
            emit=emit,
        )
        carry = CarryCheck()
        checks = StepChecks(
            emit, carry=carry, pending=parts.pending, instrument=parts.instruments["probes"]
        )
        manual = ManualUpdates(
            parts=parts,
            checks=checks,
            carry=carry,
            send=lambda: send.send(force=True),
            batch=lambda: send.batch,
        )
        graph = None
        if parts.options.graph:
            graph = FirstGraph(
                parts.instruments["graph"], lambda meta: parts.writer.put("meta", meta)
            )
        path = StepPath(
            parts=parts,
            carry=carry,
            checks=checks,
            ddp=ddp,
            sender=send,
            manual=manual,
            doctor=doctor,
            warnings=AlertWarnings(store) if warn else None,
            graph=graph,
            sync_groups=lambda index: watched.sync_groups(index),
        )
        watched = Watched(
            parts=parts, path=path, manual=manual, checks=checks, ddp=ddp, graph=graph
        )
        return cls(parts, send, ddp, checks, manual, path, watched, graph, doctor)

    def attach(self) -> None:
        """Start seeing backward passes (the step path's and the graph snapshot's)."""
        ROOTS.acquire()
        ROOTS.listeners.append(self.path.before_backward)
        if self.graph is not None:
            ROOTS.listeners.append(self.graph.before_backward)
        self.path.attach(self.parts.hooks)

    def detach(self) -> None:
        """Stop seeing backward passes (the hooks themselves are removed by the scope)."""
        if self.graph is not None:
            if self.graph.before_backward in ROOTS.listeners:
                ROOTS.listeners.remove(self.graph.before_backward)
            self.graph.close()
        if self.path.before_backward in ROOTS.listeners:
            ROOTS.listeners.remove(self.path.before_backward)
        ROOTS.release()

    def finish(self) -> None:
        """Send the last step's records, let the doctor look once more, write the closing meta."""
        self.path.finish_manual_update()
        self.send.send(force=True)
        if self.doctor is not None:
            self.doctor.final_check()
            self.path.collect_alerts()
        writer = self.parts.writer
        failed = {k: repr(v) for k, v in self.parts.instruments.failed().items()}
        if (error := self.ddp.instrument.error) is not None:
            failed["ddp"] = repr(error)
        writer.put(
            "meta",
            {
                "finished": time.time(),
                "steps": self.path.step,
                "dropped": writer.dropped,
                "failed_instruments": failed,
            },
        )

    def release(self) -> None:
        """Drop every reference to the model, its parameters and optimizers."""
        parts = self.parts
        parts.models.clear()  # in place: every stage shares these containers
        parts.reg.release()
        parts.optimizers.clear()
        self.path.release()
        self.checks.release()
        parts.capture.release()
        parts.pending.clear()
        self.manual.release()
        self.send.release()

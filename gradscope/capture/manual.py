"""Steps without an optimizer: one backward pass, then whatever the script does to the leaves.

The tutorials' first loops update leaf tensors by hand (``w -= lr * w.grad`` under
``torch.no_grad()``). The update is over once the next backward pass begins (or the scope
closes), so a step's records wait until then, and the update is measured from the leaves'
in-place changes (``_version``) and a copy taken at the backward pass's end on detail steps.
Leaves that discovery only guessed to be trained are decided at their first update: kept if
the script changed them, dropped as inputs if not.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import torch

from gradscope.capture.carry import CarryCheck
from gradscope.capture.naming import WatchedParam
from gradscope.capture.parts import StepParts
from gradscope.capture.step_checks import StepChecks
from gradscope.records import StepBatch

#: Key of the parameter copies taken for a manual update.
MANUAL = -1


class ManualUpdates:
    """The update a script makes by hand between two backward passes."""

    def __init__(
        self,
        *,
        parts: StepParts,
        checks: StepChecks,
        carry: CarryCheck,
        send: Callable[[], None],
        batch: Callable[[], StepBatch],
    ) -> None:
        self._parts = parts
        self._checks = checks
        self._carry = carry
        self._send = send
        self._batch = batch
        #: The step whose update is awaited, and the leaves' versions at its backward's end.
        self.awaiting: int | None = None
        self._versions: dict[int, int] = {}
        #: Leaves not yet known to be trained (discovery's guess), with their version and a
        #: copy once their first backward pass ended (version -1 until then).
        self.provisional: dict[int, tuple[int, torch.Tensor | None]] = {}
        self.inputs: weakref.WeakSet[torch.Tensor] = weakref.WeakSet()

    def guess(self, added: list[WatchedParam]) -> None:
        """``added`` may be inputs: decide at their first update."""
        self.provisional.update({wp.index: (-1, None) for wp in added})

    def held(self) -> set[int]:
        """Indices of leaves not yet known to be parameters (their records are not stored)."""
        return set(self.provisional)

    def step_ended(self, step: int, *, logged: bool, detail: bool) -> None:
        """A backward pass with no optimizer watched: record it, then await the update."""
        params = list(self._parts.reg.params)
        if logged:
            batch = self._batch()
            self._parts.capture.grads(params, histogram=detail, step=step, batch=batch)
            if detail:
                self._parts.capture.weights(params, histogram=True, step=step, batch=batch)
                self._parts.capture.snapshot(MANUAL, params, step)
        where = "manual update"
        self._parts.instruments["probes"].run(
            self._checks.carried, step, where, params, {"manual": True}
        )
        self._versions = {wp.index: wp.param._version for wp in params}
        for wp in params:
            # a provisional leaf seen for the first time: remember it as it is now
            if self.provisional.get(wp.index, (0, None))[0] == -1:
                self.provisional[wp.index] = (wp.param._version, wp.param.detach().clone())
        self.awaiting = step

    def finish(self) -> None:
        """Measure what the script did to the leaves since the awaited step's backward pass.

        A leaf whose version moved (an in-place update) has stepped: its next backward pass must
        start from a reset ``.grad``. Then the step's records go to the store.
        """
        if self.awaiting is None:
            return
        self.awaiting = None
        confirmed: list[WatchedParam] = []
        inputs: list[WatchedParam] = []
        for wp in list(self._parts.reg.params):
            version, copy = self.provisional.get(wp.index, (-1, None))
            if version == -1:  # not a parameter, or its first backward pass is yet to end
                continue
            del self.provisional[wp.index]
            changed = wp.param._version != version or (
                copy is not None and not torch.equal(copy, wp.param.detach())
            )
            (confirmed if changed else inputs).append(wp)
        if confirmed:
            self._parts.writer.put("params", [wp.info() for wp in confirmed])
            self._parts.writer.put("meta", self._parts.reg.summary(self._parts.models))
        if inputs:
            self._parts.reg.remove(inputs)
            for wp in inputs:
                self.inputs.add(wp.param)
        self._carry.stepped(
            [
                wp
                for wp in self._parts.reg.params
                if wp.param._version != self._versions.get(wp.index)
            ]
        )
        self._versions = {}
        self._parts.capture.updates(MANUAL, on_change=self._carry.stepped)
        self._send()

    def release(self) -> None:
        self.provisional = {}
        self._versions = {}

"""Structural facts seen around an optimizer step: no gradient, old gradients, eval mode.

They become ``Event`` records (``step_without_grad``, ``grad_carried``, ``eval_mode_step`` and
the facts probes and module hooks report) that the doctor's rules read. A fact is recorded once
per place (or per distinct content), so a bug that repeats every step adds one row, not one per
step.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from torch import nn

from gradscope.capture.carry import CarryCheck
from gradscope.capture.guard import Instrument
from gradscope.capture.naming import WatchedParam
from gradscope.capture.pending import Pending
from gradscope.records import Event

MAX_LISTED = 20  # parameters named in one grad_carried event; "count" has them all


class StepChecks:
    """Records structural facts as events, each once."""

    def __init__(
        self,
        emit: Callable[[Event], None],
        *,
        carry: CarryCheck,
        pending: Pending,
        instrument: Instrument,
    ) -> None:
        """``emit`` hands an event to the step batch being filled."""
        self._emit = emit
        self._carry = carry
        self._pending = pending
        self._instrument = instrument
        self._reported: set[tuple[str, str]] = set()
        #: Dropout/BatchNorm modules: path, module, and the model they belong to.
        self._mode_modules: list[tuple[str, nn.Module, nn.Module]] = []
        #: (model, optimizer) → whether the optimizer trains any parameter of the model.
        self._trains: dict[tuple[int, str], bool] = {}

    def event(self, step: int, kind: str, where: str, details: dict[str, Any]) -> None:
        self._emit(Event(step, kind, where, details))

    def once(self, step: int, kind: str, where: str, details: dict[str, Any]) -> None:
        """Record a fact the first time it is seen at ``where`` (later repeats add nothing)."""
        if (kind, where) not in self._reported:
            self._reported.add((kind, where))
            self.event(step, kind, where, details)

    def fact(self, step: int, kind: str, where: str, details: dict[str, Any]) -> None:
        """Record a fact once per distinct content."""
        key = (kind, f"{where}\0{json.dumps(details, sort_keys=True, default=str)}")
        if key not in self._reported:
            self._reported.add(key)
            self.event(step, kind, where, details)

    def add_modules(self, modules: Iterable[tuple[str, nn.Module]], model: nn.Module) -> None:
        """Keep the modules of ``model`` whose result depends on train/eval mode (Dropout,
        BatchNorm)."""
        self._mode_modules += [(p, m, model) for p, m in modules if is_mode_dependent(m)]

    def before_step(
        self,
        step: int,
        where: str,
        wps: list[WatchedParam],
        *,
        grads_ready: bool,
        check_modes: bool,
        backward_root: str | None = None,
    ) -> None:
        """Facts at an optimizer step: missing or carried gradients, modules left in eval mode.

        ``grads_ready``: the gradients of this step are in ``.grad`` already (not so for LBFGS
        or a closure, which compute them inside ``step()``). ``backward_root``: a backward pass
        ran since the last step but reached no watched parameter, on a ``leaf`` (a tensor with
        no history) or on a ``graph`` cut from the model.
        """
        if wps and grads_ready:
            if all(wp.param.grad is None for wp in wps):
                details: dict[str, Any] = {"n_params": len(wps)}
                if backward_root is not None:
                    details["backward_root"] = backward_root
                self.once(step, "step_without_grad", where, details)
            self.carried(step, where, wps)
        if check_modes:
            evals = [(p, type(m).__name__, any(q.requires_grad for q in m.parameters()))
                     for p, m, model in self._mode_modules
                     if not m.training and self._trained_by(model, where, wps)]  # fmt: skip
            if evals:
                self.once(step, "eval_mode_step", where, {
                    "modules": [p for p, _, _ in evals],
                    "types": [t for _, t, _ in evals],
                    "trainable": [bool(tr) for _, _, tr in evals],
                })  # fmt: skip

    def _trained_by(self, model: nn.Module, where: str, wps: list[WatchedParam]) -> bool:
        """Whether the optimizer ``where`` (holding ``wps``) trains part of ``model``: a model
        trained before (an earlier fold, left in eval mode) is not this step's business."""
        key = (id(model), where)
        if key not in self._trains:
            ids = {id(wp.param) for wp in wps}
            self._trains[key] = any(id(p) in ids for p in model.parameters())
        return self._trains[key]

    def carried(
        self,
        step: int,
        where: str,
        wps: list[WatchedParam],
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Queue the check for gradients left over from before the parameters' last update.

        With an optimizer the update is its ``step()``; without one, the script's in-place
        change of the leaves (``extra={"manual": True}`` says so in the event).
        """
        suspects, lows = self._carry.suspects(wps)
        if lows is not None:
            finish = self._carried(step, where, suspects, len(wps), extra or {})
            self._pending.add(lows, finish, self._instrument)

    def _carried(
        self, step: int, where: str, wps: list[WatchedParam], of: int, extra: dict[str, Any]
    ) -> Callable[[list[float]], None]:
        def finish(values: list[float]) -> None:
            carried = [(wp.name, v) for wp, v in zip(wps, values, strict=True) if v > 0]
            if carried:
                self.event(step, "grad_carried", where, {
                    "params": [n for n, _ in carried[:MAX_LISTED]],
                    "norms": [v for _, v in carried[:MAX_LISTED]],
                    "count": len(carried),
                    "of": of,
                    **extra,
                })  # fmt: skip

        return finish

    def release(self) -> None:
        self._mode_modules = []


def is_mode_dependent(module: nn.Module) -> bool:
    """Modules that compute differently in train and eval mode (Dropout, BatchNorm)."""
    return isinstance(module, (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm))

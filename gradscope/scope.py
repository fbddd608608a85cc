"""The scope: wires capture to a store. ``gs.watch(model, optimizer)`` returns one.

A step is one ``step()`` of the first watched optimizer, however many backward passes a
closure runs inside it, or one backward pass when no optimizer is watched. Per step the scope
keeps loss, learning rates and time; on logged steps (every ``every``-th) it also queues
gradient, weight, update, optimizer-state and activation statistics on the device, moves them to
the host in one transfer when the step ends, and hands plain records to the background writer.

Without an optimizer the update is whatever the script does to the leaves after the backward
pass (``w -= lr * w.grad`` under ``torch.no_grad()``), so a step's records wait until the next
backward pass begins (or the scope closes) and the update is measured then.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim import Optimizer

from gradscope.capture.flight import FlightRecorder
from gradscope.capture.guard import (
    Instruments,
    defer_warning,
    flush_warnings,
    has_deferred_warnings,
)
from gradscope.capture.handles import HookGroup
from gradscope.capture.lifetime import close_at_exit, discard_at_exit
from gradscope.capture.machine import Machine
from gradscope.capture.params import ParamCapture
from gradscope.capture.parts import StepParts
from gradscope.capture.pending import Pending
from gradscope.capture.registry import ParamRegistry
from gradscope.capture.run_info import default_store_path, run_info
from gradscope.capture.watched import WatchTypeError, optimizer_list
from gradscope.capture.world import refuse_sharded, world
from gradscope.doctor.live import LiveDoctor
from gradscope.errors import GradscopeError, GradscopeWarning
from gradscope.options import WatchOptions
from gradscope.records import Alert
from gradscope.store.ranks import rank_path, timestamped_default
from gradscope.store.writer import StoreWriter


class Scope:
    """Everything gradscope attached to one model (and its optimizers) for one run."""

    def __init__(
        self,
        model: nn.Module | None,
        optimizer: Optimizer | Sequence[Optimizer] | None = None,
        *,
        store: str | os.PathLike[str] | None = None,
        options: WatchOptions | None = None,
        warn: bool = True,
        tensors: Mapping[str, torch.Tensor] | None = None,
    ) -> None:
        """``model`` may be ``None`` for discovery (``gradscope run``, with a ``store``) or when
        ``tensors`` (leaf tensors by name, ``{"w": w, "b": b}``) are what is trained.

        ``warn=False`` keeps live diagnoses out of ``warnings`` (``gradscope run`` prints them
        once at exit instead); they are still in ``scope.alerts`` and the store.
        """
        if model is None and store is None and not tensors:
            raise GradscopeError("a scope without a model needs an explicit store path")
        if model is not None and not isinstance(model, nn.Module):
            raise WatchTypeError(
                f"gradscope.watch expects an nn.Module, got {type(model).__name__}"
            )
        if model is not None:
            refuse_sharded(model)  # before the store file exists
        self.options = options or WatchOptions()
        optimizers = optimizer_list(optimizer)
        self._optimizers: list[Optimizer] = []
        self._closed = False
        self._hooks = HookGroup()
        self._instruments = Instruments(strict=self.options.strict)
        self._models: dict[str, nn.Module] = {}
        self._reg = ParamRegistry()
        rank, world_size = world()
        shared = world_size > 1
        if store is not None:
            logical = Path(store)
        elif model is not None:
            logical = default_store_path(model, shared=shared)
        else:
            logical = timestamped_default("runs", "tensors")
        self.path = rank_path(logical, rank) if shared else logical  # one file per rank
        self._writer = StoreWriter(
            self.path,
            on_error=self._instruments["store"].report,
            on_notice=lambda message: defer_warning(message, GradscopeWarning),
        )
        self._pending = Pending()
        self._capture = ParamCapture(self._instruments, self._pending, self.options)
        parts = StepParts(
            options=self.options,
            instruments=self._instruments,
            reg=self._reg,
            pending=self._pending,
            capture=self._capture,
            flight=FlightRecorder(self.options),
            writer=self._writer,
            models=self._models,
            optimizers=self._optimizers,
            hooks=self._hooks,
            owner=self,
        )
        self._writer.put("meta", run_info(model, optimizers, self.options))
        doctor = LiveDoctor(self.path, flush=self._writer.flush) if self.options.doctor else None
        self._machine = machine = Machine.build(parts, store=self.path, warn=warn, doctor=doctor)
        self._path, self._send, self._watched = machine.path, machine.send, machine.watched
        close_at_exit(self)  # weakly: a scope never closed still keeps its last steps
        try:
            machine.attach()
            if model is not None:
                self.add_model(model, name="")
            if tensors:
                self.add_tensors(dict(tensors))
            for opt in optimizers:
                self.add_optimizer(opt)
        except BaseException:
            self.close()
            raise

    def add_model(self, model: nn.Module, *, name: str) -> None:
        """Watch another model in the same run; its names get ``name`` as prefix.

        Parameters already watched (shared with an earlier model) keep their first name.
        """
        self._refuse_closed()
        self._watched.add_model(model, name=name, first_step=self._path.step == 0)

    def add_tensors(self, named: dict[str, torch.Tensor], *, provisional: bool = False) -> None:
        """Watch leaf tensors that belong to no module (``w = torch.randn(3, requires_grad=True)``).

        ``provisional``: discovery's guess for a leaf a backward pass reached when no optimizer
        says what is trained. Such a leaf is kept only if the script changes it before the next
        backward pass (it is updated, so it is a parameter); one left unchanged is an input
        (``x.requires_grad_()`` for a gradient penalty) and is dropped without a trace.
        """
        self._refuse_closed()
        self._watched.add_tensors(named, provisional=provisional)

    def is_input(self, tensor: torch.Tensor) -> bool:
        """Whether ``tensor`` was reached by a backward pass and then found to be an input."""
        return tensor in self._machine.manual.inputs

    def add_optimizer(self, optimizer: Optimizer) -> None:
        """Watch another optimizer; the first one added counts the steps.

        Wrappers (accelerate's ``AcceleratedOptimizer``, Lightning's ``LightningOptimizer``,
        SAM around its base optimizer) are unwrapped: the step hooks belong on the optimizer
        that updates the parameters.
        """
        self._watched.add_optimizer(optimizer)

    def _refuse_closed(self) -> None:
        if self._closed:
            raise GradscopeError("this scope is closed; start a new one with gs.watch(...)")

    # -- public API -----------------------------------------------------------------------------

    @property
    def step(self) -> int:
        """Index of the step in progress (steps completed so far)."""
        return self._path.step

    @property
    def alerts(self) -> list[Alert]:
        """Diagnoses raised so far."""
        return list(self._path.alerts)

    @property
    def closed(self) -> bool:
        return self._closed

    def watches(self, tensor: torch.Tensor) -> bool:
        """Whether ``tensor`` is one of the parameters this scope records."""
        return tensor in self._reg

    @property
    def param_names(self) -> list[str]:
        """Names of the watched parameters, in the store's order."""
        return [wp.name for wp in self._reg.params]

    def log(self, **scalars: float | torch.Tensor) -> None:
        """Record scalars for the step in progress; ``loss=`` overrides the captured loss.

        Called after a step and before the next backward pass (``opt.step(); scope.log(...)``),
        the values belong to the step that just ended.
        """
        values: dict[str, Any] = {}
        for name, value in scalars.items():
            if isinstance(value, torch.Tensor):
                if value.numel() != 1:
                    raise GradscopeError(
                        f"scope.log({name}=...) needs a single number, got a tensor of shape "
                        f"{tuple(value.shape)}; log value.mean() or one element"
                    )
                value = value.detach().reshape(()).clone()
            elif not isinstance(value, (int, float)):
                raise GradscopeError(
                    f"scope.log({name}=...) needs a number, got {type(value).__name__}"
                )
            values[name] = value
        if has_deferred_warnings():
            flush_warnings()
        tracker, step = self._path.tracker, self._path.step
        if step > 0 and tracker is not None and tracker.n_backward == 0 and not tracker.in_backward:
            late = {k: float(v) for k, v in values.items()}
            self._writer.put("late", (step - 1, late))
        else:
            self._send.scalars.update(values)

    def flush(self) -> None:
        """Wait until everything recorded so far is in the store file."""
        self._writer.flush()

    def report(self, *, console: Any = None) -> None:
        """Print the run summary (model, parameters, optimizer, loss) to the console."""
        from gradscope.render.report import print_report
        from gradscope.store.reader import open_store

        if not self._closed:
            self._writer.flush()
        with open_store(self.path) as run:
            print_report(run, console=console)

    def close(self) -> None:
        """Remove every hook, write what is pending and close the store. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._path.closed = True
        discard_at_exit(self)
        try:
            self._hooks.remove_all()
        finally:
            self._machine.detach()
            try:
                self._machine.finish()
            finally:
                self._writer.close()
                self._machine.release()
                flush_warnings()

    def __enter__(self) -> Scope:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"step {self._path.step}"
        return f"<gradscope.Scope {str(self.path)!r} {state}>"

    @property
    def models(self) -> dict[str, nn.Module]:
        """The watched models by name (``""``: the first one, whose names carry no prefix)."""
        return dict(self._models)

    @property
    def optimizers(self) -> list[Optimizer]:
        """The watched optimizers, in the order they were added (the first counts the steps)."""
        return list(self._optimizers)

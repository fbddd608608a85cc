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

import math
import os
import sys
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim import Optimizer

from gradscope.capture.alert_warnings import AlertWarnings
from gradscope.capture.backward import BackwardTracker
from gradscope.capture.carry import CarryCheck
from gradscope.capture.ddp import DesyncCheck, refuse_sharded, world
from gradscope.capture.flight import FlightRecorder
from gradscope.capture.graph_snapshot import GraphSnapshot
from gradscope.capture.guard import (
    Instruments,
    defer_warning,
    flush_warnings,
    has_deferred_warnings,
)
from gradscope.capture.handles import OPTIMIZER_STEP_POST, OPTIMIZER_STEP_PRE, HookGroup
from gradscope.capture.lifetime import close_at_exit, discard_at_exit
from gradscope.capture.loss import ROOTS, scalar_root
from gradscope.capture.modules import ModuleWatcher
from gradscope.capture.naming import (
    WatchedParam,
    caller_names,
    collect_modules,
    collect_params,
    matches,
    module_infos,
    user_frame,
)
from gradscope.capture.optimizer import (
    capture_state,
    group_lrs,
    group_stats,
    optimizer_info,
    stepping_optimizer,
)
from gradscope.capture.params import ParamCapture
from gradscope.capture.pending import Pending
from gradscope.capture.probes import PROBE_STEPS, Probes
from gradscope.capture.registry import ParamRegistry
from gradscope.capture.run_info import default_store_path, run_info
from gradscope.capture.step_checks import StepChecks
from gradscope.doctor.live import LiveDoctor
from gradscope.errors import GradscopeError, GradscopeWarning, InstrumentError
from gradscope.gradcheck import check_in_isolation, is_user_function
from gradscope.options import WatchOptions
from gradscope.records import Alert, ParamStats, StepBatch, StepRecord
from gradscope.store.ranks import rank_path, timestamped_default
from gradscope.store.writer import StoreWriter


class WatchTypeError(GradscopeError, TypeError):
    """``watch`` was handed something that is not a module or an optimizer."""


#: Key of the parameter copies taken for a manual update (no optimizer).
MANUAL = -1


def _optimizers(optimizer: Optimizer | Sequence[Optimizer] | None) -> list[Optimizer]:
    if optimizer is None:
        return []
    single = isinstance(optimizer, Optimizer) or isinstance(
        getattr(optimizer, "optimizer", None), Optimizer
    )
    opts = [optimizer] if single else optimizer
    if not isinstance(opts, (list, tuple)):
        raise WatchTypeError(
            "gradscope.watch expects optimizer to be a torch.optim.Optimizer or a list of them, "
            f"got {type(optimizer).__name__}"
        )
    for i, opt in enumerate(opts):
        if not isinstance(opt, Optimizer) and not isinstance(
            getattr(opt, "optimizer", None), Optimizer
        ):
            raise WatchTypeError(
                f"gradscope.watch expects every optimizer in the list to be a "
                f"torch.optim.Optimizer, but item {i} is {type(opt).__name__} ({opt!r:.40}); "
                "pass only the optimizers"
            )
    return list(opts)


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
        optimizers = _optimizers(optimizer)
        self._optimizers: list[Optimizer] = []
        self._opt_index: dict[int, int] = {}  # id(optimizer) → index; held in _optimizers
        self._trailing: dict[int, bool] = {}
        self._closure_step: dict[int, bool] = {}
        self._closed = False
        self._hooks = HookGroup()
        self._instruments = Instruments(strict=self.options.strict)
        self._alerts: list[Alert] = []
        self._models: dict[str, nn.Module] = {}
        self._reg = ParamRegistry()
        #: Manual updates (no optimizer): the step whose update is awaited, the leaves' versions
        #: at its backward's end, and the leaves not yet known to be trained (discovery's guess)
        #: with their version and a copy, decided when their first update is due.
        self._awaiting: int | None = None
        self._versions: dict[int, int] = {}
        self._provisional: dict[int, tuple[int, torch.Tensor | None]] = {}
        self._inputs: weakref.WeakSet[torch.Tensor] = weakref.WeakSet()
        #: The first loss of a step whose optimizer was handed a closure, and the signature of
        #: each optimizer's param groups (``add_param_group`` changes it).
        self._closure_loss: torch.Tensor | None = None
        self._in_closure = False
        self._roots_before_closure = 0
        self._signatures: list[tuple[int, ...]] = []
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
        self._step = 0
        self._started = time.perf_counter()
        self._last_end = self._started
        self._pending = Pending()
        self._batch = StepBatch()
        self._unsent: list[tuple[dict[str, Any], torch.Tensor | None]] = []
        self._scalars: dict[str, Any] = {}
        self._module_losses: list[torch.Tensor] = []
        self._capture = ParamCapture(self._instruments, self._pending, self.options)
        self._flight = FlightRecorder(self.options)
        self._ddp = DesyncCheck(
            self.options,
            models=lambda: self._models,
            params=lambda: self._reg.params,
            emit=lambda event: self._batch.events.append(event),
        )
        self._writer.put("meta", run_info(model, optimizers, self.options))
        self._carry = CarryCheck()
        self._checks = StepChecks(
            lambda event: self._batch.events.append(event),
            carry=self._carry,
            pending=self._pending,
            instrument=self._instruments["probes"],
        )
        self._opt_steps: list[int] = []
        self._doctor = (
            LiveDoctor(self.path, flush=self._writer.flush) if self.options.doctor else None
        )
        self._warnings = AlertWarnings(self.path) if warn else None
        self._graph: GraphSnapshot | None = None
        close_at_exit(self)  # weakly: a scope never closed still keeps its last steps
        ROOTS.acquire()
        ROOTS.listeners.append(self._before_backward)
        if self.options.graph:
            self._graph = GraphSnapshot(
                self._instruments["graph"], lambda meta: self._writer.put("meta", meta)
            )
            ROOTS.listeners.append(self._graph.before_backward)
        try:
            probes = self._instruments["probes"]
            self._tracker = BackwardTracker(
                self._reg.params,
                self._hooks,
                self._instruments["loss"],
                self._backward_ended,
                on_touch=self._touched,
            )
            self._probes = Probes(
                self._hooks,
                probes,
                step=lambda: self._step,
                param_ids=lambda: set(self._reg.by_id),
                optimizer_steps=self._optimizer_step_count,
                emit=self._fact,
            )
            self._modules = ModuleWatcher(
                self._hooks,
                self._instruments["modules"],
                emit=self._fact,
                on_loss=self._module_losses.append,
            )
            self._begin_module_step()
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
        if self._closed:
            raise GradscopeError("this scope is closed; start a new one with gs.watch(...)")
        if not isinstance(model, nn.Module):
            raise WatchTypeError(
                f"gradscope.watch expects an nn.Module, got {type(model).__name__}"
            )
        refuse_sharded(model)
        opts = self.options
        self._models[name] = model
        kept = collect_params({name: model}, include=opts.include, exclude=opts.exclude)
        self._reg.exclude(model, kept)
        self._register_params(kept)
        modules = [
            (path, m)
            for path, m in collect_modules({name: model})
            if path == name or matches(path, opts.include, opts.exclude)
        ]
        if opts.activations:
            self._modules.attach(modules)
        self._checks.add_modules(modules)
        self._writer.put("modules", module_infos(modules))
        self._tracker.attach_new()
        self._reg.assign_owners(self._optimizers)
        if self._graph is not None and self._step == 0:
            self._graph.start(model)

    def add_tensors(self, named: dict[str, torch.Tensor], *, provisional: bool = False) -> None:
        """Watch leaf tensors that belong to no module (``w = torch.randn(3, requires_grad=True)``).

        ``provisional``: discovery's guess for a leaf a backward pass reached when no optimizer
        says what is trained. Such a leaf is kept only if the script changes it before the next
        backward pass (it is updated, so it is a parameter); one left unchanged is an input
        (``x.requires_grad_()`` for a gradient penalty) and is dropped without a trace.
        """
        if self._closed:
            raise GradscopeError("this scope is closed; start a new one with gs.watch(...)")
        for name, t in named.items():
            if not isinstance(t, torch.Tensor):
                raise WatchTypeError(
                    f"gradscope.watch expects tensors, but {name!r} is {type(t).__name__}; "
                    "pass the leaf tensors you train, e.g. gs.watch([w, b])"
                )
            if not t.is_leaf:
                raise GradscopeError(
                    f"{name!r} is not a leaf tensor (it was computed by "
                    f"{type(t.grad_fn).__name__}), so it gets no .grad and is never updated; "
                    "watch the tensors you created with requires_grad=True"
                )
        wps = [WatchedParam(0, name, (), "", t) for name, t in named.items()]
        added = self._register_params(wps, write=not provisional)
        if provisional:
            self._provisional.update({wp.index: (-1, None) for wp in added})
        self._tracker.attach_new()
        self._reg.assign_owners(self._optimizers)

    def is_input(self, tensor: torch.Tensor) -> bool:
        """Whether ``tensor`` was reached by a backward pass and then found to be an input."""
        return tensor in self._inputs

    def add_optimizer(self, optimizer: Optimizer) -> None:
        """Watch another optimizer; the first one added counts the steps.

        Wrappers (accelerate's ``AcceleratedOptimizer``, Lightning's ``LightningOptimizer``,
        SAM around its base optimizer) are unwrapped: the step hooks belong on the optimizer
        that updates the parameters.
        """
        optimizer = stepping_optimizer(optimizer)
        if not isinstance(optimizer, Optimizer):
            raise WatchTypeError(
                "gradscope.watch expects optimizer to be a torch.optim.Optimizer or a list of "
                f"them, got {type(optimizer).__name__}"
            )
        if any(o is optimizer for o in self._optimizers):
            return
        self._finish_manual_update()
        index = len(self._optimizers)
        self._optimizers.append(optimizer)
        self._opt_steps.append(0)
        self._signatures.append(self._reg.signature(optimizer))
        self._register_params(self._reg.unseen(index, optimizer, self._names_for(optimizer)))
        self._tracker.attach_new()
        self._opt_index[id(optimizer)] = index
        if index == 0:  # process-wide step hooks, filtered: the optimizer carries nothing
            self._hooks.add(OPTIMIZER_STEP_PRE.listen(self._step_hook(pre=True)))
            self._hooks.add(OPTIMIZER_STEP_POST.listen(self._step_hook(pre=False)))
            self._ddp.attach(optimizer, self._hooks)  # after the scope's hook: same numbers
        self._reg.assign_owners(self._optimizers)
        self._writer.put(
            "optimizers",
            [optimizer_info(i, o, self._reg.by_id) for i, o in enumerate(self._optimizers)],
        )
        self._writer.put("meta", {"optimizers": [type(o).__name__ for o in self._optimizers]})

    def _names_for(self, optimizer: Optimizer) -> dict[int, str]:
        """The user's names for the optimizer's parameters that no watched model holds.

        Looked up only when there are such parameters: the variables of the code that runs
        (the caller of ``gs.watch`` or of ``optimizer.step()``), by identity.
        """
        if all(id(p) in self._reg.by_id for g in optimizer.param_groups for p in g["params"]):
            return {}
        return caller_names(user_frame(sys._getframe(1)))

    def _register_params(
        self, new: Iterable[WatchedParam], *, write: bool = True
    ) -> list[WatchedParam]:
        added = self._reg.register(new)
        if added and write:
            self._writer.put("params", [wp.info() for wp in added])
            self._writer.put("meta", self._reg.summary(self._models))
        return added

    def _sync_groups(self, index: int) -> None:
        """Take in parameters an ``add_param_group`` brought since the last step."""
        opt = self._optimizers[index]
        signature = self._reg.signature(opt)
        if signature == self._signatures[index]:
            return
        self._signatures[index] = signature
        self._register_params(self._reg.unseen(index, opt, self._names_for(opt)))
        self._tracker.attach_new()
        self._reg.assign_owners(self._optimizers)
        self._writer.put(
            "optimizers",
            [optimizer_info(i, o, self._reg.by_id) for i, o in enumerate(self._optimizers)],
        )

    # -- public API -----------------------------------------------------------------------------

    @property
    def step(self) -> int:
        """Index of the step in progress (steps completed so far)."""
        return self._step

    @property
    def alerts(self) -> list[Alert]:
        """Diagnoses raised so far."""
        return list(self._alerts)

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
        if self._step > 0 and self._tracker.n_backward == 0 and not self._tracker.in_backward:
            late = {k: float(v) for k, v in values.items()}
            self._writer.put("late", (self._step - 1, late))
        else:
            self._scalars.update(values)

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
        discard_at_exit(self)
        try:
            self._hooks.remove_all()
        finally:
            if self._graph is not None:
                if self._graph.before_backward in ROOTS.listeners:
                    ROOTS.listeners.remove(self._graph.before_backward)
                self._graph.close()
            if self._before_backward in ROOTS.listeners:
                ROOTS.listeners.remove(self._before_backward)
            ROOTS.release()
            try:
                self._instruments["updates"].run(self._finish_manual_update)
                self._awaiting = None
                self._send_steps(force=True)
                if self._doctor is not None:
                    self._doctor.final_check()
                    self._collect_alerts()
                self._writer.put(
                    "meta",
                    {
                        "finished": time.time(),
                        "steps": self._step,
                        "dropped": self._writer.dropped,
                        "failed_instruments": {
                            k: repr(v) for k, v in self._instruments.failed().items()
                        }
                        | ({"ddp": repr(e)} if (e := self._ddp.instrument.error) else {}),
                    },
                )
            finally:
                self._writer.close()
                self._release()
                flush_warnings()

    def __enter__(self) -> Scope:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"step {self._step}"
        return f"<gradscope.Scope {str(self.path)!r} {state}>"

    # -- the step -----------------------------------------------------------------------------

    def _logged(self, step: int | None = None) -> bool:
        return self._flight.logged(self._step if step is None else step)

    def _detail(self, step: int | None = None) -> bool:
        """Whether ``step`` adds weights, updates, optimizer state, activations, histograms."""
        return self._flight.detail(self._step if step is None else step)

    def _begin_module_step(self) -> None:
        if self._modules is not None:
            self._modules.begin_step(
                logged=self._logged(),
                activations=self._detail(),
                probing=self._step < PROBE_STEPS,
            )

    def _step_hook(self, *, pre: bool) -> Any:
        """The step pre- or post-hook of every watched optimizer (``index``: which one)."""

        def hook(optimizer: Optimizer, args: Any, kwargs: Any) -> None:
            index = self._opt_index.get(id(optimizer))
            if index is None or self._closed:
                return
            try:
                if pre:
                    self._closure_step[index] = _has_closure(args, kwargs)
                    if index == 0:
                        self._in_closure = self._closure_step[index]
                        self._closure_loss = None
                        # backward passes before step() (accumulated micro-batches) count too
                        self._roots_before_closure = len(self._tracker.roots)
                    self._sync_groups(index)
                elif index == 0:
                    self._in_closure = False
                self._step_started(index) if pre else self._step_finished(index)
            except InstrumentError:
                raise  # strict mode: the failing instrument already named itself
            except Exception as exc:  # a bug of ours must not stop training
                self._instruments["steps"].fail(exc)
            if not pre and has_deferred_warnings():
                flush_warnings()  # the step's work is done: warn at the user's opt.step() line

        return hook

    def _grads_after_step(self, index: int) -> bool:
        """Whether this step's gradients exist only once ``step()`` has run.

        LBFGS evaluates its closure inside ``step()``; so does every optimizer handed a closure
        (``opt.step(closure)``, which is how Lightning steps), and the pre-step hook then sees the
        previous step's gradients.
        """
        return _computes_grads_in_step(self._optimizers[index]) or self._closure_step.get(
            index, False
        )

    def _step_of(self, index: int) -> int:
        """The step an optimizer's statistics belong to.

        An optimizer that first stepped after the first one had (a GAN's generator stepping
        after the discriminator) trails it: its step belongs to the step that just closed.
        """
        if index == 0:
            return self._step
        trailing = self._trailing.setdefault(index, self._step > 0)
        return self._step - 1 if trailing else self._step

    def _step_started(self, index: int) -> None:
        step = self._step_of(index)
        self._instruments["probes"].run(self._check_before_step, index, step)
        if not self._logged(step):
            return
        wps = self._reg.at_step(index)
        detail = self._detail(step)
        if not self._grads_after_step(index):
            self._capture.grads(wps, histogram=detail, step=step, batch=self._batch)
        if detail:
            self._capture.weights(wps, histogram=True, step=step, batch=self._batch)
            self._capture.snapshot(index, self._reg.owned[index], step)

    def _step_finished(self, index: int) -> None:
        opt = self._optimizers[index]
        step = self._step_of(index)
        if self._logged(step):
            if self._grads_after_step(index):
                wps = self._reg.at_step(index)
                self._capture.grads(wps, histogram=self._detail(step), step=step, batch=self._batch)
            inst = self._instruments["optimizer"]
            if self._detail(step):
                self._capture.updates(index)
                inst.run(capture_state, opt, self._reg.by_id, step, self._pending, inst,
                         self._batch.states)  # fmt: skip
            inst.run(lambda: self._batch.groups.extend(group_stats(index, opt, step)))
        self._carry.stepped(self._reg.owned[index])
        self._opt_steps[index] += 1
        if index == 0:
            self._end_step()
        elif step < self._step:
            self._send_steps(force=True)

    def _touched(self, wp: WatchedParam) -> None:
        """A parameter's gradient hook fired; the carry check looks only on some steps."""
        if self._carry.active:
            self._instruments["probes"].run(self._carry.touched, wp)

    def _fact(self, kind: str, where: str, details: dict[str, Any]) -> None:
        self._checks.fact(self._step, kind, where, details)

    def _optimizer_step_count(self, optimizer: Optimizer) -> int | None:
        for i, o in enumerate(self._optimizers):
            if o is optimizer:
                return self._opt_steps[i]
        return None

    def _check_before_step(self, index: int, step: int) -> None:
        self._checks.before_step(
            step,
            f"optimizer{index}:{type(self._optimizers[index]).__name__}",
            self._reg.owned[index],
            grads_ready=not self._grads_after_step(index),
            check_modes=index == 0 and (step < PROBE_STEPS or self._logged(step)),
        )

    def _run_gradchecks(self) -> None:
        calls, self._probes.function_calls = self._probes.function_calls, []
        for call in calls:
            if not is_user_function(call.cls):
                continue
            result = check_in_isolation(call.cls, call.inputs)
            self._checks.event(self._step, "custom_function", call.cls.__qualname__,
                               result.as_dict())  # fmt: skip

    def _before_backward(self, tensors: Any) -> None:
        """Listener of the backward wrapper, called before every backward pass of the process.

        A manual update is over once the next backward pass begins; the first loss of a
        closure step is the loss at the parameters the step started from.
        """
        if self._closed:
            return
        if self._awaiting is not None:
            self._instruments["updates"].run(self._finish_manual_update)
            self._awaiting = None
        if self._in_closure and self._closure_loss is None:
            self._closure_loss = self._instruments["loss"].run(scalar_root, tensors)

    def _backward_ended(self) -> None:
        if self._closed:
            return
        if not self._optimizers:
            if self._awaiting is not None:  # a pass the wrapper did not see (autograd.grad)
                self._instruments["updates"].run(self._finish_manual_update)
                self._awaiting = None
            self._manual_step_ended()
            self._end_step()
        elif self._logged():  # under DDP, once the all-reduced gradients are in .grad
            self._ddp.after_reduce(
                lambda: self._instruments["grads"].run(self._capture.preclip, self._reg.params)
            )

    def _manual_step_ended(self) -> None:
        """A backward pass with no optimizer watched: record it, then await the update."""
        params = list(self._reg.params)
        step = self._step
        if self._logged():
            detail = self._detail()
            self._capture.grads(params, histogram=detail, step=step, batch=self._batch)
            if detail:
                self._capture.weights(params, histogram=True, step=step, batch=self._batch)
                self._capture.snapshot(MANUAL, params, step)
        where = "manual update"
        self._instruments["probes"].run(self._checks.carried, step, where, params, {"manual": True})
        self._versions = {wp.index: wp.param._version for wp in params}
        for wp in params:
            # a provisional leaf seen for the first time: remember it as it is now
            if self._provisional.get(wp.index, (0, None))[0] == -1:
                self._provisional[wp.index] = (wp.param._version, wp.param.detach().clone())
        self._awaiting = step

    def _finish_manual_update(self) -> None:
        """Measure what the script did to the leaves since the backward pass of the awaited step.

        A leaf whose version moved (an in-place update) has stepped: its next backward pass must
        start from a reset ``.grad``. Discovery's provisional leaves are kept if they changed,
        dropped as inputs if not. Then the step's records go to the store.
        """
        if self._awaiting is None:
            return
        self._awaiting = None
        params = list(self._reg.params)
        confirmed, inputs = [], []
        for wp in params:
            version, copy = self._provisional.get(wp.index, (-1, None))
            if version == -1:  # not a parameter, or its first backward pass is yet to end
                continue
            del self._provisional[wp.index]
            changed = wp.param._version != version or (
                copy is not None and not torch.equal(copy, wp.param.detach())
            )
            (confirmed if changed else inputs).append(wp)
        if confirmed:
            self._writer.put("params", [wp.info() for wp in confirmed])
            self._writer.put("meta", self._reg.summary(self._models))
        if inputs:
            self._reg.remove(inputs)
            for wp in inputs:
                self._inputs.add(wp.param)
        self._carry.stepped(
            [wp for wp in self._reg.params if wp.param._version != self._versions.get(wp.index)]
        )
        self._versions = {}
        self._capture.updates(MANUAL, on_change=self._carry.stepped)
        self._send_steps(force=True)

    def _end_step(self) -> None:
        """Close the step in progress; whatever fails inside, the step counter moves on."""
        try:
            self._record_step()
        finally:
            self._tracker.reset()
            self._tracker.attach_new()
            self._instruments["probes"].run(self._probes.end_step)
            self._step += 1
            self._flight.forget_before(self._step - 1)
            self._carry.active = self._step < PROBE_STEPS + 2 or self._logged()
            self._begin_module_step()
            if self._graph is not None:
                self._graph.step_ended()
            if self._doctor is not None:
                self._doctor.step_ended(self._step)
                self._collect_alerts()

    def _collect_alerts(self) -> None:
        """Take the live doctor's new alerts: keep, store and warn (once per code and place)."""
        doctor = self._doctor
        if doctor is None:
            return
        if doctor.error is not None:
            error, doctor.error = doctor.error, None
            self._instruments["doctor"].fail(error)
        new = doctor.take()
        if not new:
            return
        self._alerts.extend(new)
        self._writer.put("alerts", new)
        if self._warnings is not None:
            self._warnings.warn(new)

    def _record_step(self) -> None:
        now = time.perf_counter()
        step = self._step
        logged = self._logged()
        fields = {
            "step": step,
            "wall_time": time.time(),
            "duration": now - self._last_end,
            "n_backward": self._tracker.n_backward,
            "logged": logged,
            "detail_reason": self._flight.reason(step) if logged else None,
            "lrs": group_lrs(self._optimizers[0]) if self._optimizers else (),
        }
        self._last_end = now
        scalars, self._scalars = self._scalars, {}
        fields["scalars"] = {k: float(v) for k, v in scalars.items() if k != "loss"}
        self._unsent.append((fields, self._step_loss(scalars.get("loss"))))
        if self._probes.function_calls:
            self._instruments["probes"].run(self._run_gradchecks)
        if logged:
            if self._modules is not None:
                self._instruments["modules"].run(
                    self._modules.drain, step, self._pending, self._batch.modules
                )
            self._capture.finish_step(step)
        if self._awaiting is None:  # a manual update's records go once it is measured
            self._send_steps(force=logged)

    def _step_loss(self, logged: float | torch.Tensor | None) -> torch.Tensor | None:
        """The step's loss: ``scope.log(loss=...)``, else the backward roots, else loss modules.

        A step handed a closure (LBFGS) runs several backward passes; its loss is the first
        one, at the parameters the step started from, which is also what LBFGS returns.
        """
        loss = logged
        closure_loss, self._closure_loss = self._closure_loss, None
        if loss is None and closure_loss is not None:
            earlier = self._tracker.roots[: self._roots_before_closure]
            if earlier:
                parts = [r.reshape(()).to(closure_loss.dtype) for r in earlier]
                closure_loss = torch.stack([*parts, closure_loss.reshape(())]).sum()
            loss = closure_loss
        if loss is None and self._tracker.roots:
            roots = self._tracker.roots
            loss = roots[0] if len(roots) == 1 else torch.stack(roots).sum()
        if loss is None and self._module_losses:
            loss = self._module_losses[-1]
        self._module_losses.clear()
        if isinstance(loss, (int, float)):
            loss = torch.tensor(float(loss), dtype=torch.float64)
        return loss

    def _send_steps(self, *, force: bool) -> None:
        """Resolve queued device values in one transfer and hand the records to the writer.

        Losses of unlogged steps wait on the device when they live on an accelerator, so an
        unlogged step costs no sync; they travel with the next logged step.
        """
        unsent = self._unsent
        on_host = all(loss is None or loss.device.type == "cpu" for _, loss in unsent)
        if not (force or (unsent and (on_host or len(unsent) >= 64))):
            return
        self._unsent = []
        losses = [loss for _, loss in unsent if loss is not None]
        batch = self._batch  # events found while resolving (carried gradients) go in it too

        def finish(values: list[float]) -> None:
            it = iter(values)
            for fields, loss in unsent:
                batch.steps.append(
                    StepRecord(loss=next(it) if loss is not None else None, **fields)
                )

        if losses:
            self._pending.add(
                torch.stack([v.double() for v in losses]), finish, self._instruments["loss"]
            )
        else:
            finish([])
        self._pending.resolve()
        self._batch = StepBatch()
        if not batch.steps:  # the loss instrument is off: keep the step rows without loss
            batch.steps = [StepRecord(loss=None, **fields) for fields, _ in unsent]
        names = {wp.index: wp.name for wp in self._reg.params}
        held = set(self._provisional)  # not yet known to be parameters: not stored
        batch.params = [
            ParamStats(step=s, param=names[i], values=v)
            for (s, i), v in self._capture.take_values()
            if i in names and i not in held
        ]
        known = {n for i, n in names.items() if i not in held}
        batch.histograms = [h for h in batch.histograms if h.param in known]
        self._instruments["steps"].run(self._judge, batch)
        self._writer.put("batch", batch)

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
            why = self._flight.judge(
                loss=record.loss,
                grad_norm=None if total is None else math.sqrt(total),
                nonfinite=record.step in bad,
            )
            if why is not None:
                self._flight.force(max(record.step, self._step) + 1, why)

    def _release(self) -> None:
        """Drop every reference to the model, its parameters and optimizers."""
        self._models = {}
        self._reg.release()
        self._optimizers = []
        self._opt_index = {}
        self._modules = None  # type: ignore[assignment]
        if getattr(self, "_tracker", None) is not None:
            self._tracker.release()
        self._carry.release()
        self._checks.release()
        self._capture.release()
        self._pending.clear()
        self._provisional = {}
        self._versions = {}
        self._closure_loss = None
        self._unsent = []
        self._module_losses = []
        self._scalars = {}


def _has_closure(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether ``step()`` was called with a closure (``args[0]`` is the optimizer itself)."""
    closure = kwargs.get("closure", args[1] if len(args) > 1 else None)
    return closure is not None


def _computes_grads_in_step(opt: Optimizer) -> bool:
    """Optimizers that evaluate a closure inside ``step()`` (LBFGS) have fresh grads only after."""
    return isinstance(opt, torch.optim.LBFGS)

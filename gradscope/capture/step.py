"""The step path: from the hooks that see a step happen to the records it leaves.

A step is one ``step()`` of the first watched optimizer, however many backward passes a
closure runs inside it, or one backward pass when no optimizer is watched. The step's clock
(the flight recorder's cadence) says which steps are logged and which are detail steps. On a
logged step gradient statistics are queued on the device as ``step()`` begins (after ``step()``
when the gradients only exist then: LBFGS, any closure); on a detail step also weights,
updates, optimizer state and activations. When the step ends its row and statistics go to the
step batch (:mod:`gradscope.capture.step_send`), which sends them to the store's writer; the
live doctor then looks at the new step.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch.optim import Optimizer

from gradscope.capture.alert_warnings import AlertWarnings
from gradscope.capture.backward import BackwardTracker
from gradscope.capture.carry import CarryCheck
from gradscope.capture.ddp import DesyncCheck
from gradscope.capture.first_graph import FirstGraph
from gradscope.capture.guard import flush_warnings, has_deferred_warnings
from gradscope.capture.handles import HookGroup
from gradscope.capture.loss import scalar_root
from gradscope.capture.manual import ManualUpdates
from gradscope.capture.modules import ModuleWatcher
from gradscope.capture.naming import WatchedParam
from gradscope.capture.optimizer import capture_state, group_lrs, group_stats
from gradscope.capture.parts import StepParts
from gradscope.capture.probes import PROBE_STEPS, Probes
from gradscope.capture.step_checks import StepChecks
from gradscope.capture.step_send import StepSender
from gradscope.errors import InstrumentError
from gradscope.gradcheck import check_in_isolation, is_user_function
from gradscope.records import Alert

if TYPE_CHECKING:  # the scope wires the live doctor in; the step path only calls it
    from gradscope.doctor.live import LiveDoctor


class StepPath:
    """Counts steps and turns what the hooks see into each step's records."""

    def __init__(
        self,
        *,
        parts: StepParts,
        carry: CarryCheck,
        checks: StepChecks,
        ddp: DesyncCheck,
        sender: StepSender,
        manual: ManualUpdates,
        doctor: LiveDoctor | None,
        warnings: AlertWarnings | None,
        graph: FirstGraph | None,
        sync_groups: Callable[[int], None],
    ) -> None:
        self._parts = parts
        self._carry = carry
        self._checks = checks
        self._ddp = ddp
        self._send = sender
        self._manual = manual
        self._doctor = doctor
        self._warnings = warnings
        self._graph = graph
        self._sync_groups = sync_groups
        #: Index of the step in progress (steps completed so far).
        self.step = 0
        self.closed = False
        self.alerts: list[Alert] = []
        self._last_end = time.perf_counter()
        #: Per optimizer (by index): steps made, whether it trails the first one, and whether
        #: its step in progress was handed a closure.
        self.opt_steps: list[int] = []
        self.opt_index: dict[int, int] = {}  # id(optimizer) → index; held in the scope's list
        self._trailing: dict[int, bool] = {}
        #: The optimizer whose steps are the steps (the first, until another one steps twice
        #: in a row without it: a script that trains several models one after the other), and
        #: how many times each other optimizer stepped since it last did.
        self.clock = 0
        self._since_clock: dict[int, int] = {}
        self._closure_step: dict[int, bool] = {}
        self.tracker: BackwardTracker | None = None
        self.probes: Probes | None = None
        self.modules: ModuleWatcher | None = None
        #: What the step's last ``backward()`` ran on (``leaf``: a tensor with no history,
        #: ``graph``: anything else), kept to tell a loss cut from the model from a missing one.
        self._backward_root: str | None = None
        #: Parameters of a watched model that are neither watched nor in an optimizer, by
        #: name, as last seen (a layer built inside forward() is a new one at every call).
        self._unwatched: dict[str, weakref.ref[torch.Tensor]] = {}

    def attach(self, hooks: HookGroup) -> None:
        """Make the backward tracker, the probes and the module watcher, hooked into ``hooks``."""
        self.tracker = BackwardTracker(
            self._parts.reg.params,
            hooks,
            self._parts.instruments["loss"],
            self.backward_ended,
            on_touch=self._touched,
        )
        self._send.tracker = self.tracker
        self.probes = Probes(
            hooks,
            self._parts.instruments["probes"],
            step=lambda: self.step,
            param_ids=lambda: set(self._parts.reg.by_id),
            optimizer_steps=self._optimizer_step_count,
            emit=self.fact,
        )
        self.modules = ModuleWatcher(
            hooks,
            self._parts.instruments["modules"],
            emit=self.fact,
            on_loss=self._send.module_losses.append,
        )
        self._begin_module_step()

    def attach_new(self) -> None:
        """Hook the gradients of parameters registered since (or unfrozen)."""
        if self.tracker is not None:
            self.tracker.attach_new()

    def add_optimizer(self, optimizer: Optimizer) -> int:
        """Count ``optimizer``'s steps; returns its index."""
        index = len(self.opt_steps)
        self.opt_steps.append(0)
        self.opt_index[id(optimizer)] = index
        return index

    # -- the clock ----------------------------------------------------------------------------

    def logged(self, step: int | None = None) -> bool:
        return self._parts.flight.logged(self.step if step is None else step)

    def detail(self, step: int | None = None) -> bool:
        """Whether ``step`` adds weights, updates, optimizer state, activations, histograms."""
        return self._parts.flight.detail(self.step if step is None else step)

    def _begin_module_step(self) -> None:
        if self.modules is not None:
            self.modules.begin_step(
                logged=self.logged(), activations=self.detail(), probing=self.step < PROBE_STEPS
            )

    # -- optimizer steps ----------------------------------------------------------------------

    def step_hook(self, *, pre: bool) -> Any:
        """The step pre- or post-hook of every watched optimizer."""

        def hook(optimizer: Optimizer, args: Any, kwargs: Any) -> None:
            index = self.opt_index.get(id(optimizer))
            if index is None or self.closed:
                return
            try:
                if pre:
                    self._take_clock(index)
                    self._closure_step[index] = _has_closure(args, kwargs)
                    if index == self.clock:
                        send = self._send
                        send.in_closure = self._closure_step[index]
                        send.closure_loss = None
                        # backward passes before step() (accumulated micro-batches) count too
                        send.roots_before_closure = len(self.tracker.roots) if self.tracker else 0
                    self._sync_groups(index)
                elif index == self.clock:
                    self._send.in_closure = False
                self._step_started(index) if pre else self._step_finished(index)
            except InstrumentError:
                raise  # strict mode: the failing instrument already named itself
            except Exception as exc:  # a bug of ours must not stop training
                self._parts.instruments["steps"].fail(exc)
            if not pre and has_deferred_warnings():
                flush_warnings()  # the step's work is done: warn at the user's opt.step() line

        return hook

    def _grads_after_step(self, index: int) -> bool:
        """Whether this step's gradients exist only once ``step()`` has run.

        LBFGS evaluates its closure inside ``step()``; so does every optimizer handed a closure
        (``opt.step(closure)``, which is how Lightning steps), and the pre-step hook then sees the
        previous step's gradients.
        """
        return isinstance(
            self._parts.optimizers[index], torch.optim.LBFGS
        ) or self._closure_step.get(index, False)

    def _take_clock(self, index: int) -> None:
        """Make ``index`` the clock when it steps a second time with no step of the clock in
        between: the model trained before is done (one optimizer per phase or per layer).

        A GAN's optimizers alternate, so the clock stays; a critic taking several steps per
        generator step becomes the clock, and its steps are the steps.
        """
        if index != self.clock and self._since_clock.get(index, 0) >= 1:
            self._trailing[self.clock] = True
            self._trailing[index] = False
            self.clock = index
            self._since_clock = {}

    def _step_of(self, index: int) -> int:
        """The step an optimizer's statistics belong to.

        An optimizer that first stepped after the clock had (a GAN's generator stepping
        after the discriminator) trails it: its step belongs to the step that just closed.
        """
        if index == self.clock:
            return self.step
        trailing = self._trailing.setdefault(index, self.step > 0)
        return self.step - 1 if trailing else self.step

    def _step_started(self, index: int) -> None:
        step = self._step_of(index)
        self._parts.instruments["probes"].run(self._check_before_step, index, step)
        if not self.logged(step):
            return
        wps = self._parts.reg.at_step(index, orphans=index == self.clock)
        detail = self.detail(step)
        if not self._grads_after_step(index):
            self._parts.capture.grads(wps, histogram=detail, step=step, batch=self._send.batch)
        if detail:
            self._parts.capture.weights(wps, histogram=True, step=step, batch=self._send.batch)
            self._parts.capture.snapshot(index, self._parts.reg.owned[index], step)

    def _step_finished(self, index: int) -> None:
        opt = self._parts.optimizers[index]
        step = self._step_of(index)
        if self.logged(step):
            batch = self._send.batch
            if self._grads_after_step(index):
                wps = self._parts.reg.at_step(index, orphans=index == self.clock)
                self._parts.capture.grads(wps, histogram=self.detail(step), step=step, batch=batch)
            inst = self._parts.instruments["optimizer"]
            if self.detail(step):
                self._parts.capture.updates(index)
                inst.run(capture_state, opt, self._parts.reg.by_id, step, self._parts.pending, inst,
                         batch.states)  # fmt: skip
            inst.run(lambda: batch.groups.extend(group_stats(index, opt, step)))
        self._carry.stepped(self._parts.reg.owned[index])
        self.opt_steps[index] += 1
        if index == self.clock:
            self._since_clock = {}
            self.end_step()
        else:
            self._since_clock[index] = self._since_clock.get(index, 0) + 1
            if self.tracker is not None:
                self.tracker.rebase_probe()
            if step < self.step:
                self._send.send(force=True)

    def _optimizer_step_count(self, optimizer: Optimizer) -> int | None:
        for i, o in enumerate(self._parts.optimizers):
            if o is optimizer:
                return self.opt_steps[i]
        return None

    def _check_before_step(self, index: int, step: int) -> None:
        if index == self.clock and step < PROBE_STEPS:
            self._check_rebuilt(step)
        self._checks.before_step(
            step,
            f"optimizer{index}:{type(self._parts.optimizers[index]).__name__}",
            self._parts.reg.owned[index],
            grads_ready=not self._grads_after_step(index),
            backward_root=self._backward_root if self._no_param_reached() else None,
            check_modes=index == self.clock and (step < PROBE_STEPS or self.logged(step)),
        )

    def _check_rebuilt(self, step: int) -> None:
        """Note parameters that a watched model holds, no optimizer does, and that are new
        objects at each step: a layer created inside ``forward()``."""
        known = self._parts.reg.by_id
        held = {id(p) for o in self._parts.optimizers for g in o.param_groups for p in g["params"]}
        rebuilt: dict[str, list[str]] = {}
        for prefix, model in self._parts.models.items():
            for name, p in model.named_parameters():
                if id(p) in known or id(p) in held or not p.requires_grad:
                    continue
                full = f"{prefix}.{name}" if prefix else name
                before = self._unwatched.get(full)
                self._unwatched[full] = weakref.ref(p)
                if before is not None and before() is not p:
                    rebuilt.setdefault(full.rpartition(".")[0], []).append(full)
        for module, names in rebuilt.items():
            self._checks.once(step, "param_rebuilt", module, {"params": names})

    def _no_param_reached(self) -> bool:
        return self.tracker is not None and self.tracker.n_backward == 0

    # -- backward passes ----------------------------------------------------------------------

    def _touched(self, wp: WatchedParam) -> None:
        """A parameter's gradient hook fired; the carry check looks only on some steps."""
        if self._carry.active:
            self._parts.instruments["probes"].run(self._carry.touched, wp)

    def fact(self, kind: str, where: str, details: dict[str, Any]) -> None:
        self._checks.fact(self.step, kind, where, details)

    def before_backward(self, tensors: Any) -> None:
        """Listener of the backward wrapper, called before every backward pass of the process.

        A manual update is over once the next backward pass begins; the first loss of a
        closure step is the loss at the parameters the step started from.
        """
        if self.closed:
            return
        self.finish_manual_update()
        self._backward_root = "leaf" if _root_is_leaf(tensors) else "graph"
        send = self._send
        if send.in_closure and send.closure_loss is None:
            send.closure_loss = self._parts.instruments["loss"].run(scalar_root, tensors)

    def finish_manual_update(self) -> None:
        if self._manual.awaiting is not None:
            self._parts.instruments["updates"].run(self._manual.finish)
            self._manual.awaiting = None

    def backward_ended(self) -> None:
        if self.closed:
            return
        if not self._parts.optimizers:
            self.finish_manual_update()  # a pass the wrapper did not see (autograd.grad)
            self._manual.step_ended(self.step, logged=self.logged(), detail=self.detail())
            self.end_step()
        elif self.logged():  # under DDP, once the all-reduced gradients are in .grad
            self._ddp.after_reduce(
                lambda: self._parts.instruments["grads"].run(
                    self._parts.capture.preclip, self._parts.reg.params
                )
            )

    # -- the end of a step --------------------------------------------------------------------

    def end_step(self) -> None:
        """Close the step in progress; whatever fails inside, the step counter moves on."""
        try:
            self._record_step()
        finally:
            if self.tracker is not None:
                self.tracker.reset()
                self.tracker.attach_new()
            if self.probes is not None:
                self._parts.instruments["probes"].run(self.probes.end_step)
            self.step += 1
            self._backward_root = None
            self._parts.flight.forget_before(self.step - 1)
            self._carry.active = self.step < PROBE_STEPS + 2 or self.logged()
            self._begin_module_step()
            if self._graph is not None:
                self._graph.step_ended()
            if self._doctor is not None:
                self._doctor.step_ended(self.step)
                self.collect_alerts()

    def _record_step(self) -> None:
        now = time.perf_counter()
        step = self.step
        logged = self.logged()
        self._send.queue(
            {
                "step": step,
                "wall_time": time.time(),
                "duration": now - self._last_end,
                "n_backward": self.tracker.n_backward if self.tracker is not None else 0,
                "logged": logged,
                "detail_reason": self._parts.flight.reason(step) if logged else None,
                "lrs": group_lrs(self._parts.optimizers[self.clock])
                if self._parts.optimizers
                else (),
            }
        )
        self._last_end = now
        if self.probes is not None and self.probes.function_calls:
            self._parts.instruments["probes"].run(self._run_gradchecks)
        if logged:
            if self.modules is not None:
                self._parts.instruments["modules"].run(
                    self.modules.drain, step, self._parts.pending, self._send.batch.modules
                )
            self._parts.capture.finish_step(step)
        if self._manual.awaiting is None:  # a manual update's records go once it is measured
            self._send.send(force=logged)

    def _run_gradchecks(self) -> None:
        assert self.probes is not None
        calls, self.probes.function_calls = self.probes.function_calls, []
        for call in calls:
            if not is_user_function(call.cls):
                continue
            result = check_in_isolation(call.cls, call.inputs)
            self._checks.event(self.step, "custom_function", call.cls.__qualname__,
                               result.as_dict())  # fmt: skip

    def collect_alerts(self) -> None:
        """Take the live doctor's new alerts: keep, store and warn (once per code and place)."""
        doctor = self._doctor
        if doctor is None:
            return
        if doctor.error is not None:
            error, doctor.error = doctor.error, None
            self._parts.instruments["doctor"].fail(error)
        new = doctor.take()
        if not new:
            return
        self.alerts.extend(new)
        self._parts.writer.put("alerts", new)
        if self._warnings is not None:
            self._warnings.warn(new)

    def release(self) -> None:
        self.opt_index = {}
        self.modules = None
        self._carry.release()
        if self.tracker is not None:
            self.tracker.release()


def _has_closure(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether ``step()`` was called with a closure (``args[0]`` is the optimizer itself)."""
    closure = kwargs.get("closure", args[1] if len(args) > 1 else None)
    return closure is not None


def _root_is_leaf(tensors: Any) -> bool:
    """Whether ``backward()`` ran on a tensor with no autograd history (a re-made loss)."""
    if isinstance(tensors, (tuple, list)) and len(tensors) == 1:
        tensors = tensors[0]
    return isinstance(tensors, torch.Tensor) and tensors.grad_fn is None

"""Structural facts for the doctor, gathered during the first steps only.

What a loss function was given (probabilities? a sigmoid output? log-probabilities? shapes that
broadcast? targets in the range the loss expects?), whether an LR scheduler stepped before its
optimizer, which custom ``autograd.Function`` classes ran and with what inputs. These checks may
sync with the device, so they run for ``PROBE_STEPS`` steps and then stop listening. The
GradScaler listener stays: it reads one number per step from a scaler that has just synced
anyway, and records the scale only when it changes (so the doctor can unscale the loss and
tell a skipped step from a lost one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.optim import Optimizer

from gradscope.capture.guard import Instrument
from gradscope.capture.handles import HookGroup
from gradscope.capture.patches import (
    FUNCTION_APPLY,
    LOSS_PATCHES,
    SCALER_UPDATE,
    SCHEDULER_PATCHES,
)

#: Steps during which loss calls and custom Functions are inspected.
PROBE_STEPS = 3
#: How many autograd nodes to visit when asking whether a loss input comes from our model.
REACH_LIMIT = 20_000
#: Losses whose input and target must have the same shape (no broadcasting intended).
SAME_SHAPE_LOSSES = frozenset(
    {"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
     "binary_cross_entropy_with_logits"}
)  # fmt: skip
CLASS_LOSSES = frozenset({"cross_entropy", "nll_loss"})
#: Losses whose target says "similar"/"dissimilar" (or which input ranks higher) as 1 or -1,
#: and the position of that target among the positional arguments.
SIGN_TARGET_LOSSES = {"cosine_embedding_loss": 2, "margin_ranking_loss": 2,
                      "hinge_embedding_loss": 1, "soft_margin_loss": 1}  # fmt: skip
#: Losses whose target is a probability (each element in [0, 1]).
PROBABILITY_TARGET_LOSSES = frozenset({"binary_cross_entropy", "binary_cross_entropy_with_logits"})

Emit = Callable[[str, str, dict[str, Any]], None]


@dataclass
class FunctionCall:
    """The first call of a custom ``autograd.Function`` class: what to gradcheck later."""

    cls: type
    inputs: tuple[Any, ...]


def reaches(tensor: torch.Tensor, param_ids: set[int], limit: int = REACH_LIMIT) -> bool:
    """Whether ``tensor``'s autograd graph reaches one of the parameters in ``param_ids``."""
    stack = [tensor.grad_fn]
    seen: set[int] = set()
    while stack and len(seen) < limit:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        variable = getattr(fn, "variable", None)
        if variable is not None and id(variable) in param_ids:
            return True
        stack.extend(f for f, _ in fn.next_functions)
    return False


#: Backward functions of ops that only reshape, select or cast: the tensor's values come from
#: the op before them (``torch.sigmoid(logits).squeeze(1)`` is a sigmoid output).
SHAPE_ONLY = ("View", "Reshape", "UnsafeView", "Squeeze", "Unsqueeze", "Permute", "Transpose",
              "T", "Expand", "Slice", "Select", "Clone", "ToCopy", "AsStrided")  # fmt: skip


def producer_name(grad_fn: Any, limit: int = 8) -> str | None:
    """The backward function of the op that computed a tensor's values, looking through ops
    that only reshape, select or cast it."""
    for _ in range(limit):
        if grad_fn is None:
            return None
        name = type(grad_fn).__name__
        if name.removesuffix("Backward0").removesuffix("Backward1") not in SHAPE_ONLY:
            return name
        inputs = [f for f, _ in grad_fn.next_functions if f is not None]
        if len(inputs) != 1:
            return name
        grad_fn = inputs[0]
    return type(grad_fn).__name__ if grad_fn is not None else None


@torch.no_grad()
def loss_facts(fn: str, input: torch.Tensor, target: Any) -> dict[str, Any]:
    """What a loss function was given, in plain values."""
    grad_fn = producer_name(input.grad_fn)
    facts: dict[str, Any] = {"fn": fn, "grad_fn": grad_fn, "input_shape": list(input.shape)}
    if isinstance(target, torch.Tensor):
        facts["target_shape"] = list(target.shape)
        if fn in SAME_SHAPE_LOSSES and tuple(input.shape) != tuple(target.shape):
            facts["broadcast"] = True
    if fn in CLASS_LOSSES and input.is_floating_point() and input.dim() >= 1:
        dim = 1 if input.dim() >= 2 else 0
        x = input.detach()
        sums = x.sum(dim=dim)
        facts["probabilities"] = bool(
            grad_fn == "SoftmaxBackward0"
            or (x.numel() > 0 and x.min() >= 0 and x.max() <= 1
                and torch.allclose(sums, torch.ones_like(sums), atol=1e-3))
        )  # fmt: skip
    if fn == "binary_cross_entropy":
        facts["from_sigmoid"] = grad_fn == "SigmoidBackward0"
    if fn == "nll_loss" and input.is_floating_point() and input.numel() > 0:
        facts["log_probabilities"] = _are_log_probabilities(input.detach())
    if fn == "kl_div" and input.is_floating_point() and input.numel() > 0:
        x = input.detach()
        facts["input_min"], facts["input_max"] = float(x.amin()), float(x.amax())
    if isinstance(target, torch.Tensor) and target.numel() > 0 and _is_real(target):
        if fn in SIGN_TARGET_LOSSES:
            facts["target_values"] = [float(v) for v in torch.unique(target.detach())[:8]]
        elif fn in PROBABILITY_TARGET_LOSSES or fn == "kl_div":
            y = target.detach()
            facts["target_min"], facts["target_max"] = float(y.amin()), float(y.amax())
            if fn in PROBABILITY_TARGET_LOSSES:  # hard 0/1 labels, or soft targets
                facts["target_binary"] = bool(((y == 0) | (y == 1)).all())
    return facts


def _is_real(t: torch.Tensor) -> bool:
    return not t.is_complex() and t.dtype != torch.bool and t.device.type != "meta"


def _are_log_probabilities(x: torch.Tensor) -> bool | None:
    """Whether every row of ``x`` (classes on dim 1, or 0 for one sample) is a log-probability
    vector: its exponentials sum to 1. ``None`` when non-finite values make it unknowable."""
    if x.dim() == 0 or not bool(torch.isfinite(x).all()):
        return None
    dim = 1 if x.dim() >= 2 else 0
    sums = torch.logsumexp(x.float(), dim=dim)
    return bool(sums.abs().amax() <= 1e-2)


class Probes:
    """Listens to loss functions, schedulers and custom Functions for one scope."""

    def __init__(
        self,
        hooks: HookGroup,
        instrument: Instrument,
        *,
        step: Callable[[], int],
        param_ids: Callable[[], set[int]],
        optimizer_steps: Callable[[Optimizer], int | None],
        emit: Emit,
    ) -> None:
        self._instrument = instrument
        self._step = step
        self._param_ids = param_ids
        self._optimizer_steps = optimizer_steps
        self._emit = emit
        self._seen_functions: set[type] = set()
        self._seen_schedulers: set[int] = set()
        self._scale: float | None = None
        self._scale_changes = 0
        self.function_calls: list[FunctionCall] = []
        self._window: list[Any] = []
        for name, patch in LOSS_PATCHES.items():
            self._window.append(hooks.add(patch.listen(self._make_loss_listener(name))))
        self._window.append(hooks.add(FUNCTION_APPLY.listen(self._function_applied)))
        for patch in SCHEDULER_PATCHES:
            hooks.add(patch.listen(self._scheduler_stepped))
        hooks.add(SCALER_UPDATE.listen(self._scaler_updated))

    def end_step(self) -> None:
        """Stop the early-step listeners once the probe window is over."""
        if self._window and self._step() + 1 >= PROBE_STEPS:
            for handle in self._window:
                handle.remove()
            self._window = []

    def _active(self) -> bool:
        return self._instrument.enabled and self._step() < PROBE_STEPS

    def _make_loss_listener(self, fn: str) -> Callable[..., None]:
        position = SIGN_TARGET_LOSSES.get(fn, 1)

        def listener(*args: Any, **kwargs: Any) -> None:
            if not self._active():
                return
            input = args[0] if args else kwargs.get("input", kwargs.get("input1"))
            target = args[position] if len(args) > position else kwargs.get("target")
            if not isinstance(input, torch.Tensor):
                return
            extra = {}
            if fn == "kl_div":  # (input, target, size_average, reduce, reduction, log_target)
                log_target = args[5] if len(args) > 5 else kwargs.get("log_target", False)
                extra["log_target"] = bool(log_target)
            self._instrument.run(self._loss_called, fn, input, target, extra)

        return listener

    def _loss_called(
        self, fn: str, input: torch.Tensor, target: Any, extra: dict[str, Any] | None = None
    ) -> None:
        params = self._param_ids()
        if input.grad_fn is not None and reaches(input, params):
            facts = loss_facts(fn, input, target)
        elif (
            fn in SAME_SHAPE_LOSSES
            and isinstance(target, torch.Tensor)
            and target.grad_fn is not None
            and reaches(target, params)
        ):  # the arguments swapped: ``MSELoss()(target, prediction)``
            facts = loss_facts(fn, target, input) | {"swapped": True}
            facts["input_shape"], facts["target_shape"] = list(input.shape), list(target.shape)
        else:
            return
        self._emit("loss_input", f"F.{fn}", facts | (extra or {}))

    def _function_applied(self, cls: type, *args: Any, **kwargs: Any) -> None:
        if not self._active() or cls in self._seen_functions or not torch.is_grad_enabled():
            return
        self._seen_functions.add(cls)
        inputs = tuple(a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args)
        self.function_calls.append(FunctionCall(cls, inputs))

    def _scheduler_stepped(self, scheduler: Any, *args: Any, **kwargs: Any) -> None:
        if not self._instrument.enabled:
            return
        counted = getattr(scheduler, "_step_count", None)
        if counted is not None and counted < 1:
            return  # the call every LRScheduler makes from its own __init__
        # Calls the user made before this scope listened (ReduceLROnPlateau keeps no
        # ``_step_count``; its ``last_epoch`` counts the calls).
        earlier = counted - 1 if counted is not None else int(getattr(scheduler, "last_epoch", 0))
        key = id(scheduler)
        optimizer = getattr(scheduler, "optimizer", None)
        steps = self._optimizer_steps(optimizer) if optimizer is not None else None
        if steps is None or key in self._seen_schedulers:
            return
        self._seen_schedulers.add(key)
        self._emit(
            "scheduler_step",
            type(scheduler).__name__,
            {"scheduler": type(scheduler).__name__, "optimizer_steps": steps,
             "optimizer": type(optimizer).__name__, "earlier_calls": max(earlier, 0),
             "state_steps": _state_steps(optimizer)},
        )  # fmt: skip

    def _scaler_updated(self, scaler: Any, *args: Any, **kwargs: Any) -> None:
        if self._instrument.enabled:
            self._instrument.run(self._read_scaler, scaler)

    def _read_scaler(self, scaler: Any) -> None:
        """Record the scale a step used, when it changed, and whether the step was skipped.

        Called before ``update()`` runs: ``scaler.step`` has synced the inf checks already.
        ``step`` in the fact is the scope step the scaled loss belongs to.
        """
        scale = getattr(scaler, "_scale", None)
        if not scaler.is_enabled() or not isinstance(scale, torch.Tensor):
            return
        found = [
            v
            for state in getattr(scaler, "_per_optimizer_states", {}).values()
            for v in state.get("found_inf_per_device", {}).values()
        ]
        skipped = any(bool(v.item()) for v in found)
        value = float(scale.item())
        if skipped or value != self._scale:
            self._scale = value
            self._scale_changes += 1
            # A step the scaler took has just ended the scope's step; a skipped one has not.
            step = self._step() if skipped else max(self._step() - 1, 0)
            self._emit("amp_scale", "GradScaler", {"scale": value, "skipped": skipped,
                       "step": step, "n": self._scale_changes})  # fmt: skip


def _state_steps(optimizer: Any) -> int | None:
    """The steps an optimizer's state has counted (Adam's ``step``), loaded checkpoint included;
    ``None`` for one that keeps no count (SGD)."""
    counts = []
    for state in getattr(optimizer, "state", {}).values():
        step = state.get("step") if isinstance(state, dict) else None
        if step is not None:
            counts.append(int(step.item() if isinstance(step, torch.Tensor) else step))
    return max(counts) if counts else None

"""Structural facts for the doctor, gathered during the first steps only.

What a loss function was given (probabilities? a sigmoid output? shapes that broadcast?), whether
an LR scheduler stepped before its optimizer, which custom ``autograd.Function`` classes ran and
with what inputs. These checks may sync with the device, so they run for ``PROBE_STEPS`` steps
and then stop listening.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.optim import Optimizer

from gradscope.capture.guard import Instrument
from gradscope.capture.handles import HookGroup
from gradscope.capture.patches import FUNCTION_APPLY, LOSS_PATCHES, SCHEDULER_PATCHES

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


@torch.no_grad()
def loss_facts(fn: str, input: torch.Tensor, target: Any) -> dict[str, Any]:
    """What a loss function was given, in plain values."""
    grad_fn = type(input.grad_fn).__name__ if input.grad_fn is not None else None
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
    return facts


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
        self.function_calls: list[FunctionCall] = []
        self._window: list[Any] = []
        for name, patch in LOSS_PATCHES.items():
            self._window.append(hooks.add(patch.listen(self._make_loss_listener(name))))
        self._window.append(hooks.add(FUNCTION_APPLY.listen(self._function_applied)))
        for patch in SCHEDULER_PATCHES:
            hooks.add(patch.listen(self._scheduler_stepped))

    def end_step(self) -> None:
        """Stop the early-step listeners once the probe window is over."""
        if self._window and self._step() + 1 >= PROBE_STEPS:
            for handle in self._window:
                handle.remove()
            self._window = []

    def _active(self) -> bool:
        return self._instrument.enabled and self._step() < PROBE_STEPS

    def _make_loss_listener(self, fn: str) -> Callable[..., None]:
        def listener(input: Any = None, target: Any = None, *args: Any, **kwargs: Any) -> None:
            if not self._active() or not isinstance(input, torch.Tensor):
                return
            if target is None:
                target = kwargs.get("target")
            self._instrument.run(self._loss_called, fn, input, target)

        return listener

    def _loss_called(self, fn: str, input: torch.Tensor, target: Any) -> None:
        if input.grad_fn is None or not reaches(input, self._param_ids()):
            return
        self._emit("loss_input", f"F.{fn}", loss_facts(fn, input, target))

    def _function_applied(self, cls: type, *args: Any, **kwargs: Any) -> None:
        if not self._active() or cls in self._seen_functions or not torch.is_grad_enabled():
            return
        self._seen_functions.add(cls)
        inputs = tuple(a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args)
        self.function_calls.append(FunctionCall(cls, inputs))

    def _scheduler_stepped(self, scheduler: Any, *args: Any, **kwargs: Any) -> None:
        if not self._instrument.enabled or getattr(scheduler, "_step_count", 0) < 1:
            return  # the call every scheduler makes from its own __init__
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
             "optimizer": type(optimizer).__name__},
        )  # fmt: skip

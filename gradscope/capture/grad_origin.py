"""Which parameterless module's backward created a NaN/Inf gradient, on any logged step.

A parameter's gradient NaN/Inf count names the parameter nearest the origin, but a module with
no parameters of its own (a custom ``forward`` with ``torch.where`` over ``sqrt``, a distance)
can only be named by comparing the gradient arriving at its output with the one leaving at
its input: finite in, non-finite out means its backward made it. Only leaf modules without
parameters that can create NaN/Inf are checked (not ReLU, pooling, dropout …), and each costs
two sums on the device per logged step, resolved with the step's one transfer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from gradscope.capture.guard import Instrument
from gradscope.capture.handles import TensorHook
from gradscope.capture.pending import Pending

Emit = Callable[[str, str, dict[str, Any]], None]


def is_origin_candidate(module: nn.Module, preserving: tuple[type[nn.Module], ...]) -> bool:
    """A leaf module with no parameters of its own whose backward may create NaN/Inf."""
    return (
        not isinstance(module, (*preserving, nn.modules.loss._Loss))
        and next(module.children(), None) is None
        and next(module.parameters(recurse=False), None) is None
    )


class GradOrigin:
    """Finiteness of the gradients at the output and at the first input of candidate modules."""

    def __init__(self, instrument: Instrument, emit: Emit) -> None:
        self._instrument = instrument
        self._emit = emit
        #: ``(path, side, device scalar)`` filled by the tensor hooks during backward.
        self._checks: list[tuple[str, str, torch.Tensor]] = []
        self.found = False

    def watch(self, path: str, args: Any, output: Any) -> None:
        """Hook the gradients of ``output`` and of the first tensor input (forward time)."""
        if self.found:
            return
        source = args[0] if args else None
        if not (
            isinstance(output, torch.Tensor)
            and output.requires_grad
            and isinstance(source, torch.Tensor)
            and source.requires_grad
            and source.is_floating_point()
        ):
            return
        output.register_hook(TensorHook(self._make_hook(path, "out")))
        source.register_hook(TensorHook(self._make_hook(path, "in")))

    def _make_hook(self, path: str, side: str) -> Callable[[torch.Tensor], None]:
        def hook(grad: torch.Tensor) -> None:
            if self._instrument.enabled:
                self._instrument.run(self._seen, path, side, grad)

        return hook

    @torch.no_grad()
    def _seen(self, path: str, side: str, grad: torch.Tensor) -> None:
        g = grad.detach()
        self._checks.append((path, side, g.sum(dtype=torch.float32) if g.dtype in (
            torch.float16, torch.bfloat16) else g.sum()))  # fmt: skip

    def drain(self, pending: Pending) -> None:
        """Queue this step's checks; the first module with a finite output gradient and a
        non-finite input gradient becomes a ``nonfinite_grad`` fact (``created``)."""
        checks, self._checks = self._checks, []
        if not checks or self.found:
            return
        device = checks[0][2].device
        values = torch.stack([v.double().to(device) for _, _, v in checks])
        pending.add(values, self._finisher([(p, s) for p, s, _ in checks]), self._instrument)

    def _finisher(self, keys: list[tuple[str, str]]) -> Callable[[list[float]], None]:
        def finish(values: list[float]) -> None:
            finite: dict[str, dict[str, bool]] = {}
            for (path, side), value in zip(keys, values, strict=True):
                sides = finite.setdefault(path, {})
                sides[side] = sides.get(side, True) and math.isfinite(value)
            for path, sides in finite.items():  # backward order: nearest the loss first
                if sides.get("out", False) and not sides.get("in", True):
                    self.found = True
                    self._emit("nonfinite_grad", path, {"order": "backward", "created": True})
                    return

        return finish

    def clear(self) -> None:
        self._checks = []

"""Gradient heat map: the norm of the gradient that flowed through each node of a graph.

``capture_graph(loss, grads=True)`` registers a pre-hook on every backward function before the
user calls ``backward()``. Each hook reduces the incoming gradients (one per forward output of
that node) to norms on their own device and keeps the 0-d results; when the backward pass ends
(an engine callback queued by the first hook) all norms move to the host in one transfer per
device, fill :class:`GradHeat` and every hook is removed. Hooks return ``None``: they never
change a gradient. Only the first backward after capture is recorded.

Whatever goes wrong in a hook or in the callback (a tensor on the meta device, a dtype torch
cannot reduce) switches the heat map off and queues one warning for a safe moment: an
exception or a warning raised there would surface in the user's ``backward()``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch

from gradscope.capture.guard import defer_warning
from gradscope.errors import GradscopeWarning
from gradscope.graph.model import GradHeat


class HeatRecorder:
    """Hooks on backward functions that fill a :class:`GradHeat` when backward finishes."""

    def __init__(self, heat: GradHeat, slots: dict[str, list[tuple[str, int]]]) -> None:
        self.heat = heat
        self._slots = slots
        self._pending: list[tuple[str, torch.Tensor]] = []
        self._handles: list[Any] = []
        self._queued = False

    def attach(self, fns: Iterable[tuple[str, Any]]) -> None:
        """Register one pre-hook per (node id, backward function) (``Node.register_prehook``)."""
        for node_id, fn in fns:
            self._handles.append(fn.register_prehook(self._make_hook(node_id)))

    def _make_hook(self, node_id: str) -> Any:
        def hook(grad_outputs: tuple[torch.Tensor | None, ...]) -> None:
            if not self._handles:
                return
            try:
                if not self._queued:
                    self._queued = True
                    torch.autograd.Variable._execution_engine.queue_callback(self._finish)
                with torch.no_grad():
                    self._pending.append((node_id, _norms(grad_outputs)))
            except Exception as exc:  # never break the user's backward
                self._fail(exc)

        return hook

    def _fail(self, exc: Exception) -> None:
        self.remove()
        self._pending = []
        defer_warning(f"gradscope: heat map switched off: {exc!r}", GradscopeWarning)

    def remove(self) -> None:
        """Remove every hook (idempotent)."""
        handles, self._handles = self._handles, []
        for handle in reversed(handles):
            handle.remove()

    def _finish(self) -> None:
        """Engine callback at the end of the backward pass; never raises into it."""
        try:
            self._fill()
        except Exception as exc:
            self._fail(exc)

    def _fill(self) -> None:
        self.remove()
        pending, self._pending = self._pending, []
        by_device: dict[torch.device, list[tuple[str, torch.Tensor]]] = {}
        for node_id, vec in pending:
            by_device.setdefault(vec.device, []).append((node_id, vec))
        norms = self.heat.norms
        for device, items in by_device.items():
            if device.type == "meta":  # shapes without values: no heat to show
                continue
            values = torch.cat([vec for _, vec in items]).tolist()  # one transfer per device
            offset = 0
            for node_id, vec in items:
                parts = values[offset : offset + len(vec)]
                offset += len(vec)
                norms[node_id] = _combine(parts)
                for tensor_id, nr in self._slots.get(node_id, ()):
                    if nr < len(parts):
                        norms[tensor_id] = parts[nr]
        self.heat.done = True


#: Dtypes whose norm is accumulated in float32, so it cannot overflow the dtype's range.
_WIDENED = (torch.float16, torch.bfloat16)


def _norms(grads: tuple[torch.Tensor | None, ...]) -> torch.Tensor:
    """Per-output gradient norms as one float32 vector (an undefined gradient counts as 0).

    Each norm is taken in the gradient's own precision (accumulated in float32 for half and
    bfloat16; torch refuses to narrow float64 inside the norm), a complex gradient's over its
    magnitudes, then cast: float32 exists on every device.
    """
    out: list[torch.Tensor | None] = []
    device = None
    for g in grads:
        if g is None:
            out.append(None)
            continue
        if g.layout != torch.strided:
            g = g.coalesce()._values() if g.is_sparse else g.to_dense()
        if g.dtype in _WIDENED:
            n = torch.linalg.vector_norm(g, dtype=torch.float32)
        elif g.is_floating_point() or g.is_complex():
            n = torch.linalg.vector_norm(g)
        else:
            n = torch.linalg.vector_norm(g.double())
        n = n.float()
        device = n.device
        out.append(n)
    if not out:
        return torch.zeros(0)
    zero = torch.zeros((), device=device)
    return torch.stack([zero if n is None else n for n in out])


def _combine(parts: list[float]) -> float:
    """The norm over all outputs; NaN wins over Inf so the worst case shows."""
    if any(math.isnan(p) for p in parts):
        return math.nan
    return math.hypot(*parts)

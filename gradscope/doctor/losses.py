"""Naming the module that fed a loss, for the loss-usage rules.

Capture records what a loss function was given (its ``grad_fn``, shape) but not which module
produced it. When the model has exactly one module of the producing type (``nn.Softmax``,
``nn.Sigmoid``) whose recorded output shape matches the loss input, that module is the place to
fix; otherwise the alert stays at the loss call (``F.cross_entropy``).
"""

from __future__ import annotations

from gradscope.doctor.context import Context
from gradscope.records import Event


def producer(ctx: Context, event: Event, types: frozenset[str]) -> str | None:
    """The one module of one of ``types`` whose output shape matches the loss input."""
    shape = list(event.details.get("input_shape") or [])
    candidates = [path for path, typ in ctx.module_types.items() if typ in types]
    shapes = {path: ctx.module_shape(path) for path in candidates}
    matching = [path for path in candidates if shapes[path] == shape]
    if not matching and len(candidates) == 1 and shapes[candidates[0]] is None:
        matching = candidates  # the only one, with no recorded output to contradict it
    return ctx.label(matching[0]) if len(matching) == 1 else None

"""Whether torch is tracing the code a hook runs in, so the hook must do nothing.

``torch.jit.trace`` records every tensor operation a forward makes, hooks included, and checks
that two runs record the same graph; ``torch.compile`` and ``torch.export`` trace hooks with
Dynamo, which recompiles (up to its limit) whenever a hook's Python state changes; inside a
``torch.func`` transform (``vmap``, ``grad``) tensors are wrapped and must not escape into the
hook's state. A hook that returns at once there leaves the traced or compiled graph exactly the
unwatched model's.
"""

from __future__ import annotations

import torch


def inert() -> bool:
    """Whether the hook was called inside ``jit.trace``, ``torch.compile``, ``torch.export`` or
    a ``torch.func`` transform."""
    return torch.jit.is_tracing() or torch.compiler.is_compiling() or _in_transform()


def _in_transform() -> bool:
    peek = getattr(getattr(torch._C, "_functorch", None), "peek_interpreter_stack", None)
    return peek is not None and peek() is not None

"""Seeing the tensor ``.backward()`` is called on, without the user passing it.

``Tensor.backward`` calls ``torch.autograd.backward``; while at least one scope is open that
function is wrapped so the root of the running backward pass is known to the parameter hooks
that fire inside it. The original function is put back when the last scope closes. The wrapper
passes every argument through untouched and never raises on its own account.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import torch
from torch import nn


class BackwardRoots:
    """Process-wide record of the scalar root of the backward pass in progress."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._original: Callable[..., Any] | None = None
        #: The detached scalar root of the running backward pass, or ``None``.
        self.current: torch.Tensor | None = None
        #: Called with the raw ``tensors`` argument before each backward pass (discovery).
        self.listeners: list[Callable[[Any], None]] = []

    def acquire(self) -> None:
        with self._lock:
            self._users += 1
            if self._users == 1:
                self._original = torch.autograd.backward
                torch.autograd.backward = self._wrap(self._original)

    def release(self) -> None:
        with self._lock:
            if self._users == 0:
                return
            self._users -= 1
            if self._users == 0 and self._original is not None:
                torch.autograd.backward = self._original
                self._original = None
                self.current = None
                self.listeners = []

    @property
    def installed(self) -> bool:
        return self._users > 0

    def _wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        roots = self

        @functools.wraps(original)
        def backward(tensors: Any, *args: Any, **kwargs: Any) -> Any:
            previous = roots.current
            for listener in list(roots.listeners):
                listener(tensors)
            roots.current = scalar_root(tensors)
            try:
                return original(tensors, *args, **kwargs)
            finally:
                roots.current = previous

        backward.__gradscope_wrapped__ = original  # type: ignore[attr-defined]
        return backward


def scalar_root(tensors: Any) -> torch.Tensor | None:
    """The detached value of a one-element backward root, else ``None``."""
    if isinstance(tensors, (tuple, list)) and len(tensors) == 1:
        tensors = tensors[0]
    if isinstance(tensors, torch.Tensor) and tensors.numel() == 1 and tensors.is_floating_point():
        return tensors.detach().reshape(()).clone()
    return None


ROOTS = BackwardRoots()


def is_loss_module(module: nn.Module) -> bool:
    """torch.nn loss modules (``CrossEntropyLoss``, ``MSELoss`` …) share the ``_Loss`` base."""
    return isinstance(module, nn.modules.loss._Loss)

"""Seeing the tensor ``.backward()`` is called on, without the user passing it.

``Tensor.backward`` calls ``torch.autograd.backward``; while at least one scope is open that
function is wrapped so the root of the running backward pass is known to the parameter hooks
that fire inside it. The original function is put back when the last scope closes. The wrapper
passes every argument through untouched and never raises on its own account: a listener that
raises is dropped with one queued warning, a root it cannot read is simply not known.
Before the pass starts, outside autograd, it emits the warnings hooks have queued.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from gradscope.capture.guard import defer_warning, flush_warnings, has_deferred_warnings
from gradscope.capture.patches import SCALER_SCALE
from gradscope.errors import GradscopeWarning, InstrumentError


class BackwardRoots:
    """Process-wide record of the scalar root of the backward pass in progress."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._original: Callable[..., Any] | None = None
        #: The detached scalar root of the running backward pass, or ``None``.
        self.current: torch.Tensor | None = None
        #: The tensor ``backward()`` was called on (weakly): a loss differentiated twice
        #: (``retain_graph=True``) is the same tensor both times.
        self.source: weakref.ref[torch.Tensor] | None = None
        #: Called with the raw ``tensors`` argument before each backward pass (discovery).
        self.listeners: list[Callable[[Any], None]] = []
        self._scaler: Any = None

    def acquire(self) -> None:
        with self._lock:
            self._users += 1
            if self._users == 1:
                self._original = torch.autograd.backward
                torch.autograd.backward = self._wrap(self._original)
                self._scaler = SCALER_SCALE.listen(SCALED.scaled)

    def release(self) -> None:
        with self._lock:
            if self._users == 0:
                return
            self._users -= 1
            if self._users == 0 and self._original is not None:
                torch.autograd.backward = self._original
                self._original = None
                if self._scaler is not None:
                    self._scaler.remove()
                    self._scaler = None
                SCALED.clear()
                self.current = None
                self.source = None
                self.listeners = []

    def _wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        roots = self

        @functools.wraps(original)
        def backward(tensors: Any, *args: Any, **kwargs: Any) -> Any:
            previous, previous_source = roots.current, roots.source
            if has_deferred_warnings():
                flush_warnings()
            roots.notify(tensors)
            try:
                roots.current = scalar_root(tensors)
                roots.source = _source(tensors) if roots.current is not None else None
            except Exception:  # a root we cannot read (sparse, meta …): the loss stays unknown
                roots.current, roots.source = None, None
            try:
                return original(tensors, *args, **kwargs)
            finally:
                roots.current, roots.source = previous, previous_source

        backward.__gradscope_wrapped__ = original  # type: ignore[attr-defined]
        return backward

    def notify(self, tensors: Any) -> None:
        """Call every listener; one that raises is dropped, never the user's backward."""
        for listener in list(self.listeners):
            try:
                listener(tensors)
            except InstrumentError:
                raise  # strict mode: the failing instrument already named itself
            except Exception as exc:  # a bug of ours must not stop the user's backward
                if listener in self.listeners:
                    self.listeners.remove(listener)
                defer_warning(
                    f"gradscope: a backward listener failed ({type(exc).__name__}: {exc}) and "
                    "is switched off; training continues unaffected.",
                    GradscopeWarning,
                )


def _source(tensors: Any) -> weakref.ref[torch.Tensor] | None:
    if isinstance(tensors, (tuple, list)) and len(tensors) == 1:
        tensors = tensors[0]
    return weakref.ref(tensors) if isinstance(tensors, torch.Tensor) else None


class ScaledLosses:
    """The last few ``scaler.scale(loss)`` results, each with the loss it scaled.

    Kept by identity with weak references to the scaled tensors (a tensor's ``==`` compares
    values), and only a handful: a scaled loss is differentiated right after it is made.
    """

    KEEP = 8

    def __init__(self) -> None:
        self._recent: list[tuple[weakref.ref[torch.Tensor], torch.Tensor]] = []

    def scaled(self, result: Any, scaler: Any, outputs: Any, *args: Any, **kw: Any) -> None:
        if (
            isinstance(result, torch.Tensor)
            and isinstance(outputs, torch.Tensor)
            and result is not outputs
            and result.numel() == 1
        ):  # the loss is kept detached: holding its graph would hold the step's activations
            entry = (weakref.ref(result), outputs.detach())
            self._recent = [*self._recent[-(self.KEEP - 1) :], entry]

    def unscaled(self, tensor: torch.Tensor) -> torch.Tensor:
        """The loss ``tensor`` was scaled from, else ``tensor`` itself."""
        for ref, loss in reversed(self._recent):
            if ref() is tensor:
                return loss
        return tensor

    def clear(self) -> None:
        self._recent = []


SCALED = ScaledLosses()


def scalar_root(tensors: Any) -> torch.Tensor | None:
    """The detached value of a one-element backward root, else ``None``.

    A root a GradScaler scaled stands for the loss the script computed, before the scaling.
    """
    if isinstance(tensors, (tuple, list)) and len(tensors) == 1:
        tensors = tensors[0]
    if isinstance(tensors, torch.Tensor) and SCALED._recent:
        tensors = SCALED.unscaled(tensors)
    if not (
        isinstance(tensors, torch.Tensor)
        and tensors.numel() == 1
        and tensors.is_floating_point()
        and tensors.device.type != "meta"
    ):
        return None
    value = tensors.detach()
    if value.layout != torch.strided:  # a sparse one-element root
        value = value.to_dense()
    return value.reshape(()).clone()


ROOTS = BackwardRoots()


def is_loss_module(module: nn.Module) -> bool:
    """torch.nn loss modules (``CrossEntropyLoss``, ``MSELoss`` …) share the ``_Loss`` base."""
    return isinstance(module, nn.modules.loss._Loss)

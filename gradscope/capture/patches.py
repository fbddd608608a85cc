"""Process-wide wrappers around a few torch functions, installed while a scope listens.

Some facts can only be seen where torch is called: what a loss function was given, when an LR
scheduler stepped, which custom ``autograd.Function`` ran. Each :class:`Patch` replaces one
attribute with a wrapper that tells its listeners about the call, then calls the original with
the same arguments. The original is restored when the last listener leaves. A listener that
raises is dropped, never the user's call.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch.optim import lr_scheduler

Listener = Callable[..., None]


class Patch:
    """One wrapped attribute (``owner.name``) shared by every listening scope."""

    def __init__(
        self, owner: Any, name: str, *, classmethod_: bool = False, after: bool = False
    ) -> None:
        """``after``: listeners are told once the call returned, with its result first."""
        self.owner = owner
        self.name = name
        self.classmethod_ = classmethod_
        self.after = after
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._original: Any = None

    def listen(self, listener: Listener) -> _Handle:
        with self._lock:
            if not self._listeners:
                self._install()
            self._listeners.append(listener)
        return _Handle(self, listener)

    def _unlisten(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
            if not self._listeners and self._original is not None:
                setattr(self.owner, self.name, self._original)
                self._original = None

    def _notify(self, *args: Any, **kwargs: Any) -> None:
        for listener in list(self._listeners):
            try:
                listener(*args, **kwargs)
            except Exception:  # the listener's instrument has already reported it
                self._unlisten(listener)

    def _install(self) -> None:
        raw = self.owner.__dict__[self.name]
        self._original = raw
        patch = self
        if self.classmethod_:
            func = raw.__func__

            @functools.wraps(func)
            def wrapper(cls: Any, *args: Any, **kwargs: Any) -> Any:
                patch._notify(cls, *args, **kwargs)
                return func(cls, *args, **kwargs)

            setattr(self.owner, self.name, classmethod(wrapper))
        elif self.after:

            @functools.wraps(raw)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                result = raw(*args, **kwargs)
                patch._notify(result, *args, **kwargs)
                return result

            setattr(self.owner, self.name, wrapper)
        else:

            @functools.wraps(raw)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                patch._notify(*args, **kwargs)
                return raw(*args, **kwargs)

            setattr(self.owner, self.name, wrapper)


class _Handle:
    def __init__(self, patch: Patch, listener: Listener) -> None:
        self._patch = patch
        self._listener: Listener | None = listener

    def remove(self) -> None:
        if self._listener is not None:
            self._patch._unlisten(self._listener)
            self._listener = None


#: torch.nn.functional losses; the torch.nn loss modules call these, so one wrapper sees both.
LOSS_FUNCTIONS = (
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "kl_div",
    "cosine_embedding_loss",
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "soft_margin_loss",
)
LOSS_PATCHES = {name: Patch(F, name) for name in LOSS_FUNCTIONS}
#: Every scheduler class of torch.optim.lr_scheduler that defines its own ``step``.
SCHEDULER_PATCHES = tuple(
    Patch(cls, "step")
    for cls in vars(lr_scheduler).values()
    if isinstance(cls, type) and issubclass(cls, lr_scheduler.LRScheduler) and "step" in vars(cls)
)
FUNCTION_APPLY = Patch(torch.autograd.Function, "apply", classmethod_=True)
#: Functional dropout (``nn.Dropout`` calls it too), told its output: what feeds a BatchNorm.
DROPOUT_PATCHES = tuple(
    Patch(F, name, after=True) for name in ("dropout", "dropout1d", "dropout2d", "dropout3d")
)
#: ``GradScaler.update`` (torch.amp; torch.cuda.amp's subclass inherits it): called once per
#: step, after ``scaler.step`` decided whether the step was skipped for inf gradients.
SCALER_UPDATE = Patch(torch.amp.GradScaler, "update")
#: ``GradScaler.scale``, told its result: the backward root ``scaler.scale(loss)`` is the loss
#: times the scale, and the step's loss is the one the script computed.
SCALER_SCALE = Patch(torch.amp.GradScaler, "scale", after=True)

"""One place that owns every hook handle a scope registers, so ``close()`` can remove them all.

Module and optimizer hooks go into torch's process-wide registries (see
:class:`~gradscope.capture.modules.ModuleWatcher`), so the user's modules and optimizers hold
nothing of gradscope's. Hooks on tensors have no such registry; they are :class:`TensorHook`
objects, which never travel with a saved, pickled or copied tensor.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch.optim.optimizer import (
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)


class Removable(Protocol):
    def remove(self) -> None: ...


class HookGroup:
    """Keeps removable handles and removes them in reverse order, idempotently.

    Modelled on ``torch.utils.hooks.RemovableHandle``: each ``add`` returns the handle so callers
    can also remove a single hook early (an instrument that switched itself off).
    """

    def __init__(self) -> None:
        self._handles: list[Removable] = []

    def add(self, handle: Removable) -> Removable:
        self._handles.append(handle)
        return handle

    def __len__(self) -> int:
        return len(self._handles)

    def remove_all(self) -> None:
        handles, self._handles = self._handles, []
        errors: list[BaseException] = []
        for handle in reversed(handles):
            try:
                handle.remove()
            except Exception as exc:  # keep removing the others; report after
                errors.append(exc)
        if errors:
            raise errors[0]


class GlobalHook:
    """One hook in a torch process-wide registry, shared by all of gradscope's listeners.

    Listeners can come and go while the hook runs: discovery watches an optimizer, and the scope
    starts listening, from inside the optimizer's first step, when torch is iterating over its
    registry (adding to it then would be an error). A listener added during a call is called
    in that same call. The torch hook is removed when the last listener leaves.
    """

    def __init__(self, register: Callable[[Callable[..., None]], Removable]) -> None:
        self._register = register
        self._lock = threading.Lock()
        self._listeners: list[Callable[..., None]] = []
        self._handle: Removable | None = None

    def listen(self, listener: Callable[..., None]) -> Removable:
        with self._lock:
            self._listeners.append(listener)
            if self._handle is None:
                self._handle = self._register(self._dispatch)
        return _Listening(self, listener)

    def _unlisten(self, listener: Callable[..., None]) -> None:
        with self._lock:
            # a new list: a call in progress goes on over the one it started with
            self._listeners = [f for f in self._listeners if f is not listener]
            if not self._listeners and self._handle is not None:
                handle, self._handle = self._handle, None
                handle.remove()

    def _dispatch(self, *args: Any) -> None:
        listeners = self._listeners
        i = 0
        while i < len(listeners):  # by index: listeners appended meanwhile run too
            listeners[i](*args)
            i += 1


class _Listening:
    def __init__(self, hook: GlobalHook, listener: Callable[..., None]) -> None:
        self._hook: GlobalHook | None = hook
        self._listener = listener

    def remove(self) -> None:
        hook, self._hook = self._hook, None
        if hook is not None:
            hook._unlisten(self._listener)


#: ``Optimizer.step`` pre- and post-hooks for every optimizer of the process.
OPTIMIZER_STEP_PRE = GlobalHook(register_optimizer_step_pre_hook)
OPTIMIZER_STEP_POST = GlobalHook(register_optimizer_step_post_hook)


#: torch warns at every call of a module compiled by ``torch.compile`` while a process-wide module
#: hook exists, as such a hook also sees the ``OptimizedModule`` wrapper. Gradscope's hooks pass
#: over modules they do not watch, and the wrapper is never watched (the model inside it is).
_COMPILE_WARNING = r"Using `torch\.compile\(module\)` when there are global hooks on modules"


class _QuietCompileWarning:
    """A warnings filter shared by every user; removed when the last one leaves."""

    _lock = threading.Lock()
    _users = 0
    _entry: Any = None

    def __init__(self) -> None:
        cls = _QuietCompileWarning
        with cls._lock:
            cls._users += 1
            if cls._users == 1:
                warnings.filterwarnings("ignore", message=_COMPILE_WARNING, category=UserWarning)
                cls._entry = warnings.filters[0]
        self._active = True

    def remove(self) -> None:
        cls = _QuietCompileWarning
        with cls._lock:
            if not self._active:
                return
            self._active = False
            cls._users -= 1
            if cls._users == 0 and cls._entry in warnings.filters:
                warnings.filters.remove(cls._entry)  # type: ignore[attr-defined]
                mutated = getattr(warnings, "_filters_mutated", None)
                if mutated is not None:  # invalidate the warning registries' caches
                    mutated()


def quiet_compile_warning() -> Removable:
    """Ignore torch's warning about process-wide module hooks meeting ``torch.compile`` while
    gradscope's own such hooks are registered (under ``-W error`` it would be an exception in
    the user's compiled forward)."""
    return _QuietCompileWarning()


class TensorHook:
    """A tensor hook that torch skips when serialising the tensor, without a warning.

    ``__torch_unserializable__`` is what ``torch.utils.hooks.unserializable_hook`` sets; a
    pickled or deep-copied hook object is an inert one, so nothing of gradscope's survives a
    copy even where a copy would take the hook along.
    """

    __torch_unserializable__ = True
    __slots__ = ("_fn",)

    def __init__(self, fn: Callable[[torch.Tensor], None] | None) -> None:
        self._fn: Callable[[torch.Tensor], None] | None = fn

    def __call__(self, grad: torch.Tensor) -> None:
        fn = self._fn
        if fn is not None:
            fn(grad)

    def __reduce__(self) -> tuple[Any, ...]:
        return (TensorHook, (None,))

    def __deepcopy__(self, memo: dict[int, Any]) -> TensorHook:
        return TensorHook(None)

"""Discovery for ``gradscope run``: find every model and optimizer an unmodified script uses.

The global module and optimizer hooks live here and only here (``gs.watch`` hooks the objects it
is given). A model is a module whose forward runs at the top level (not inside another module's
forward) and that has parameters; an optimizer is seen when it is created. Everything found goes
into one scope, so one store holds the whole script. Leaf tensors that a backward pass reaches
and no model holds (``w = torch.randn(3, requires_grad=True)``) are watched too, named after the
script's global variable when there is one.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.optim import Optimizer
from torch.optim.optimizer import register_optimizer_step_pre_hook

from gradscope.capture.guard import Instrument
from gradscope.capture.handles import HookGroup
from gradscope.capture.loss import ROOTS, is_loss_module
from gradscope.options import WatchOptions
from gradscope.scope import Scope

#: Backward passes whose graphs are walked for leaf tensors no model holds.
LEAF_WALKS = 3


class _Restore:
    """A removable handle that puts an attribute back."""

    def __init__(self, owner: Any, name: str, original: Any) -> None:
        self._owner, self._name, self._original = owner, name, original

    def remove(self) -> None:
        setattr(self._owner, self._name, self._original)


class _Listener:
    def __init__(self, fn: Callable[[Any], None]) -> None:
        self._fn = fn
        ROOTS.listeners.append(fn)

    def remove(self) -> None:
        if self._fn in ROOTS.listeners:
            ROOTS.listeners.remove(self._fn)


class Discovery:
    """Watches what a script creates, into one store, until :meth:`stop`."""

    def __init__(self, store: str | os.PathLike[str], options: WatchOptions) -> None:
        self.store = store
        self.options = options
        self.scope: Scope | None = None
        self._hooks = HookGroup()
        self._instrument = Instrument("discovery", strict=options.strict)
        self._depth = threading.local()
        self._optimizers: list[weakref.ref[Optimizer]] = []
        self._known_modules: weakref.WeakSet[nn.Module] = weakref.WeakSet()
        self._walks = 0

    def start(self) -> None:
        mod = nn.modules.module
        self._hooks.add(mod.register_module_forward_pre_hook(self._forward_pre))
        self._hooks.add(mod.register_module_forward_hook(self._forward_post, always_call=True))
        self._hooks.add(register_optimizer_step_pre_hook(self._step_pre))
        original_init = Optimizer.__init__

        @functools.wraps(original_init)
        def init(opt: Optimizer, *args: Any, **kwargs: Any) -> None:
            original_init(opt, *args, **kwargs)
            self._optimizers.append(weakref.ref(opt))

        Optimizer.__init__ = init  # type: ignore[method-assign]
        self._hooks.add(_Restore(Optimizer, "__init__", original_init))
        ROOTS.acquire()
        self._hooks.add(_Listener(self._backward_called))

    def stop(self) -> None:
        """Remove every global hook and close the scope (flushing the store)."""
        try:
            self._hooks.remove_all()
        finally:
            ROOTS.release()
            if self.scope is not None:
                self.scope.close()

    # -- hooks ------------------------------------------------------------------------------

    def _forward_pre(self, module: nn.Module, args: Any) -> None:
        depth = getattr(self._depth, "n", 0)
        self._depth.n = depth + 1
        if depth == 0 and self._instrument.enabled and module not in self._known_modules:
            self._instrument.run(self._maybe_watch, module)

    def _forward_post(self, module: nn.Module, args: Any, output: Any) -> None:
        self._depth.n = max(getattr(self._depth, "n", 1) - 1, 0)

    def _step_pre(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        if self._instrument.enabled and (
            self.scope is None or all(o is not optimizer for o in self.scope._optimizers)
        ):
            self._instrument.run(self._adopt_optimizer, optimizer)

    def _backward_called(self, tensors: Any) -> None:
        if self._walks < LEAF_WALKS and self._instrument.enabled:
            self._walks += 1
            self._instrument.run(self._watch_leaves, tensors)

    # -- what they do ------------------------------------------------------------------------

    def _ensure_scope(self, model: nn.Module | None) -> Scope:
        if self.scope is None:
            self.scope = Scope(model, store=self.store, options=self.options, warn=False)
        return self.scope

    def _maybe_watch(self, module: nn.Module) -> None:
        for m in module.modules():
            self._known_modules.add(m)
        if is_loss_module(module) or not any(True for _ in module.parameters()):
            return
        if self.scope is None:
            self._ensure_scope(module)
        else:
            self.scope.add_model(module, name=self._model_name(module))
        self._adopt_created_optimizers()

    def _model_name(self, module: nn.Module) -> str:
        assert self.scope is not None
        base = type(module).__name__.lower()
        name, n = base, 1
        while name in self.scope._models:
            n += 1
            name = f"{base}{n}"
        return name

    def _adopt_created_optimizers(self) -> None:
        """Watch created optimizers that update a watched parameter."""
        scope = self.scope
        if scope is None:
            return
        for ref in list(self._optimizers):
            opt = ref()
            if opt is None or any(o is opt for o in scope._optimizers):
                continue
            if any(scope.watches(p) for g in opt.param_groups for p in g["params"]):
                scope.add_optimizer(opt)

    def _adopt_optimizer(self, optimizer: Optimizer) -> None:
        scope = self._ensure_scope(None)
        names = _global_names()
        scope.add_tensors(
            {
                names.get(id(p), f"tensor{i}"): p
                for i, p in enumerate(p for g in optimizer.param_groups for p in g["params"])
                if not scope.watches(p)
            }
        )
        scope.add_optimizer(optimizer)

    def _watch_leaves(self, tensors: Any) -> None:
        roots = [tensors] if isinstance(tensors, torch.Tensor) else list(tensors)
        leaves = [t for t in _leaf_tensors(roots) if t.requires_grad]
        if not leaves:
            return
        scope = self._ensure_scope(None)
        unknown = [t for t in leaves if not scope.watches(t)]
        if unknown:
            names = _global_names()
            taken = set(scope.param_names)
            named: dict[str, torch.Tensor] = {}
            for i, t in enumerate(unknown):
                name = names.get(id(t), f"tensor{i}")
                while name in taken or name in named:
                    name += "_"
                named[name] = t
            scope.add_tensors(named)


def _leaf_tensors(roots: list[torch.Tensor]) -> list[torch.Tensor]:
    """Leaf tensors (AccumulateGrad variables) reachable from ``roots``, without recursion."""
    seen: set[int] = set()
    out: list[torch.Tensor] = []
    stack = [t.grad_fn for t in roots if isinstance(t, torch.Tensor) and t.grad_fn is not None]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        variable = getattr(fn, "variable", None)
        if isinstance(variable, torch.Tensor):
            out.append(variable)
        stack.extend(next_fn for next_fn, _ in fn.next_functions)
    return out


def _global_names() -> dict[int, str]:
    """Global tensor variables of the running script, by identity."""
    main = sys.modules.get("__main__")
    names = {}
    for key, value in vars(main).items() if main is not None else ():
        if isinstance(value, torch.Tensor) and not key.startswith("_"):
            names.setdefault(id(value), key)
    return names

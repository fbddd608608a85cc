"""Discovery for ``gradscope run``: find every model and optimizer an unmodified script uses.

Discovery listens to every module's forward and every optimizer's step through torch's
process-wide hooks, as the scope does for the objects it watches. A model is a module whose
forward runs at the top level (not inside another module's forward) with grad enabled and that
has parameters (a copy that is only evaluated under ``no_grad`` is none); an optimizer is seen
when it is created. Everything found goes into one scope, so one store holds the whole script.

Names are the script's own. The first model keeps its plain ``named_parameters()`` names; a
further model, or several top-level modules that one optimizer trains together (``embed``,
``gru`` and ``head`` under one SGD), are prefixed with the script's variable for each
(``embed.weight``, ``gru.weight_ih_l0``). An optimizer that steps before any of its modules ran
forward (LBFGS evaluates its closure inside ``step()``) is traced back to those modules the same
way, through the script's variables.

Leaf tensors that a backward pass reaches and no model holds are parameters only when something
says so: an optimizer holds them, or, with no optimizer at all, the script changes them between
two backward passes (``w -= lr * w.grad``). Until then they are provisional (see
:meth:`Scope.add_tensors`); inputs with ``requires_grad`` (a gradient penalty's
``x.requires_grad_()``) never are parameters.
"""

from __future__ import annotations

import functools
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.optim import Optimizer

from gradscope.capture.first_graph import forward_started
from gradscope.capture.guard import Instrument
from gradscope.capture.handles import OPTIMIZER_STEP_PRE, HookGroup, quiet_compile_warning
from gradscope.capture.loss import ROOTS, is_loss_module
from gradscope.capture.naming import owners, qualified_names, script_namespaces, variable_names
from gradscope.capture.optimizer import stepping_optimizer
from gradscope.capture.tracing import inert
from gradscope.options import WatchOptions
from gradscope.scope import Scope

#: Backward passes whose graphs are all walked for leaf tensors no model holds; later passes
#: are walked at powers of two only (a leaf created late is still found, at a small cost).
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
        self._passes = 0

    def start(self) -> None:
        mod = nn.modules.module
        self._hooks.add(quiet_compile_warning())
        self._hooks.add(mod.register_module_forward_pre_hook(self._forward_pre))
        self._hooks.add(mod.register_module_forward_hook(self._forward_post, always_call=True))
        self._hooks.add(OPTIMIZER_STEP_PRE.listen(self._step_pre))  # shared with the scope's
        original_init = Optimizer.__init__

        @functools.wraps(original_init)
        def init(opt: Optimizer, *args: Any, **kwargs: Any) -> None:
            original_init(opt, *args, **kwargs)
            self._optimizers.append(weakref.ref(opt))

        Optimizer.__init__ = init  # type: ignore[method-assign,assignment]
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
        if (
            depth == 0
            and self._instrument.enabled
            and module not in self._known_modules
            and torch.is_grad_enabled()  # evaluation only (an EMA copy, a reloaded snapshot)
            and not inert()  # a trace or an export of a model is not a model that trains
        ):  # is no model: one that trains is found at its first forward with grad
            with forward_started(module):  # its graph recording opens this call
                self._instrument.run(self._maybe_watch, module)

    def _forward_post(self, module: nn.Module, args: Any, output: Any) -> None:
        self._depth.n = max(getattr(self._depth, "n", 1) - 1, 0)

    def _step_pre(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        if self._instrument.enabled and (
            self.scope is None
            or all(o is not stepping_optimizer(optimizer) for o in self.scope.optimizers)
        ):
            self._instrument.run(self._adopt_optimizer, optimizer)

    def _backward_called(self, tensors: Any) -> None:
        if not self._instrument.enabled:
            return
        self._passes += 1
        n = self._passes
        if n <= LEAF_WALKS or n & (n - 1) == 0:
            self._instrument.run(self._watch_leaves, tensors)

    # -- what they do ------------------------------------------------------------------------

    def _ensure_scope(self, model: nn.Module | None) -> Scope:
        if self.scope is None:
            self.scope = Scope(model, store=self.store, options=self.options, warn=False)
        return self.scope

    def _add_model(self, module: nn.Module, name: str) -> None:
        """Watch ``module`` under ``name`` (``""``: plain names, only for the first model)."""
        for m in module.modules():
            self._known_modules.add(m)
        if self.scope is None and not name:
            self._ensure_scope(module)
        else:
            self._ensure_scope(None).add_model(module, name=name)

    def _maybe_watch(self, module: nn.Module) -> None:
        for m in module.modules():
            self._known_modules.add(m)
        if is_loss_module(module) or not any(True for _ in module.parameters()):
            return
        partners = self._partners(module) or [("", module)]
        first = self.scope is None or not self.scope.models
        for name, m in partners:
            if m is not module and m in self._known_modules:
                continue
            if len(partners) == 1:
                self._add_model(m, "" if first else self._model_name(m))
            else:
                self._add_model(m, self._unique(name) if name else self._model_name(m))
        self._adopt_created_optimizers()

    def _partners(self, module: nn.Module) -> list[tuple[str, nn.Module]]:
        """Top-level modules one created optimizer trains together with ``module``, by their
        script variable (``""`` when it has none), or ``[]`` when no optimizer trains more than
        ``module``. ``module`` is among them, or inside one of them."""
        mine = {id(p) for p in module.parameters()}
        for ref in self._optimizers:
            opt = ref()
            if opt is None:
                continue
            params = [p for g in opt.param_groups for p in g["params"]]
            ids = {id(p) for p in params}
            if not ids & mine or ids <= mine:
                continue
            _, modules = variable_names(script_namespaces())
            found = owners(params, modules)
            if not any(module is sub for _, m in found for sub in m.modules()):
                found.append(("", module))
            return found
        return []

    def _unique(self, name: str) -> str:
        taken = self.scope.models if self.scope is not None else {}
        out, n = name, 1
        while out in taken:
            n += 1
            out = f"{name}{n}"
        return out

    def _model_name(self, module: nn.Module) -> str:
        """The script's variable for a further model, else its class name in lower case."""
        _, modules = variable_names(script_namespaces())
        base = next((k for k, m in modules if m is module), type(module).__name__.lower())
        return self._unique(base)

    def _adopt_created_optimizers(self) -> None:
        """Watch created optimizers that update a watched parameter."""
        scope = self.scope
        if scope is None:
            return
        for ref in list(self._optimizers):
            opt = ref()
            if opt is None or any(o is opt for o in scope.optimizers):
                continue
            if any(scope.watches(p) for g in opt.param_groups for p in g["params"]):
                scope.add_optimizer(opt)

    def _adopt_optimizer(self, optimizer: Optimizer) -> None:
        """Watch an optimizer whose modules have not run yet (LBFGS steps before its closure's
        forward): the modules holding its parameters are found among the script's variables."""
        unknown = [
            p
            for g in optimizer.param_groups
            for p in g["params"]
            if self.scope is None or not self.scope.watches(p)
        ]
        if unknown:
            _, modules = variable_names(script_namespaces())
            found = owners(unknown, modules)
            plain = len(found) == 1 and (self.scope is None or not self.scope.models)
            for name, module in found:
                if module not in self._known_modules:
                    self._add_model(module, "" if plain else self._unique(name))
        self._ensure_scope(None).add_optimizer(optimizer)

    def _watch_leaves(self, tensors: Any) -> None:
        roots = [tensors] if isinstance(tensors, torch.Tensor) else list(tensors)
        leaves = [t for t in _leaf_tensors(roots) if t.requires_grad]
        scope = self.scope
        unknown = [
            t for t in leaves if scope is None or not (scope.watches(t) or scope.is_input(t))
        ]
        if not unknown:
            return
        optimizers = [opt for ref in self._optimizers if (opt := ref()) is not None]
        if optimizers:  # they say what is trained: a leaf none of them holds is an input
            ids = {id(t) for t in unknown}
            for opt in optimizers:
                if any(id(p) in ids for g in opt.param_groups for p in g["params"]):
                    self._adopt_optimizer(opt)
            return
        scope = self._ensure_scope(None)
        names = qualified_names(script_namespaces())
        order = {key: i for i, key in enumerate(names)}  # the script's order, not the graph's
        unknown.sort(key=lambda t: order.get(id(t), len(order)))
        taken = set(scope.param_names)
        named: dict[str, torch.Tensor] = {}
        for i, t in enumerate(unknown):
            name = names.get(id(t), f"tensor{i}")
            while name in taken or name in named:
                name += "_"
            named[name] = t
        scope.add_tensors(named, provisional=True)


def _leaf_tensors(roots: list[torch.Tensor]) -> list[torch.Tensor]:
    """Leaf tensors (AccumulateGrad variables) reachable from ``roots``, without recursion."""
    seen: set[int] = set()
    out: list[torch.Tensor] = []
    stack: list[Any] = [t.grad_fn for t in roots if isinstance(t, torch.Tensor)]
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

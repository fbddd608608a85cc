"""What a scope watches: models, loose leaf tensors and optimizers, and their parameters' names.

Adding any of them registers the new parameters (numbered and named once, written to the store),
hooks their gradients, attaches module hooks and tells the store. An optimizer's param groups
are compared at each of its steps, so parameters an ``add_param_group`` brought are taken in
then.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

import torch
from torch import nn
from torch.optim import Optimizer

from gradscope.capture.ddp import DesyncCheck
from gradscope.capture.first_graph import FirstGraph
from gradscope.capture.handles import OPTIMIZER_STEP_POST, OPTIMIZER_STEP_PRE
from gradscope.capture.manual import ManualUpdates
from gradscope.capture.naming import (
    WatchedParam,
    caller_names,
    collect_modules,
    collect_params,
    matches,
    module_infos,
    user_frame,
)
from gradscope.capture.optimizer import optimizer_info, stepping_optimizer
from gradscope.capture.parts import StepParts
from gradscope.capture.step import StepPath
from gradscope.capture.step_checks import StepChecks
from gradscope.capture.world import refuse_sharded
from gradscope.errors import GradscopeError


class WatchTypeError(GradscopeError, TypeError):
    """``watch`` was handed something that is not a module or an optimizer."""


def optimizer_list(optimizer: Optimizer | Sequence[Optimizer] | None) -> list[Optimizer]:
    """``gs.watch``'s ``optimizer`` argument as a list; a one-sentence error names a bad item."""
    if optimizer is None:
        return []
    single = isinstance(optimizer, Optimizer) or isinstance(
        getattr(optimizer, "optimizer", None), Optimizer
    )
    opts = [optimizer] if single else optimizer
    if not isinstance(opts, (list, tuple)):
        raise WatchTypeError(
            "gradscope.watch expects optimizer to be a torch.optim.Optimizer or a list of them, "
            f"got {type(optimizer).__name__}"
        )
    for i, opt in enumerate(opts):
        if not isinstance(opt, Optimizer) and not isinstance(
            getattr(opt, "optimizer", None), Optimizer
        ):
            raise WatchTypeError(
                f"gradscope.watch expects every optimizer in the list to be a "
                f"torch.optim.Optimizer, but item {i} is {type(opt).__name__} ({opt!r:.40}); "
                "pass only the optimizers"
            )
    return list(opts)


class Watched:
    """The models, leaf tensors and optimizers of one scope, and their registration."""

    def __init__(
        self,
        *,
        parts: StepParts,
        path: StepPath,
        manual: ManualUpdates,
        checks: StepChecks,
        ddp: DesyncCheck,
        graph: FirstGraph | None,
    ) -> None:
        self._parts = parts
        self._path = path
        self._manual = manual
        self._checks = checks
        self._ddp = ddp
        self._graph = graph
        #: The signature of each optimizer's param groups (``add_param_group`` changes it).
        self._signatures: list[tuple[int, ...]] = []

    def add_model(self, model: nn.Module, *, name: str, first_step: bool) -> None:
        """Watch another model in the same run; its names get ``name`` as prefix.

        Parameters already watched (shared with an earlier model) keep their first name.
        """
        if not isinstance(model, nn.Module):
            raise WatchTypeError(
                f"gradscope.watch expects an nn.Module, got {type(model).__name__}"
            )
        refuse_sharded(model)
        opts = self._parts.options
        self._parts.models[name] = model
        kept = collect_params({name: model}, include=opts.include, exclude=opts.exclude)
        self._parts.reg.exclude(model, kept)
        self._register_params(kept)
        modules = [
            (path, m)
            for path, m in collect_modules({name: model})
            if path == name or matches(path, opts.include, opts.exclude)
        ]
        if opts.activations and self._path.modules is not None:
            self._path.modules.attach(modules)
        self._checks.add_modules(modules, model)
        self._parts.writer.put("modules", module_infos(modules))
        self._path.attach_new()
        self._parts.reg.assign_owners(self._parts.optimizers)
        if self._graph is not None and first_step:
            self._graph.start(model)

    def add_tensors(self, named: dict[str, torch.Tensor], *, provisional: bool = False) -> None:
        """Watch leaf tensors that belong to no module (``w = torch.randn(3, requires_grad=True)``).

        ``provisional``: discovery's guess for a leaf a backward pass reached when no optimizer
        says what is trained. Such a leaf is kept only if the script changes it before the next
        backward pass (it is updated, so it is a parameter); one left unchanged is an input
        (``x.requires_grad_()`` for a gradient penalty) and is dropped without a trace.
        """
        for name, t in named.items():
            if not isinstance(t, torch.Tensor):
                raise WatchTypeError(
                    f"gradscope.watch expects tensors, but {name!r} is {type(t).__name__}; "
                    "pass the leaf tensors you train, e.g. gs.watch([w, b])"
                )
            if not t.is_leaf:
                raise GradscopeError(
                    f"{name!r} is not a leaf tensor (it was computed by "
                    f"{type(t.grad_fn).__name__}), so it gets no .grad and is never updated; "
                    "watch the tensors you created with requires_grad=True"
                )
        wps = [WatchedParam(0, name, (), "", t) for name, t in named.items()]
        added = self._register_params(wps, write=not provisional)
        if provisional:
            self._manual.guess(added)
        self._path.attach_new()
        self._parts.reg.assign_owners(self._parts.optimizers)

    def add_optimizer(self, optimizer: Optimizer) -> None:
        """Watch another optimizer; the first one added counts the steps.

        Wrappers (accelerate's ``AcceleratedOptimizer``, Lightning's ``LightningOptimizer``,
        SAM around its base optimizer) are unwrapped: the step hooks belong on the optimizer
        that updates the parameters.
        """
        optimizer = stepping_optimizer(optimizer)
        if not isinstance(optimizer, Optimizer):
            raise WatchTypeError(
                "gradscope.watch expects optimizer to be a torch.optim.Optimizer or a list of "
                f"them, got {type(optimizer).__name__}"
            )
        if any(o is optimizer for o in self._parts.optimizers):
            return
        self._manual.finish()
        self._parts.optimizers.append(optimizer)
        index = self._path.add_optimizer(optimizer)
        self._signatures.append(self._parts.reg.signature(optimizer))
        self._register_params(self._parts.reg.unseen(index, optimizer, self._names_for(optimizer)))
        self._path.attach_new()
        if index == 0:  # process-wide step hooks, filtered: the optimizer carries nothing
            self._parts.hooks.add(OPTIMIZER_STEP_PRE.listen(self._path.step_hook(pre=True)))
            self._parts.hooks.add(OPTIMIZER_STEP_POST.listen(self._path.step_hook(pre=False)))
            self._ddp.attach(optimizer, self._parts.hooks)  # after the step hooks: same numbers
        self._parts.reg.assign_owners(self._parts.optimizers)
        self._parts.writer.put(
            "optimizers",
            [
                optimizer_info(i, o, self._parts.reg.by_id)
                for i, o in enumerate(self._parts.optimizers)
            ],
        )
        self._parts.writer.put(
            "meta", {"optimizers": [type(o).__name__ for o in self._parts.optimizers]}
        )

    def _names_for(self, optimizer: Optimizer) -> dict[int, str]:
        """The user's names for the optimizer's parameters that no watched model holds.

        Looked up only when there are such parameters: the variables of the code that runs
        (the caller of ``gs.watch`` or of ``optimizer.step()``), by identity.
        """
        if all(id(p) in self._parts.reg.by_id for g in optimizer.param_groups for p in g["params"]):
            return {}
        return caller_names(user_frame(sys._getframe(1)))

    def _register_params(
        self, new: Iterable[WatchedParam], *, write: bool = True
    ) -> list[WatchedParam]:
        added = self._parts.reg.register(new)
        if added and write:
            self._parts.writer.put("params", [wp.info() for wp in added])
            self._parts.writer.put("meta", self._parts.reg.summary(self._parts.models))
        return added

    def sync_groups(self, index: int) -> None:
        """Take in parameters an ``add_param_group`` brought since the last step."""
        opt = self._parts.optimizers[index]
        signature = self._parts.reg.signature(opt)
        if signature == self._signatures[index]:
            return
        self._signatures[index] = signature
        self._register_params(self._parts.reg.unseen(index, opt, self._names_for(opt)))
        self._path.attach_new()
        self._parts.reg.assign_owners(self._parts.optimizers)
        self._parts.writer.put(
            "optimizers",
            [
                optimizer_info(i, o, self._parts.reg.by_id)
                for i, o in enumerate(self._parts.optimizers)
            ],
        )

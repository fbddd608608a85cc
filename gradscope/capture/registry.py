"""The parameters a scope watches: their order, names, and which optimizer updates which.

A parameter is watched once, under the first name it is met by (a model's qualified name, else
the user's variable for one only an optimizer holds, else ``optimizer<i>.group<g>.param<p>``).
Parameters no optimizer updates ("orphans") are read at the first optimizer's step. Indices are
never reused, so a tensor dropped again (an input that was taken for a parameter) leaves no
hole another could fall into.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import nn
from torch.optim import Optimizer

from gradscope.capture.naming import WatchedParam, materialised, unwrap


class ParamRegistry:
    """Watched parameters by index and by ``id()``; holds live tensors until ``release``."""

    def __init__(self) -> None:
        self.params: list[WatchedParam] = []
        self.by_id: dict[int, WatchedParam] = {}
        #: Parameters the include/exclude patterns left out: an optimizer holding them does not
        #: bring them back under a generated name.
        self.excluded: set[int] = set()
        #: Per optimizer, the watched parameters it updates (in its param-group order).
        self.owned: list[list[WatchedParam]] = []
        self.orphans: list[WatchedParam] = []
        self._next = 0

    def __contains__(self, tensor: object) -> bool:
        return id(tensor) in self.by_id

    def register(self, new: Iterable[WatchedParam]) -> list[WatchedParam]:
        """Number and keep the parameters not watched yet; returns those."""
        added = []
        for wp in new:
            if id(wp.param) in self.by_id:
                continue
            wp.index = self._next
            self._next += 1
            self.params.append(wp)
            self.by_id[id(wp.param)] = wp
            added.append(wp)
        return added

    def exclude(self, model: nn.Module, kept: Iterable[WatchedParam]) -> None:
        """Remember the parameters of ``model`` the user's include/exclude left out (a lazy
        module's, not yet made, are not left out: an optimizer brings them in later)."""
        kept_ids = {id(wp.param) for wp in kept}
        self.excluded.update(
            id(p) for p in model.parameters() if id(p) not in kept_ids and materialised(p)
        )

    def remove(self, wps: Iterable[WatchedParam]) -> None:
        """Stop watching ``wps`` (in place: the backward tracker shares :attr:`params`)."""
        gone = {wp.index for wp in wps}
        self.params[:] = [wp for wp in self.params if wp.index not in gone]
        self.by_id = {k: wp for k, wp in self.by_id.items() if wp.index not in gone}
        self.orphans = [wp for wp in self.orphans if wp.index not in gone]
        self.owned = [[wp for wp in wps_ if wp.index not in gone] for wps_ in self.owned]

    def unseen(
        self, index: int, optimizer: Optimizer, names: Mapping[int, str] | None = None
    ) -> list[WatchedParam]:
        """The optimizer's parameters that no model holds, named by ``names`` (``id`` → the
        user's name) or else generated (a parameter listed twice comes twice; :meth:`register`
        keeps the first)."""
        names = names or {}
        taken = {wp.name for wp in self.params}
        out = []
        for gi, group in enumerate(optimizer.param_groups):
            for pi, p in enumerate(group["params"]):
                if id(p) in self.by_id or id(p) in self.excluded:
                    continue
                name = names.get(id(p)) or f"optimizer{index}.group{gi}.param{pi}"
                while name in taken:
                    name += "_"
                taken.add(name)
                module = name.rpartition(".")[0] if id(p) in names else ""
                out.append(WatchedParam(0, name, (), module, p))
        return out

    def signature(self, optimizer: Optimizer) -> tuple[int, ...]:
        """What changes when ``add_param_group`` (or a hand edit of a group) adds parameters."""
        return tuple(len(g["params"]) for g in optimizer.param_groups)

    def assign_owners(self, optimizers: list[Optimizer]) -> None:
        """Recompute which watched parameters each optimizer updates, and the orphans."""
        self.owned = [
            [self.by_id[id(p)] for g in o.param_groups for p in g["params"] if id(p) in self.by_id]
            for o in optimizers
        ]
        owned = {wp.index for wps in self.owned for wp in wps}
        self.orphans = [wp for wp in self.params if wp.index not in owned]

    def at_step(self, index: int, *, orphans: bool) -> list[WatchedParam]:
        """What an optimizer's step reads: its parameters, plus the orphans at the clock's."""
        return self.owned[index] + (self.orphans if orphans else [])

    def summary(self, models: Mapping[str, nn.Module]) -> dict[str, Any]:
        """Run-level sizes for the store's meta table."""
        return {
            "n_params": sum(wp.param.numel() for wp in self.params),
            "n_trainable": sum(wp.param.numel() for wp in self.params if wp.param.requires_grad),
            "devices": sorted({str(wp.param.device) for wp in self.params}) or ["cpu"],
            "models": {k: type(unwrap(m)).__name__ for k, m in models.items()},
        }

    def release(self) -> None:
        """Drop every reference to a parameter (new containers: the tracker has the old list)."""
        self.params = []
        self.by_id = {}
        self.excluded = set()
        self.owned = []
        self.orphans = []

"""Names for what a scope watches: parameters by qualified name, tied parameters once.

Parameters a model holds are named by ``named_parameters()``. Anything else (a module only an
optimizer reaches, a bare tensor) is named as the user's code names it: the variable that holds
it, found by identity among the script's or the caller's variables.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import UninitializedParameter

from gradscope.records import ModuleInfo, ParamInfo


@dataclass(eq=False)
class WatchedParam:
    """A live parameter and its names; lives only while the scope is open."""

    index: int
    name: str
    aliases: tuple[str, ...]
    module: str
    param: torch.Tensor

    def info(self) -> ParamInfo:
        p = self.param
        return ParamInfo(
            name=self.name,
            shape=tuple(p.shape),
            dtype=str(p.dtype).removeprefix("torch."),
            device=str(p.device),
            requires_grad=p.requires_grad,
            module=self.module,
            aliases=self.aliases,
        )


def unwrap(model: nn.Module) -> nn.Module:
    """The user's module inside DDP/DataParallel or ``torch.compile`` wrappers."""
    while True:
        if hasattr(model, "_orig_mod") and isinstance(model._orig_mod, nn.Module):
            model = model._orig_mod
        elif isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
            model = model.module
        else:
            return model


def matches(name: str, include: Sequence[str] | None, exclude: Sequence[str] | None) -> bool:
    """Whether a qualified name passes ``include``/``exclude`` glob patterns.

    A pattern matches a name, or any module prefix of it (``"encoder"`` covers
    ``"encoder.layers.0.weight"``).
    """

    def hit(patterns: Sequence[str]) -> bool:
        parts = name.split(".")
        prefixes = [".".join(parts[: i + 1]) for i in range(len(parts))]
        return any(fnmatch.fnmatchcase(p, pat) for pat in patterns for p in prefixes)

    if include and not hit(include):
        return False
    return not (exclude and hit(exclude))


def materialised(param: torch.Tensor) -> bool:
    """Whether a parameter has its shape: a lazy module's (``nn.LazyLinear``) has none before
    its first call."""
    return not isinstance(param, UninitializedParameter)


def collect_params(
    models: Mapping[str, nn.Module],
    *,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> list[WatchedParam]:
    """Every parameter of every model, once, in ``named_parameters()`` order.

    With several models each name gets its model's key as prefix. Tied parameters keep the first
    name and list the others in ``aliases``. A lazy module's parameters before its first call
    have no shape yet and are left out; the optimizer built after that call brings them in.
    """
    first: dict[int, tuple[str, str, list[str], torch.Tensor]] = {}
    order: list[int] = []
    for prefix, model in models.items():
        for name, p in unwrap(model).named_parameters(remove_duplicate=False):
            full = f"{prefix}.{name}" if prefix else name
            key = id(p)
            if key in first:
                first[key][2].append(full)
                continue
            module = full.rpartition(".")[0]
            first[key] = (full, module, [], p)
            order.append(key)
    out: list[WatchedParam] = []
    for key in order:
        name, module, aliases, param = first[key]
        if not materialised(param):
            continue  # a lazy module before its first call: watched once an optimizer holds it
        if not any(matches(n, include, exclude) for n in (name, *aliases)):
            continue
        out.append(WatchedParam(len(out), name, tuple(aliases), module, param))
    return out


def collect_modules(models: Mapping[str, nn.Module]) -> list[tuple[str, nn.Module]]:
    """Every module of every model with its qualified path (root path is the model's key)."""
    out = []
    for prefix, model in models.items():
        for name, module in unwrap(model).named_modules():
            path = ".".join(p for p in (prefix, name) if p)
            out.append((path, module))
    return out


def module_infos(modules: Iterable[tuple[str, nn.Module]]) -> list[ModuleInfo]:
    """The module tree as records, with buffers (BatchNorm running stats …)."""
    infos = []
    for path, module in modules:
        parent = path.rpartition(".")[0] if path else None
        buffers = tuple(
            (name, tuple(b.shape), str(b.dtype).removeprefix("torch."))
            for name, b in module.named_buffers(recurse=False)
            if b is not None
        )
        infos.append(
            ModuleInfo(
                path=path,
                type=type(module).__name__,
                parent=parent,
                n_params=sum(
                    p.numel() for p in module.parameters(recurse=False) if materialised(p)
                ),
                buffers=buffers,
            )
        )
    return infos


def script_namespaces(frame: FrameType | None = None) -> list[Mapping[str, Any]]:
    """The variables a script's author can see, outermost first.

    The ``__main__`` module's globals, then the locals of every frame on the stack (from
    ``frame`` outwards) whose code belongs to the script (a ``def main():`` keeps its model in
    a local). The outermost first, so the name a module or tensor was first given wins.
    """
    main = sys.modules.get("__main__")
    main_vars = vars(main) if main is not None else {}
    frames = []
    f: FrameType | None = frame if frame is not None else sys._getframe(1)
    while f is not None:
        if f.f_globals is main_vars and f.f_code.co_name != "<module>":
            frames.append(f.f_locals)
        f = f.f_back
    return [main_vars, *reversed(frames)]


def variable_names(
    namespaces: Iterable[Mapping[str, Any]],
) -> tuple[dict[int, str], list[tuple[str, nn.Module]]]:
    """Names by identity: tensor variables (``w``) and module variables with parameters.

    Returns ``{id(tensor): name}`` and the ``(name, module)`` pairs in the order the
    variables were first bound. Private names (``_x``) and loss modules are left out; a value
    bound to several names keeps the first (``net_sgd`` rather than the loop's ``net``).
    """
    tensors: dict[int, str] = {}
    modules: dict[int, tuple[str, nn.Module]] = {}
    for namespace in namespaces:
        for key, value in list(namespace.items()):
            if key.startswith("_"):
                continue
            if isinstance(value, torch.Tensor):
                tensors.setdefault(id(value), key)
            elif (
                isinstance(value, nn.Module)
                and not isinstance(value, nn.modules.loss._Loss)
                and id(value) not in modules
                and next(iter(value.parameters()), None) is not None
            ):
                modules[id(value)] = (key, value)
    return tensors, list(modules.values())


def owners(
    tensors: Iterable[torch.Tensor], modules: Sequence[tuple[str, nn.Module]]
) -> list[tuple[str, nn.Module]]:
    """The module variables that hold ``tensors``, each tensor given to the first that holds
    it (in ``modules`` order); only modules that were given at least one are returned."""
    wanted = {id(t) for t in tensors}
    found: list[tuple[str, nn.Module]] = []
    for name, module in modules:
        held = {id(p) for p in unwrap(module).parameters()} & wanted
        if held:
            found.append((name, module))
            wanted -= held
        if not wanted:
            break
    return found


def user_frame(frame: FrameType | None) -> FrameType | None:
    """The innermost frame, from ``frame`` outwards, that is not torch's or gradscope's code."""
    skip = (os.path.dirname(torch.__file__), os.path.dirname(os.path.dirname(__file__)))
    while frame is not None and frame.f_code.co_filename.startswith(skip):
        frame = frame.f_back
    return frame


def caller_names(frame: FrameType | None) -> dict[int, str]:
    """Qualified names of the tensors the calling code can see, by identity.

    A module variable names its parameters (``head.weight``); a tensor variable names itself.
    Used for parameters that reach a scope through an optimizer or a list, not a model.
    """
    namespaces: list[Mapping[str, Any]] = []
    if frame is not None:
        namespaces = (
            [frame.f_globals]
            if frame.f_locals is frame.f_globals
            else [frame.f_globals, frame.f_locals]
        )
    return qualified_names(namespaces)


def qualified_names(namespaces: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    """``{id(tensor): name}`` for tensor variables and the parameters of module variables."""
    tensors, modules = variable_names(namespaces)
    names = dict(tensors)
    for var, module in modules:
        for name, p in unwrap(module).named_parameters():
            names.setdefault(id(p), f"{var}.{name}")
    return names

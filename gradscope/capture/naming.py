"""Names for what a scope watches: parameters by qualified name, tied parameters once."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

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


def collect_params(
    models: Mapping[str, nn.Module],
    *,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> list[WatchedParam]:
    """Every parameter of every model, once, in ``named_parameters()`` order.

    With several models each name gets its model's key as prefix. Tied parameters keep the first
    name and list the others in ``aliases``.
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
    out = []
    for key in order:
        name, module, aliases, p = first[key]
        if not any(matches(n, include, exclude) for n in (name, *aliases)):
            continue
        out.append(WatchedParam(len(out), name, tuple(aliases), module, p))
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
                n_params=sum(p.numel() for p in module.parameters(recurse=False)),
                buffers=buffers,
            )
        )
    return infos

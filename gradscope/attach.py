"""``gs.watch``: the one-line way to attach gradscope to a model and its optimizer."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from types import FrameType

import torch
from torch import nn
from torch.optim import Optimizer

from gradscope.capture.naming import caller_names
from gradscope.options import WatchOptions, folded_option, patterns
from gradscope.scope import Scope, WatchTypeError


def watch(
    model: nn.Module | Sequence[torch.Tensor] | Mapping[str, torch.Tensor] | torch.Tensor,
    optimizer: Optimizer | Sequence[Optimizer] | None = None,
    *,
    store: str | os.PathLike[str] | None = None,
    every: int = 1,
    detail_every: int = 10,
    hist_bins: int = 32,
    hist_scale: str = "linear",
    hist_samples: int | None = 65_536,
    activations: bool = True,
    updates: bool = True,
    include: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    doctor: bool = True,
    graph: bool = True,
    strict: bool = False,
    hist_every: int | None = None,
    act_every: int | None = None,
) -> Scope:
    """Attach gradscope to ``model`` (and ``optimizer``) and record into ``store``.

    ``model`` is an ``nn.Module``, or the leaf tensors a loop trains without one:
    ``gs.watch({"w": w, "b": b})`` names them by the keys, ``gs.watch([w, b])`` by the caller's
    variables holding them (``tensor0`` … where none does). Use it as a context manager, or call
    ``scope.close()`` when training ends: either removes every hook. ``store`` defaults to
    ``runs/<model class>-<timestamp>.gsdb``. See :class:`gradscope.options.WatchOptions` for
    what each option controls. ``hist_every`` and ``act_every`` are refused with a message that
    points to ``detail_every``, which replaced them.
    """
    for name, value in (("hist_every", hist_every), ("act_every", act_every)):
        if value is not None:
            raise folded_option(name)
    tensors = None
    if not isinstance(model, nn.Module):
        tensors = _named_tensors(model, sys._getframe(1))
    options = WatchOptions(
        every=every,
        detail_every=detail_every,
        hist_bins=hist_bins,
        hist_scale=hist_scale,
        hist_samples=hist_samples,
        activations=activations,
        updates=updates,
        include=patterns(include),
        exclude=patterns(exclude),
        doctor=doctor,
        graph=graph,
        strict=strict,
    )
    if isinstance(model, nn.Module):
        return Scope(model, optimizer, store=store, options=options)
    return Scope(None, optimizer, store=store, options=options, tensors=tensors)


def _named_tensors(given: object, frame: FrameType | None) -> dict[str, torch.Tensor]:
    """Leaf tensors by name: a dict's keys, else the caller's variables holding them."""
    if isinstance(given, torch.Tensor):
        given = [given]
    if isinstance(given, Mapping) and given:
        bad = [k for k, v in given.items() if not isinstance(k, str)]
        if bad:
            raise WatchTypeError(
                f"gradscope.watch names tensors by the dict's keys, which must be strings; got "
                f"{bad[0]!r}; pass e.g. gs.watch({{'w': w, 'b': b}})"
            )
        return dict(given)
    if isinstance(given, (list, tuple)) and given:
        if all(isinstance(t, torch.Tensor) for t in given):
            names = caller_names(frame)
            out: dict[str, torch.Tensor] = {}
            for i, t in enumerate(given):
                name = names.get(id(t), f"tensor{i}")
                while name in out:
                    name += "_"
                out[name] = t
            return out
        if all(isinstance(m, nn.Module) for m in given):
            raise WatchTypeError(
                "gradscope.watch takes one model; wrap several in one, e.g. "
                "gs.watch(nn.ModuleDict({'embed': embed, 'gru': gru}), optimizer)"
            )
    got = "None" if given is None else type(given).__name__
    raise WatchTypeError(
        f"gradscope.watch expects an nn.Module as its first argument, got {got}; pass the "
        "model you train, e.g. gs.watch(model, optimizer), or the leaf tensors a loop without "
        "a model trains, e.g. gs.watch([w, b]) or gs.watch({'w': w, 'b': b})"
    )

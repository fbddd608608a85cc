"""``gs.watch``: the one-line way to attach gradscope to a model and its optimizer."""

from __future__ import annotations

import os
from collections.abc import Sequence

from torch import nn
from torch.optim import Optimizer

from gradscope.options import WatchOptions, patterns
from gradscope.scope import Scope, WatchTypeError


def watch(
    model: nn.Module,
    optimizer: Optimizer | Sequence[Optimizer] | None = None,
    *,
    store: str | os.PathLike[str] | None = None,
    every: int = 1,
    hist_every: int | None = None,
    act_every: int | None = None,
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
) -> Scope:
    """Attach gradscope to ``model`` (and ``optimizer``) and record into ``store``.

    Use it as a context manager, or call ``scope.close()`` when training ends: either removes
    every hook. ``store`` defaults to ``runs/<model class>-<timestamp>.gsdb``. See
    :class:`gradscope.options.WatchOptions` for what each option controls.
    """
    if not isinstance(model, nn.Module):
        got = "None" if model is None else type(model).__name__
        raise WatchTypeError(
            f"gradscope.watch expects an nn.Module as its first argument, got {got}; "
            "pass the model you train, e.g. gs.watch(model, optimizer)"
        )
    options = WatchOptions(
        every=every,
        hist_every=hist_every,
        act_every=act_every,
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
    return Scope(model, optimizer, store=store, options=options)

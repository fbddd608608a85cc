"""What the trainer callbacks share: one scope per training run, opened and closed by hooks.

A trainer calls its callbacks from inside the training loop, so nothing gradscope does there may
stop training: every call goes through one :class:`~gradscope.capture.guard.Instrument`, which
reports the first failure once as a ``GradscopeWarning`` and switches the callback off for the
rest of the run (``strict=True`` re-raises, for tests). Closing is always attempted, even after
a failure, because a scope left open keeps its hooks on the model.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim import Optimizer

from gradscope.attach import watch
from gradscope.capture.guard import Instrument, flush_warnings, has_deferred_warnings
from gradscope.errors import InstrumentError
from gradscope.options import FOLDED, WatchOptions, folded_option, patterns
from gradscope.scope import Scope

#: Arguments of ``gs.watch`` a callback fills in itself.
_SUPPLIED = ("model", "optimizer", "store")


def check_watch_options(options: Mapping[str, Any]) -> None:
    """Fail when the callback is built, not mid-fit, on an option ``gs.watch`` would refuse."""
    known = [p for p in inspect.signature(watch).parameters if p not in (*_SUPPLIED, *FOLDED)]
    for name in FOLDED:
        if options.get(name) is not None:
            raise folded_option(name)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise TypeError(
            f"unknown gradscope.watch option(s) {', '.join(unknown)}; "
            f"the options are {', '.join(known)}"
        )
    fields = {f.name for f in dataclasses.fields(WatchOptions)}
    values: dict[str, Any] = {
        k: patterns(v) if k in ("include", "exclude") else v
        for k, v in options.items()
        if k in fields
    }
    WatchOptions(**values)  # raises OptionError naming the bad value


def real_optimizer(optimizer: Optimizer) -> Optimizer:
    """The torch optimizer inside wrappers such as accelerate's ``AcceleratedOptimizer``.

    Wrappers forward ``step()`` to the optimizer they hold; the step hooks gradscope counts steps
    with fire on that inner optimizer, once per real step.
    """
    seen: set[int] = set()
    while (
        isinstance(getattr(optimizer, "optimizer", None), Optimizer) and id(optimizer) not in seen
    ):
        seen.add(id(optimizer))
        optimizer = optimizer.optimizer  # type: ignore[attr-defined]
    return optimizer


def scalar_loss(outputs: Any) -> torch.Tensor | float | None:
    """The loss in what a training step returned (a tensor, or a mapping with ``"loss"``)."""
    value = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.is_floating_point():
        return value.detach()
    if isinstance(value, float):
        return value
    return None


def numbered_path(path: Path, run: int) -> Path:
    """``run.gsdb`` for the first fit, ``run-1.gsdb`` for the second: a second fit with the same
    callback must not replace the first fit's store."""
    return path if run == 0 else path.with_name(f"{path.stem}-{run}{path.suffix}")


class Attachment:
    """The scope a callback opens when training starts and closes when it ends."""

    def __init__(
        self, name: str, store: str | os.PathLike[str] | None, options: Mapping[str, Any]
    ) -> None:
        check_watch_options(options)
        self.name = name
        self._store = Path(store) if store is not None else None
        self._options = dict(options)
        self._strict = bool(options.get("strict", False))
        self._instrument = Instrument(name, strict=self._strict)
        self._runs = 0
        self.scope: Scope | None = None

    @property
    def store_path(self) -> Path | None:
        """The store of the current (or last) run; before the first run, the one asked for."""
        return self.scope.path if self.scope is not None else self._store

    @property
    def active(self) -> bool:
        """An open scope that has not failed."""
        return self.scope is not None and not self.scope.closed and self._instrument.enabled

    def open(self, model: nn.Module | None, optimizers: Sequence[Optimizer]) -> None:
        """Start recording a run (closing one a previous fit left open).

        A ``model`` that is not a module is ``gs.watch``'s to refuse; here that is reported like
        any other failure, since it happens inside the trainer's loop.
        """
        self.close()
        self._instrument = Instrument(self.name, strict=self._strict)
        store = numbered_path(self._store, self._runs) if self._store is not None else None
        self._runs += 1
        inner = [real_optimizer(o) for o in optimizers] or None
        self.scope = self._instrument.run(watch, model, inner, store=store, **self._options)
        flush_warnings()  # a callback, not a hook: what failed is said here, and never raised

    def run(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        """Call ``fn`` on the open scope's behalf; a failure switches the callback off."""
        if self.active:
            self._instrument.run(fn, *args, **kwargs)
            if has_deferred_warnings():
                flush_warnings()

    def close(self) -> None:
        """Remove every hook and finish the store; safe to call twice, never raises (not strict)."""
        scope = self.scope
        if scope is None or scope.closed:
            return
        try:
            scope.close()
        except InstrumentError:
            raise
        except Exception as exc:
            self._instrument.fail(exc)
        flush_warnings()


class AttachedCallback:
    """What both trainer callbacks show their user: the run's scope, its store, and ``close``."""

    _attachment: Attachment

    @property
    def scope(self) -> Scope | None:
        """The scope of the current or last run (``None`` before the first one)."""
        return self._attachment.scope

    @property
    def store_path(self) -> Path | None:
        """Where the current or last run is recorded."""
        return self._attachment.store_path

    def close(self) -> None:
        """Close the scope now (the run's end does this; safe to call twice)."""
        self._attachment.close()

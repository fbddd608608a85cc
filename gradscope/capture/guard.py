"""Instruments that switch themselves off instead of killing training."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from typing import TypeVar

import torch

from gradscope.errors import GradscopeWarning, InstrumentError

T = TypeVar("T")

_LIBRARY_DIRS = tuple(
    os.path.dirname(m.__file__) + os.sep  # type: ignore[arg-type]
    for m in (sys.modules["gradscope"], torch)
)


def warn_at_user_code(message: str, category: type[Warning]) -> None:
    """Warn with the line of the user's code that led here (``opt.step()``, ``backward()``),
    past the frames of gradscope and torch, whatever depth the hook fired at."""
    level = 2
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


class Instrument:
    """A named piece of capture that can fail on its own.

    ``run(fn, ...)`` calls ``fn`` and returns its result; the first exception is reported once as
    a :class:`GradscopeWarning` and the instrument turns off (``run`` then returns ``None``
    without calling). In strict mode the exception is re-raised as :class:`InstrumentError`,
    which is what tests want.
    """

    def __init__(self, name: str, *, strict: bool = False) -> None:
        self.name = name
        self.strict = strict
        self.enabled = True
        self.error: BaseException | None = None

    def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T | None:
        if not self.enabled:
            return None
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            self.fail(exc)
            return None

    def fail(self, exc: BaseException) -> None:
        """Switch off and report; in strict mode raise :class:`InstrumentError` instead."""
        if self.strict:
            self.enabled = False
            self.error = exc
            raise InstrumentError(f"gradscope instrument {self.name!r} failed: {exc!r}") from exc
        self.report(exc)

    def report(self, exc: BaseException) -> None:
        """Switch off and warn once, never raising (for failures on other threads)."""
        if self.error is not None:
            return
        self.enabled = False
        self.error = exc
        warnings.warn(
            f"gradscope: the {self.name!r} instrument failed ({type(exc).__name__}: {exc}) and "
            "is switched off for the rest of the run; training continues unaffected.",
            GradscopeWarning,
            stacklevel=3,
        )


class Instruments:
    """The scope's instruments by name, all sharing one strict setting."""

    NAMES = (
        "grads",
        "weights",
        "updates",
        "optimizer",
        "histograms",
        "modules",
        "loss",
        "steps",
        "probes",
        "store",
        "graph",
        "doctor",
    )

    def __init__(self, *, strict: bool = False) -> None:
        self._by_name = {n: Instrument(n, strict=strict) for n in self.NAMES}

    def __getitem__(self, name: str) -> Instrument:
        return self._by_name[name]

    def failed(self) -> dict[str, BaseException]:
        return {n: i.error for n, i in self._by_name.items() if i.error is not None}

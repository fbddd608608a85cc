"""Instruments that switch themselves off instead of killing training, and gradscope's warnings.

A warning is an exception in a process run with ``python -W error`` or pytest's
``filterwarnings = error``. Raised from inside a hook it would surface in the user's
``backward()`` or ``step()``, so hooks never warn: they :func:`defer_warning`, and the queue is
emitted by :func:`flush_warnings` at points outside autograd (an optimizer step's end, the start
of the next backward pass, ``scope.log``/``close``, interpreter exit). Even there a warning the
filters turn into an exception is caught and goes to the ``gradscope`` logger instead: gradscope
never raises into training.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import sys
import warnings
from collections.abc import Callable
from typing import TypeVar

import torch

from gradscope.errors import GradscopeWarning, InstrumentError

T = TypeVar("T")

_LIBRARY_DIRS = tuple(
    os.path.dirname(str(m.__file__)) + os.sep for m in (sys.modules["gradscope"], torch)
)


logger = logging.getLogger("gradscope")

#: Warnings raised where emitting was not safe, oldest first (appends are atomic).
_DEFERRED: collections.deque[tuple[str, type[Warning]]] = collections.deque()
_flush_at_exit = False


def emit_warning(message: str, category: type[Warning], *, stacklevel: int = 1) -> None:
    """``warnings.warn``, except that a warning the filters make an error is logged instead.

    ``stacklevel`` counts from the caller, as for ``warnings.warn``.
    """
    try:
        warnings.warn(message, category, stacklevel=stacklevel + 1)
    except Exception:  # `-W error`, `filterwarnings = error`: never an exception in training
        logger.warning("%s: %s", category.__name__, message, extra={"gradscope_category": category})


def warn_at_user_code(message: str, category: type[Warning]) -> None:
    """Warn with the line of the user's code that led here (``opt.step()``, ``backward()``),
    past the frames of gradscope and torch, whatever depth it is called at. Never raises."""
    level = 2
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        frame = frame.f_back
        level += 1
    emit_warning(message, category, stacklevel=level)


def defer_warning(message: str, category: type[Warning]) -> None:
    """Queue a warning raised inside a hook or an engine callback for :func:`flush_warnings`
    (at the latest at interpreter exit, so none is lost when no scope flushes it)."""
    global _flush_at_exit
    if not _flush_at_exit:
        _flush_at_exit = True
        atexit.register(flush_warnings)
    _DEFERRED.append((message, category))


def has_deferred_warnings() -> bool:
    return bool(_DEFERRED)


def flush_warnings() -> None:
    """Emit the queued warnings at the user's line (call only outside hooks). Never raises."""
    while _DEFERRED:
        try:
            message, category = _DEFERRED.popleft()
        except IndexError:  # another thread took the last one
            return
        warn_at_user_code(message, category)


class Instrument:
    """A named piece of capture that can fail on its own.

    ``run(fn, ...)`` calls ``fn`` and returns its result; the first exception is reported once as
    a :class:`GradscopeWarning` (queued: ``run`` is called inside hooks) and the instrument turns
    off (``run`` then returns ``None`` without calling). In strict mode the exception is
    re-raised as :class:`InstrumentError`, which is what tests want.
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
        """Switch off and queue one warning (failures happen inside hooks and on other threads,
        where a warning must not be raised; see :func:`defer_warning`)."""
        if self.error is not None:
            return
        self.enabled = False
        self.error = exc
        defer_warning(
            f"gradscope: the {self.name!r} instrument failed ({type(exc).__name__}: {exc}) and "
            "is switched off for the rest of the run; training continues unaffected.",
            GradscopeWarning,
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

"""Scopes left open are closed at a normal interpreter exit, so their last steps reach the store.

A script that never calls ``scope.close()`` (no ``with`` block, an early ``return``) would
otherwise lose what the background writer had not committed yet, and leave the store marked as
still being written. The open scopes are held weakly: this registry never keeps a scope, and
so a model, alive. One ``atexit`` handler serves every scope of the process.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from typing import Protocol

from gradscope.capture.guard import flush_warnings, logger


class Closable(Protocol):
    def close(self) -> None: ...


_OPEN: weakref.WeakSet[Closable] = weakref.WeakSet()
_lock = threading.Lock()
_registered = False


def close_at_exit(scope: Closable) -> None:
    """Close ``scope`` when the interpreter exits normally, unless it is closed before."""
    global _registered
    with _lock:
        _OPEN.add(scope)
        if not _registered:
            atexit.register(close_open_scopes)
            _registered = True


def discard_at_exit(scope: Closable) -> None:
    """``scope`` closed itself: nothing left to do for it at exit."""
    with _lock:
        _OPEN.discard(scope)


def close_open_scopes() -> None:
    """Close every scope still open (newest first), then emit the warnings still queued."""
    with _lock:
        scopes = list(_OPEN)
    for scope in reversed(scopes):
        try:
            scope.close()
        except Exception as exc:  # at exit there is no training left to protect; say why
            logger.warning("gradscope: closing an open scope at exit failed: %r", exc)
    flush_warnings()

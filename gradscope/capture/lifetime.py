"""Scopes left open are closed at a normal interpreter exit, so their last steps reach the store.

A script that never calls ``scope.close()`` (no ``with`` block, an early ``return``) would
otherwise lose what the background writer had not committed yet, and leave the store marked as
still being written. The open scopes are held weakly: this registry never keeps a scope, and
so a model, alive. One ``atexit`` handler serves every scope of the process.

A SIGTERM (a job scheduler, ``kill``, a container stopping) ends a process without ``atexit``.
Where SIGTERM still has its default action, a handler closes the open scopes first, from a
helper thread with a time limit (the training thread may be stopped anywhere, even holding a
lock the closing needs), then ends the process by SIGTERM exactly as it would have ended. A
script's own SIGTERM handler is never replaced, and the default comes back once no scope is
open.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
import weakref
from types import FrameType
from typing import Protocol

from gradscope.capture.guard import flush_warnings, logger


class Closable(Protocol):
    def close(self) -> None: ...


_OPEN: weakref.WeakSet[Closable] = weakref.WeakSet()
_lock = threading.Lock()
_registered = False


#: Seconds the SIGTERM handler waits for the open scopes to close before the process ends.
SIGTERM_GRACE = 10.0
_sigterm_pid: int | None = None  # the process that installed the handler (forks inherit it)


def close_at_exit(scope: Closable) -> None:
    """Close ``scope`` when the interpreter exits normally or is sent SIGTERM, unless it is
    closed before."""
    global _registered
    with _lock:
        _OPEN.add(scope)
        if not _registered:
            atexit.register(close_open_scopes)
            _registered = True
    _catch_sigterm()


def discard_at_exit(scope: Closable) -> None:
    """``scope`` closed itself: nothing left to do for it at exit."""
    with _lock:
        _OPEN.discard(scope)
        last = not _OPEN
    if last:
        _release_sigterm()


def _catch_sigterm() -> None:
    global _sigterm_pid
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set signal handlers
    try:
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
            _sigterm_pid = os.getpid()
    except (ValueError, OSError):  # an interpreter without signals (embedded, WASI)
        pass


def _release_sigterm() -> None:
    global _sigterm_pid
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _sigterm_pid = None
    except (ValueError, OSError):
        pass


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if os.getpid() == _sigterm_pid:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut it short
        closer = threading.Thread(target=close_open_scopes, name="gradscope-sigterm")
        closer.daemon = True
        closer.start()
        closer.join(SIGTERM_GRACE)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


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

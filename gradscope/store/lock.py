"""One writer per store: a lock the operating system drops when the writing process ends.

A second scope on a store that is being written (in this process or another) would replace the
file under the first one. So a writer holds an exclusive ``flock`` on ``NAME.gsdb-lock`` beside
the store for as long as it writes. The kernel releases the lock when the process ends by any
means, ``SIGKILL`` included, so a lock file left behind by a dead process never blocks the next
run. The file holds the writer's process id, which the refusal names. The lock file is not the
SQLite file: closing a second descriptor of the database itself would drop SQLite's own locks.

Where ``flock`` is missing (Windows, which refuses to delete an open file anyway) or the file
system does not support it, writers go unlocked.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from pathlib import Path

from gradscope.errors import GradscopeError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_SUFFIX = "-lock"

#: Locks held by this process; a forked child closes its inherited copies (see below).
_HELD: weakref.WeakSet[WriterLock] = weakref.WeakSet()


def lock_path(store: str | os.PathLike[str]) -> Path:
    """``runs/x.gsdb`` → ``runs/x.gsdb-lock``."""
    return Path(f"{os.fspath(store)}{LOCK_SUFFIX}")


def is_being_written(store: str | os.PathLike[str]) -> bool:
    """Whether a live writer (any process, this one included) holds ``store``'s lock."""
    if fcntl is None:
        return False
    try:
        fd = os.open(lock_path(store), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # also drops the shared lock just taken
    return False


class WriterLock:
    """The exclusive lock of one store's writer; :meth:`release` is idempotent."""

    def __init__(self, store: str | os.PathLike[str]) -> None:
        self.store = Path(store)
        self.path = lock_path(store)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise :class:`GradscopeError` naming who writes the store."""
        if fcntl is None:
            return
        for _ in range(100):  # a lock file replaced between open and flock: open the new one
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            except OSError as exc:
                raise GradscopeError(
                    f"cannot write store {str(self.store)!r} ({exc.strerror}): pass store= a "
                    "path in a writable folder"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                raise GradscopeError(_busy_message(self.store, holder)) from None
            except OSError:  # no flock on this file system: write unlocked
                os.close(fd)
                return
            if _same_file(fd, self.path):
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                    os.write(fd, f"{os.getpid()}\n".encode())
                self._fd = fd
                _HELD.add(self)
                return
            os.close(fd)  # the holder released and removed it meanwhile
        raise GradscopeError(f"cannot lock store {str(self.store)!r}: its lock file keeps changing")

    def release(self) -> None:
        """Remove the lock file and drop the lock (the order lets no one lock a dying file)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        _HELD.discard(self)
        with contextlib.suppress(OSError):
            if _same_file(fd, self.path):
                self.path.unlink()
        os.close(fd)

    def _forget(self) -> None:
        """In a forked child: close the inherited descriptor, leaving the parent's lock held."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (OSError, ValueError):
        return None


def _busy_message(store: Path, pid: int | None) -> str:
    if pid == os.getpid():
        return (
            f"another scope in this process is writing store {str(store)!r}: close it first "
            "(scope.close()) or pass a different store= path"
        )
    who = f"process {pid}" if pid is not None else "another process"
    return (
        f"{who} is writing store {str(store)!r}: wait until it finishes or pass a different "
        "store= path"
    )


def _after_fork_in_child() -> None:
    for lock in list(_HELD):
        lock._forget()
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

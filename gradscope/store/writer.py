"""The background writer: training hands over records and never waits on disk.

Records go into a pending list guarded by a condition variable; one thread wakes when enough
has piled up or a second has passed and writes everything pending in one transaction. Nothing
spins. When the writer falls far behind, new batches lose their histograms and module stats
first, then their per-parameter detail; the step rows (loss, lr, time) are always kept.

One writer per store (:mod:`gradscope.store.lock`). Another SQLite client that holds the file's
write lock (a ``sqlite3`` shell in a transaction, a backup) only delays writing: the batch is
retried with back-off until the lock is free, and ``on_notice`` says so once.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gradscope.errors import GradscopeError
from gradscope.store import schema
from gradscope.store.checks import check_store_file
from gradscope.store.connect import connect
from gradscope.store.lock import WriterLock
from gradscope.store.rows import RowEncoder

Item = tuple[str, Any]


#: Seconds between attempts to write while another client holds the store's lock (each attempt
#: itself waits ``BUSY_TIMEOUT`` for the lock): doubling from the first to the last value.
RETRY_DELAYS = (0.1, 5.0)
BUSY_TIMEOUT = 5.0


#: SQLITE_BUSY and SQLITE_LOCKED (``sqlite3`` names them from Python 3.11 only).
_BUSY_CODES = (5, 6)


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite saying another connection holds the lock (worth retrying)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    text = str(exc)
    return "database is locked" in text or "database table is locked" in text


def make_folder(path: str | os.PathLike[str]) -> Path:
    """Create the folder of store ``path`` (and its parents)."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GradscopeError(
            f"cannot create the folder for store {str(p)!r} ({exc.strerror}); "
            "pass store= a path in a writable folder"
        ) from None
    return p


def prepare_path(path: str | os.PathLike[str]) -> Path:
    """Make the folder, and clear an older run at ``path`` so the file holds one run.

    Refuses to replace a file that is not a gradscope store. The caller holds the store's
    :class:`WriterLock`, so no live writer's file is removed here.
    """
    p = make_folder(path)
    if p.exists():
        if p.stat().st_size > 0:
            check_store_file(p)  # raises StoreError for a foreign or damaged file
        for suffix in ("", "-wal", "-shm"):
            try:
                Path(f"{p}{suffix}").unlink(missing_ok=True)
            except OSError as exc:
                raise GradscopeError(
                    f"cannot replace the older store {str(p)!r} ({exc.strerror}): pass store= "
                    "a path in a writable folder"
                ) from None
    return p


def _create(path: Path) -> sqlite3.Connection:
    """A new store at ``path``, and the connection that writes it until close.

    One connection from creation to close keeps the -wal file in place for as long as the
    store is being written, which is how readers tell a live store from a copy without it.
    """
    try:
        conn = connect(path, read_only=False, timeout=BUSY_TIMEOUT)
    except sqlite3.Error as exc:
        raise GradscopeError(f"cannot create store {str(path)!r}: {exc}") from None
    try:
        schema.create(conn)
    except sqlite3.Error as exc:
        conn.close()
        raise GradscopeError(
            f"cannot create store {str(path)!r} ({exc}): pass store= a path in a writable folder"
        ) from None
    return conn


class StoreWriter:
    """Owns one store file and the thread that writes it."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        flush_interval: float = 1.0,
        batch_size: int = 64,
        max_pending: int = 512,
        on_error: Callable[[BaseException], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        """``on_error`` hears of a failure that stops recording; ``on_notice`` of a delay that
        does not (a store locked by another client), once per cause. Both are called on the
        writer thread: queue, never raise."""
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.dropped = 0
        self._on_error = on_error
        self._on_notice = on_notice
        self._cond = threading.Condition()
        self._pending: list[Item] = []
        self._queued = 0
        self._written = 0
        self._flush_to = 0
        self._closing = False
        self._failed: BaseException | None = None
        self._rows = RowEncoder()
        self._noticed: set[str] = set()
        self._lock = WriterLock(make_folder(path))
        self._lock.acquire()  # refuses while another scope or process writes this store
        try:
            self.path = prepare_path(path)
            self._conn = _create(self.path)
        except BaseException:
            self._lock.release()
            raise
        self._thread = threading.Thread(target=self._run, name="gradscope-writer", daemon=True)
        self._thread.start()

    # -- producer side (training thread) -------------------------------------------------------

    def put(self, kind: str, payload: Any) -> None:
        """Queue one item; never blocks on disk."""
        with self._cond:
            if self._failed is not None or self._closing:
                return
            if kind == "batch" and len(self._pending) >= self.max_pending:
                self.dropped += payload.drop_detail()
                if len(self._pending) >= 4 * self.max_pending:
                    self.dropped += len(payload.params) + len(payload.states)
                    payload.params, payload.states = [], []
            self._pending.append((kind, payload))
            self._queued += 1
            if len(self._pending) >= self.batch_size:
                self._cond.notify()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far is committed; ``False`` on timeout."""
        with self._cond:
            target = self._queued
            self._flush_to = max(self._flush_to, target)
            self._cond.notify_all()
            return self._cond.wait_for(
                lambda: self._written >= target or self._failed is not None or self._dead(),
                timeout=timeout,
            )

    def close(self, timeout: float = 60.0) -> None:
        """Write what is pending, checkpoint the WAL into the file and stop the thread.

        A store still locked by another client after ``timeout`` keeps its thread trying (it
        ends with the process) and the scope is told that the last records are not written yet.
        """
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._notice(
                "closed",
                f"gradscope: store {str(self.path)!r} is still locked by another SQLite client "
                f"after {timeout:g} s; its last {self._queued - self._written} records are "
                "written when the lock is released, if this process is still running then",
            )

    def _dead(self) -> bool:
        return not self._thread.is_alive()

    # -- writer thread ------------------------------------------------------------------------

    def _run(self) -> None:
        conn = self._conn
        delays = _delays()
        try:
            conn.execute("PRAGMA synchronous=NORMAL")
            # Each step adds rows to a page per parameter (tables are ordered by parameter,
            # then step, for the readers), so a commit dirties hundreds of pages on a large
            # model: a cache that holds them all, and checkpoints 10x rarer, copy each page
            # less often.
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("PRAGMA wal_autocheckpoint=10000")
            while True:
                with self._cond:
                    self._cond.wait_for(
                        lambda: (
                            self._closing
                            or len(self._pending) >= self.batch_size
                            or self._flush_to > self._written
                        ),
                        timeout=self.flush_interval,
                    )
                    items, self._pending = self._pending, []
                    closing = self._closing
                if items and self._failed is None:
                    if not self._commit(conn, items):
                        with self._cond:  # keep them, in order, ahead of what came meanwhile
                            self._pending[:0] = items
                        time.sleep(next(delays))
                        continue
                    delays = _delays()
                with self._cond:
                    self._written += len(items)
                    self._cond.notify_all()
                if closing:
                    with self._cond:
                        if not self._pending:
                            break
            if self._failed is None:
                self._finish_file(conn)
        except Exception as exc:
            self._fail(exc)
        finally:
            if self._failed is not None:  # still leave one self-contained file, if possible
                with contextlib.suppress(sqlite3.Error):
                    self._finish_file(conn)
            conn.close()
            self._lock.release()
            with self._cond:
                self._cond.notify_all()

    def _commit(self, conn: sqlite3.Connection, items: list[Item]) -> bool:
        """Write ``items`` in one transaction; ``False`` when another client holds the lock
        (nothing was written: the caller retries)."""
        ids = self._rows.snapshot()
        try:
            with conn:
                for kind, payload in items:
                    self._rows.write(conn, kind, payload)
        except Exception as exc:
            self._rows.restore(ids)  # rolled back with the transaction
            if not is_busy(exc):
                self._fail(exc)
                return True
            self._notice(
                "busy",
                f"gradscope: store {str(self.path)!r} is locked by another SQLite client; "
                "recording waits and retries until the lock is released (nothing is lost, "
                "training continues)",
            )
            return False
        return True

    def _notice(self, cause: str, message: str) -> None:
        if cause in self._noticed or self._on_notice is None:
            return
        self._noticed.add(cause)
        self._on_notice(message)

    @staticmethod
    def _finish_file(conn: sqlite3.Connection) -> None:
        """Leave a closed store as one self-contained file (readers then create no -wal/-shm).

        Switching out of WAL fails while a reader still follows the store; the checkpoint has
        still moved every page into the main file then.
        """
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with contextlib.suppress(sqlite3.OperationalError):
            conn.execute("PRAGMA journal_mode=DELETE")

    def _fail(self, exc: BaseException) -> None:
        self._failed = exc
        if self._on_error is not None:
            self._on_error(exc)


def _delays() -> Iterator[float]:
    """``RETRY_DELAYS[0]``, doubling up to ``RETRY_DELAYS[1]``, then that for ever."""
    delay, ceiling = RETRY_DELAYS
    while True:
        yield delay
        delay = min(2 * delay, ceiling)

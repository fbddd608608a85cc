"""The background writer: training hands over records and never waits on disk.

Records go into a pending list guarded by a condition variable; one thread wakes when enough
has piled up or a second has passed and writes everything pending in one transaction. Nothing
spins. When the writer falls far behind, new batches lose their histograms and module stats
first, then their per-parameter detail; the step rows (loss, lr, time) are always kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from gradscope.errors import GradscopeError
from gradscope.records import (
    MODULE_METRICS,
    PARAM_METRICS,
    Alert,
    ModuleInfo,
    OptimizerInfo,
    ParamInfo,
    StepBatch,
)
from gradscope.store import schema
from gradscope.store.codec import encode_real
from gradscope.store.reader import check_store_file

Item = tuple[str, Any]


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return repr(value)


_real = encode_real  # NaN as text: see gradscope.store.codec


def prepare_path(path: str | os.PathLike[str]) -> Path:
    """Make the folder, and clear an older run at ``path`` so the file holds one run.

    Refuses to replace a file that is not a gradscope store.
    """
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GradscopeError(
            f"cannot create the folder for store {str(p)!r} ({exc.strerror}); "
            "pass store= a path in a writable folder"
        ) from None
    if p.exists():
        if p.stat().st_size > 0:
            check_store_file(p)  # raises StoreError for a foreign or damaged file
        for suffix in ("", "-wal", "-shm"):
            Path(f"{p}{suffix}").unlink(missing_ok=True)
    return p


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
    ) -> None:
        self.path = prepare_path(path)
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.max_pending = max_pending
        self.dropped = 0
        self._on_error = on_error
        self._cond = threading.Condition()
        self._pending: list[Item] = []
        self._queued = 0
        self._written = 0
        self._flush_to = 0
        self._closing = False
        self._failed: BaseException | None = None
        self._param_ids: dict[str, int] = {}
        self._module_ids: dict[str, int] = {}
        try:
            conn = sqlite3.connect(self.path)
            schema.create(conn)
            conn.close()
        except sqlite3.Error as exc:
            raise GradscopeError(f"cannot create store {str(self.path)!r}: {exc}") from None
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
        """Write what is pending, checkpoint the WAL into the file and stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def _dead(self) -> bool:
        return not self._thread.is_alive()

    # -- writer thread ------------------------------------------------------------------------

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        # Each step adds rows to a page per parameter (tables are ordered by parameter, then
        # step, for the readers), so a commit dirties hundreds of pages on a large model: a
        # cache that holds them all, and checkpoints 10x rarer, copy each page less often.
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("PRAGMA wal_autocheckpoint=10000")
        try:
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
                    try:
                        with conn:
                            for kind, payload in items:
                                self._write(conn, kind, payload)
                    except Exception as exc:
                        self._fail(exc)
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
            conn.close()
            with self._cond:
                self._cond.notify_all()

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

    def _write(self, conn: sqlite3.Connection, kind: str, payload: Any) -> None:
        getattr(self, f"_write_{kind}")(conn, payload)

    def _write_meta(self, conn: sqlite3.Connection, meta: dict[str, Any]) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [(k, _json(v)) for k, v in meta.items()],
        )

    def _write_params(self, conn: sqlite3.Connection, params: Sequence[ParamInfo]) -> None:
        for p in params:
            if p.name in self._param_ids:
                continue
            cur = conn.execute(
                "INSERT INTO params (name, aliases, shape, dtype, device, requires_grad, module)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    p.name,
                    _json(p.aliases),
                    _json(p.shape),
                    p.dtype,
                    p.device,
                    int(p.requires_grad),
                    p.module,
                ),
            )
            self._param_ids[p.name] = int(cur.lastrowid or 0)

    def _write_modules(self, conn: sqlite3.Connection, modules: Sequence[ModuleInfo]) -> None:
        for m in modules:
            if m.path in self._module_ids:
                continue
            cur = conn.execute(
                "INSERT INTO modules (path, type, parent, n_params, buffers)"
                " VALUES (?, ?, ?, ?, ?)",
                (m.path, m.type, m.parent, m.n_params, _json(m.buffers)),
            )
            self._module_ids[m.path] = int(cur.lastrowid or 0)

    def _write_optimizers(self, conn: sqlite3.Connection, opts: Sequence[OptimizerInfo]) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO optimizers (id, type, defaults, groups) VALUES (?, ?, ?, ?)",
            [
                (o.index, o.type, _json(o.defaults), _json([asdict(g) for g in o.groups]))
                for o in opts
            ],
        )

    def _write_late(self, conn: sqlite3.Connection, late: tuple[int, dict[str, float]]) -> None:
        """Scalars logged after their step ended (``opt.step(); scope.log(acc=...)``)."""
        step, scalars = late
        row = conn.execute("SELECT scalars FROM steps WHERE step = ?", (step,)).fetchone()
        if row is None:
            return
        merged = {**(json.loads(row[0]) if row[0] else {}), **scalars}
        loss = merged.pop("loss", None)
        conn.execute("UPDATE steps SET scalars = ? WHERE step = ?", (_json(merged), step))
        if loss is not None:
            conn.execute("UPDATE steps SET loss = ? WHERE step = ?", (_real(loss), step))

    def _write_alerts(self, conn: sqlite3.Connection, alerts: Sequence[Alert]) -> None:
        conn.executemany(
            'INSERT INTO alerts (code, severity, "where", step, message, details)'
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(a.code, a.severity, a.where, a.step, a.message, _json(a.details)) for a in alerts],
        )

    def _write_batch(self, conn: sqlite3.Connection, b: StepBatch) -> None:
        pid = self._param_ids
        conn.executemany(
            "INSERT OR REPLACE INTO steps (step, wall_time, duration, loss, n_backward, logged,"
            " lrs, scalars) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    s.step,
                    s.wall_time,
                    s.duration,
                    _real(s.loss),
                    s.n_backward,
                    int(s.logged),
                    _json(s.lrs),
                    _json(s.scalars) if s.scalars else None,
                )
                for s in b.steps
            ],
        )
        cols = ", ".join(PARAM_METRICS)
        marks = ", ".join("?" for _ in PARAM_METRICS)
        conn.executemany(
            f"INSERT OR REPLACE INTO param_stats (param_id, step, {cols}) VALUES (?, ?, {marks})",
            [
                (pid[p.param], p.step, *(_real(p.values.get(m)) for m in PARAM_METRICS))
                for p in b.params
                if p.param in pid
            ],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO state_stats (param_id, name, step, value) VALUES (?, ?, ?, ?)",
            [
                (pid[s.param], f"{s.key}.{stat}", s.step, _real(value))
                for s in b.states
                if s.param in pid
                for stat, value in s.values.items()
            ],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO group_stats (optimizer, grp, step, lr, hparams)"
            " VALUES (?, ?, ?, ?, ?)",
            [(g.optimizer, g.group, g.step, _real(g.lr), _json(g.hparams)) for g in b.groups],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO histograms (param_id, kind, step, scale, lo, hi, counts, nan,"
            " posinf, neginf, zeros, sampled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    pid[h.param],
                    h.kind,
                    h.step,
                    h.scale,
                    h.lo,
                    h.hi,
                    struct.pack(f"<{len(h.counts)}I", *h.counts),
                    h.nan,
                    h.posinf,
                    h.neginf,
                    h.zeros,
                    h.sampled,
                )
                for h in b.histograms
                if h.param in pid
            ],
        )
        mid = self._module_ids
        mcols = ", ".join(MODULE_METRICS)
        mmarks = ", ".join("?" for _ in MODULE_METRICS)
        conn.executemany(
            f"INSERT OR REPLACE INTO module_stats (module_id, step, calls, training, shape, dtype,"
            f" device, {mcols}) VALUES (?, ?, ?, ?, ?, ?, ?, {mmarks})",
            [
                (
                    mid[m.module],
                    m.step,
                    m.calls,
                    int(m.training),
                    _json(m.shape),
                    m.dtype,
                    m.device,
                    *(_real(m.values.get(k)) for k in MODULE_METRICS),
                )
                for m in b.modules
                if m.module in mid
            ],
        )
        if b.alerts:
            self._write_alerts(conn, b.alerts)
        conn.executemany(
            'INSERT INTO events (step, kind, "where", details) VALUES (?, ?, ?, ?)',
            [(e.step, e.kind, e.where, _json(e.details)) for e in b.events],
        )

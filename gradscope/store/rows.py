"""How each kind of record becomes rows of the store: one encoder per kind, in a table.

The writer thread hands every ``(kind, payload)`` it dequeues to :data:`ENCODERS`; the encoders
keep the ids the store gave parameters and modules, so statistics rows refer to them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from gradscope.records import (
    MODULE_METRICS,
    PARAM_METRICS,
    Alert,
    ModuleInfo,
    OptimizerInfo,
    ParamInfo,
    StepBatch,
)
from gradscope.store.codec import encode_counts
from gradscope.store.codec import encode_real as _real  # NaN as text: see store.codec


def _insert_once(
    conn: sqlite3.Connection, ids: dict[str, int], key: str, sql: str, values: tuple[Any, ...]
) -> None:
    """Insert a structure row the first time ``key`` is seen and remember its row id."""
    if key not in ids:
        ids[key] = int(conn.execute(sql, values).lastrowid or 0)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return repr(value)


class RowEncoder:
    """Writes records as rows; remembers the row ids of parameters and modules."""

    def __init__(self) -> None:
        self.param_ids: dict[str, int] = {}
        self.module_ids: dict[str, int] = {}

    def write(self, conn: sqlite3.Connection, kind: str, payload: Any) -> None:
        ENCODERS[kind](self, conn, payload)

    def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        """The ids as they are now, to restore when a transaction rolls back."""
        return dict(self.param_ids), dict(self.module_ids)

    def restore(self, ids: tuple[dict[str, int], dict[str, int]]) -> None:
        self.param_ids, self.module_ids = ids

    def meta(self, conn: sqlite3.Connection, meta: dict[str, Any]) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [(k, _json(v)) for k, v in meta.items()],
        )

    def params(self, conn: sqlite3.Connection, params: Sequence[ParamInfo]) -> None:
        sql = (
            "INSERT INTO params (name, aliases, shape, dtype, device, requires_grad, module)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        for p in params:
            values = (p.name, _json(p.aliases), _json(p.shape), p.dtype, p.device,
                      int(p.requires_grad), p.module)  # fmt: skip
            _insert_once(conn, self.param_ids, p.name, sql, values)

    def modules(self, conn: sqlite3.Connection, modules: Sequence[ModuleInfo]) -> None:
        sql = "INSERT INTO modules (path, type, parent, n_params, buffers) VALUES (?, ?, ?, ?, ?)"
        for m in modules:
            values = (m.path, m.type, m.parent, m.n_params, _json(m.buffers))
            _insert_once(conn, self.module_ids, m.path, sql, values)

    def optimizers(self, conn: sqlite3.Connection, opts: Sequence[OptimizerInfo]) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO optimizers (id, type, defaults, groups) VALUES (?, ?, ?, ?)",
            [
                (o.index, o.type, _json(o.defaults), _json([asdict(g) for g in o.groups]))
                for o in opts
            ],
        )

    def late(self, conn: sqlite3.Connection, late: tuple[int, dict[str, float]]) -> None:
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

    def alerts(self, conn: sqlite3.Connection, alerts: Sequence[Alert]) -> None:
        conn.executemany(
            'INSERT INTO alerts (code, severity, "where", step, message, details)'
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(a.code, a.severity, a.where, a.step, a.message, _json(a.details)) for a in alerts],
        )

    def batch(self, conn: sqlite3.Connection, b: StepBatch) -> None:
        pid = self.param_ids
        conn.executemany(
            "INSERT OR REPLACE INTO steps (step, wall_time, duration, loss, n_backward, logged,"
            " lrs, scalars, detail_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    s.detail_reason,
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
                    encode_counts(h.counts),
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
        mid = self.module_ids
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
            self.alerts(conn, b.alerts)
        conn.executemany(
            'INSERT INTO events (step, kind, "where", details) VALUES (?, ?, ?, ?)',
            [(e.step, e.kind, e.where, _json(e.details)) for e in b.events],
        )


#: The encoder of each kind of record the writer accepts (``StoreWriter.put(kind, payload)``).
ENCODERS: dict[str, Callable[[RowEncoder, sqlite3.Connection, Any], None]] = {
    "meta": RowEncoder.meta,
    "params": RowEncoder.params,
    "modules": RowEncoder.modules,
    "optimizers": RowEncoder.optimizers,
    "late": RowEncoder.late,
    "alerts": RowEncoder.alerts,
    "batch": RowEncoder.batch,
}

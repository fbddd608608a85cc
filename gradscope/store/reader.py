"""Read API over a recorded run: ``gs.open_store(path)`` → :class:`Run`.

Readers open the file read-only and may follow a store that is still being written: every
query sees what the writer has committed so far, and :meth:`Run.refresh` picks up parameters
and modules registered after opening.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from gradscope.errors import StoreError
from gradscope.records import (
    Alert,
    Event,
    GroupInfo,
    ModuleInfo,
    OptimizerInfo,
    ParamInfo,
    StepRecord,
)
from gradscope.store import ranks as layout
from gradscope.store import schema
from gradscope.store.checks import (
    check_schema,
    check_store_file,
    check_whole,
    damaged,
    has_wal,
    refuse_copy_without_wal,
)
from gradscope.store.codec import decode_json, decode_row
from gradscope.store.connect import connect, is_wal_file
from gradscope.store.follow import ALERT_COLUMNS, FollowReads
from gradscope.store.metrics import MetricReads


def open_store(
    path: str | os.PathLike[str], *, rank: int | None = None, check: bool = False
) -> Run:
    """Open a recorded run for reading (also while it is still being written).

    A distributed run's logical path (``runs/x.gsdb``, written as ``runs/x.rank<R>.gsdb``)
    opens rank 0, or ``rank``; :attr:`Run.ranks` lists the others, :meth:`Run.rank_run`
    opens one. ``check`` first reads the whole file once (see :meth:`Run.check`), so that a
    damaged store fails here rather than in the middle of a view.
    """
    return Run(path, rank=rank, check=check)


def check_store(path: str | os.PathLike[str], *, rank: int | None = None) -> None:
    """Read every file of the run at ``path`` once (every rank's, unless ``rank``); raise
    :class:`StoreError` for the first damaged one (see :meth:`Run.check`)."""
    with Run(path, rank=rank, check=True) as run:
        if run.all_ranks:
            for other in run.ranks:
                if other != run.rank:
                    run.rank_run(other).close()


class Run(MetricReads, FollowReads):
    """One recorded run. Series come back as ``(steps, values)`` lists, oldest first."""

    def __init__(
        self, path: str | os.PathLike[str], *, rank: int | None = None, check: bool = False
    ) -> None:
        self.path = layout.resolve(path, rank)
        #: Whether a distributed run's logical path was asked for without a rank (views then
        #: show every rank; a rank's own file, or ``rank=``, asks for that rank alone).
        self.all_ranks = rank is None and self.path != Path(path)
        self._checked = check
        header = check_store_file(self.path)
        if check and is_wal_file(header) and not has_wal(self.path):
            refuse_copy_without_wal(self.path)
        try:
            self._conn = connect(self.path, read_only=True)
            self._conn.row_factory = decode_row
            self._graph_cache: tuple[int, dict[str, Any] | None] | None = None
            self._columns: dict[str, set[str]] = {}
            self.meta = self._read_meta()
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, str(exc)) from None
        try:
            check_schema(self.path, self.meta)
            if check:
                self.check()
            self.refresh()
        except BaseException:
            self._conn.close()
            raise

    def check(self) -> None:
        """Read the whole file once; raise :class:`StoreError` if any of it is damaged."""
        check_whole(self.path, self._conn, self._query)

    def cursor(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """A streaming cursor over a read-only query (exports read long tables row by row)."""
        try:
            return self._conn.execute(sql, args)
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, str(exc)) from None

    def _json(self, text: Any) -> Any:
        """A JSON column's value; a value that is not JSON means the file is damaged."""
        return decode_json(self.path, text)

    # -- structure ------------------------------------------------------------------------------

    def _read_meta(self) -> dict[str, Any]:
        # The graph snapshot can be hundreds of KB; a live view re-reads meta on every poll,
        # so only its length is read here and graph_snapshot() parses it on demand.
        try:
            rows = self._conn.execute(
                "SELECT key, CASE WHEN key = ? THEN NULL ELSE value END, length(value) FROM meta",
                (schema.GRAPH_KEY,),
            ).fetchall()
        except sqlite3.OperationalError:
            raise StoreError(
                f"{str(self.path)!r} is not a gradscope store (no meta table)"
            ) from None
        meta: dict[str, Any] = {}
        self._graph_size: int | None = None
        for key, value, size in rows:
            if key == schema.GRAPH_KEY:
                self._graph_size = size
                continue
            try:
                meta[key] = json.loads(value)
            except json.JSONDecodeError:
                meta[key] = value
        return meta

    @property
    def has_graph(self) -> bool:
        """Whether the run saved a graph snapshot (read at the last refresh)."""
        return self._graph_size is not None

    def graph_snapshot(self) -> dict[str, Any] | None:
        """The graph snapshot the scope saved (``Graph.to_dict()`` form), or ``None``.

        Kept out of ``meta`` so that polling a live store stays cheap; parsed on the first call
        and again only after the stored snapshot changed size.
        """
        if self._graph_size is None:
            return None
        if self._graph_cache is not None and self._graph_cache[0] == self._graph_size:
            return self._graph_cache[1]
        try:
            row = self._conn.execute(
                "SELECT value FROM meta WHERE key = ?", (schema.GRAPH_KEY,)
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, str(exc)) from None
        try:
            data = json.loads(row[0]) if row else None
        except json.JSONDecodeError:
            data = None
        data = data if isinstance(data, dict) else None
        self._graph_cache = (self._graph_size, data)
        return data

    def refresh(self) -> None:
        """Re-read run-level tables (meta, parameters, modules, optimizers)."""
        try:
            self.meta = self._read_meta()
            self._param_rows = self._conn.execute(
                "SELECT id, name, aliases, shape, dtype, device, requires_grad, module "
                "FROM params ORDER BY id"
            ).fetchall()
            self._module_rows = self._conn.execute(
                "SELECT id, path, type, parent, n_params, buffers FROM modules ORDER BY id"
            ).fetchall()
            self._opt_rows = self._conn.execute(
                "SELECT id, type, defaults, groups FROM optimizers ORDER BY id"
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, str(exc)) from None
        self._param_ids = {r[1]: r[0] for r in self._param_rows}
        for r in self._param_rows:
            for alias in self._json(r[2]):
                self._param_ids.setdefault(alias, r[0])
        self._module_ids = {r[1]: r[0] for r in self._module_rows}

    # -- ranks of a distributed run ------------------------------------------------------------

    @property
    def rank(self) -> int:
        """The rank that wrote this file (0 for a single-process run)."""
        return int(self.meta.get("rank") or 0)

    @property
    def world_size(self) -> int:
        return int(self.meta.get("world_size") or 1)

    @property
    def ranks(self) -> list[int]:
        """The ranks whose files this run has (``[0]`` for a single-process run)."""
        found = layout.rank_files(self.path)
        return list(found) if found else [self.rank]

    def rank_run(self, rank: int) -> Run:
        """Open rank ``rank``'s file of this run (the caller closes it)."""
        return Run(layout.split_rank(self.path)[0], rank=rank, check=self._checked)

    @property
    def params(self) -> list[str]:
        """Parameter names in model order (tied parameters once, by their first name)."""
        return [r[1] for r in self._param_rows]

    @property
    def param_info(self) -> dict[str, ParamInfo]:
        return {
            r[1]: ParamInfo(
                name=r[1],
                aliases=tuple(self._json(r[2])),
                shape=tuple(self._json(r[3])),
                dtype=r[4],
                device=r[5],
                requires_grad=bool(r[6]),
                module=r[7],
            )
            for r in self._param_rows
        }

    @property
    def modules(self) -> list[ModuleInfo]:
        return [
            ModuleInfo(
                path=r[1],
                type=r[2],
                parent=r[3],
                n_params=r[4],
                buffers=tuple((b[0], tuple(b[1]), b[2]) for b in self._json(r[5])),
            )
            for r in self._module_rows
        ]

    @property
    def optimizers(self) -> list[OptimizerInfo]:
        out = []
        for oid, typ, defaults, groups in self._opt_rows:
            gs = tuple(
                GroupInfo(
                    optimizer=g["optimizer"],
                    index=g["index"],
                    params=tuple(g["params"]),
                    hparams=g["hparams"],
                )
                for g in self._json(groups)
            )
            out.append(OptimizerInfo(index=oid, type=typ, defaults=self._json(defaults), groups=gs))
        return out

    @property
    def optimizer(self) -> OptimizerInfo | None:
        """The first watched optimizer (the one whose steps count), or ``None``."""
        opts = self.optimizers
        return opts[0] if opts else None

    # -- steps and series -----------------------------------------------------------------------

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, str(exc)) from None

    @property
    def steps(self) -> list[int]:
        return [r[0] for r in self._query("SELECT step FROM steps ORDER BY step")]

    @property
    def last_step(self) -> int | None:
        rows = self._query("SELECT MAX(step) FROM steps")
        return rows[0][0] if rows else None

    def step_rows(self, since: int | None = None, *, before: int | None = None) -> list[StepRecord]:
        """The step records from ``since`` on, and before ``before`` when given (loss, lrs,
        wall_time, duration, n_backward, logged, scalars, detail_reason: why the step was a
        detail step, ``None`` if not). Exports read a long run a window at a time with both."""
        first = since if since is not None else -1
        if before is None:
            return self._step_rows("step >= ?", (first,))
        return self._step_rows("step >= ? AND step < ?", (first, before))

    def _step_rows(self, where: str, args: tuple[Any, ...]) -> list[StepRecord]:
        """The one query behind every read of step rows."""
        # Stores of schema 1 have no detail_reason: every logged step recorded everything.
        reason = "detail_reason" if self._has_column("steps", "detail_reason") else "NULL"
        rows = self._query(
            "SELECT step, wall_time, duration, loss, n_backward, logged, lrs, scalars,"
            f" {reason} FROM steps WHERE {where} ORDER BY step",
            args,
        )
        # Learning rates change far less often than steps: each distinct JSON text is parsed
        # once per read, which halves the cost of reading thousands of steps (an export).
        lrs: dict[str, tuple[float, ...]] = {}
        for r in rows:
            if r[6] not in lrs:
                lrs[r[6]] = tuple(self._json(r[6]))
        return [
            StepRecord(
                step=r[0],
                wall_time=r[1],
                duration=r[2],
                loss=float(r[3]) if r[3] is not None else None,
                n_backward=r[4],
                logged=bool(r[5]),
                lrs=lrs[r[6]],
                scalars=self._json(r[7]) if r[7] else {},
                detail_reason=r[8] if reason != "NULL" else ("cadence" if r[5] else None),
            )
            for r in rows
        ]

    def _has_column(self, table: str, column: str) -> bool:
        if table not in self._columns:
            self._columns[table] = {r[1] for r in self._query(f"PRAGMA table_info({table})")}
        return column in self._columns[table]

    def _param_id(self, param: str) -> int:
        if param not in self._param_ids:
            self.refresh()
        try:
            return self._param_ids[param]
        except KeyError:
            raise StoreError(f"no parameter named {param!r} in this run") from None

    @property
    def alerts(self) -> list[Alert]:
        return [
            self._alert(r) for r in self._query(f"SELECT {ALERT_COLUMNS} FROM alerts ORDER BY id")
        ]

    def events(self, kind: str | None = None) -> list[Event]:
        """Facts capture noticed (loss inputs, carried gradients …), oldest first."""
        sql = 'SELECT step, kind, "where", details FROM events'
        args: tuple[Any, ...] = ()
        if kind is not None:
            sql += " WHERE kind = ?"
            args = (kind,)
        return [
            Event(step=r[0], kind=r[1], where=r[2], details=self._json(r[3]))
            for r in self._query(sql + " ORDER BY id", args)
        ]

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Run({str(self.path)!r}, params={len(self._param_rows)}, last_step={self.last_step})"
        )

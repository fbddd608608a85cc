"""Read API over a recorded run: ``gs.open_store(path)`` → :class:`Run`.

Readers open the file read-only and may follow a store that is still being written: every
query sees what the writer has committed so far, and :meth:`Run.refresh` picks up parameters
and modules registered after opening.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import struct
from pathlib import Path
from typing import Any

from gradscope.errors import StoreError
from gradscope.records import (
    DETAIL_METRICS,
    MODULE_METRICS,
    PARAM_METRICS,
    Alert,
    Event,
    GroupInfo,
    Histogram,
    ModuleInfo,
    OptimizerInfo,
    ParamInfo,
)
from gradscope.store import ranks as layout
from gradscope.store import schema
from gradscope.store.codec import decode_row
from gradscope.store.connect import connect, is_wal_file, wal_path
from gradscope.store.lock import is_being_written

_SQLITE_MAGIC = b"SQLite format 3\x00"


def check_store_file(path: Path) -> bytes:
    """Raise :class:`StoreError` unless ``path`` looks like a whole gradscope store.

    Reads only the 100-byte SQLite header: the magic string, our application id, and the page
    count times page size against the file's length (a truncated copy is shorter). Returns the
    header.
    """
    if not path.exists():
        raise StoreError(f"no gradscope store at {str(path)!r}: the file does not exist")
    if path.is_dir():
        raise StoreError(f"{str(path)!r} is a folder, not a gradscope store (*.gsdb) file")
    size = path.stat().st_size
    with path.open("rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise StoreError(f"{str(path)!r} is not a gradscope store (not an SQLite file)")
    (app_id,) = struct.unpack(">I", header[68:72])
    if app_id != schema.APPLICATION_ID:
        raise StoreError(f"{str(path)!r} is an SQLite file but not a gradscope store")
    (page_size,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if page_size == 1 else page_size
    (pages,) = struct.unpack(">I", header[28:32])
    (change, valid_for) = (
        struct.unpack(">I", header[24:28])[0],
        struct.unpack(">I", header[92:96])[0],
    )
    if change == valid_for and size < pages * page_size:
        raise StoreError(
            f"{str(path)!r} is truncated ({size} of {pages * page_size} bytes): copy the store "
            "again from where the run wrote it"
        )
    return header


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


#: A ``param_stats`` row of a detail step (weights are measured there, updates too).
_DETAIL_ROW = "(weight_norm IS NOT NULL OR update_norm IS NOT NULL)"


class Run:
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
        if check and is_wal_file(header) and not _has_wal(self.path):
            self._refuse_copy_without_wal()
        try:
            self._conn = connect(self.path, read_only=True)
            self._conn.row_factory = decode_row
            self._graph_cache: tuple[int, dict[str, Any] | None] | None = None
            self._columns: dict[str, set[str]] = {}
            self.meta = self._read_meta()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{str(self.path)!r} is damaged and cannot be read ({exc})") from None
        try:
            self._check_meta()
            if check:
                self.check()
            self.refresh()
        except BaseException:
            self._conn.close()
            raise

    def _refuse_copy_without_wal(self) -> None:
        """Raise if this WAL-mode file is an unfinished run with no -wal beside it and no live
        writer: a copy of a store being written, whose recent steps are in the -wal left behind.

        Read with ``immutable`` (the main file alone), so the check creates no side file.
        """
        if is_being_written(self.path):
            return
        try:
            conn = connect(self.path, read_only=True, immutable=True)
            try:
                finished = conn.execute("SELECT 1 FROM meta WHERE key = 'finished'").fetchone()
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            return  # damaged: the full open says so
        if finished is None:
            wal = wal_path(self.path).name
            raise StoreError(
                f"{str(self.path)!r} is an unfinished run whose write-ahead log {wal!r} is "
                f"missing (copied without it?), so its recent steps are not in it: copy {wal!r} "
                "along with the store from where the run wrote it"
            )

    def _check_meta(self) -> None:
        raw = self.meta.get("schema_version", 0)
        version = _integer(raw)
        if version is None:
            raise StoreError(
                f"{str(self.path)!r} is damaged: its schema_version is {raw!r}, not an integer; "
                "copy the store again from where the run wrote it"
            )
        if version > schema.SCHEMA_VERSION:
            raise StoreError(
                f"{str(self.path)!r} was written by a newer gradscope (store schema {version}, "
                f"this version reads up to {schema.SCHEMA_VERSION}): upgrade gradscope"
            )

    def check(self) -> None:
        """Read the whole file once; raise :class:`StoreError` if any of it is damaged.

        ``PRAGMA quick_check`` reads every page; ``json_valid`` every JSON value; histogram
        blobs must hold whole counts. Views read only what they show, so without this a damaged
        page they skip would go unnoticed.
        """
        problems = self._query("PRAGMA quick_check(1)")
        if not problems or problems[0][0] != "ok":
            detail = str(problems[0][0]) if problems else "no answer"
            detail = " ".join(detail.replace("*** in database main ***", "").split())
            raise StoreError(
                f"{str(self.path)!r} is damaged and cannot be read ({detail}); copy the store "
                "again from where the run wrote it"
            )
        for table, column in schema.JSON_COLUMNS:
            bad = self._first_bad_json(table, column)
            if bad is not None:
                raise StoreError(
                    f"{str(self.path)!r} is damaged: a value in column {column!r} of table "
                    f"{table!r} is not valid JSON ({bad[:40]!r}); copy the store again from "
                    "where the run wrote it"
                )
        rows = self._query(
            "SELECT count(*) FROM histograms WHERE typeof(counts) != 'blob'"
            " OR length(counts) % 4 != 0"
        )
        if rows and rows[0][0]:
            raise StoreError(
                f"{str(self.path)!r} is damaged: {rows[0][0]} histogram(s) hold a partial count; "
                "copy the store again from where the run wrote it"
            )

    def _first_bad_json(self, table: str, column: str) -> str | None:
        """The first value of ``table.column`` that is not JSON, or ``None``."""
        quoted = f'"{column}"'  # names from the schema, never user text
        try:
            rows = self._conn.execute(
                f"SELECT {quoted} FROM {table} WHERE {quoted} IS NOT NULL"
                f" AND NOT json_valid({quoted}) LIMIT 1"
            ).fetchall()
        except sqlite3.OperationalError as exc:
            if "json_valid" not in str(exc):
                raise StoreError(
                    f"{str(self.path)!r} is damaged and cannot be read ({exc})"
                ) from None
            rows = []  # an SQLite without JSON functions: parse the values here
            for (value,) in self._query(f"SELECT {quoted} FROM {table} WHERE {quoted} IS NOT NULL"):
                try:
                    json.loads(value)
                except (TypeError, ValueError):
                    rows = [(value,)]
                    break
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{str(self.path)!r} is damaged and cannot be read ({exc})") from None
        return str(rows[0][0]) if rows else None

    def _json(self, text: Any) -> Any:
        """A JSON column's value; a value that is not JSON means the file is damaged."""
        try:
            return json.loads(text)
        except (TypeError, ValueError):
            raise StoreError(
                f"{str(self.path)!r} is damaged: a stored value is not valid JSON "
                f"({str(text)[:40]!r}); copy the store again from where the run wrote it"
            ) from None

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
            raise StoreError(f"{str(self.path)!r} is damaged and cannot be read ({exc})") from None
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
            raise StoreError(f"{str(self.path)!r} is damaged and cannot be read ({exc})") from None
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
            raise StoreError(f"{str(self.path)!r} is damaged and cannot be read ({exc})") from None

    @property
    def steps(self) -> list[int]:
        return [r[0] for r in self._query("SELECT step FROM steps ORDER BY step")]

    @property
    def last_step(self) -> int | None:
        rows = self._query("SELECT MAX(step) FROM steps")
        return rows[0][0] if rows else None

    def step_rows(self, since: int | None = None) -> list[dict[str, Any]]:
        """Step rows as dicts (loss, lrs, wall_time, duration, n_backward, logged, scalars,
        detail_reason: why the step was a detail step, ``None`` if it was not one)."""
        return self._step_rows("step >= ?", (since if since is not None else -1,))

    def _step_rows(self, where: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        """The one query behind every read of step rows."""
        # Stores of schema 1 have no detail_reason: every logged step recorded everything.
        reason = "detail_reason" if self._has_column("steps", "detail_reason") else "NULL"
        rows = self._query(
            "SELECT step, wall_time, duration, loss, n_backward, logged, lrs, scalars,"
            f" {reason} FROM steps WHERE {where} ORDER BY step",
            args,
        )
        return [
            {
                "step": r[0],
                "wall_time": r[1],
                "duration": r[2],
                "loss": float(r[3]) if r[3] is not None else None,
                "n_backward": r[4],
                "logged": bool(r[5]),
                "lrs": self._json(r[6]),
                "scalars": self._json(r[7]) if r[7] else {},
                "detail_reason": r[8] if reason != "NULL" else ("cadence" if r[5] else None),
            }
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

    def series(
        self, metric: str, param: str | None = None, *, module: str | None = None
    ) -> tuple[list[int], list[float]]:
        """One metric over the logged steps.

        ``loss``, ``lr`` (first group; ``lr.<group>`` for others), ``duration`` and scalars from
        ``scope.log`` need no ``param``; per-parameter metrics (``grad_norm`` …, and optimizer
        state as ``state.<key>.<stat>``) need ``param``; module metrics (``act_mean`` …) take the
        module path as ``module`` (or ``param``).
        """
        if metric in PARAM_METRICS:
            if param is None:
                raise StoreError(f"metric {metric!r} is per parameter: pass param=<name>")
            col = metric  # from a fixed list, never user text
            rows = self._query(
                f"SELECT step, {col} FROM param_stats WHERE param_id = ? AND {col} IS NOT NULL"
                " ORDER BY step",
                (self._param_id(param),),
            )
        elif metric.startswith("state."):
            if param is None:
                raise StoreError(f"metric {metric!r} is per parameter: pass param=<name>")
            rows = self._query(
                "SELECT step, value FROM state_stats WHERE param_id = ? AND name = ? ORDER BY step",
                (self._param_id(param), metric.removeprefix("state.")),
            )
        elif metric in MODULE_METRICS:
            path = module if module is not None else param
            if path is None:
                raise StoreError(f"metric {metric!r} is per module: pass module=<path>")
            if path not in self._module_ids:
                self.refresh()
            if path not in self._module_ids:
                raise StoreError(f"no module named {path!r} in this run")
            rows = self._query(
                f"SELECT step, {metric} FROM module_stats WHERE module_id = ?"
                f" AND {metric} IS NOT NULL ORDER BY step",
                (self._module_ids[path],),
            )
        elif metric in ("loss", "duration"):
            rows = self._query(
                f"SELECT step, {metric} FROM steps WHERE {metric} IS NOT NULL ORDER BY step"
            )
        elif metric == "lr" or metric.startswith("lr."):
            group = int(metric.partition(".")[2] or 0)
            rows = [
                (s, lrs[group])
                for s, raw in self._query("SELECT step, lrs FROM steps ORDER BY step")
                if len(lrs := self._json(raw)) > group
            ]
        else:
            rows = [
                (s, sc[metric])
                for s, raw in self._query(
                    "SELECT step, scalars FROM steps WHERE scalars IS NOT NULL ORDER BY step"
                )
                if metric in (sc := self._json(raw))
            ]
            if not rows:
                raise StoreError(f"unknown metric {metric!r}; see gradscope.records for the names")
        return [r[0] for r in rows], [float(r[1]) for r in rows]

    def latest(self, param: str) -> dict[str, float]:
        """The last logged value of every per-parameter metric of ``param``."""
        pid = self._param_id(param)
        out: dict[str, float] = {}
        for metric in PARAM_METRICS:
            rows = self._query(
                f"SELECT {metric} FROM param_stats WHERE param_id = ? AND {metric} IS NOT NULL"
                " ORDER BY step DESC LIMIT 1",
                (pid,),
            )
            if rows:
                out[metric] = float(rows[0][0])
        return out

    def state(self, param: str, step: int | None = None) -> dict[str, float]:
        """Optimizer state summary of ``param`` at ``step`` (default: the last logged step)."""
        pid = self._param_id(param)
        if step is None:
            rows = self._query("SELECT MAX(step) FROM state_stats WHERE param_id = ?", (pid,))
            step = rows[0][0]
            if step is None:
                return {}
        return {
            f"state.{name}": float(value) if value is not None else math.nan
            for name, value in self._query(
                "SELECT name, value FROM state_stats WHERE param_id = ? AND step = ?", (pid, step)
            )
        }

    def groups(self, optimizer: int = 0, step: int | None = None) -> list[dict[str, Any]]:
        """Hyperparameters and lr of each group of ``optimizer`` at ``step`` (default: last)."""
        if step is None:
            rows = self._query(
                "SELECT MAX(step) FROM group_stats WHERE optimizer = ?", (optimizer,)
            )
            step = rows[0][0]
        rows = self._query(
            "SELECT grp, lr, hparams FROM group_stats WHERE optimizer = ? AND step = ?"
            " ORDER BY grp",
            (optimizer, step),
        )
        return [
            {"group": g, "lr": float(lr) if lr is not None else None, **self._json(h)}
            for g, lr, h in rows
        ]

    def histogram(
        self, param: str, kind: str = "grad", step: int | None = None
    ) -> Histogram | None:
        """The histogram of ``param`` (``kind`` ``grad`` or ``weight``) at ``step`` or the last."""
        pid = self._param_id(param)
        sql = (
            "SELECT step, scale, lo, hi, counts, nan, posinf, neginf, zeros, sampled"
            " FROM histograms WHERE param_id = ? AND kind = ?"
        )
        args: tuple[Any, ...] = (pid, kind)
        if step is not None:
            sql += " AND step <= ?"
            args += (step,)
        rows = self._query(sql + " ORDER BY step DESC LIMIT 1", args)
        if not rows:
            return None
        s, scale, lo, hi, blob, nan, posinf, neginf, zeros, sampled = rows[0]
        counts = struct.unpack(f"<{len(blob) // 4}I", blob)
        return Histogram(s, param, kind, scale, lo, hi, counts, nan, posinf, neginf, zeros, sampled)

    def module_latest(self, module: str) -> dict[str, Any] | None:
        """The last module_stats row of ``module`` as a dict, or ``None``."""
        if module not in self._module_ids:
            self.refresh()
        if module not in self._module_ids:
            return None
        rows = self._query(
            f"SELECT step, calls, training, shape, dtype, device, {', '.join(MODULE_METRICS)}"
            " FROM module_stats WHERE module_id = ? ORDER BY step DESC LIMIT 1",
            (self._module_ids[module],),
        )
        if not rows:
            return None
        r = rows[0]
        out = {
            "step": r[0],
            "calls": r[1],
            "training": bool(r[2]),
            "shape": self._json(r[3]),
            "dtype": r[4],
            "device": r[5],
        }
        out.update(
            (k, float(v) if v is not None else None)
            for k, v in zip(MODULE_METRICS, r[6:], strict=True)
        )
        return out

    @property
    def alerts(self) -> list[Alert]:
        return [
            Alert(
                code=r[0],
                severity=r[1],
                where=r[2],
                step=r[3],
                message=r[4],
                details=self._json(r[5]),
            )
            for r in self._query(
                'SELECT code, severity, "where", step, message, details FROM alerts ORDER BY id'
            )
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

    # -- bulk reads for views that follow a long run (the dashboard) ---------------------------
    # Each finds its rows by primary-key seeks, so its cost does not grow with the run's length.
    # CROSS JOIN keeps ``params`` the outer loop: SQLite seeks into param_stats, never scans it.

    def latest_rows(self, metrics: tuple[str, ...] = PARAM_METRICS) -> dict[str, dict[str, Any]]:
        """The last ``param_stats`` row of every parameter, in one query (two with detail).

        Unlike :meth:`latest` (each metric from its own last step), a gradient metric missing
        from the last row stays ``None``: a gradient absent at the latest step is what a
        dashboard must show. Detail metrics (weights, updates) come from the parameter's last
        detail step, with that step as ``detail_step``.
        """
        for m in metrics:
            if m not in PARAM_METRICS:
                raise StoreError(f"unknown per-parameter metric {m!r}")
        cols = "".join(f", s.{m}" for m in metrics)
        rows = self._query(
            f"SELECT p.name, s.step{cols} FROM params p"
            " CROSS JOIN param_stats s ON s.param_id = p.id"
            " AND s.step = (SELECT MAX(step) FROM param_stats WHERE param_id = p.id)"
            " ORDER BY p.id"
        )
        out = {r[0]: {"step": r[1], **dict(zip(metrics, r[2:], strict=True))} for r in rows}
        detail = [m for m in metrics if m in DETAIL_METRICS]
        if detail:
            cols = "".join(f", s.{m}" for m in detail)
            for r in self._query(
                f"SELECT p.name, s.step{cols} FROM params p"
                " CROSS JOIN param_stats s ON s.param_id = p.id AND s.step = ("
                f"SELECT step FROM param_stats WHERE param_id = p.id AND {_DETAIL_ROW}"
                " ORDER BY step DESC LIMIT 1)"
            ):
                if r[0] in out:
                    out[r[0]].update(detail_step=r[1], **dict(zip(detail, r[2:], strict=True)))
        return out

    def param_rows_at(
        self, steps: list[int], metrics: tuple[str, ...] = ("grad_norm",)
    ) -> dict[str, list[tuple[Any, ...]]]:
        """``(step, *metrics)`` rows of every parameter at the given steps (one query).

        For sparklines over a long run: a few dozen chosen steps cost a few thousand seeks
        instead of a scan of every row.
        """
        for m in metrics:
            if m not in PARAM_METRICS:
                raise StoreError(f"unknown per-parameter metric {m!r}")
        out: dict[str, list[tuple[Any, ...]]] = {r[1]: [] for r in self._param_rows}
        if not steps:
            return out
        cols = "".join(f", s.{m}" for m in metrics)
        marks = ", ".join("?" for _ in steps)
        for row in self._query(
            f"SELECT p.name, s.step{cols} FROM params p"
            " CROSS JOIN param_stats s ON s.param_id = p.id"
            f" AND s.step IN ({marks}) ORDER BY p.id, s.step",
            tuple(steps),
        ):
            out.setdefault(row[0], []).append(row[1:])
        return out

    def step_rows_at(self, steps: list[int]) -> list[dict[str, Any]]:
        """Step rows (as :meth:`step_rows` gives them) at the given steps only."""
        if not steps:
            return []
        marks = ", ".join("?" for _ in steps)
        return self._step_rows(f"step IN ({marks})", tuple(steps))

    def binned_rows(
        self, param: str, metrics: tuple[str, ...], *, bucket: int, since: int = -1
    ) -> list[tuple[Any, ...]]:
        """``(last step, *max of each metric)`` per bucket of ``bucket`` steps after ``since``.

        A long series shrinks to a plot's width in SQLite; the maximum keeps spikes visible.
        """
        for m in metrics:
            if m not in PARAM_METRICS:
                raise StoreError(f"unknown per-parameter metric {m!r}")
        cols = "".join(f", MAX({m})" for m in metrics)
        return self._query(
            f"SELECT MAX(step){cols} FROM param_stats WHERE param_id = ? AND step > ?"
            " GROUP BY step / ? ORDER BY 1",
            (self._param_id(param), since, max(1, int(bucket))),
        )

    def lr_binned(
        self, optimizer: int = 0, *, bucket: int = 1, since: int = -1
    ) -> dict[int, list[tuple[int, float]]]:
        """``{group: [(last step, max lr)]}`` per bucket of ``bucket`` steps after ``since``."""
        out: dict[int, list[tuple[int, float]]] = {}
        for grp in self.group_indices(optimizer):
            out[grp] = [
                (r[0], r[1])
                for r in self._query(
                    "SELECT MAX(step), MAX(lr) FROM group_stats WHERE optimizer = ? AND grp = ?"
                    " AND step > ? AND lr IS NOT NULL GROUP BY step / ? ORDER BY 1",
                    (optimizer, grp, since, max(1, int(bucket))),
                )
            ]
        return out

    def param_row_at(self, param: str, step: int | None = None) -> dict[str, Any] | None:
        """The ``param_stats`` row of ``param`` at its last logged step at or before ``step``,
        with the detail metrics (weights, updates) of its last detail step at or before it
        (that step as ``detail_step``)."""
        pid = self._param_id(param)
        limit = step if step is not None else 2**62
        sql = f"SELECT step, {', '.join(PARAM_METRICS)} FROM param_stats WHERE param_id = ?"
        rows = self._query(sql + " AND step <= ? ORDER BY step DESC LIMIT 1", (pid, limit))
        if not rows:
            return None
        row = {"step": rows[0][0], **dict(zip(PARAM_METRICS, rows[0][1:], strict=True))}
        found = self._query(
            sql + f" AND step <= ? AND {_DETAIL_ROW} ORDER BY step DESC LIMIT 1", (pid, limit)
        )
        if found:
            detail = dict(zip(PARAM_METRICS, found[0][1:], strict=True))
            row.update(detail_step=found[0][0], **{m: detail[m] for m in DETAIL_METRICS})
        return row

    def group_indices(self, optimizer: int = 0) -> list[int]:
        """The group indices that have ``group_stats`` rows (one seek per group)."""
        out: list[int] = []
        while True:
            rows = self._query(
                "SELECT MIN(grp) FROM group_stats WHERE optimizer = ? AND grp > ?",
                (optimizer, out[-1] if out else -1),
            )
            if not rows or rows[0][0] is None:
                return out
            out.append(rows[0][0])

    def groups_at(self, optimizer: int = 0, step: int | None = None) -> list[dict[str, Any]]:
        """Like :meth:`groups`, each group as of its last logged step at or before ``step``."""
        out = []
        for grp in self.group_indices(optimizer):
            rows = self._query(
                "SELECT step, lr, hparams FROM group_stats WHERE optimizer = ? AND grp = ?"
                " AND step <= ? ORDER BY step DESC LIMIT 1",
                (optimizer, grp, step if step is not None else 2**62),
            )
            if rows:
                out.append(
                    {"group": grp, "step": rows[0][0], "lr": rows[0][1], **self._json(rows[0][2])}
                )
        return out

    def state_at(self, param: str, step: int | None = None) -> dict[str, float]:
        """Like :meth:`state`, each entry as of its last logged step at or before ``step``.

        Walks the distinct state names with one seek each instead of scanning the parameter's
        rows, so a long run answers as fast as a short one.
        """
        pid = self._param_id(param)
        limit = step if step is not None else 2**62
        out: dict[str, float] = {}
        name = ""
        while True:
            rows = self._query(
                "SELECT MIN(name) FROM state_stats WHERE param_id = ? AND name > ?", (pid, name)
            )
            if not rows or rows[0][0] is None:
                return out
            name = rows[0][0]
            value = self._query(
                "SELECT value FROM state_stats WHERE param_id = ? AND name = ? AND step <= ?"
                " ORDER BY step DESC LIMIT 1",
                (pid, name, limit),
            )
            if value:
                out[f"state.{name}"] = value[0][0]

    def param_step(self, param: str, step: int, offset: int) -> int | None:
        """The logged step of ``param`` that lies ``offset`` rows after (or before) ``step``.

        ``offset`` > 0 moves forward, < 0 backward; ``None`` when there is none that way.
        """
        pid = self._param_id(param)
        if offset >= 0:
            sql = "SELECT step FROM param_stats WHERE param_id = ? AND step > ? ORDER BY step"
        else:
            sql = "SELECT step FROM param_stats WHERE param_id = ? AND step < ? ORDER BY step DESC"
        rows = self._query(sql + " LIMIT 1 OFFSET ?", (pid, step, max(0, abs(offset) - 1)))
        return rows[0][0] if rows else None

    def param_step_range(self, param: str) -> tuple[int | None, int | None]:
        """First and last logged step of ``param`` (two seeks)."""
        pid = self._param_id(param)
        lo = self._query("SELECT MIN(step) FROM param_stats WHERE param_id = ?", (pid,))
        hi = self._query("SELECT MAX(step) FROM param_stats WHERE param_id = ?", (pid,))
        return lo[0][0], hi[0][0]

    def alerts_since(self, after: int = 0) -> list[tuple[int, Alert]]:
        """``(id, Alert)`` for alerts whose row id is above ``after``, oldest first."""
        return [
            (
                r[0],
                Alert(
                    code=r[1],
                    severity=r[2],
                    where=r[3],
                    step=r[4],
                    message=r[5],
                    details=self._json(r[6]),
                ),
            )
            for r in self._query(
                'SELECT id, code, severity, "where", step, message, details FROM alerts'
                " WHERE id > ? ORDER BY id",
                (after,),
            )
        ]


def _has_wal(path: Path) -> bool:
    try:
        return wal_path(path).stat().st_size > 0
    except OSError:
        return False


def _integer(value: Any) -> int | None:
    """``value`` as an int when it is one (or its decimal text), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None

"""Read API over a recorded run: ``gs.open_store(path)`` → :class:`Run`.

Readers open the file read-only and may follow a store that is still being written: every
query sees what the writer has committed so far, and :meth:`Run.refresh` picks up parameters
and modules registered after opening.
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
from pathlib import Path
from typing import Any

from gradscope.errors import StoreError
from gradscope.records import (
    MODULE_METRICS,
    PARAM_METRICS,
    Alert,
    GroupInfo,
    Histogram,
    ModuleInfo,
    OptimizerInfo,
    ParamInfo,
)
from gradscope.store import schema

_SQLITE_MAGIC = b"SQLite format 3\x00"


def check_store_file(path: Path) -> None:
    """Raise :class:`StoreError` unless ``path`` looks like a whole gradscope store.

    Reads only the 100-byte SQLite header: the magic string, our application id, and the page
    count times page size against the file's length (a truncated copy is shorter).
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


def open_store(path: str | os.PathLike[str]) -> Run:
    """Open a recorded run for reading (also while it is still being written)."""
    return Run(path)


class Run:
    """One recorded run. Series come back as ``(steps, values)`` lists, oldest first."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        check_store_file(self.path)
        try:
            self._conn = sqlite3.connect(
                f"file:{self.path.resolve()}?mode=ro", uri=True, check_same_thread=False
            )
            self._conn.row_factory = None
            self.meta = self._read_meta()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{str(self.path)!r} is damaged and cannot be read ({exc})") from None
        version = int(self.meta.get("schema_version", 0))
        if version > schema.SCHEMA_VERSION:
            self._conn.close()
            raise StoreError(
                f"{str(self.path)!r} was written by a newer gradscope (store schema {version}, "
                f"this version reads up to {schema.SCHEMA_VERSION}): upgrade gradscope"
            )
        self.refresh()

    # -- structure ------------------------------------------------------------------------------

    def _read_meta(self) -> dict[str, Any]:
        try:
            rows = self._conn.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.OperationalError:
            raise StoreError(
                f"{str(self.path)!r} is not a gradscope store (no meta table)"
            ) from None
        meta: dict[str, Any] = {}
        for key, value in rows:
            try:
                meta[key] = json.loads(value)
            except json.JSONDecodeError:
                meta[key] = value
        return meta

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
            for alias in json.loads(r[2]):
                self._param_ids.setdefault(alias, r[0])
        self._module_ids = {r[1]: r[0] for r in self._module_rows}

    @property
    def params(self) -> list[str]:
        """Parameter names in model order (tied parameters once, by their first name)."""
        return [r[1] for r in self._param_rows]

    @property
    def param_info(self) -> dict[str, ParamInfo]:
        return {
            r[1]: ParamInfo(
                name=r[1],
                aliases=tuple(json.loads(r[2])),
                shape=tuple(json.loads(r[3])),
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
                buffers=tuple((b[0], tuple(b[1]), b[2]) for b in json.loads(r[5])),
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
                for g in json.loads(groups)
            )
            out.append(OptimizerInfo(index=oid, type=typ, defaults=json.loads(defaults), groups=gs))
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
        """Step rows as dicts (loss, lrs, wall_time, duration, n_backward, logged, scalars)."""
        rows = self._query(
            "SELECT step, wall_time, duration, loss, n_backward, logged, lrs, scalars FROM steps"
            " WHERE step >= ? ORDER BY step",
            (since if since is not None else -1,),
        )
        return [
            {
                "step": r[0],
                "wall_time": r[1],
                "duration": r[2],
                "loss": r[3],
                "n_backward": r[4],
                "logged": bool(r[5]),
                "lrs": json.loads(r[6]),
                "scalars": json.loads(r[7]) if r[7] else {},
            }
            for r in rows
        ]

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
                if len(lrs := json.loads(raw)) > group
            ]
        else:
            rows = [
                (s, sc[metric])
                for s, raw in self._query(
                    "SELECT step, scalars FROM steps WHERE scalars IS NOT NULL ORDER BY step"
                )
                if metric in (sc := json.loads(raw))
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
                out[metric] = rows[0][0]
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
            f"state.{name}": value
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
        return [{"group": g, "lr": lr, **json.loads(h)} for g, lr, h in rows]

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
            "shape": json.loads(r[3]),
            "dtype": r[4],
            "device": r[5],
        }
        out.update(zip(MODULE_METRICS, r[6:], strict=True))
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
                details=json.loads(r[5]),
            )
            for r in self._query(
                'SELECT code, severity, "where", step, message, details FROM alerts ORDER BY id'
            )
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

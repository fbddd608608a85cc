"""Per-parameter, per-module and per-group series of a run, as methods of :class:`Run`.

Series come back as ``(steps, values)`` lists, oldest first. Group rows, histograms and module
statistics come back as their records; :meth:`MetricReads.latest` and :meth:`MetricReads.state`
are name → value mappings (named as :meth:`MetricReads.series` takes them), since ``latest``
takes each metric from its own last step and ``state`` spans several state entries.
"""

from __future__ import annotations

import math
from typing import Any

from gradscope.errors import StoreError
from gradscope.records import MODULE_METRICS, PARAM_METRICS, GroupStats, Histogram, ModuleStats
from gradscope.store.codec import decode_counts
from gradscope.store.run_rows import RunRows


class MetricReads(RunRows):
    """Metric reads; :class:`Run` provides the connection and decoding."""

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
        """The last logged value of every per-parameter metric of ``param``.

        A mapping rather than a :class:`ParamStats`: each metric comes from its own last step
        (weights from the last detail step, gradients from the last logged one). For one
        step's row, use :meth:`param_row_at`.
        """
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
        """Optimizer state summary of ``param`` at ``step`` (default: the last logged step).

        ``{"state.<key>.<stat>": value}`` over every state entry (``exp_avg``, ``step`` …), named
        as :meth:`series` takes them: one flat mapping rather than a :class:`StateStats` per key.
        """
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

    def groups(self, optimizer: int = 0, step: int | None = None) -> list[GroupStats]:
        """Hyperparameters and lr of each group of ``optimizer`` at ``step`` (default: last)."""
        if step is None:
            rows = self._query(
                "SELECT MAX(step) FROM group_stats WHERE optimizer = ?", (optimizer,)
            )
            step = rows[0][0]
        rows = self._query(
            "SELECT step, grp, lr, hparams FROM group_stats WHERE optimizer = ? AND step = ?"
            " ORDER BY grp",
            (optimizer, step),
        )
        return [self._group(optimizer, r) for r in rows]

    def _group(self, optimizer: int, r: tuple[Any, ...]) -> GroupStats:
        """A ``group_stats`` row ``(step, grp, lr, hparams)`` as a :class:`GroupStats`."""
        lr = float(r[2]) if r[2] is not None else None
        return GroupStats(
            step=r[0], optimizer=optimizer, group=r[1], lr=lr, hparams=self._json(r[3])
        )

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
        counts = decode_counts(blob)
        return Histogram(s, param, kind, scale, lo, hi, counts, nan, posinf, neginf, zeros, sampled)

    def module_latest(self, module: str) -> ModuleStats | None:
        """The last recorded statistics of ``module``'s output, or ``None``."""
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
        values = {
            k: float(v) if v is not None else None
            for k, v in zip(MODULE_METRICS, r[6:], strict=True)
        }
        shape = self._json(r[3])
        return ModuleStats(
            step=r[0],
            module=module,
            calls=r[1],
            training=bool(r[2]),
            shape=tuple(shape) if shape is not None else (),
            dtype=r[4],
            device=r[5],
            values=values,
        )

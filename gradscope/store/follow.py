"""Reads for views that follow a long run (the dashboard), as methods of :class:`Run`.

Each finds its rows by primary-key seeks, so its cost does not grow with the run's length.
CROSS JOIN keeps ``params`` the outer loop: SQLite seeks into param_stats, never scans it.

Reads of one thing return its record (:meth:`FollowReads.param_row_at` a ``ParamStats``,
:meth:`FollowReads.groups_at` ``GroupStats``). The bulk reads that feed the dashboard's tables
and plots on every refresh (``latest_rows``, ``param_rows_at``, ``binned_rows``, ``lr_binned``)
give plain rows: a sparkline refresh reads some ten thousand rows, and building a record for
each costs about fifty times keeping SQLite's tuple (16 ms against 0.3 ms per 12,000 rows).
"""

from __future__ import annotations

from typing import Any

from gradscope.errors import StoreError
from gradscope.records import (
    DETAIL_METRICS,
    PARAM_METRICS,
    Alert,
    GroupStats,
    ParamStats,
    StepRecord,
)
from gradscope.store.run_rows import RunRows

#: A ``param_stats`` row of a detail step (weights are measured there, updates too).
DETAIL_ROW = "(weight_norm IS NOT NULL OR update_norm IS NOT NULL)"
#: The columns of an ``alerts`` row, in :meth:`FollowReads._alert`'s order.
ALERT_COLUMNS = 'code, severity, "where", step, message, details'


class FollowReads(RunRows):
    """Bulk and seek-only reads; :class:`Run` provides the connection and decoding."""

    def _alert(self, r: tuple[Any, ...]) -> Alert:
        """An ``alerts`` row (:data:`ALERT_COLUMNS`) as an :class:`Alert`."""
        return Alert(
            code=r[0], severity=r[1], where=r[2], step=r[3], message=r[4],
            details=self._json(r[5]),
        )  # fmt: skip

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
                f"SELECT step FROM param_stats WHERE param_id = p.id AND {DETAIL_ROW}"
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

    def step_rows_at(self, steps: list[int]) -> list[StepRecord]:
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

    def param_row_at(self, param: str, step: int | None = None) -> ParamStats | None:
        """The statistics of ``param`` at its last logged step at or before ``step``, with the
        detail metrics (weights, updates) of its last detail step at or before it (that step
        as ``detail_step``); ``values`` holds every metric, ``None`` where not measured."""
        pid = self._param_id(param)
        limit = step if step is not None else 2**62
        sql = f"SELECT step, {', '.join(PARAM_METRICS)} FROM param_stats WHERE param_id = ?"
        rows = self._query(sql + " AND step <= ? ORDER BY step DESC LIMIT 1", (pid, limit))
        if not rows:
            return None
        values = dict(zip(PARAM_METRICS, rows[0][1:], strict=True))
        found = self._query(
            sql + f" AND step <= ? AND {DETAIL_ROW} ORDER BY step DESC LIMIT 1", (pid, limit)
        )
        detail_step = None
        if found:
            detail = dict(zip(PARAM_METRICS, found[0][1:], strict=True))
            values.update({m: detail[m] for m in DETAIL_METRICS})
            detail_step = found[0][0]
        return ParamStats(rows[0][0], param, values, detail_step=detail_step)

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

    def groups_at(self, optimizer: int = 0, step: int | None = None) -> list[GroupStats]:
        """Like :meth:`groups`, each group as of its last logged step at or before ``step``
        (that step is the record's ``step``)."""
        out = []
        for grp in self.group_indices(optimizer):
            rows = self._query(
                "SELECT step, grp, lr, hparams FROM group_stats WHERE optimizer = ? AND grp = ?"
                " AND step <= ? ORDER BY step DESC LIMIT 1",
                (optimizer, grp, step if step is not None else 2**62),
            )
            if rows:
                out.append(self._group(optimizer, rows[0]))
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
            (r[0], self._alert(r[1:]))
            for r in self._query(
                f"SELECT id, {ALERT_COLUMNS} FROM alerts WHERE id > ? ORDER BY id", (after,)
            )
        ]

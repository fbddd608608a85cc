"""The columns of an export, fixed before the first row is written.

CSV headers and Parquet schemas cannot grow once rows follow, so :func:`plan` looks at every run
first: which optimizer state entries, learning-rate groups and ``scope.log`` names occur. It
reads only with index seeks and one streaming pass over the step rows.
"""

from __future__ import annotations

import fnmatch
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gradscope.errors import GradscopeError
from gradscope.records import MODULE_METRICS, PARAM_METRICS
from gradscope.store.codec import decode_json
from gradscope.store.reader import Run

HISTOGRAM_KINDS = ("grad", "weight")


def cursor(run: Run, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
    """A streaming cursor on the run's read-only connection."""
    return run.cursor(sql, args)


@dataclass(frozen=True)
class Layout:
    """The columns of the three tables, the same for every run of one export."""

    rank: bool
    param_metrics: tuple[str, ...]
    state_names: tuple[str, ...]
    module_metrics: tuple[str, ...]
    n_lrs: int
    scalars: tuple[str, ...]
    histograms: tuple[str, ...] = HISTOGRAM_KINDS

    def _lead(self, *rest: str) -> tuple[str, ...]:
        return ("step", *(("rank",) if self.rank else ()), *rest)

    @property
    def param_columns(self) -> tuple[str, ...]:
        states = tuple(f"state.{n}" for n in self.state_names)
        return self._lead("param", *self.param_metrics, *states)

    @property
    def lr_columns(self) -> tuple[str, ...]:
        """The names ``run.series`` takes: ``lr`` for the first group, ``lr.<i>`` for others."""
        return tuple("lr" if i == 0 else f"lr.{i}" for i in range(self.n_lrs))

    @property
    def step_columns(self) -> tuple[str, ...]:
        fixed = ("wall_time", "duration", "loss", "n_backward", "logged")
        return self._lead(*fixed, *self.lr_columns, *self.scalar_columns)

    @property
    def scalar_columns(self) -> tuple[str, ...]:
        """``scope.log`` names; one that collides with a fixed column gets a ``scalar.`` prefix."""
        taken = {"step", "rank", "wall_time", "duration", "loss", "n_backward", "logged"}
        taken.update(self.lr_columns)
        return tuple(f"scalar.{s}" if s in taken else s for s in self.scalars)

    @property
    def module_columns(self) -> tuple[str, ...]:
        return self._lead("module", "calls", "training", *self.module_metrics)


def _state_names(run: Run) -> set[str]:
    """Distinct ``state_stats`` names, one index seek per (parameter, name)."""
    names: set[str] = set()
    for (pid,) in list(cursor(run, "SELECT id FROM params ORDER BY id")):
        name = ""
        while True:
            row = cursor(
                run,
                "SELECT MIN(name) FROM state_stats WHERE param_id = ? AND name > ?",
                (pid, name),
            ).fetchone()
            if row is None or row[0] is None:
                break
            name = row[0]
            names.add(name)
    return names


def _step_extras(run: Run) -> tuple[int, list[str]]:
    """The most lr groups of any step and every ``scope.log`` name, streaming the step rows."""
    n_lrs, scalars = 0, {}
    for lrs, raw in cursor(run, "SELECT lrs, scalars FROM steps"):
        n_lrs = max(n_lrs, len(decode_json(run.path, lrs)))
        if raw:
            scalars.update(dict.fromkeys(decode_json(run.path, raw)))
    return n_lrs, list(scalars)


def _select(names: Sequence[str], patterns: Sequence[str] | None) -> tuple[str, ...]:
    if patterns is None:
        return tuple(names)
    return tuple(n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns))


def plan(runs: Sequence[Run], metrics: Sequence[str] | None = None) -> Layout:
    """Fix the columns for ``runs``; ``metrics`` are names or globs (``grad_*``, ``state.*``).

    Histograms are selected as ``grad_hist`` / ``weight_hist``. The rank column appears when
    several stores are exported or the run was distributed (``world_size`` > 1 in its meta).
    """
    states: set[str] = set()
    scalars: dict[str, None] = {}
    n_lrs = 0
    for run in runs:
        states |= _state_names(run)
        n, names = _step_extras(run)
        n_lrs = max(n_lrs, n)
        scalars.update(dict.fromkeys(names))
    layout = Layout(
        rank=len(runs) > 1 or any(int(r.meta.get("world_size", 1)) > 1 for r in runs),
        param_metrics=_select(PARAM_METRICS, metrics),
        state_names=tuple(
            n[len("state.") :] for n in _select([f"state.{s}" for s in sorted(states)], metrics)
        ),
        module_metrics=_select(MODULE_METRICS, metrics),
        n_lrs=n_lrs,
        scalars=tuple(scalars),
        histograms=tuple(
            k for k in HISTOGRAM_KINDS if k + "_hist" in _select([k + "_hist"], metrics)
        ),
    )
    if metrics is not None and not (
        layout.param_metrics or layout.state_names or layout.module_metrics or layout.histograms
    ):
        raise GradscopeError(
            f"no recorded metric matches {', '.join(metrics)}: use names such as grad_norm, "
            "state.exp_avg.norm, act_mean or globs such as 'grad_*'"
        )
    return layout

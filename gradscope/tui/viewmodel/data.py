"""What the dashboard shows, read from a store and kept up to date cheaply.

:class:`StoreData` follows a run: each :meth:`~StoreData.poll` reads only what was committed
since the last one (the last row of every parameter, the new sparkline points, new alerts), so
a refresh costs the same at step 100 as at step 100,000. Nothing here imports Textual: the
screens ask this object, and tests can too.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradscope.errors import GradscopeError
from gradscope.records import (
    SEVERITIES,
    Alert,
    ModuleInfo,
    ModuleStats,
    OptimizerInfo,
    ParamInfo,
    StepRecord,
)
from gradscope.store.reader import Run
from gradscope.tui.viewmodel.health import param_health
from gradscope.tui.viewmodel.sampling import BinnedSeries, SampleGrid

if TYPE_CHECKING:
    from gradscope.graph.model import GraphData

#: Columns of the last row each parameter shows in the tree.
OVERVIEW_METRICS = (
    "grad_norm",
    "grad_norm_preclip",
    "update_ratio",
    "weight_norm",
    "update_norm",
    "grad_nan",
    "grad_inf",
)
#: The series of the parameter view.
DETAIL_METRICS = ("grad_norm", "update_ratio", "weight_norm", "grad_norm_preclip")
#: Clipping acted where the pre-clip norm exceeds the norm the optimizer saw by this factor.
CLIP_TOLERANCE = 1 + 1e-5


@dataclass(frozen=True)
class Update:
    """What one poll found new."""

    steps: bool = False
    alerts: bool = False
    structure: bool = False
    finished: bool = False
    graph: bool = False


def newest_store(folder: str | os.PathLike[str] = "runs") -> Path:
    """The most recently written ``*.gsdb`` under ``folder`` (what ``gradscope tui`` opens)."""
    stores = sorted(Path(folder).glob("**/*.gsdb"), key=lambda p: p.stat().st_mtime)
    if not stores:
        raise GradscopeError(
            f"no store given and no *.gsdb under {str(folder)!r}: pass one, "
            "e.g. gradscope tui runs/NAME.gsdb"
        )
    return stores[-1]


def open_data(store: str | os.PathLike[str] | Run) -> StoreData:
    """Follow ``store`` (a path or an open :class:`Run`); a bad path raises ``StoreError``."""
    return StoreData(store if isinstance(store, Run) else Run(store))


class StoreData:
    """A followed run: structure, latest values, sparkline samples and alerts."""

    def __init__(self, run: Run, *, points: int = 48) -> None:
        self.run = run
        self.points = points
        self.every = 0
        self._restart()
        self.alerts: list[Alert] = []
        self._alert_id = 0
        self._shape: tuple[int, int, int] = (-1, -1, -1)
        self.finished = False
        self._graph: tuple[tuple[Any, ...], GraphData] | None = None
        self._has_graph = False
        self.poll()

    def _restart(self) -> None:
        """Forget the samples: the grid follows the run's ``every``, known once meta is in."""
        options = self.run.meta.get("options") or {}
        self.every = int(options.get("every") or 1)
        self.grid = SampleGrid(every=self.every, points=self.points)
        self.last_step: int | None = None
        self.latest: dict[str, dict[str, Any]] = {}
        self.spark: dict[str, list[tuple[int, float | None]]] = {}
        self.loss: list[tuple[int, float | None]] = []
        self.lr: list[tuple[int, float | None]] = []
        self.lrs: list[tuple[int, tuple[float | None, ...]]] = []
        #: ``{grid step: (sum of squared grad norms, sum of squared pre-clip norms)}``.
        self.global_sq: dict[int, tuple[float | None, float | None]] = {}
        self.last_row: StepRecord | None = None
        #: Latest activation statistics of the modules without parameters that have any.
        self.activations: dict[str, ModuleStats] = {}

    # -- structure ------------------------------------------------------------------------------

    def _read_structure(self) -> bool:
        params, modules, optimizers = self.run.params, self.run.modules, self.run.optimizers
        shape = (len(params), len(modules), len(optimizers))
        if shape == self._shape:
            return False
        self._shape = shape
        self.params: list[str] = params
        self.param_info: dict[str, ParamInfo] = self.run.param_info
        self.modules: list[ModuleInfo] = modules
        self.optimizers: list[OptimizerInfo] = optimizers
        self.module_types = {m.path: m.type for m in self.modules}
        self._aliases = {a: p.name for p in self.param_info.values() for a in p.aliases}
        return True

    @property
    def model(self) -> str:
        return str(self.run.meta.get("model") or "model")

    def group_of(self, param: str) -> tuple[int, int] | None:
        """``(optimizer, group)`` that updates ``param``, or ``None``."""
        for opt in self.optimizers:
            for group in opt.groups:
                if param in group.params:
                    return opt.index, group.index
        return None

    def locate(self, where: str) -> tuple[str, str] | None:
        """Resolve an alert's ``where`` to ``("param", name)`` or ``("module", path)``.

        Takes a name or alias as is, else the first comma- or space-separated part that names
        something, else the longest module path that prefixes ``where``.
        """
        for part in [where, *where.replace(",", " ").split()]:
            if part in self.param_info:
                return "param", part
            if part in self._aliases:
                return "param", self._aliases[part]
            if part in self.module_types and part:
                return "module", part
        prefixes = [p for p in self.module_types if p and where.startswith(p + ".")]
        return ("module", max(prefixes, key=len)) if prefixes else None

    # -- following ------------------------------------------------------------------------------

    def poll(self) -> Update | None:
        """Read what was committed since the last poll; ``None`` when nothing was."""
        self.run.refresh()
        if int((self.run.meta.get("options") or {}).get("every") or 1) != self.every:
            self._restart()
        structure = self._read_structure()
        finished = "finished" in self.run.meta and not self.finished
        self.finished = "finished" in self.run.meta
        new_alerts = self.run.alerts_since(self._alert_id)
        if new_alerts:
            self._alert_id = new_alerts[-1][0]
            self.alerts.extend(a for _, a in new_alerts)
        last = self.run.last_step
        steps = last is not None and (last != self.last_step or structure)
        if steps and last is not None:
            self._read_steps(last)
        # A snapshot that appears (the scope saves it after the first backward) is news; one
        # that is replaced is picked up with the next steps, without comparing it every poll.
        has_graph = self.run.has_graph
        graph, self._has_graph = has_graph and not self._has_graph, has_graph
        if not (steps or new_alerts or structure or finished or graph):
            return None
        alerts = bool(new_alerts)
        return Update(steps, alerts, structure=structure, finished=finished, graph=graph)

    def _read_steps(self, last: int) -> None:
        self.last_step = last
        self.latest = self.run.latest_rows(OVERVIEW_METRICS)
        new, grew = self.grid.advance(last)
        if grew:
            keep = self.grid.keep
            self.spark = {p: [x for x in pts if keep(x[0])] for p, pts in self.spark.items()}
            self.loss = [x for x in self.loss if keep(x[0])]
            self.lr = [x for x in self.lr if keep(x[0])]
            self.lrs = [x for x in self.lrs if keep(x[0])]
            self.global_sq = {s: v for s, v in self.global_sq.items() if keep(s)}
        metrics = ("grad_norm", "grad_norm_preclip")
        for param, rows in self.run.param_rows_at(new, metrics).items():
            self.spark.setdefault(param, []).extend((r[0], r[1]) for r in rows)
            for step, norm, pre in rows:
                post_sq, pre_sq = self.global_sq.get(step, (None, None))
                self.global_sq[step] = (_add_square(post_sq, norm), _add_square(pre_sq, pre))
        for row in self.run.step_rows_at(new):
            self.loss.append((row.step, row.loss))
            self.lr.append((row.step, row.lrs[0] if row.lrs else None))
            self.lrs.append((row.step, row.lrs))
        tail = self.run.step_rows(since=last)
        self.last_row = tail[-1] if tail else None
        if new:  # with the grid, not every poll: one seek per parameterless module
            self._read_activations()

    def _read_activations(self) -> None:
        """Activation statistics of parameterless modules (one seek each), for the tree."""
        holders = {info.module for info in self.param_info.values()}
        for module in self.modules:
            if module.path and module.n_params == 0 and module.path not in holders:
                row = self.run.module_latest(module.path)
                if row is not None:
                    self.activations[module.path] = row

    # -- what the views draw --------------------------------------------------------------------

    def health(self, param: str) -> str:
        info = self.param_info.get(param)
        return param_health(self.latest.get(param), requires_grad=bool(info and info.requires_grad))

    def spark_points(self, param: str) -> dict[int, float]:
        """``{step: grad norm}`` at the grid steps and the latest step, missing values left out."""
        points = {s: v for s, v in self.spark.get(param, ()) if v is not None}
        row = self.latest.get(param)
        if row and row.get("grad_norm") is not None:
            points[row["step"]] = row["grad_norm"]
        return points

    def spark_values(self, param: str) -> list[float]:
        """The grad-norm trend of one parameter, oldest first."""
        return list(self.spark_points(param).values())

    def header_series(self, which: str) -> list[float]:
        """Loss or LR samples for the header's sparklines, ending with the current value."""
        pts = self.loss if which == "loss" else self.lr
        values = [v for _, v in pts if v is not None]
        row = self.last_row
        if row is not None and (not pts or pts[-1][0] != row.step):
            current = row.loss if which == "loss" else (row.lrs or (None,))[0]
            if current is not None:
                values.append(current)
        return values

    # The overview's band draws the grid points only, without the latest step: its curves then
    # change only when the grid gains a point, and a refresh in between redraws no plot.

    def loss_series(self) -> tuple[list[int], list[float | None]]:
        """Loss at the grid steps (NaN and missing values kept)."""
        return [s for s, _ in self.loss], [v for _, v in self.loss]

    def lr_series(self) -> list[tuple[int, list[int], list[float | None]]]:
        """``(index, steps, values)`` of every learning rate the steps record (one per group),
        at the grid steps."""
        pts = self.lrs
        width = max((len(lrs) for _, lrs in pts), default=0)
        return [
            (
                i,
                [s for s, lrs in pts if i < len(lrs)],
                [lrs[i] for _, lrs in pts if i < len(lrs)],
            )
            for i in range(width)
        ]

    def global_norms(self) -> tuple[list[int], list[float | None], list[float | None]]:
        """Steps, global gradient norm and global pre-clip norm (all parameters as one vector),
        at the grid steps."""
        steps = sorted(self.global_sq)
        return (
            steps,
            [_sqrt(self.global_sq[s][0]) for s in steps],
            [_sqrt(self.global_sq[s][1]) for s in steps],
        )

    def alert_counts(self) -> dict[str, int]:
        counts = Counter(a.severity for a in self.alerts)
        return {s: counts.get(s, 0) for s in SEVERITIES}

    def graph(self) -> GraphData | None:
        """The graph snapshot the run saved (meta key ``graph``), or ``None``; parsed once.

        A scope saves one snapshot per run, so a new one is told apart by its sizes (nodes,
        edges, heat-map entries) rather than by comparing it whole on every refresh. Raises
        ``GradscopeError`` when a snapshot is there but cannot be read, so the view can say so
        instead of failing.
        """
        data = self.run.graph_snapshot()
        if not isinstance(data, dict):
            return None
        heat = data.get("heat")
        if not isinstance(heat, dict):
            heat = {}
        parts = (data.get("nodes"), data.get("edges"), heat.get("norms"), data.get("full"))
        key = (*(len(x) if isinstance(x, (list, dict)) else -1 for x in parts), heat.get("done"))
        if self._graph is not None and self._graph[0] == key:
            return self._graph[1]
        from gradscope.graph.model import GraphData  # on first use: opening the app stays as fast

        try:
            graph = GraphData.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise GradscopeError(
                f"the graph snapshot in this store cannot be read ({exc!r}); "
                "draw one from the script: gradscope graph SCRIPT.py -o graph.svg"
            ) from None
        self._graph = (key, graph)
        return graph

    def history(self, param: str, *, bins: int = 200) -> ParamHistory:
        return ParamHistory(self.run, param, every=self.every, bins=bins)


def is_clipped(norm: object, preclip: object) -> bool:
    """Whether clipping acted: the pre-clip norm is above the norm the optimizer saw."""
    if not isinstance(norm, (int, float)) or not isinstance(preclip, (int, float)):
        return False
    if not (math.isfinite(norm) and math.isfinite(preclip)):
        return math.isfinite(norm) and not math.isfinite(preclip)
    return preclip > norm * CLIP_TOLERANCE


def _add_square(total: float | None, value: object) -> float | None:
    if not isinstance(value, (int, float)):
        return total
    return (total or 0.0) + float(value) * float(value)


def _sqrt(value: float | None) -> float | None:
    if value is None:
        return None
    return math.sqrt(value) if not math.isnan(value) and value >= 0 else value


class ParamHistory:
    """Grad norm, update ratio and weight norm of one parameter, binned to a plot's width."""

    def __init__(self, run: Run, param: str, *, every: int = 1, bins: int = 200) -> None:
        self.run = run
        self.param = param
        self.series = BinnedSeries(bins=bins, bucket=every)
        self.first: int | None = None
        self.last: int | None = None
        self.update()

    def update(self) -> bool:
        """Read the buckets that changed since the last call; True when any did."""
        first, last = self.run.param_step_range(self.param)
        if last is None or last == self.last:
            return False
        self.first, self.last = first, last
        self.series.fit(last)
        rows = self.run.binned_rows(
            self.param, DETAIL_METRICS, bucket=self.series.bucket, since=self.series.since
        )
        self.series.merge(rows)
        return True

    def column(self, metric: str) -> tuple[list[int], list[float | None]]:
        return self.series.column(DETAIL_METRICS.index(metric))

"""The optimizers: each param group's hyperparameters now, who is in it, and the LR schedule."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from gradscope.numbers import hparam
from gradscope.tui.screens.base import DashboardScreen
from gradscope.tui.viewmodel.data import StoreData, Update
from gradscope.tui.viewmodel.sampling import BinnedSeries
from gradscope.tui.widgets.key_scroll import KeyScroll
from gradscope.tui.widgets.plain import PlainStatic, cell
from gradscope.tui.widgets.plots import GROUP_MARKERS, Series, SeriesPlot
from gradscope.tui.widgets.plots import series as plot_series

#: Flags every torch optimizer carries that say how it runs, not how it learns.
IMPLEMENTATION_FLAGS = frozenset(
    {"foreach", "capturable", "differentiable", "fused", "maximize", "initial_lr", "step"}
)


class OptimizerScreen(DashboardScreen):
    """Groups side by side (one column each), their members, and the LR over the run."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("l", "toggle_log", "Log LR")]

    def __init__(self, data: StoreData) -> None:
        super().__init__(data)
        self._schedules: dict[tuple[int, int], BinnedSeries] = {}

    def compose_body(self) -> ComposeResult:
        with KeyScroll(id="optimizer-body"):
            with Vertical(id="optimizer-side"):
                table: DataTable[object] = DataTable(id="group-table", cursor_type="none")
                table.can_focus = False
                yield table
                with VerticalScroll(id="group-members"):
                    yield PlainStatic(id="group-params")
            yield SeriesPlot("learning rate", log=False, id="lr-plot")

    def redraw(self, update: Update) -> None:
        if not self.data.optimizers:
            self.query_one("#group-params", Static).update(
                "No optimizer is watched in this run: pass it to gs.watch(model, optimizer)."
            )
            return
        if update.steps or update.structure:
            self._draw_groups()
            self._draw_schedule()

    def _draw_groups(self) -> None:
        table = self.query_one("#group-table", DataTable)
        table.clear(columns=True)
        columns: list[tuple[str, dict[str, Any]]] = []
        for opt in self.data.optimizers:
            current = {
                g.group: {"lr": g.lr, **g.hparams} for g in self.data.run.groups_at(opt.index)
            }
            for group in opt.groups:
                values = {**group.hparams, **current.get(group.index, {})}
                name = (
                    f"{opt.type} {group.index}"
                    if len(self.data.optimizers) == 1
                    else (f"{opt.index}:{opt.type} {group.index}")
                )
                columns.append((name, values))
        keys: list[str] = ["lr"]
        for _, values in columns:
            keys += [k for k in values if k not in keys and k not in IMPLEMENTATION_FLAGS]
        keys = [k for k in keys if k not in ("group",)]
        table.add_column("hyperparameter")
        for name, _ in columns:
            table.add_column(cell(name))
        table.add_row(
            "parameters",
            *[
                Text(str(len(g.params)), justify="right")
                for opt in self.data.optimizers
                for g in opt.groups
            ],
        )
        for key in keys:
            cells = [Text(hparam(v.get(key)), justify="right") for _, v in columns]
            table.add_row(cell(key), *cells)
        members = Text()
        for opt in self.data.optimizers:
            for group in opt.groups:
                members.append(f"{opt.type} group {group.index}", style="bold")
                members.append(f" ({len(group.params)}): {', '.join(group.params)}\n")
        self.query_one("#group-params", Static).update(members)

    def _draw_schedule(self) -> None:
        last = self.data.last_step
        if last is None:
            return
        series: list[Series] = []
        for opt in self.data.optimizers:
            held = [
                self._schedules.setdefault(
                    (opt.index, group.index), BinnedSeries(bins=200, bucket=self.data.every)
                )
                for group in opt.groups
            ]
            for binned in held:
                binned.fit(last)
            rows = self.data.run.lr_binned(
                opt.index, bucket=held[0].bucket, since=min(b.since for b in held)
            )
            for group, binned in zip(opt.groups, held, strict=True):
                binned.merge(rows.get(group.index, []))
                steps, values = binned.column(0)
                marker = GROUP_MARKERS[len(series) % len(GROUP_MARKERS)]
                label = f"{opt.type} group {group.index}"
                series.append(plot_series(label, steps, values, marker=marker, mark_missing=True))
        self.query_one("#lr-plot", SeriesPlot).show(series)

    def action_toggle_log(self) -> None:
        plot = self.query_one("#lr-plot", SeriesPlot)
        plot.set_log_scale(not plot.log_scale)
        self._draw_schedule()

"""One parameter in detail: its history, its gradient histogram, its optimizer state and group.

The view follows the latest step until the user steps back in time (←/→ one logged step,
PgUp/PgDn a tenth of the run, Home the first step, End back to following).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from gradscope.numbers import fixed, hparam
from gradscope.records import ParamStats
from gradscope.tui.screens.base import DashboardScreen
from gradscope.tui.viewmodel import health, ticks
from gradscope.tui.viewmodel.data import ParamHistory, Update, is_clipped
from gradscope.tui.widgets.key_scroll import KeyScroll
from gradscope.tui.widgets.plain import PlainStatic, cell
from gradscope.tui.widgets.plots import HistogramPlot, SeriesPlot, clipping_series, series

PLOTS = (
    ("grad_norm", "gradient norm ‖g‖"),
    ("update_ratio", "update / weight ‖Δw‖/‖w‖"),
    ("weight_norm", "weight norm ‖w‖"),
)


class ParamScreen(DashboardScreen):
    """The parameter chosen in the tree or an alert (at first: the one in the worst health)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Step back"),
        Binding("right", "step(1)", "Step on"),
        Binding("pageup", "step(-10)", "-10%", show=False),
        Binding("pagedown", "step(10)", "+10%", show=False),
        Binding("home", "first_step", "First step", show=False),
        Binding("end", "follow", "Latest"),
    ]

    #: The parameter shown (``None`` until chosen or defaulted) and the step (``None``: latest).
    param: str | None = None
    step: int | None = None
    _history: ParamHistory | None = None

    def compose_body(self) -> ComposeResult:
        yield PlainStatic(id="param-title")
        with KeyScroll(id="param-body"):
            with Vertical(id="param-series"):
                for metric, title in PLOTS:
                    yield SeriesPlot(title, id=f"plot-{metric}", classes="series-plot")
            with Vertical(id="param-side"):
                yield HistogramPlot(id="param-histogram")
                for table_id in ("param-state", "param-group"):
                    table: DataTable[object] = DataTable(id=table_id, cursor_type="none")
                    table.can_focus = False  # ← and → move in time here, not across cells
                    yield table

    def on_mount(self) -> None:
        self.query_one("#param-body", KeyScroll).focus()
        self.query_one("#param-state", DataTable).add_columns("optimizer state", "value")
        self.query_one("#param-group", DataTable).add_columns("group", "value")

    def select(self, param: str, step: int | None = None) -> None:
        """Show ``param`` at ``step`` (``None``: follow the latest step)."""
        if param != self.param:
            self._history = None
        self.param, self.step = param, step
        if self.is_current:
            self.redraw(Update(steps=True))

    def _default_param(self) -> str | None:
        """The first parameter in the worst health (what most needs a look)."""
        if not self.data.params:
            return None
        ranks = {name: health.ORDER.index(self.data.health(name)) for name in self.data.params}
        return min(self.data.params, key=lambda name: ranks[name])

    def redraw(self, update: Update) -> None:
        if self.param is None:
            self.param = self._default_param()
        if self.param is None:
            self.query_one("#param-title", Static).update("This run has no parameters yet.")
            return
        if self._history is None or self._history.param != self.param:
            self._history = self.data.history(self.param)
        elif not update.steps:
            return
        else:
            self._history.update()
        self._draw()

    def _draw(self) -> None:
        assert self.param is not None and self._history is not None
        run, param, step = self.data.run, self.param, self.step
        for metric, _ in PLOTS:
            steps, values = self._history.column(metric)
            lines, note = [series(metric, steps, values)], ""
            if metric == "grad_norm":
                _, pre = self._history.column("grad_norm_preclip")
                lines, note = clipping_series("‖g‖", steps, values, pre)
            self.query_one(f"#plot-{metric}", SeriesPlot).show(lines, marker=step, note=note)
        row = run.param_row_at(param, step)
        self.query_one("#param-title", Static).update(self._title(row))
        self.query_one(HistogramPlot).show(run.histogram(param, "grad", step))
        state = self.query_one("#param-state", DataTable)
        state.clear()
        entries = run.state_at(param, step)
        for name, value in entries.items():
            state.add_row(cell(name.removeprefix("state.")), _number(value))
        if not entries:
            state.add_row("(no optimizer state)", "")
        group = self.query_one("#param-group", DataTable)
        group.clear()
        owner = self.data.group_of(param)
        if owner is None:
            group.add_row("(in no watched optimizer)", "")
            return
        opt, index = owner
        current = [g for g in run.groups_at(opt, step) if g.group == index]
        kind = next((o.type for o in self.data.optimizers if o.index == opt), "optimizer")
        group.add_row("optimizer", cell(f"{kind} · group {index}"))
        hparams = {"lr": current[0].lr, **current[0].hparams} if current else {}
        for key, value in hparams.items():
            if key not in ("group", "step"):
                group.add_row(cell(key), _number(value, hparam))

    def _title(self, row: ParamStats | None) -> Text:
        assert self.param is not None
        info = self.data.param_info.get(self.param)
        text = Text(self.param, style="bold")
        if info is not None:
            module = self.data.module_types.get(info.module, "")
            text.append(f" · {module} {info.module} · {tuple(info.shape)} {info.dtype}")
            if info.aliases:
                text.append(f" · also {', '.join(info.aliases)}")
        state = self.data.health(self.param)
        text.append(" · ")
        text.append(state, style=health.STYLES[state])
        if row is None:
            text.append(" · not logged yet")
            return text
        when = "latest" if self.step is None else f"of {self.data.last_step}"
        values = row.values
        text.append(f"\nstep {row.step} ({when}) · ‖g‖ ")
        text.append_text(_number(values["grad_norm"]))
        pre = values.get("grad_norm_preclip")
        if pre is not None:
            text.append(" (pre-clip ")
            text.append_text(_number(pre))
            if is_clipped(values["grad_norm"], pre):
                text.append(" clipped", style="bold yellow")
            text.append(")")
        text.append(" · ‖Δw‖/‖w‖ ")
        text.append_text(_number(values["update_ratio"]))
        text.append(" · ‖w‖ ")
        text.append_text(_number(values["weight_norm"]))
        zeros = values.get("grad_zero_frac")
        if ticks.is_finite(zeros):
            text.append(f" · zeros {zeros:.0%}")
        return text

    # -- moving in time -------------------------------------------------------------------------

    def action_step(self, tenths_or_rows: int) -> None:
        """±1: one logged step; ±10: a tenth of the run's logged steps."""
        if self.param is None or self._history is None or self._history.last is None:
            return
        first, last = self._history.first or 0, self._history.last
        current = self.step if self.step is not None else last
        rows = tenths_or_rows
        if abs(tenths_or_rows) == 10:
            span = max(1, (last - first) // (10 * self.data.every))
            rows = span if tenths_or_rows > 0 else -span
        target = self.data.run.param_step(self.param, current, rows)
        if target is None:
            target = last if rows > 0 else first
        self.step = None if target >= last else target
        self._draw()

    def action_first_step(self) -> None:
        if self._history is not None and self._history.first is not None:
            self.step = self._history.first
            self._draw()

    def action_follow(self) -> None:
        self.step = None
        if self._history is not None:
            self._history.update()
            self._draw()


def _number(value: object, fmt: Callable[[Any], str] = fixed) -> Text:
    """A right-aligned number; NaN and ±Inf in the marker style so they stand out."""
    bad = isinstance(value, float) and not ticks.is_finite(value)
    return Text(fmt(value), style=ticks.MARKER_STYLE if bad else "", justify="right")
